"""Sending due reminders: claim, write the inbox and deliveries, mark sent — one transaction a batch.

A county is swept by one worker at a time: each batch's transaction first takes the county's sweep lock
(``pg_try_advisory_xact_lock``, in a statement of its own), then reads the batch — no row locks, so the
claim costs about what reading the due rows costs. A worker that finds the lock taken leaves the county
to the one holding it. Exactly once does not rest on the lock alone: the batch's one state update
(``UPDATE … FROM unnest(…) … AND status = 'pending' RETURNING id``) locks the rows, skips any that
another transaction sent or cancelled meanwhile, and only the rows it returns get inbox rows,
deliveries, supervision items and repeats, in the same transaction. A worker killed at any point
before its commit leaves nothing behind: its transaction rolls back, the county's lock goes with its
connection, and the rows are pending for the next sweep. Nothing is ever left half-claimed, so there is
no lease to expire and nothing to recover.
"""

from __future__ import annotations

import datetime as dt
import zlib

from sqlalchemy import String, select, text, type_coerce, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

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
from jiuzhu.tenancy.context import require_scope
from jiuzhu.tenancy.models import OrgUnit
from jiuzhu.workflow.models import Step, StepStatus

TOWNSHIP_ROLES = (Role.township_staff, Role.township_leader)
COUNTY_ROLES = (Role.county_staff,)


#: the class half of the county's sweep lock, ``pg_try_advisory_xact_lock(SWEEP_LOCK, tenant_id)``
#: (the two-key form: its own lock space, apart from the one-key locks elsewhere)
SWEEP_LOCK = zlib.crc32(b"jiuzhu reminder sweep") & 0x7FFFFFFF

#: what a batch reads of each reminder to decide it: whether it still stands, who receives it, whether it
#: repeats (on PostgreSQL the writes take the rest — title, case, village, offset — from the row, in SQL)
CLAIM_COLUMNS = ("id", "subject", "subject_id", "kind", "due_on", "send_on", "level", "township_id", "escalate")
#: what the rows built in Python need besides (SQLite, the demo)
ROW_COLUMNS = (*CLAIM_COLUMNS, "village_id", "case_id", "offset", "title")


class _Batch:
    """What a batch of reminders needs to decide which still stand, loaded once: their steps and cases."""

    def __init__(self, session, rows):
        self.session = session
        step_ids = [r.subject_id for r in rows if r.subject in (Subject.step, Subject.publicity)]
        case_ids = [r.subject_id for r in rows if r.subject == Subject.case]
        # only what still_due reads, as rows (no objects to track, no encrypted form data decrypted)
        self.steps = {s.id: s for s in session.execute(
            select(Step.id, Step.status, Step.due_on, Step.runs_until).where(_among(session, Step.id, step_ids)))} \
            if step_ids else {}
        self.cases = {c.id: c for c in session.execute(
            select(Case.id, Case.status, Case.due_on).where(_among(session, Case.id, case_ids)))} if case_ids else {}
        self._waiting: dict[int, dt.date] | None = None  # 协查 asked of this county, unanswered: id → due

    def still_due(self, r) -> bool:
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


def _among(session, column, ids: list[int]):
    """``column IN ids``; on PostgreSQL as ``= ANY(array)``: one parameter, the same statement for any
    number of ids (prepared once), instead of a placeholder per id."""
    if _is_pg(session):
        from sqlalchemy import any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY
        from sqlalchemy.types import Integer

        return column == any_(bindparam("ids", ids, type_=ARRAY(Integer)))
    return column.in_(ids)


class _Person:
    __slots__ = ("id", "email", "phone")

    def __init__(self, id, email=None, phone=None):  # noqa: A002
        self.id, self.email, self.phone = id, email, phone


