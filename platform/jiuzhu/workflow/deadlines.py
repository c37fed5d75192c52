"""Working out due dates: a step's own limit and the case's overall limit."""

from __future__ import annotations

import datetime as dt

from jiuzhu.calendar import Deadline, add_calendar_days, add_workdays, workdays_between
from jiuzhu.cases.models import Case
from jiuzhu.workflow.models import Step
from jiuzhu.workflow.spec import Due, StepSpec, Unit, Workflow


def _start_date(due: Due, case: Case, step: Step | None, steps: list[Step]) -> dt.date | None:
    if due.start == "opened":
        return step.opened_on if step is not None else None
    if due.start == "accepted":
        return case.accepted_on
    if due.start == "applied":
        return case.applied_on
    if due.start.startswith("closed:"):
        key = due.start.split(":", 1)[1]
        closed = [s for s in steps if s.key == key and s.closed_on is not None]
        return max(closed, key=lambda s: (s.round, s.id)).closed_on if closed else None
    raise ValueError(f"unknown deadline start {due.start!r}")


def resolve_due(spec_due, case: Case) -> Due | None:
    return spec_due(case) if callable(spec_due) else spec_due


def compute(due: Due, start: dt.date) -> Deadline:
    if due.unit == Unit.calendar:
        return add_calendar_days(start, due.days)
    return add_workdays(start, due.days)


def step_deadline(spec: StepSpec, case: Case, step: Step, steps: list[Step]) -> Deadline | None:
    due = resolve_due(spec.due, case)
    if due is None:
        return None
    start = _start_date(due, case, step, steps)
    return compute(due, start) if start is not None else None


def step_run_end(spec: StepSpec, step: Step) -> dt.date | None:
    if spec.runs is None:
        return None
    return compute(spec.runs, step.opened_on).due


def case_deadline(case: Case, workflow: Workflow) -> Deadline | None:
    """Acceptance (or application) date + the limit (extended if granted) + the working days the
    clock was paused. None until the case is accepted."""
    if case.accepted_on is None:
        return None
    limit = workflow.limit
    days = (limit.extended_workdays if case.extended and limit.extended_workdays else limit.workdays)
    start = case.applied_on if limit.start == "applied" else case.accepted_on
    return add_workdays(start, days + (case.paused_workdays or 0))


def paused_between(opened_on: dt.date, closed_on: dt.date) -> int:
    """Working days a pausing step held the clock: the days after it opened up to its close."""
    return max(0, workdays_between(opened_on, closed_on))


# -- one definition of "overdue" ------------------------------------------------------------------
# An open step runs to its own deadline, or — a step without one (a decision) — to the case's overall
# limit while the case is undecided; what follows a decision without a limit of its own (a certificate
# to hand over) has none. The worklist, the dashboard and the reports all count by this rule.

def effective_due(step: Step, case: Case) -> dt.date | None:
    """The day an open step must be done by: its own deadline, else the open case's overall limit."""
    return step.due_on or (case.due_on if case.status.is_open else None)


def effective_due_column():
    """:func:`effective_due` as SQL (needs ``cases`` joined to ``case_steps``)."""
    from sqlalchemy import case as when
    from sqlalchemy import func

    from jiuzhu.cases.categories import CaseStatus

    still_open = [s for s in CaseStatus if s.is_open]
    return func.coalesce(Step.due_on, when((Case.status.in_(still_open), Case.due_on), else_=None))


def overdue_before(today: dt.date) -> dt.date:
    """A deadline before this day is overdue: late once a working day after it has begun by ``today``
    (``workdays_between(today, due) < 0``) — so the last working day up to ``today``: a deadline on
    Friday is not yet late on Sunday."""
    from jiuzhu.calendar import is_workday, workdays_before

    return today if is_workday(today) else workdays_before(today, 1)


def is_overdue(due: dt.date | None, today: dt.date) -> bool:
    """Past its day as the worklist counts it: the day itself is 今日到期, and so are the rest days after it."""
    return due is not None and due < overdue_before(today)

