"""Sending due reminders: claim, write the inbox and deliveries, mark sent — one transaction a batch.

Rows are claimed with ``FOR UPDATE SKIP LOCKED``: two workers never hold the same row, and a worker
killed mid-batch leaves its batch uncommitted, so the rows are pending again for the next sweep.
Every reminder therefore reaches each recipient's inbox exactly once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import load_only

from jiuzhu.auth.models import User
from jiuzhu.auth.roles import Role
from jiuzhu.calendar import add_workdays
from jiuzhu.cases.models import Case
from jiuzhu.db import utcnow
from jiuzhu.reminders.models import (
    ChannelKind,
    Delivery,
    Notification,
    NotificationChannel,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Subject,
    SupervisionItem,
)
from jiuzhu.tenancy.models import org_units_of_township
from jiuzhu.workflow.models import Step, StepStatus

TOWNSHIP_ROLES = (Role.township_staff, Role.township_leader)
COUNTY_ROLES = (Role.county_staff,)


class _Batch:
    """What a batch of reminders needs, loaded once: their steps, cases and recipients."""

    def __init__(self, session, rows: list[Reminder]):
        self.session = session
        step_ids = [r.subject_id for r in rows if r.subject in (Subject.step, Subject.publicity)]
        case_ids = [r.subject_id for r in rows if r.subject == Subject.case]
        # only what still_due reads: no step's encrypted form data is decrypted for a reminder
        self.steps = {s.id: s for s in session.scalars(
            select(Step).where(Step.id.in_(step_ids))
            .options(load_only(Step.status, Step.due_on, Step.runs_until)))} if step_ids else {}
        self.cases = {c.id: c for c in session.scalars(
            select(Case).where(Case.id.in_(case_ids))
            .options(load_only(Case.status, Case.due_on)))} if case_ids else {}
        self._people: dict[tuple, list[User]] = {}
        self._waiting: dict[int, dt.date] | None = None  # 协查 asked of this county, unanswered: id → due

    def still_due(self, r: Reminder) -> bool:
        """The deadline the reminder is about still stands, open and unchanged."""
        if r.subject in (Subject.step, Subject.publicity):
            step = self.steps.get(r.subject_id)
            if step is None or step.status != StepStatus.open:
                return False
            return (step.runs_until if r.subject == Subject.publicity else step.due_on) == r.due_on
        if r.subject == Subject.case:
            case = self.cases.get(r.subject_id)
            return case is not None and case.status.is_open and case.due_on == r.due_on
        if r.subject == Subject.warning:
            from jiuzhu.reminders.subjects import warning_still_due

            return warning_still_due(self.session, r)
        if r.subject == Subject.county_request:
            if self._waiting is None:  # one call of the registry's function per batch, not one per reminder
                from jiuzhu.duplicates.services import waiting_requests

                self._waiting = waiting_requests(self.session)
            return self._waiting.get(r.subject_id) == r.due_on
        if r.subject == Subject.payment:
            from jiuzhu.reminders.subjects import payment_still_due

            return payment_still_due(self.session, r)
        return False

    def recipients(self, r: Reminder) -> list[User]:
        key = (r.level, r.township_id, r.escalate)
        if key not in self._people:
            self._people[key] = recipients(self.session, r)
        return self._people[key]


def recipients(session, r: Reminder) -> list[User]:
    """Township steps: the township's staff and leaders; county steps: county staff. Overdue work
    is escalated to the county's staff as well."""
    roles: tuple[Role, ...] = COUNTY_ROLES if r.level == "county" else TOWNSHIP_ROLES
    query = select(User).where(User.active.is_(True), User.role.in_(roles))
    if r.level != "county":
        query = query.where(User.org_unit_id.in_(org_units_of_township(r.township_id)))
    users = list(session.scalars(query.order_by(User.id)))
    if r.escalate and r.level != "county":
        users += list(session.scalars(select(User).where(User.active.is_(True), User.role.in_(COUNTY_ROLES))
                                      .order_by(User.id)))
    return users


def _message(r: Reminder) -> tuple[str, str]:
    if r.kind == ReminderKind.before:
        head = f"【即将到期】{r.title}"
        body = f"{r.title}，办理期限为 {r.due_on:%Y年%m月%d日}，还有 {r.offset} 个工作日，请及时办理。"
    elif r.kind == ReminderKind.due:
        head = f"【今日到期】{r.title}"
        body = f"{r.title}，今天（{r.due_on:%Y年%m月%d日}）到期，请今日办结。"
    else:
        head = f"【已超期】{r.title}"
        body = f"{r.title}，已于 {r.due_on:%Y年%m月%d日} 到期仍未办结，已列入县级督办，请尽快办理。"
    return head, body


