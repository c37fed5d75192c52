"""The numbers behind the dashboard and the statistics, as aggregate queries.

Every query runs through the ORM, so the tenant (and a township leader's township) is applied
centrally; none reads whole tables row by row. The worklist partial index (open steps by tenant,
township, due date) serves the overdue counts; ``ix_cases_tenant_applied`` the monthly counts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, literal_column, select

from jiuzhu.calendar import add_workdays
from jiuzhu.cases.categories import CaseStatus, Category
from jiuzhu.cases.models import Case
from jiuzhu.tenancy.models import OrgLevel, OrgUnit
from jiuzhu.workflow.models import Step, StepStatus


@dataclass
class TownshipLoad:
    township: str
    overdue: int
    due_soon: int
    open_steps: int


def townships(session) -> dict[int, str]:
    return dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.level == OrgLevel.township)
                                .order_by(OrgUnit.name)).all())


def load_by_township(session, today: dt.date, soon_workdays: int = 3) -> list[TownshipLoad]:
    """Open steps per township: overdue, due within ``soon_workdays`` working days, all — each step by
    its effective deadline (its own, else the case's overall limit), as the worklist marks it."""
    from jiuzhu.workflow.deadlines import effective_due_column

    soon = add_workdays(today, soon_workdays).due
    due = effective_due_column()
    rows = session.execute(
        select(Step.township_id,
               func.count().filter(due < today),
               func.count().filter(due >= today, due <= soon),
               func.count())
        .join(Case, Case.id == Step.case_id)
        .where(Step.status == StepStatus.open).group_by(Step.township_id)).all()
    names = townships(session)
    by_id = {r[0]: r for r in rows}
    return [TownshipLoad(name, *(by_id[tid][1:] if tid in by_id else (0, 0, 0))) for tid, name in names.items()]


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
    rows = session.execute(select(Case.status, func.count()).group_by(Case.status)).all()
    return {CaseStatus(s).label: n for s, n in rows}


__all__ = ["load_by_township", "cases_by_category_and_month", "approval_rates", "beneficiaries",
           "status_counts"]
