"""A case with everything its page shows, read in one statement.

The case page shows a case's household with its members, incomes and legal supporters, its steps,
materials (with their files), notices, assistance, benefit schedule (with its months) and
temporary-relief grants (with their stages). Each collection read on its own is a statement; with
the collections joined to each other their rows would multiply (members × steps × materials …).

Here each collection is joined to the case under a *part* of its own: the case is repeated once
per part (a list of small numbers), and each collection is joined only on its part's rows — so the
result has as many rows as the collections have together, not their product, and a row carries
one collection's row (and, for materials, schedules and grants, their child's), the other
entities empty (``None``: SQLAlchemy loads an outer-joined entity whose key is NULL as ``None``).

It is an ordinary ORM statement: the scope's loader criteria reach every joined entity (in its
``ON`` clause) and row-level security every table, as for any other read. The collections are then
set on their parents as loaded (``set_committed_value``), so the page and the plugins read them
without another statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, literal, select, true, union_all
from sqlalchemy.orm.attributes import set_committed_value

from jiuzhu.cases.households import Household, IncomeItem, LegalSupporter, Member
from jiuzhu.cases.models import AssistanceRecord, Case, CaseMaterial, MaterialFile, Notice
from jiuzhu.payments.models import BenefitPayment, BenefitSchedule, ReliefGrant, ReliefPayment
from jiuzhu.workflow.models import Step

#: the parts: which collection a row of the statement carries
MEMBERS, INCOMES, SUPPORTERS, STEPS, MATERIALS, NOTICES, ASSISTANCE, SCHEDULE, GRANTS = range(9)


@dataclass
class WholeCase:
    """A case as its page shows it; ``case.household`` (members, incomes, supporters),
    ``case.materials`` (files) and ``case.notices`` are set on the objects themselves."""

    case: Case
    steps: list[Step] = field(default_factory=list)
    assistance: list[AssistanceRecord] = field(default_factory=list)
    schedule: BenefitSchedule | None = None  # with its ``payments``
    grants: list[ReliefGrant] = field(default_factory=list)  # each with its ``payments``


def _parts():
    """The numbers 0 … 8 as a table of one column (``UNION ALL`` of literals: the demo's SQLite has
    no ``VALUES`` with column names)."""
    return union_all(*(select(literal(n).label("n")) for n in range(GRANTS + 1))).subquery("part")


def load_whole_case(session, case_id: int) -> WholeCase | None:
    """The case with everything its page shows, in one statement; ``None`` when it does not exist
    or is outside the user's scope."""
    part = _parts()
    on = part.c.n
    stmt = (
        select(Case, Household, Member, IncomeItem, LegalSupporter, Step, CaseMaterial, MaterialFile, Notice,
               AssistanceRecord, BenefitSchedule, BenefitPayment, ReliefGrant, ReliefPayment)
        .select_from(Case).join(part, true())
        .outerjoin(Household, Household.id == Case.household_id)
        .outerjoin(Member, and_(on == MEMBERS, Member.household_id == Household.id))
        .outerjoin(IncomeItem, and_(on == INCOMES, IncomeItem.household_id == Household.id))
        .outerjoin(LegalSupporter, and_(on == SUPPORTERS, LegalSupporter.household_id == Household.id))
        .outerjoin(Step, and_(on == STEPS, Step.case_id == Case.id))
        .outerjoin(CaseMaterial, and_(on == MATERIALS, CaseMaterial.case_id == Case.id))
        .outerjoin(MaterialFile, MaterialFile.material_id == CaseMaterial.id)
        .outerjoin(Notice, and_(on == NOTICES, Notice.case_id == Case.id))
        .outerjoin(AssistanceRecord, and_(on == ASSISTANCE, AssistanceRecord.case_id == Case.id))
        .outerjoin(BenefitSchedule, and_(on == SCHEDULE, BenefitSchedule.case_id == Case.id))
        .outerjoin(BenefitPayment, BenefitPayment.schedule_id == BenefitSchedule.id)
        .outerjoin(ReliefGrant, and_(on == GRANTS, ReliefGrant.case_id == Case.id))
        .outerjoin(ReliefPayment, ReliefPayment.grant_id == ReliefGrant.id)
        .where(Case.id == case_id)
        # (not populate_existing: the case and its household, on every row, would be filled anew on
        # each; a refused form is shown again after a rollback, which expired everything loaded)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return None
    case, household = rows[0][0], rows[0][1]
    found: dict[type, dict[int, object]] = {}
    children: dict[tuple[type, int], dict[int, object]] = {}
    for row in rows:
        (_c, _h, member, income, supporter, step, material, file, notice, assistance, schedule, payment,
         grant, stage) = row
        for obj in (member, income, supporter, step, material, notice, assistance, schedule, grant):
            if obj is not None:
                found.setdefault(type(obj), {})[obj.id] = obj
        for parent, child in ((material, file), (schedule, payment), (grant, stage)):
            if parent is not None:
                kids = children.setdefault((type(parent), parent.id), {})
                if child is not None:
                    kids[child.id] = child

    def of(cls, key=lambda o: o.id) -> list:
        return sorted(found.get(cls, {}).values(), key=key)

    def kids_of(parent, key) -> list:
        return sorted(children.get((type(parent), parent.id), {}).values(), key=key)

    if household is not None:
        set_committed_value(household, "members", of(Member))
        set_committed_value(household, "incomes", of(IncomeItem))
        set_committed_value(household, "supporters", of(LegalSupporter))
    set_committed_value(case, "household", household)
    materials = of(CaseMaterial)
    for material in materials:
        set_committed_value(material, "files", kids_of(material, lambda f: f.id))
    set_committed_value(case, "materials", materials)
    set_committed_value(case, "notices", of(Notice))
    schedules = of(BenefitSchedule)
    for schedule in schedules:
        set_committed_value(schedule, "payments", kids_of(schedule, lambda p: p.month))
    grants = of(ReliefGrant)
    for grant in grants:
        set_committed_value(grant, "payments", kids_of(grant, lambda p: p.stage))
    return WholeCase(case=case, steps=of(Step), assistance=of(AssistanceRecord, lambda a: (a.done_on, a.id)),
                     schedule=schedules[0] if schedules else None, grants=grants)