def _insert_ignore(session, model, rows: list[dict], keys: list[str]) -> None:
    """Insert ``rows``, skipping those already there (ON CONFLICT DO NOTHING), in one statement.

    On PostgreSQL the statement text is fixed — ``INSERT … SELECT * FROM unnest(arrays)`` with one
    array per column — so it is prepared once and a batch of thousands of rows is one round trip
    (neither a VALUES list compiled anew for every batch nor one statement per row). Only for
    tables without encrypted columns: the arrays bypass the columns' own bind processing."""
    if not rows:
        return
    table = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text
        from sqlalchemy.dialects import postgresql

        dialect = postgresql.dialect()
        columns = list(rows[0])
        casts = ", ".join(f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        conflict = ", ".join(f'"{k}"' for k in keys)
        statement = text(f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({casts}) "
                         f"ON CONFLICT ({conflict}) DO NOTHING")
        params = {c: [_plain(row[c]) for row in rows] for c in columns}
        session.execute(statement, params)
        return
    session.execute(sqlite_insert(table).on_conflict_do_nothing(index_elements=keys), rows)


def _plain(value):
    """A value as the arrays carry it (an enum as its stored string)."""
    import enum

    return value.value if isinstance(value, enum.Enum) else value


def _insert_ignore_each(session, model, rows: list[dict], keys: list[str]) -> None:
    """As :func:`_insert_ignore`, through the columns' own types (for encrypted columns)."""
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(model.__table__).on_conflict_do_nothing(index_elements=keys), rows)


def send_batch(session, rows: list[Reminder], today: dt.date, channels: dict[ChannelKind, NotificationChannel],
               repeat_workdays: int) -> int:
    """Write the inbox rows, deliveries, supervision items and overdue repeats of a claimed batch,
    with one statement each, and mark the reminders sent (or cancelled when their deadline went)."""
    batch = _Batch(session, rows)
    now = utcnow()
    notes, deliveries, items, repeats = [], [], [], []
    cancelled: list[int] = []
    sent_by_count: dict[int, list[int]] = {}
    for r in rows:
        if not batch.still_due(r):
            cancelled.append(r.id)
            continue
        title, body = _message(r)
        people = batch.recipients(r)
        for u in people:
            notes.append({"tenant_id": r.tenant_id, "user_id": u.id, "reminder_id": r.id, "case_id": r.case_id,
                          "title": title, "body": body, "created_at": now})
            for kind, to in ((ChannelKind.email, u.email), (ChannelKind.webhook, u.phone)):
                if kind in channels and to:
                    deliveries.append({"tenant_id": r.tenant_id, "reminder_id": r.id, "channel": kind,
                                       "recipient": to, "user_id": u.id, "subject": title, "body": body,
                                       "status": "pending", "attempts": 0, "next_attempt_at": now,
                                       "created_at": now})
        if r.escalate:
            items.append({"tenant_id": r.tenant_id, "township_id": r.township_id, "village_id": r.village_id,
                          "case_id": r.case_id, "subject": r.subject, "subject_id": r.subject_id, "title": r.title,
                          "due_on": r.due_on, "flagged_on": today})
        if r.kind == ReminderKind.overdue:  # repeat at the county's interval until the work is done
            repeats.append({"tenant_id": r.tenant_id, "township_id": r.township_id, "village_id": r.village_id,
                            "case_id": r.case_id, "subject": r.subject, "subject_id": r.subject_id,
                            "kind": ReminderKind.overdue, "offset": r.offset + 1, "due_on": r.due_on,
                            "send_on": add_workdays(max(today, r.send_on), repeat_workdays).due, "level": r.level,
                            "escalate": True, "title": r.title, "status": ReminderStatus.pending,
                            "recipients": 0, "created_at": now})
        sent_by_count.setdefault(len(people), []).append(r.id)
    # One UPDATE per outcome rather than one per row (the rows are locked by this transaction).
    if cancelled:
        session.execute(update(Reminder).where(Reminder.id.in_(cancelled))
                        .values(status=ReminderStatus.cancelled).execution_options(synchronize_session=False))
    for count, ids in sent_by_count.items():
        session.execute(update(Reminder).where(Reminder.id.in_(ids))
                        .values(status=ReminderStatus.sent, sent_at=now, recipients=count)
                        .execution_options(synchronize_session=False))
    _insert_ignore(session, Notification, notes, ["tenant_id", "reminder_id", "user_id"])
    _insert_ignore_each(session, Delivery, deliveries, ["tenant_id", "reminder_id", "channel", "user_id"])  # encrypted
    _insert_ignore(session, SupervisionItem, items, ["tenant_id", "subject", "subject_id", "due_on"])
    _insert_ignore(session, Reminder, repeats, ["tenant_id", "subject", "subject_id", "kind", "offset", "due_on"])
    return sum(len(ids) for ids in sent_by_count.values())


def enabled_channels(session) -> dict[ChannelKind, NotificationChannel]:
    return {c.kind: c for c in session.scalars(select(NotificationChannel).where(NotificationChannel.enabled))}


def _REMINDER_COLUMNS() -> list:  # noqa: N802
    return [getattr(Reminder, attr.key) for attr in Reminder.__mapper__.column_attrs]


def dispatch_due(session, today: dt.date, *, repeat_workdays: int = 2, batch: int = 200,
                 max_batches: int | None = None) -> int:
    """Send every due pending reminder of the current tenant; commits after each batch."""
    sent = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        # claimed as rows of the reminder's columns (an ORM select: the scope's criteria apply), not
        # as objects for the session to track — a sweep reads them once and updates them set-based
        rows = session.execute(
            select(*_REMINDER_COLUMNS()).where(Reminder.status == ReminderStatus.pending, Reminder.send_on <= today)
            .order_by(Reminder.send_on, Reminder.id).limit(batch).with_for_update(skip_locked=True)).all()
        if not rows:
            break
        sent += send_batch(session, rows, today, enabled_channels(session), repeat_workdays)
        session.commit()
        batches += 1
    return sent


def unread_count(session, user_id: int) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


__all__ = ["dispatch_due", "recipients", "send_batch", "unread_count"]
