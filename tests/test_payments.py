"""The payments package on its own: schedules month by month, relief once, in stages, or advanced —
validated before anything is written, paid by the right level, and never seen by another county."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from jiuzhu.cases.categories import CaseStatus
from jiuzhu.cases.models import Case
from jiuzhu.errors import PermissionDenied, ValidationError
from jiuzhu.extensions import db
from jiuzhu.payments import services as pay
from jiuzhu.payments.models import BenefitSchedule, ReliefGrant, ReliefKind, ReliefPayment, add_months
from jiuzhu.workflow import engine
from tests.factories import acting, household_of_four

D = dt.date
DECIDED = D(2026, 10, 21)


@pytest.fixture
def counties(world):
    world.county("pa", plugin="baseline", townships=1, villages=1)
    world.county("pb", plugin="baseline", townships=1, villages=1)


def approved(app, code="pa", amount="1000.00", decided=DECIDED) -> int:
    """A case set straight to approved (the engine's lifecycle is tested elsewhere)."""
    with acting(app, f"{code}-t1-staff") as user:
        h = household_of_four(db.session, user)
        case = engine.open_case(db.session, user, household=h, categories=["dibao"], channel="window",
                                applied_on=D(2026, 9, 30))
        case.status, case.decided_on, case.monthly_amount = CaseStatus.approved, decided, Decimal(amount)
        case.benefit_start = D(2026, 11, 1)
        return case.id


def start(app, case_id, code="pa", **kw) -> int:
    with acting(app, f"{code}-county"):
        return pay.start_benefits(db.session, db.session.get(Case, case_id), category="dibao", on=D(2026, 10, 21),
                                  **kw).id


def test_add_months_crosses_years():
    assert add_months(D(2026, 11, 1), 2) == D(2027, 1, 1)
    assert add_months(D(2026, 1, 1), -1) == D(2025, 12, 1)
    assert add_months(D(2026, 12, 1), 12) == D(2027, 12, 1)


def test_schedule_from_the_start_month_paid_by_the_county_only(app, counties):
    case_id = approved(app)
    schedule_id = start(app, case_id, pay_by_day=10)
    with acting(app, "pa-county") as user:
        schedule = db.session.get(BenefitSchedule, schedule_id)
        months = pay.months_due(schedule, D(2027, 2, 3))
        assert [(m.month, m.pay_by) for m in months] == [
            (D(2026, 11, 1), D(2026, 11, 10)), (D(2026, 12, 1), D(2026, 12, 10)), (D(2027, 1, 1), D(2027, 1, 10)),
            (D(2027, 2, 1), D(2027, 2, 10))]
        pay.pay_month(db.session, user, schedule_id, D(2026, 11, 15), on=D(2026, 11, 9))
        with pytest.raises(ValidationError, match="该案件已有发放计划"):
            pay.start_benefits(db.session, db.session.get(Case, case_id), category="dibao", on=D(2026, 10, 22))
    with acting(app, "pa-county"):
        months = pay.months_due(db.session.get(BenefitSchedule, schedule_id), D(2026, 12, 1))
        assert [m.paid_on for m in months] == [D(2026, 11, 9), None]
    for who in ("pa-t1-staff", "pa-t1-leader", "pa-t1-village"):
        with acting(app, who) as user, pytest.raises(PermissionDenied, match="权钱分离"):
            pay.pay_month(db.session, user, schedule_id, D(2026, 12, 1), on=D(2026, 12, 5))


def test_adjust_stop_and_gradual_exit(app, counties):
    case_id = approved(app)
    schedule_id = start(app, case_id)
    with acting(app, "pa-county"):
        schedule = db.session.get(BenefitSchedule, schedule_id)
        pay.adjust_amount(db.session, schedule, Decimal("850"))
        assert schedule.monthly_amount == Decimal("850.00")
        with pytest.raises(ValidationError, match="须大于 0 元"):
            pay.adjust_amount(db.session, schedule, Decimal("0"))
        with pytest.raises(ValidationError, match="渐退期须为 1 至 12 个月"):
            pay.grant_gradual_exit(db.session, schedule, months=13, max_months=12, decided_on=D(2026, 12, 3), reason="x")
        exit_on = pay.grant_gradual_exit(db.session, schedule, months=6, max_months=12, decided_on=D(2026, 12, 3),
                                         reason="收入超过低保标准")
        assert (schedule.end_month, exit_on) == (D(2027, 6, 1), D(2027, 7, 1))
        with pytest.raises(ValidationError, match="不能再给予渐退期"):
            pay.grant_gradual_exit(db.session, schedule, months=3, max_months=12, decided_on=D(2026, 12, 4), reason="x")
        pay.stop_benefits(db.session, schedule, decided_on=D(2027, 1, 20), reason="死亡")
        assert schedule.end_month == D(2027, 1, 1) and schedule.end_reason == "死亡"


def test_relief_grants_are_validated_before_anything_is_written(app, counties):
    case_id = approved(app)
    with acting(app, "pa-t1-staff") as user:
        case = db.session.get(Case, case_id)
        for kwargs, message in [
            ({"kind": ReliefKind.staged, "total": "3000", "stages": [("1000", None), ("1000", None)]}, "合计须等于"),
            ({"kind": ReliefKind.one_off, "total": "2000", "stages": [("1000", None), ("1000", None)]}, "只能发放一次"),
            ({"kind": ReliefKind.staged, "total": "0", "stages": [("0", None)]}, "须大于 0 元"),
            ({"kind": ReliefKind.staged, "total": "1000", "stages": []}, "请至少安排一次发放"),
            ({"kind": ReliefKind.advance, "total": "100", "stages": [("100", None)]}, "请用先行发放登记"),
        ]:
            with pytest.raises(ValidationError, match=message):
                pay.grant_relief(db.session, case, approved_on=D(2026, 10, 21), reason="急难", user=user, **kwargs)
        assert db.session.scalar(select(func.count()).select_from(ReliefGrant)) == 0
        assert db.session.scalar(select(func.count()).select_from(ReliefPayment)) == 0
        grant = pay.grant_relief(db.session, case, kind=ReliefKind.staged, total=Decimal("3000"),
                                 stages=[(Decimal("1000"), D(2026, 10, 22)), (Decimal("1500"), D(2026, 11, 22))],
                                 counted_advance=Decimal("500"), approved_on=D(2026, 10, 21), reason="大病急难")
        assert [p.stage for p in grant.payments] == [1, 2] and grant.paid_amount == Decimal("0")
        with pytest.raises(ValidationError, match="发放日期不能早于批准日期"):
            pay.pay_relief(db.session, user, grant.payments[0].id, on=D(2026, 10, 20))


def test_advance_within_the_ceiling_and_paperwork_after(app, counties):
    case_id = approved(app)
    with acting(app, "pa-t1-staff") as user:
        case = db.session.get(Case, case_id)
        with pytest.raises(ValidationError, match="尚未设定"):
            pay.pay_advance(db.session, user, case, amount="300", ceiling=None, on=D(2026, 10, 9))
        with pytest.raises(ValidationError, match="超过县级设定的上限"):
            pay.pay_advance(db.session, user, case, amount="300.01", ceiling=Decimal("300"), on=D(2026, 10, 9))
        grant = pay.pay_advance(db.session, user, case, amount="300", ceiling=Decimal("300"), on=D(2026, 10, 9),
                                emergency_place="某镇集市")
        assert grant.paperwork_pending and grant.paid_amount == Decimal("300.00")
        with pytest.raises(ValidationError) as err:
            pay.complete_paperwork(db.session, user, grant.id, recipient="", reason="", amount="200", signatures=[],
                                   sealed=False, on=D(2026, 10, 8))
        assert err.value.messages == ["请登记救助对象。", "请登记救助事由。", "登记的救助金额 200.00 元与先行发放的 300.00 元不一致。",
                                      "请补齐经办人员签字。", "请补齐盖章手续。", "补齐手续的日期不能早于先行救助日期 2026-10-09。"]
        pay.complete_paperwork(db.session, user, grant.id, recipient="汪建国", reason="火灾", amount="300",
                               signatures=["汪敏"], sealed=True, on=D(2026, 10, 12))
        assert not grant.paperwork_pending
    with acting(app, "pa-t1-village") as user, pytest.raises(PermissionDenied):
        pay.pay_advance(db.session, user, db.session.get(Case, case_id), amount="1", ceiling=Decimal("9"),
                        on=D(2026, 10, 9))


def test_another_county_sees_no_payments(app, counties):
    case_id = approved(app)
    schedule_id = start(app, case_id)
    with acting(app, "pa-t1-staff") as user:
        pay.grant_relief(db.session, db.session.get(Case, case_id), kind=ReliefKind.one_off, total=Decimal("250"),
                         stages=[(Decimal("250"), None)], approved_on=D(2026, 10, 21), reason="一次性", user=user)
    with acting(app, "pb-county") as user:
        assert db.session.get(BenefitSchedule, schedule_id) is None
        assert db.session.scalars(select(ReliefGrant)).all() == []
        with pytest.raises(Exception, match="不存在"):
            pay.pay_month(db.session, user, schedule_id, D(2026, 11, 1), on=D(2026, 11, 5))
    with acting(app, "pa-county"):
        assert db.session.scalar(select(func.count()).select_from(ReliefGrant)) == 1