class _County:
    """What every batch of one county's sweep shares, read once: its enabled channels and the staff
    who receive reminders (township staff and leaders by township, county staff)."""

    def __init__(self, session):
        self.tenant_id = require_scope().tenant_id
        self.channels = enabled_channels(session)
        columns = [User.id, User.role, User.org_unit_id, OrgUnit.parent_id]
        if self.channels:  # addresses (a phone is encrypted) only when something goes out by e-mail or SMS
            columns += [User.email, User.phone]
        rows = session.execute(select(*columns).outerjoin(OrgUnit, OrgUnit.id == User.org_unit_id)
                               .where(User.active.is_(True), User.role.in_(TOWNSHIP_ROLES + COUNTY_ROLES))
                               .order_by(User.id)).all()
        self._staff = [(r.role, r.org_unit_id, r.parent_id, _Person(r.id, *(r[4:] if self.channels else ())))
                       for r in rows]
        self.county_staff = [p for role, _, _, p in self._staff if role in COUNTY_ROLES]
        self._people: dict[tuple, list[_Person]] = {}
        self._stored: dict[tuple, str] = {}

    def recipients(self, r) -> list[_Person]:
        """Township work: the township's staff and leaders (its own unit or its villages'); county work:
        the county's staff. Overdue township work is escalated to the county's staff as well."""
        key = (r.level, r.township_id, r.escalate)
        people = self._people.get(key)
        if people is None:
            if r.level == "county":
                people = list(self.county_staff)
            else:
                people = [p for role, unit, parent, p in self._staff
                          if role in TOWNSHIP_ROLES and r.township_id in (unit, parent)]
                if r.escalate:
                    people += self.county_staff
            self._people[key] = people
        return people

    def stored_recipient(self, kind: ChannelKind, person: _Person, address: str) -> str:
        """A delivery's recipient as stored (encrypted for this county's deliveries), once per person and
        channel in a sweep rather than once per delivery. Rows with the same ciphertext say no more than
        their user_id already says: that they go to the same person."""
        key = (kind, person.id)
        stored = self._stored.get(key)
        if stored is None:
            stored = self._stored[key] = Delivery.__table__.c.recipient.type.encrypt(address, self.tenant_id)
        return stored


_HEADS = {ReminderKind.before: "【即将到期】", ReminderKind.due: "【今日到期】", ReminderKind.overdue: "【已超期】"}


def _message(r, day: str) -> tuple[str, str]:
    """The reminder's title and text; ``day`` is its due date as written (2026年11月20日)."""
    if r.kind == ReminderKind.before:
        body = f"{r.title}，办理期限为 {day}，还有 {r.offset} 个工作日，请及时办理。"
    elif r.kind == ReminderKind.due:
        body = f"{r.title}，今天（{day}）到期，请今日办结。"
    else:
        body = f"{r.title}，已于 {day} 到期仍未办结，已列入县级督办，请尽快办理。"
    return _HEADS[r.kind] + r.title, body


