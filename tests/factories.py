"""Realistic households and a way to act as a given user, for the case-engine tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy import select

from jiuzhu.audit.context import actor_for, use_actor
from jiuzhu.auth.lookup import login_directory
from jiuzhu.auth.models import User
from jiuzhu.cases.idcard import make_id_number
from jiuzhu.cases.services import MemberInput, SupporterInput, register_household
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgUnit


@contextmanager
def acting(app, username: str) -> Iterator[User]:
    """Run the block as ``username`` would in a request: their scope, their name on the audit trail,
    one transaction committed at the end (rolled back on error)."""
    with app.app_context():
        user_id, tenant_id = login_directory(db.session, username)
        with use_scope(Scope(tenant_id) if tenant_id else Scope.platform()):
            user = db.session.get(User, user_id)
            scope = user.scope
        with use_scope(scope), use_actor(actor_for(user)):
            try:
                yield user
                db.session.commit()
            except BaseException:
                db.session.rollback()
                raise
            finally:
                db.session.remove()


def village_of(user: User) -> OrgUnit:
    unit = user.org_unit
    if unit.level.value == "village":
        return unit
    return db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.id)).first()


def household_of_four(session, user: User, village: OrgUnit | None = None, *, seq: int = 1, region="341021",
                      wage: str = "1200", pension: str = "150", support: str = "100"):
    """汪建国户: a 58-year-old father with a serious illness, a working mother, a disabled son and a
    schoolgirl; a married daughter living elsewhere is the father's legal supporter."""
    village = village or village_of(user)
    father = make_id_number(region, dt.date(1968, 3, 12), 10 + 2 * seq + 1)
    mother = make_id_number(region, dt.date(1970, 7, 2), 10 + 2 * seq)
    son = make_id_number(region, dt.date(1995, 1, 20), 30 + 2 * seq + 1)
    girl = make_id_number(region, dt.date(2012, 9, 1), 50 + 2 * seq)
    daughter = make_id_number(region, dt.date(1992, 5, 5), 70 + 2 * seq)
    return register_household(
        session, user, village=village, address=f"{village.name}{seq}组{seq}号", phone="13800000000",
        members=[
            MemberInput("汪建国", father, "head", health="serious", work_ability="partial",
                        incomes={"basic_pension": pension}),
            MemberInput("李秀英", mother, "spouse", working=True, incomes={"wage": wage}),
            MemberInput("汪磊", son, "child", disability_grade=2, work_ability="none"),
            MemberInput("汪小雨", girl, "child"),
        ],
        supporters=[SupporterInput("汪丽", daughter, "赡养", supports=father, monthly_income=Decimal("3000"),
                                   monthly_support_paid=support, address="杭州市")],
        properties=[("存款", "8000")])


def approved_directly(app, username: str, county_username: str, decided_on: dt.date, make, *,
                      categories=("dibao",), amount: str = "1000.00") -> int:
    """A case already approved on ``decided_on``, set up directly (for what reads approved cases:
    spot-check draws, publicity lists, payments). ``make(user)`` registers its household."""
    from jiuzhu.cases.categories import CaseStatus
    from jiuzhu.cases.models import Case
    from jiuzhu.workflow import engine
    from jiuzhu.workflow.models import Step, StepStatus

    with acting(app, username) as user:
        case = engine.open_case(db.session, user, household=make(user), categories=list(categories),
                                channel="window", applied_on=decided_on - dt.timedelta(days=14))
        case_id = case.id
    with acting(app, county_username):
        case = db.session.get(Case, case_id)
        case.status, case.accepted_on, case.decided_on = CaseStatus.approved, case.applied_on, decided_on
        case.monthly_amount, case.benefit_start = Decimal(amount), decided_on.replace(day=1)
        for s in db.session.scalars(select(Step).where(Step.case_id == case_id)):
            s.status, s.closed_on = StepStatus.done, decided_on
    return case_id
