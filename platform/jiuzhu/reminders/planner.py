"""Which reminders a case should have, and keeping the outbox in step with it.

Called by the engine after every transition, extension and recomputation (``sync_case``): reminders
for deadlines that no longer hold are cancelled, new ones are inserted. Inserts are idempotent (the
outbox's unique key), so a transition retried or run twice plans nothing twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from jiuzhu.calendar import add_workdays, next_workday, workdays_before
from jiuzhu.reminders.models import Reminder, ReminderKind, ReminderStatus, Subject, SupervisionItem
from jiuzhu.tenancy.context import require_scope


@dataclass(frozen=True)
class Planned:
    subject: Subject
    subject_id: int
    kind: ReminderKind
    offset: int
    due_on: dt.date
    send_on: dt.date
    level: str
    escalate: bool
    title: str

    @property
    def key(self) -> tuple:
        return (self.subject, self.subject_id, self.kind, self.offset, self.due_on)


def on_or_after_workday(day: dt.date) -> dt.date:
    return add_workdays(day, 0).due


def series(subject: Subject, subject_id: int, due_on: dt.date, *, level: str, title: str,
           offsets: list[int], today: dt.date, workdays_only: bool = True) -> list[Planned]:
    """Before (each offset), on the due date, and the first overdue reminder (escalated)."""
    shift = on_or_after_workday if workdays_only else (lambda d: d)
    out = []
    for n in sorted({o for o in offsets if o > 0}):
        send_on = workdays_before(due_on, n)
        if send_on >= today:  # a "due in 3 days" that would go out late is not sent at all
            out.append(Planned(subject, subject_id, ReminderKind.before, n, due_on, send_on, level, False, title))
    out.append(Planned(subject, subject_id, ReminderKind.due, 0, due_on, shift(due_on), level, False, title))
    overdue_on = next_workday(due_on) if workdays_only else due_on + dt.timedelta(days=1)
    out.append(Planned(subject, subject_id, ReminderKind.overdue, 1, due_on, overdue_on, level, True, title))
    return out


def plan_case(case, view, workflow, settings: dict, today: dt.date) -> list[Planned]:
    offsets = list(settings.get("reminder_days_before") or [])
    workdays_only = not settings.get("remind_on_non_workdays", False)
    who = str(case.household) if case.household is not None else f"案件 {case.id}"
    planned: list[Planned] = []
    if not case.status.is_open:
        return planned
    for step in view.open_steps:
        spec = workflow.step(step.key)
        if step.due_on is not None:
            planned += series(Subject.step, step.id, step.due_on, level=spec.level.value,
                              title=f"{who} · {spec.label}", offsets=offsets, today=today,
                              workdays_only=workdays_only)
        if step.runs_until is not None:
            send_on = on_or_after_workday(step.runs_until) if workdays_only else step.runs_until
            planned.append(Planned(Subject.publicity, step.id, ReminderKind.due, 0, step.runs_until, send_on,
                                   spec.level.value, False, f"{who} · {spec.label}期满"))
    paused = any(workflow.step(s.key).pauses_clock for s in view.open_steps)
    if case.due_on is not None and not paused:
        planned += series(Subject.case, case.id, case.due_on, level="township", title=f"{who} · 办理时限",
                          offsets=offsets, today=today, workdays_only=workdays_only)
    return planned


def _insert(session, rows: list[dict]) -> None:
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(Reminder).values(rows).on_conflict_do_nothing(
        index_elements=["tenant_id", "subject", "subject_id", "kind", "offset", "due_on"]))


def sync_case(session, case, view, workflow, settings: dict, today: dt.date) -> None:
    """Make the case's pending reminders match its open deadlines."""
    planned = {p.key: p for p in plan_case(case, view, workflow, settings, today)}
    open_subjects = {(p.subject, p.subject_id, p.due_on) for p in planned.values()}
    existing = session.scalars(select(Reminder).where(Reminder.case_id == case.id)).all()
    known = {(r.subject, r.subject_id, r.kind, r.offset, r.due_on): r for r in existing}
    for key, r in known.items():
        if r.status != ReminderStatus.pending:
            continue
        repeat = r.kind == ReminderKind.overdue and (r.subject, r.subject_id, r.due_on) in open_subjects
        if key not in planned and not repeat:
            r.status = ReminderStatus.cancelled
    rows = []
    for key, p in planned.items():
        r = known.get(key)
        if r is None:
            rows.append({"tenant_id": case.tenant_id, "township_id": case.township_id, "village_id": case.village_id,
                         "case_id": case.id, "subject": p.subject, "subject_id": p.subject_id, "kind": p.kind,
                         "offset": p.offset, "due_on": p.due_on, "send_on": p.send_on, "level": p.level,
                         "escalate": p.escalate, "title": p.title, "status": ReminderStatus.pending,
                         "recipients": 0})
        elif r.status == ReminderStatus.cancelled:  # a deadline came back (e.g. recomputed to the same day)
            r.status, r.send_on = ReminderStatus.pending, p.send_on
    _insert(session, rows)
    for item in session.scalars(select(SupervisionItem).where(SupervisionItem.case_id == case.id,
                                                              SupervisionItem.resolved_on.is_(None))):
        if (item.subject, item.subject_id, item.due_on) not in open_subjects:
            item.resolved_on = today
    session.flush()


