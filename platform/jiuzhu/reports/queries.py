"""The numbers behind the dashboard and the statistics, as aggregate queries.

Every query runs through the ORM, so the tenant (and a township leader's township) is applied
centrally; none reads whole tables row by row. The worklist partial index (open steps by tenant,
township, due date) serves the overdue counts, ``ix_case_steps_open_no_due`` the open steps that
run to their case's deadline. On PostgreSQL the case counts come from ``case_counts``, counters
the database keeps in the transaction of every change to a case (migration 0051), so they are as
current as the cases themselves; elsewhere (the demo's SQLite) the cases are counted.

"Overdue" is the worklist's own rule (:func:`overdue_before`): a step is late once a working day
has passed after its deadline — its own, else its case's — so the dashboard never reports fewer
(or more) late steps than the worklists mark.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, literal_column, select

from jiuzhu.calendar import add_workdays
from jiuzhu.cases.categories import CaseStatus, Category
from jiuzhu.cases.models import UNDECIDED, Case, CaseCount
from jiuzhu.tenancy.models import OrgLevel, OrgUnit
from jiuzhu.workflow.models import OpenStepCount, Step, StepStatus


@dataclass
class TownshipLoad:
    township: str
    overdue: int
    due_soon: int
    open_steps: int


def townships(session) -> dict[int, str]:
    """The townships in the current scope by name, id → name: in a page, kept per version of the
    county's org tree (a dashboard asks for them for each of its tables, and reads them at most once);
    elsewhere (jobs, exports) read."""
    from jiuzhu.tenancy.services import county_of_request, places_in_scope

    tenant = county_of_request()
    if tenant is not None:
        return {p.id: p.name for p in places_in_scope(session, tenant, OrgLevel.township)}
    return dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.level == OrgLevel.township)
                                .order_by(OrgUnit.name)).all())


def load_by_township(session, today: dt.date, soon_workdays: int = 3) -> list[TownshipLoad]:
    """Open steps per township: overdue, due within ``soon_workdays`` working days, all — each by its
    effective deadline (``jiuzhu.workflow.deadlines.effective_due``: its own, else its undecided case's),
    overdue as the worklist marks it (``is_overdue``)."""
    from jiuzhu.workflow.deadlines import overdue_before

    late = overdue_before(today)
    soon = add_workdays(today, soon_workdays).due
    counters = _counters(session)
    if counters:  # the counters of open steps by deadline
        n = OpenStepCount.n
        own = session.execute(  # (the open steps with no deadline of their own are counted below)
            select(OpenStepCount.township_id,
                   func.coalesce(func.sum(n).filter(OpenStepCount.due_on < late), 0),
                   func.coalesce(func.sum(n).filter(OpenStepCount.due_on >= late, OpenStepCount.due_on <= soon), 0),
                   func.sum(n))
            .group_by(OpenStepCount.township_id)).all()
    else:
        own = session.execute(
            select(Step.township_id,
                   func.count().filter(Step.due_on < late),
                   func.count().filter(Step.due_on >= late, Step.due_on <= soon),
                   func.count())
            .where(Step.status == StepStatus.open).group_by(Step.township_id)).all()
    # the few open steps with no limit of their own, with their undecided case's (through their own index)
    undecided = Case.status.in_([s for s in CaseStatus if s.is_open])
    inherited = session.execute(
        select(Step.township_id,
               func.count().filter(undecided, Case.due_on < late),
               func.count().filter(undecided, Case.due_on >= late, Case.due_on <= soon),
               func.count())
        .join(Case, Case.id == Step.case_id)
        .where(Step.status == StepStatus.open, Step.due_on.is_(None)).group_by(Step.township_id)).all()
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for township_id, overdue, due_soon, n in inherited:
        totals[township_id][0] += overdue
        totals[township_id][1] += due_soon
        if counters:  # the counters count only steps with a deadline of their own: these are the rest
            totals[township_id][2] += n
    for township_id, overdue, due_soon, n in own:
        totals[township_id][0] += int(overdue)
        totals[township_id][1] += int(due_soon)
        totals[township_id][2] += int(n)
    names = townships(session)
    return [TownshipLoad(name, *totals.get(tid, (0, 0, 0))) for tid, name in names.items()]


@dataclass
class Unarchived:
    case_id: int
    township: str
    since: dt.date


def unarchived(session, step_key: str, limit: int = 50) -> tuple[int, list[Unarchived]]:
    """Decided cases whose filing step (一户一档) is still open: how many, and the oldest first."""
    open_filing = (Step.status == StepStatus.open, Step.key == step_key)
    total = session.scalar(select(func.count()).select_from(Step).where(*open_filing))
    names = townships(session)
    rows = session.execute(select(Step.case_id, Step.township_id, Step.opened_on).where(*open_filing)
                           .order_by(Step.opened_on, Step.id).limit(limit)).all()
    return total, [Unarchived(case_id, names.get(township_id, "—"), since) for case_id, township_id, since in rows]


@dataclass(frozen=True)
class Unfiled:
    case_id: int
    township: str
    since: dt.date
    due_on: dt.date | None
    overdue: bool


def unfiled(session, step_key: str, today: dt.date, limit: int = 50) -> tuple[int, int, list[Unfiled]]:
    """Decided cases whose county filing (备案) is still open: how many, how many past their deadline,
    and the oldest first, each marked overdue by the one rule (``is_overdue``)."""
    from jiuzhu.workflow.deadlines import is_overdue, overdue_before

    open_filing = (Step.status == StepStatus.open, Step.key == step_key)
    total = session.scalar(select(func.count()).select_from(Step).where(*open_filing))
    late = session.scalar(select(func.count()).select_from(Step).where(*open_filing, Step.due_on < overdue_before(today)))
    names = townships(session)
    rows = session.execute(select(Step.case_id, Step.township_id, Step.opened_on, Step.due_on).where(*open_filing)
                           .order_by(Step.due_on, Step.opened_on, Step.id).limit(limit)).all()
    return total, late, [Unfiled(case_id, names.get(township_id, "—"), since, due_on,
                                 due_on is not None and is_overdue(due_on, today))
                         for case_id, township_id, since, due_on in rows]


def _counters(session) -> bool:
    """Whether the case counts come from ``case_counts`` (PostgreSQL keeps them; SQLite has none)."""
    return session.get_bind().dialect.name == "postgresql"


#: GROUP BY the select list's positions: bound parameters inside an expression (the JSON index, the
#: date format) would otherwise make PostgreSQL see two different expressions
BY_FIRST, BY_SECOND = literal_column("1"), literal_column("2")


def first_category(column=Case.categories):
    return column[0].as_string()


def cases_by_category_and_month(session, today: dt.date, months: int = 12) -> tuple[list[str], dict[str, list[int]]]:
    """Applications per month (by the first category asked for) over the last ``months`` months."""
    first = today.year * 12 + today.month - 1 - (months - 1)  # the month ``months - 1`` before this one
    start = dt.date(first // 12, first % 12 + 1, 1)
    month = func.to_char(Case.applied_on, "YYYY-MM") if session.get_bind().dialect.name == "postgresql" \
        else func.strftime("%Y-%m", Case.applied_on)
    if _counters(session):
        rows = [(m.strftime("%Y-%m"), c, int(n)) for m, c, n in session.execute(
            select(CaseCount.applied_month, CaseCount.category, func.sum(CaseCount.n))
            .where(CaseCount.applied_month >= start).group_by(CaseCount.applied_month, CaseCount.category))]
    else:
        rows = session.execute(select(month, first_category(), func.count())
                               .where(Case.applied_on >= start).group_by(BY_FIRST, BY_SECOND)).all()
    labels = []
    cursor = start
    while cursor <= today:
        labels.append(cursor.strftime("%Y-%m"))
        cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(labels))
    for m, category, n in rows:
        if m in labels and category:
            series[Category(category).label][labels.index(m)] += n
    return labels, dict(series)


@dataclass
class Approval:
    township: str
    approved: int
    denied: int

    @property
    def rate(self) -> float | None:
        total = self.approved + self.denied
        return self.approved / total if total else None


def approval_rates(session, since: dt.date) -> list[Approval]:
    """Decisions since ``since`` (the first of a month: the counters count by month) per township."""
    if _counters(session) and since.day == 1:
        granted = CaseCount.status.in_([CaseStatus.approved, CaseStatus.revoked, CaseStatus.closed])
        rows = session.execute(
            select(CaseCount.township_id,
                   func.coalesce(func.sum(CaseCount.n).filter(granted), 0),
                   func.coalesce(func.sum(CaseCount.n).filter(CaseCount.status == CaseStatus.denied), 0))
            .where(CaseCount.decided_month >= since, CaseCount.decided_month > UNDECIDED)
            .group_by(CaseCount.township_id)).all()
        names = townships(session)
        by_id = {r[0]: r for r in rows}
        return [Approval(name, *(int(v) for v in by_id[tid][1:]) if tid in by_id else (0, 0))
                for tid, name in names.items()]
    rows = session.execute(
        select(Case.township_id,
               func.count().filter(Case.status.in_([CaseStatus.approved, CaseStatus.revoked, CaseStatus.closed])),
               func.count().filter(Case.status == CaseStatus.denied))
        .where(Case.decided_on >= since).group_by(Case.township_id)).all()
    names = townships(session)
    by_id = {r[0]: r for r in rows}
    return [Approval(name, *(by_id[tid][1:] if tid in by_id else (0, 0))) for tid, name in names.items()]


@dataclass
class RollRow:
    township: str
    category: str
    households: int
    monthly_total: Decimal


def beneficiaries(session) -> list[RollRow]:
    """Households receiving benefits now, by township and (first) category, with their monthly total."""
    rows = session.execute(
        select(Case.township_id, first_category(), func.count(), func.coalesce(func.sum(Case.monthly_amount), 0))
        .where(Case.status == CaseStatus.approved, Case.kind == "application")
        .group_by(BY_FIRST, BY_SECOND)).all()
    names = townships(session)
    return sorted((RollRow(names.get(t, str(t)), Category(c).label if c else "", n, Decimal(total))
                   for t, c, n, total in rows), key=lambda r: (r.township, r.category))


def status_counts(session) -> dict[str, int]:
    if _counters(session):
        rows = session.execute(select(CaseCount.status, func.sum(CaseCount.n)).group_by(CaseCount.status)
                               .having(func.sum(CaseCount.n) > 0)).all()
    else:
        rows = session.execute(select(Case.status, func.count()).group_by(Case.status)).all()
    return {CaseStatus(s).label: int(n) for s, n in rows}


__all__ = ["load_by_township", "cases_by_category_and_month", "approval_rates", "beneficiaries",
           "status_counts"]