def _is_pg(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _mark(session, tenant_id: int, outcome: dict[int, tuple[ReminderStatus, int]], now: dt.datetime) -> set[int]:
    """Mark the batch's reminders sent (with how many people each reached) or cancelled, in one statement,
    only those still pending: returns their ids. The rows are locked from here to the commit; a row
    another transaction sent or cancelled after the batch was read is skipped (and gets nothing)."""
    if not outcome:
        return set()
    if _is_pg(session):
        result = session.execute(text(
            "UPDATE reminders AS r SET status = v.status, recipients = v.recipients, "
            "sent_at = CASE WHEN v.status = 'sent' THEN CAST(:now AS TIMESTAMP WITH TIME ZONE) END "
            "FROM unnest(CAST(:ids AS INTEGER[]), CAST(:statuses AS VARCHAR(16)[]), CAST(:counts AS SMALLINT[])) "
            "AS v(id, status, recipients) "
            "WHERE r.id = v.id AND r.tenant_id = :tenant AND r.status = 'pending' RETURNING r.id"),
            {"ids": list(outcome), "statuses": [s.value for s, _ in outcome.values()],
             "counts": [n for _, n in outcome.values()], "now": now, "tenant": tenant_id})
        return set(result.scalars())
    marked: set[int] = set()
    groups: dict[tuple[ReminderStatus, int], list[int]] = {}
    for rid, key in outcome.items():
        groups.setdefault(key, []).append(rid)
    for (status, count), ids in groups.items():
        values = {"status": status, "recipients": count}
        if status == ReminderStatus.sent:
            values["sent_at"] = now
        marked.update(session.scalars(
            update(Reminder).where(Reminder.id.in_(ids), Reminder.status == ReminderStatus.pending).values(**values)
            .returning(Reminder.id).execution_options(synchronize_session=False)))
    return marked


# The reminder's title and text in SQL, from its row ``r`` — the same words as _message (tested).
_DAY_SQL = "to_char(r.due_on, 'YYYY\"年\"MM\"月\"DD\"日\"')"
_TITLE_SQL = "(CASE r.kind WHEN 'before' THEN '【即将到期】' WHEN 'due' THEN '【今日到期】' ELSE '【已超期】' END || r.title)"
_BODY_SQL = (f"(CASE r.kind WHEN 'before' THEN r.title || '，办理期限为 ' || {_DAY_SQL} || '，还有 ' || r.\"offset\" "
             f"|| ' 个工作日，请及时办理。' "
             f"WHEN 'due' THEN r.title || '，今天（' || {_DAY_SQL} || '）到期，请今日办结。' "
             f"ELSE r.title || '，已于 ' || {_DAY_SQL} || ' 到期仍未办结，已列入县级督办，请尽快办理。' END)")

# PostgreSQL: each of a batch's writes is one fixed statement (prepared once), fed by arrays of ids and
# reading what it needs of the reminders from their rows (just marked, in this transaction) — no
# titles or texts travel from Python
_NOTES_SQL = text(
    "INSERT INTO notifications (tenant_id, user_id, reminder_id, case_id, title, body, created_at) "
    f"SELECT r.tenant_id, u.user_id, r.id, r.case_id, {_TITLE_SQL}, {_BODY_SQL}, CAST(:now AS TIMESTAMP WITH TIME ZONE) "
    "FROM unnest(CAST(:reminders AS INTEGER[]), CAST(:users AS INTEGER[])) AS u(reminder_id, user_id) "
    "JOIN reminders AS r ON r.tenant_id = :tenant AND r.id = u.reminder_id "
    "ON CONFLICT (tenant_id, reminder_id, user_id) DO NOTHING")
_DELIVERIES_SQL = text(
    "INSERT INTO deliveries (tenant_id, reminder_id, channel, recipient, user_id, subject, body, status, attempts, "
    "next_attempt_at, created_at) "
    f"SELECT r.tenant_id, r.id, u.channel, u.recipient, u.user_id, {_TITLE_SQL}, {_BODY_SQL}, 'pending', 0, "
    "CAST(:now AS TIMESTAMP WITH TIME ZONE), CAST(:now AS TIMESTAMP WITH TIME ZONE) "
    "FROM unnest(CAST(:reminders AS INTEGER[]), CAST(:users AS INTEGER[]), CAST(:channels AS VARCHAR(16)[]), "
    "CAST(:recipients AS TEXT[])) AS u(reminder_id, user_id, channel, recipient) "
    "JOIN reminders AS r ON r.tenant_id = :tenant AND r.id = u.reminder_id "
    "ON CONFLICT (tenant_id, reminder_id, channel, user_id) DO NOTHING")
_ITEMS_SQL = text(
    "INSERT INTO supervision_items (tenant_id, township_id, village_id, case_id, subject, subject_id, title, due_on, "
    "flagged_on) "
    "SELECT r.tenant_id, r.township_id, r.village_id, r.case_id, r.subject, r.subject_id, r.title, r.due_on, "
    "CAST(:today AS DATE) "
    "FROM reminders AS r WHERE r.tenant_id = :tenant AND r.id = ANY(CAST(:ids AS INTEGER[])) "
    "ON CONFLICT (tenant_id, subject, subject_id, due_on) DO NOTHING")
_REPEATS_SQL = text(
    'INSERT INTO reminders (tenant_id, township_id, village_id, case_id, subject, subject_id, kind, "offset", due_on, '
    "send_on, level, escalate, title, status, recipients, created_at) "
    "SELECT r.tenant_id, r.township_id, r.village_id, r.case_id, r.subject, r.subject_id, 'overdue', "
    "r.\"offset\" + 1, r.due_on, u.send_on, r.level, true, r.title, 'pending', 0, "
    "CAST(:now AS TIMESTAMP WITH TIME ZONE) "
    "FROM unnest(CAST(:ids AS INTEGER[]), CAST(:send_on AS DATE[])) AS u(id, send_on) "
    "JOIN reminders AS r ON r.tenant_id = :tenant AND r.id = u.id "
    'ON CONFLICT (tenant_id, subject, subject_id, kind, "offset", due_on) DO NOTHING')


def send_batch(session, rows, today: dt.date, county: _County | None = None, repeat_workdays: int = 2) -> int:
    """Mark a claimed batch sent (or cancelled when its deadline went) and write, for the rows that
    were still pending, the inbox rows, deliveries, supervision items and overdue repeats — one
    statement each. Returns how many reminders were sent."""
    county = county or _County(session)
    batch = _Batch(session, rows)
    now = utcnow()
    outcome: dict[int, tuple[ReminderStatus, int]] = {}
    going: list[tuple] = []
    for r in rows:
        if not batch.still_due(r):
            outcome[r.id] = (ReminderStatus.cancelled, 0)
            continue
        people = county.recipients(r)
        going.append((r, people))
        outcome[r.id] = (ReminderStatus.sent, len(people))
    marked = _mark(session, county.tenant_id, outcome, now)
    going = [(r, people) for r, people in going if r.id in marked]
    repeat_on: dict[dt.date, dt.date] = {}

    def repeat_send_on(r) -> dt.date:  # the next overdue reminder, at the county's interval
        start = max(today, r.send_on)
        if start not in repeat_on:
            repeat_on[start] = add_workdays(start, repeat_workdays).due
        return repeat_on[start]

    if _is_pg(session):
        _write_pg(session, county, going, today, now, repeat_send_on)
    else:
        _write_rows(session, county, going, today, now, repeat_send_on)
    return len(going)


def _write_pg(session, county: _County, going: list[tuple], today: dt.date, now: dt.datetime, repeat_send_on) -> None:
    tenant = county.tenant_id
    notes_r: list[int] = []
    notes_u: list[int] = []
    out: dict[str, list] = {"reminders": [], "users": [], "channels": [], "recipients": []}
    escalated: list[int] = []
    repeats: dict[str, list] = {"ids": [], "send_on": []}
    for r, people in going:
        for p in people:
            notes_r.append(r.id)
            notes_u.append(p.id)
            if county.channels:
                for kind, to in ((ChannelKind.email, p.email), (ChannelKind.webhook, p.phone)):
                    if kind in county.channels and to:
                        out["reminders"].append(r.id)
                        out["users"].append(p.id)
                        out["channels"].append(kind.value)
                        out["recipients"].append(county.stored_recipient(kind, p, to))
        if r.escalate:
            escalated.append(r.id)
        if r.kind == ReminderKind.overdue:
            repeats["ids"].append(r.id)
            repeats["send_on"].append(repeat_send_on(r))
    if notes_r:
        session.execute(_NOTES_SQL, {"reminders": notes_r, "users": notes_u, "tenant": tenant, "now": now})
    if out["reminders"]:
        session.execute(_DELIVERIES_SQL, {**out, "tenant": tenant, "now": now})
    if escalated:
        session.execute(_ITEMS_SQL, {"ids": escalated, "tenant": tenant, "today": today})
    if repeats["ids"]:
        session.execute(_REPEATS_SQL, {**repeats, "tenant": tenant, "now": now})


def _write_rows(session, county: _County, going: list[tuple], today: dt.date, now: dt.datetime,
                repeat_send_on) -> None:
    """The same writes as rows built here (SQLite, the demo), through the columns' own types."""
    tenant = county.tenant_id
    notes, deliveries, items, repeats = [], [], [], []
    for r, people in going:
        title, body = _message(r, f"{r.due_on:%Y年%m月%d日}")
        for p in people:
            notes.append({"tenant_id": tenant, "user_id": p.id, "reminder_id": r.id, "case_id": r.case_id,
                          "title": title, "body": body, "created_at": now})
            for kind, to in ((ChannelKind.email, p.email), (ChannelKind.webhook, p.phone)):
                if kind in county.channels and to:
                    deliveries.append({"tenant_id": tenant, "reminder_id": r.id, "channel": kind, "recipient": to,
                                       "user_id": p.id, "subject": title, "body": body, "status": "pending",
                                       "attempts": 0, "next_attempt_at": now, "created_at": now})
        if r.escalate:
            items.append({"tenant_id": tenant, "township_id": r.township_id, "village_id": r.village_id,
                          "case_id": r.case_id, "subject": r.subject, "subject_id": r.subject_id, "title": r.title,
                          "due_on": r.due_on, "flagged_on": today})
        if r.kind == ReminderKind.overdue:
            repeats.append({"tenant_id": tenant, "township_id": r.township_id, "village_id": r.village_id,
                            "case_id": r.case_id, "subject": r.subject, "subject_id": r.subject_id,
                            "kind": ReminderKind.overdue, "offset": r.offset + 1, "due_on": r.due_on,
                            "send_on": repeat_send_on(r), "level": r.level, "escalate": True, "title": r.title,
                            "status": ReminderStatus.pending, "recipients": 0, "created_at": now})
    for model, values, keys in ((Notification, notes, ["tenant_id", "reminder_id", "user_id"]),
                                (Delivery, deliveries, ["tenant_id", "reminder_id", "channel", "user_id"]),
                                (SupervisionItem, items, ["tenant_id", "subject", "subject_id", "due_on"]),
                                (Reminder, repeats, ["tenant_id", "subject", "subject_id", "kind", "offset",
                                                     "due_on"])):
        if values:
            session.execute(sqlite_insert(model.__table__).on_conflict_do_nothing(index_elements=keys), values)


def enabled_channels(session) -> dict[ChannelKind, NotificationChannel]:
    return {c.kind: c for c in session.scalars(select(NotificationChannel).where(NotificationChannel.enabled))}


def _claimed(column: str):
    """A claimed column as read: the subject and the kind as the strings stored — a ``StrEnum`` member
    is equal to its value and hashes like it, so every test of them reads the same, without the
    enumeration's lookup for each of a sweep's rows (two a row, about a tenth of the claim)."""
    attribute = getattr(Reminder, column)
    if column in ("subject", "kind"):
        return type_coerce(attribute, String(16)).label(column)
    return attribute


def claim(session, today: dt.date, batch: int, *, after: tuple | None = None):
    """The next batch of the current county's due pending reminders (oldest first), as rows of
    CLAIM_COLUMNS (ROW_COLUMNS on SQLite); None if another worker is sweeping the county.

    On PostgreSQL the county's sweep lock is taken first, for the rest of this transaction, in a
    statement of its own: the batch is then read with a snapshot taken after the lock was granted,
    so everything an earlier holder committed (rows it sent) is seen. ``after`` (send_on, id): read
    past that row instead (the benchmark's claim, which marks nothing)."""
    tenant_id = require_scope().tenant_id
    if tenant_id is None:
        raise ValueError("reminders are sent in a county's scope")
    if _is_pg(session) and not session.scalar(text("SELECT pg_try_advisory_xact_lock(:k, :t)"),
                                              {"k": SWEEP_LOCK, "t": tenant_id}):
        return None
    # an ORM select of columns (the scope's criteria apply; no objects for the session to track)
    query = (select(*(_claimed(c) for c in (CLAIM_COLUMNS if _is_pg(session) else ROW_COLUMNS)))
             .where(Reminder.status == ReminderStatus.pending, Reminder.send_on <= today)
             .order_by(Reminder.send_on, Reminder.id).limit(batch))
    if after is not None:
        from sqlalchemy import tuple_

        query = query.where(tuple_(Reminder.send_on, Reminder.id) > tuple_(*after))
    return session.execute(query).all()


def dispatch_due(session, today: dt.date, *, repeat_workdays: int = 2, batch: int = 200,
                 max_batches: int | None = None) -> int:
    """Send every due pending reminder of the current county; commits after each batch. Stops when
    nothing more is due, or when another worker is sweeping the county (it sends the rest)."""
    sent = 0
    batches = 0
    county: _County | None = None
    while max_batches is None or batches < max_batches:
        rows = claim(session, today, batch)
        if not rows:  # nothing more due, or the county is another worker's: let go of the lock
            session.rollback()
            break
        if county is None:
            county = _County(session)
        sent += send_batch(session, rows, today, county, repeat_workdays)
        session.commit()
        batches += 1
        if len(rows) < batch:  # that was the last of them (what falls due meanwhile waits for the next sweep)
            break
    return sent


def unread_count(session, user_id: int) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


__all__ = ["claim", "dispatch_due", "send_batch", "unread_count"]