def sync_county_request(session, request, settings: dict, today: dt.date) -> int:
    """Reminders for a 协查 request asked of this county: before its deadline, on the day, and overdue —
    to the county's staff (the county answers). Sending checks that it is still unanswered."""
    offsets = list(settings.get("reminder_days_before") or [])
    planned = series(Subject.county_request, request.id, request.due_on, level="county",
                     title=f"{request.county}协查请求 · {request.category_label}", offsets=offsets, today=today,
                     workdays_only=not settings.get("remind_on_non_workdays", False))
    _insert(session, [{"tenant_id": require_scope().tenant_id, "township_id": request.township_id,
                       "village_id": None, "case_id": None, "subject": p.subject, "subject_id": p.subject_id,
                       "kind": p.kind, "offset": p.offset, "due_on": p.due_on, "send_on": p.send_on,
                       "level": p.level, "escalate": p.escalate, "title": p.title,
                       "status": ReminderStatus.pending, "recipients": 0} for p in planned])
    return len(planned)


def sync_warning(session, ticket, settings: dict, today: dt.date) -> None:
    """Reminders for a warning ticket's deadline (the township verifies and decides it): before it,
    on the day, and overdue with escalation to the county — the same series as a step's. Sending
    checks that the ticket is still undecided and its deadline unchanged."""
    offsets = list(settings.get("reminder_days_before") or [])
    workdays_only = not settings.get("remind_on_non_workdays", False)
    planned = series(Subject.warning, ticket.id, ticket.due_on, level="township",
                     title=f"{'“12345”热线工单' if ticket.origin == 'hotline_12345' else '预警单据'} "
                           f"{ticket.source_ref} · 入户核查与确认", offsets=offsets, today=today,
                     workdays_only=workdays_only)
    _insert(session, [{"tenant_id": ticket.tenant_id, "township_id": ticket.township_id,
                       "village_id": ticket.village_id, "case_id": None, "subject": p.subject,
                       "subject_id": p.subject_id, "kind": p.kind, "offset": p.offset, "due_on": p.due_on,
                       "send_on": p.send_on, "level": p.level, "escalate": p.escalate, "title": p.title,
                       "status": ReminderStatus.pending, "recipients": 0} for p in planned])
    session.flush()


def sync_late_payments(session, today: dt.date) -> int:
    """An overdue reminder to the county's staff (and its 督办 list) for each month of benefit unpaid
    past its pay-by day (每月 N 日前发放); repeated by the dispatcher until paid. Idempotent: the
    outbox's unique key plans each once. Returns how many months are late."""
    from jiuzhu.payments.services import late_months
    from jiuzhu.tenancy.context import require_scope

    tenant_id = require_scope().tenant_id
    late = late_months(session, today)
    _insert(session, [{"tenant_id": tenant_id,
                       "township_id": m.township_id, "village_id": m.village_id, "case_id": m.case_id,
                       "subject": Subject.payment, "subject_id": m.schedule_id, "kind": ReminderKind.overdue,
                       "offset": 1, "due_on": m.pay_by, "send_on": today, "level": "county", "escalate": True,
                       "title": f"案件 {m.case_id} · {m.month:%Y年%m月}保障金发放", "status": ReminderStatus.pending,
                       "recipients": 0} for m in late])
    session.flush()
    return len(late)
