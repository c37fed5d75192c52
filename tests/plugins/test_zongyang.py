"""枞阳县 (《枞阳县社会救助工作便民惠民优化服务行动方案》, 2021): every rule of the document, on real
2026 dates around National Day (10-01..10-07 off, Saturday 10-10 worked) and the Spring Festival
(02-15..02-23 off, Saturdays 02-14 and 02-28 worked)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from jiuzhu.cases.assessment import assess
from jiuzhu.cases.categories import CaseStatus
from jiuzhu.cases.idcard import make_id_number
from jiuzhu.cases.models import Case
from jiuzhu.cases.services import MemberInput, register_household
from jiuzhu.errors import PermissionDenied, ValidationError
from jiuzhu.extensions import db
from jiuzhu.payments import services as pay
from jiuzhu.payments.models import ReliefKind
from jiuzhu.tenancy.models import OrgUnit
from jiuzhu.workflow import engine
from jiuzhu.workflow.models import Step
from plugins.anhui import AnhuiPlugin
from plugins.zongyang import source
from plugins.zongyang.plugin import ZongyangPlugin
from tests.factories import acting, household_of_four
from tests.plugins.anhui_support import (
    add_park,
    case_of,
    configure,
    do,
    elderly_man,
    normalised,
    open_step,
    seed_text,
    skip,
    step_due,
    young_family,
)

D = dt.date
REGION = "340722"
SEP_29 = D(2026, 9, 29)
OCT_9 = D(2026, 10, 9)
OCT_20 = D(2026, 10, 20)
NOV_20 = D(2026, 11, 20)
FEB_12 = D(2026, 2, 12)
CHECK = {"report_no": "ZY-HD-2026-0927", "result": "pass", "agency": "枞阳县居民家庭经济状况核对中心",
         "per_capita_income": "265.00"}
VISIT = {"investigators": ["章红", "疏建平"], "visited_on": "2026-10-08", "findings": "父亲重病，儿子重度残疾，母亲务工。",
         "doubt": False}
MEETING = {"meeting_held_on": "2026-10-20", "meeting_participants": ["镇党委", "镇民政办", "镇财政所", "镇纪委"]}


@pytest.fixture
def county(world):
    info = world.county("zy", plugin="zongyang", townships=2, villages=2)
    configure(world.app, "zy", dibao_standard="800", advance_relief_ceiling="1000")
    return info


def plugin(app) -> ZongyangPlugin:
    return app.extensions["jiuzhu.plugins"].get("zongyang")


def application(on: dt.date, categories=("dibao",), **extra) -> dict:
    return {"categories": list(categories), "channel": "window", "applied_on": on.isoformat(),
            "authorization_signed_on": on.isoformat(), "commitment_signed_on": on.isoformat(),
            "provided": ["application_form", "authorization", "commitment"], "via_platform": ["id_and_register"],
            **extra}


def apply(app, *, on=SEP_29, categories=("dibao",), make=None, username="zy-t1-staff", **extra) -> int:
    with acting(app, username) as user:
        household = (make or (lambda s, u: household_of_four(s, u, region=REGION)))(db.session, user)
        return plugin(app).file_application(db.session, user, household, application(on, categories, **extra)).id


def to_decision(app, case_id, accept_on=SEP_29):
    do(app, "zy-t1-staff", case_id, "acceptance", "accept", accept_on)
    do(app, "zy-county", case_id, "economic_check", "reported", D(2026, 10, 9), CHECK)
    do(app, "zy-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 8), VISIT)
    skip(app, "zy-t1-staff", case_id, "appraisal", "经济状况核对和入户调查无疑义", D(2026, 10, 9))
    do(app, "zy-t1-leader", case_id, "review_opinion", "propose_approve", D(2026, 10, 12),
       {"opinion": "家庭人均收入 265 元，低于低保标准 800 元", "proposed_amount": "2140.00"})
    do(app, "zy-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 19), {"channels": ["村务公开栏"]})


def approve(app, case_id, on=OCT_20, amount="2140.00"):
    do(app, "zy-t1-leader", case_id, "decision", "approve", on, {**MEETING, "monthly_amount": amount})


def approved_case(app) -> int:
    case_id = apply(app)
    to_decision(app, case_id)
    approve(app, case_id)
    return case_id


def open_review(app, case_id, on) -> int:
    with acting(app, "zy-t1-staff") as user:
        return engine.open_review(db.session, user, case_id, on=on).id


def review_to_decision(app, review_id, income: str, on=NOV_20):
    do(app, "zy-county", review_id, "economic_check", "reported", on,
       {**CHECK, "report_no": "ZY-FH-2026-1120", "per_capita_income": income})
    do(app, "zy-t1-staff", review_id, "home_investigation", "done", on,
       {**VISIT, "visited_on": on.isoformat(), "findings": "儿子就业，家庭收入增加。"})


# -- the whole life of a case -------------------------------------------------------------------------

def test_lifecycle_household_of_four_approved_then_gradual_exit(app, county):
    case_id = apply(app)
    c = case_of(app, "zy-t1-staff", case_id)
    assert c["priority"] and "汪磊为重度残疾人（二级）" in c["priority_reason"]
    with acting(app, "zy-t1-staff"):
        case = db.session.get(Case, case_id)
        a = assess(case.household, plugin(app), plugin(app).tenant_settings(case.tenant_id), SEP_29)
        assert (a.per_capita, a.monthly_benefit) == (Decimal("265.00"), Decimal("2140.00"))
    to_decision(app, case_id)
    c = case_of(app, "zy-t1-staff", case_id)
    # accepted Tue 09-29: 20 working days over National Day, Saturday 10-10 worked → Mon 11-02
    assert c["accepted_on"] == SEP_29 and c["due_on"] == D(2026, 11, 2) and c["limit_workdays"] == 20
    assert step_due(c, "publicity") == (D(2026, 10, 12), D(2026, 10, 19))
    approve(app, case_id)
    do(app, "zy-t1-staff", case_id, "certificate", "issued", D(2026, 10, 21))
    c = case_of(app, "zy-t1-staff", case_id)
    assert (c["status"], c["decided_on"], c["benefit_start"]) == (CaseStatus.approved, D(2026, 10, 20), D(2026, 11, 1))
    assert [s[2] for s in c["steps"]] == ["done", "done", "done", "skipped", "done", "done", "done", "done"]
    # the son finds work: the review finds 860 yuan per person, above the 800 standard
    review_id = open_review(app, case_id, D(2026, 11, 16))
    review_to_decision(app, review_id, "860.00")
    do(app, "zy-t1-leader", review_id, "review_decision", "gradual_exit", D(2026, 11, 27), {},
       reason="家庭人均收入超过低保标准，给予渐退期")
    r = case_of(app, "zy-t1-staff", review_id)
    assert r["status"] == CaseStatus.approved
    assert r["step_data"]["review_decision"] == {"months": 6, "stable_out_of_poverty": False, "exit_on": "2027-06-01",
                                                 "condition": "家庭人均收入超过我市低保标准",
                                                 "per_capita_income": "860.00"}
    with acting(app, "zy-county") as user:
        schedule = pay.schedule_of(db.session, case_id)
        # November is paid as usual, then six more months: December to May; out from June 2027
        assert (schedule.end_month, schedule.exit_on, schedule.gradual_exit_months) == (
            D(2027, 5, 1), D(2027, 6, 1), 6)
        assert len(pay.months_due(schedule, D(2027, 12, 31))) == 7
        with pytest.raises(ValidationError, match="发放至2027年05月止"):
            pay.pay_month(db.session, user, schedule.id, D(2027, 6, 1), on=D(2027, 6, 5))
        assert pay.gradual_exits_ended(db.session, D(2027, 5, 31)) == []
        assert [s.case_id for s in pay.gradual_exits_ended(db.session, D(2027, 6, 1))] == [case_id]
    with acting(app, "zy-t1-staff") as user:
        engine.close(db.session, user, case_id, "渐退期满，退出低保", on=D(2027, 6, 1))
    assert case_of(app, "zy-t1-staff", case_id)["status"] == CaseStatus.closed


def test_lifecycle_young_family_denied_around_spring_festival(app, county):
    case_id = apply(app, on=FEB_12, make=lambda s, u: young_family(s, u, region=REGION, wage="4200"))
    c = case_of(app, "zy-t1-staff", case_id)
    assert not c["priority"] and c["priority_reason"] is None
    do(app, "zy-t1-staff", case_id, "acceptance", "accept", FEB_12)
    # accepted Thu 02-12: Saturdays 02-14 and 02-28 worked, 02-15..02-23 off → Wed 03-18
    assert case_of(app, "zy-t1-staff", case_id)["due_on"] == D(2026, 3, 18)
    do(app, "zy-county", case_id, "economic_check", "reported", D(2026, 2, 26),
       {**CHECK, "result": "fail", "per_capita_income": "1086.67"})
    do(app, "zy-t1-staff", case_id, "home_investigation", "done", D(2026, 2, 14),
       {**VISIT, "visited_on": "2026-02-14", "findings": "丈夫稳定务工，月工资 4200 元。", "doubt": True})
    with pytest.raises(ValidationError, match="不满足跳过“民主评议”的条件"):
        skip(app, "zy-t1-staff", case_id, "appraisal", "想跳过", D(2026, 2, 27))
    do(app, "zy-t1-staff", case_id, "appraisal", "done", D(2026, 2, 28),
       {"held_on": "2026-02-28", "participants": 12, "result": "收入超过低保标准"})
    do(app, "zy-t1-leader", case_id, "review_opinion", "propose_deny", D(2026, 3, 2), {"opinion": "不符合"},
       reason="扣减务工必要支出后人均收入仍高于低保标准")
    do(app, "zy-t1-leader", case_id, "decision", "deny", D(2026, 3, 6),
       {**MEETING, "meeting_held_on": "2026-03-06"}, reason="扣减务工必要支出后人均收入仍高于低保标准")
    c = case_of(app, "zy-t1-staff", case_id)
    assert c["status"] == CaseStatus.denied and step_due(c, "denial_notice") == (D(2026, 3, 6), D(2026, 3, 11))
    do(app, "zy-t1-staff", case_id, "denial_notice", "issued", D(2026, 3, 9))
    assert case_of(app, "zy-t1-staff", case_id)["notices"] == [("denial", "救不确〔2026〕0001号")]


# -- limits and the procedure -----------------------------------------------------------------------

def test_rule_dibao_tekun_within_20_workdays_no_extension(app, county):
    case_id = apply(app, categories=["tekun"], make=lambda s, u: elderly_man(s, u, region=REGION, born=D(1948, 3, 3)))
    do(app, "zy-t1-staff", case_id, "acceptance", "accept", SEP_29)
    assert case_of(app, "zy-t1-staff", case_id)["due_on"] == D(2026, 11, 2)
    with acting(app, "zy-t1-staff") as user, pytest.raises(ValidationError, match="本地规则不允许延长办理时限"):
        engine.extend(db.session, user, case_id, "需要更多时间")
    configure(app, "zy", dibao_standard="800", limit_workdays=15)
    case2 = apply(app, make=lambda s, u: young_family(s, u, region=REGION))
    do(app, "zy-t1-staff", case2, "acceptance", "accept", SEP_29)
    assert case_of(app, "zy-t1-staff", case2)["due_on"] == D(2026, 10, 26)
    with pytest.raises(ValidationError) as err:
        configure(app, "zy", limit_workdays=21, extended_limit_workdays=30)
    assert err.value.field_errors["limit_workdays"] == [f"办理时限须在 1 至 20 之间（依据：{source.DOCUMENT}）。"]
    assert "不设延长时限" in err.value.field_errors["extended_limit_workdays"][0]


def test_rule_appraisal_skipped_when_nothing_in_doubt(app, county):
    spec = plugin(app).default_workflow().step("appraisal")
    assert spec.skip is not None and source.NO_APPRAISAL in spec.source
    case_id = apply(app)
    do(app, "zy-t1-staff", case_id, "acceptance", "accept", SEP_29)
    do(app, "zy-county", case_id, "economic_check", "reported", D(2026, 10, 9), CHECK)
    do(app, "zy-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 8), VISIT)
    skip(app, "zy-t1-staff", case_id, "appraisal", "经济状况核对和入户调查无疑义", D(2026, 10, 9))
    c = case_of(app, "zy-t1-staff", case_id)
    assert [(s[0], s[2]) for s in c["steps"] if s[0] == "appraisal"] == [("appraisal", "skipped")]


def test_rule_township_joint_review_confirms_county_supervises(app, county):
    case_id = apply(app)
    to_decision(app, case_id)
    with pytest.raises(ValidationError) as err:
        do(app, "zy-t1-leader", case_id, "decision", "approve", D(2026, 10, 20), {"monthly_amount": "2140"})
    assert set(err.value.field_errors) == {"meeting_held_on", "meeting_participants"}
    with pytest.raises(PermissionDenied, match="由乡镇"):
        do(app, "zy-county", case_id, "decision", "approve", D(2026, 10, 20), {**MEETING, "monthly_amount": "2140"})
    approve(app, case_id)
    with acting(app, "zy-t1-leader") as user, pytest.raises(PermissionDenied):
        engine.revoke(db.session, user, case_id, "乡镇撤销")
    with acting(app, "zy-county") as user:
        engine.revoke(db.session, user, case_id, "县民政局监督检查：隐瞒收入", on=D(2026, 11, 30))


def test_rule_development_zone_confirms_like_a_township(app, county):
    add_park(app, "zy", "枞阳经开区")

    def make(session, user):
        community = session.get(OrgUnit, user.org_unit_id) if user.role.is_village else None
        return young_family(session, user, region=REGION, village=community)

    with acting(app, "zy-park-village") as user:
        household = make(db.session, user)
        case_id = engine.open_case(db.session, user, household=household, categories=["dibao"],
                                   channel="village_proxy", applied_on=SEP_29, authorization_signed_on=SEP_29,
                                   commitment_signed_on=SEP_29, provided=["application_form", "authorization",
                                                                           "commitment"],
                                   via_platform=["id_and_register"]).id
    with pytest.raises(PermissionDenied):
        do(app, "zy-park-village", case_id, "acceptance", "accept", SEP_29)
    do(app, "zy-park-staff", case_id, "acceptance", "accept", SEP_29)
    do(app, "zy-county", case_id, "economic_check", "reported", D(2026, 10, 9), CHECK)
    do(app, "zy-park-staff", case_id, "home_investigation", "done", D(2026, 10, 8), VISIT)
    skip(app, "zy-park-staff", case_id, "appraisal", "无疑义", D(2026, 10, 9))
    do(app, "zy-park-leader", case_id, "review_opinion", "propose_approve", D(2026, 10, 12), {"opinion": "拟同意"})
    do(app, "zy-park-staff", case_id, "publicity", "no_objection", D(2026, 10, 19))
    do(app, "zy-park-leader", case_id, "decision", "approve", D(2026, 10, 20),
       {**MEETING, "meeting_participants": ["经开区党工委", "经开区社会事务局"], "monthly_amount": "900"})
    assert case_of(app, "zy-park-staff", case_id)["status"] == CaseStatus.approved
    with acting(app, "zy-t1-staff"):
        assert db.session.get(Case, case_id) is None  # another township does not see the zone's cases


# -- income ------------------------------------------------------------------------------------------

def test_rule_work_costs_deducted_30_percent_and_basic_pension_not_income(app, county):
    with acting(app, "zy-t1-staff") as user:
        h = household_of_four(db.session, user, region=REGION)
        p = plugin(app)
        a = assess(h, p, p.tenant_settings(user.tenant_id), SEP_29)
        assert [(line.label, line.amount) for line in a.excluded] == [("城乡居民基本养老保险基础养老金", Decimal("150.00"))]
        assert [(line.label, line.amount) for line in a.deductions] == [
            ("李秀英务工必要支出（按低保标准的 30% 扣减）", Decimal("240.00"))]
        assert (a.gross, a.household_income, a.per_capita) == (Decimal("1300.00"), Decimal("1060.00"), Decimal("265.00"))
        baseline = app.extensions["jiuzhu.plugins"].get("baseline")
        assert assess(h, baseline, baseline.settings({"dibao_standard": "800"}), SEP_29).per_capita == Decimal("362.50")


# -- gradual exit --------------------------------------------------------------------------------------

def test_rule_gradual_exit_6_months_default_at_most_12(app, county):
    """“可给予6个月的渐退期，最多不超过12个月”: never fewer than 6 months nor more than 12 — when staff set it
    and when the county sets its default; benefits stop at its end."""
    case_id = approved_case(app)
    review_id = open_review(app, case_id, D(2026, 11, 16))
    review_to_decision(app, review_id, "900.00")
    for months in (13, 5):
        with pytest.raises(ValidationError, match="渐退期须为 6 至 12 个月"):
            do(app, "zy-t1-leader", review_id, "review_decision", "gradual_exit", D(2026, 11, 27), {"months": months},
               reason="收入超标")
    with pytest.raises(ValidationError, match="须填写理由"):
        do(app, "zy-t1-leader", review_id, "review_decision", "gradual_exit", D(2026, 11, 27), {"months": 12})
    do(app, "zy-t1-leader", review_id, "review_decision", "gradual_exit", D(2026, 11, 27), {"months": 12},
       reason="收入超标，家庭仍有重病成员，给予最长渐退期")
    with acting(app, "zy-county") as user:
        schedule = pay.schedule_of(db.session, case_id)
        assert (schedule.end_month, schedule.exit_on) == (D(2027, 11, 1), D(2027, 12, 1))
        pay.pay_month(db.session, user, schedule.id, D(2027, 11, 1), on=D(2027, 11, 5))
        with pytest.raises(ValidationError, match="发放至2027年11月止，2027年12月不再发放"):
            pay.pay_month(db.session, user, schedule.id, D(2027, 12, 1), on=D(2027, 12, 3))
    # the county may set another default, from 6 to 12
    configure(app, "zy", dibao_standard="800", gradual_exit_months=9)
    assert plugin(app).settings({"gradual_exit_months": 9})["gradual_exit_months"] == 9
    for months in (13, 3):
        with pytest.raises(ValidationError, match="渐退期默认月数须在 6 至 12 之间"):
            configure(app, "zy", gradual_exit_months=months)


def test_rule_gradual_exit_only_for_dibao_the_category_the_plan_names(app, county):
    """“对农村低保对象加强监测预警和动态管理，对家庭人均收入超过我市低保标准的，可给予6个月的渐退期”: a
    特困 household's review cannot grant one."""
    case_id = apply(app, categories=("tekun",))
    to_decision(app, case_id)
    do(app, "zy-t1-leader", case_id, "decision", "approve", OCT_20,
       {**MEETING, "monthly_amount": "2140.00", "support_mode": "集中供养"})
    review_id = open_review(app, case_id, D(2026, 11, 16))
    review_to_decision(app, review_id, "900.00")
    with pytest.raises(ValidationError, match="渐退期只适用于最低生活保障对象，该户按特困人员发放"):
        do(app, "zy-t1-leader", review_id, "review_decision", "gradual_exit", D(2026, 11, 27), {},
           reason="收入超标")


def test_rule_gradual_exit_only_when_income_above_the_standard(app, county):
    case_id = approved_case(app)
    review_id = open_review(app, case_id, D(2026, 11, 16))
    review_to_decision(app, review_id, "780.00")
    with pytest.raises(ValidationError, match="未超过低保标准 800.00 元，不适用渐退期"):
        do(app, "zy-t1-leader", review_id, "review_decision", "gradual_exit", D(2026, 11, 27), {}, reason="收入增加")
    do(app, "zy-t1-leader", review_id, "review_decision", "continue", D(2026, 11, 27), {"monthly_amount": "80.00"})
    with acting(app, "zy-county"):
        schedule = pay.schedule_of(db.session, case_id)
        assert schedule.monthly_amount == Decimal("80.00") and schedule.end_month is None


def test_rule_stable_out_of_poverty_exit_after_12_months(app, county):
    case_id = approved_case(app)  # 汪建国户: a seriously ill father and a severely disabled son
    review_id = open_review(app, case_id, D(2026, 11, 16))
    review_to_decision(app, review_id, "900.00")
    with pytest.raises(ValidationError) as err:
        do(app, "zy-t1-leader", review_id, "review_decision", "gradual_exit", D(2026, 11, 27),
           {"stable_out_of_poverty": True, "months": 6}, reason="稳定脱贫")
    assert "实施稳定脱贫的家庭，渐退期为 12 个月。" in err.value.messages
    assert any("家庭有重病、重残对象（汪建国、汪磊）" in m for m in err.value.messages)
    # a family without a seriously ill or severely disabled member leaves after 12 months
    case2 = apply(app, make=lambda s, u: young_family(s, u, region=REGION, seq=2, wage="1000"))
    to_decision(app, case2)
    approve(app, case2, amount="900.00")
    review2 = open_review(app, case2, D(2026, 11, 16))
    review_to_decision(app, review2, "950.00")
    do(app, "zy-t1-leader", review2, "review_decision", "gradual_exit", D(2026, 11, 27),
       {"stable_out_of_poverty": True, "months": 12}, reason="实施稳定脱贫，收入高于低保标准")
    with acting(app, "zy-county"):
        assert pay.schedule_of(db.session, case2).exit_on == D(2027, 12, 1)


def test_rule_review_that_stops_benefits_ends_the_schedule(app, county):
    case_id = approved_case(app)
    review_id = open_review(app, case_id, D(2026, 11, 16))
    review_to_decision(app, review_id, "1500.00")
    do(app, "zy-t1-leader", review_id, "review_decision", "stop", D(2026, 11, 27), reason="收入大幅超过低保标准")
    with acting(app, "zy-county"):
        assert pay.schedule_of(db.session, case_id).end_month == D(2026, 11, 1)
        assert db.session.get(Case, case_id).status == CaseStatus.closed


# -- emergency temporary relief ------------------------------------------------------------------------

def migrant_worker(session, user, seq: int = 1):
    """刘春生: a migrant worker from 湖北 injured on a building site in the township — registered
    elsewhere, in need where the emergency happened."""
    from tests.factories import village_of

    village = village_of(user)
    return register_household(
        session, user, village=village, address=f"{village.name}工地宿舍{seq}号", registered_place="湖北省黄梅县",
        members=[MemberInput("刘春生", make_id_number("421127", D(1979, 2, 2), 300 + 2 * seq + 1), "head",
                             health="serious", work_ability="none")])


def relief_case(app, on=OCT_9, emergency="务工中坠落受伤，无力支付急救费用，须立即救助", seq=1) -> int:
    """A temporary relief — 急难 (the simplified path) unless ``emergency`` is None."""
    return apply(app, on=on, categories=["temporary_relief"], make=lambda s, u: migrant_worker(s, u, seq),
                 emergency_reason=emergency)


def open_keys(app, case_id) -> list[str]:
    with acting(app, "zy-t1-staff"):
        return sorted(s.key for s in db.session.scalars(select(Step).where(Step.case_id == case_id,
                                                                          Step.status == "open")))


def test_rule_only_an_emergency_takes_the_simplified_path_and_staff_say_why(app, county, client_for):
    """“强化急难救助功能，可以简化申请人家庭经济状况核对、民主评议和公示等环节”: the simplified path is
    for 急难 cases, chosen with a recorded reason; any other temporary relief is checked, investigated,
    appraised unless without doubt and publicised before its decision."""
    emergency = relief_case(app)
    with acting(app, "zy-t1-staff"):
        assert db.session.get(Case, emergency).emergency_reason.startswith("务工中坠落受伤")
    page = client_for("zy-t1-staff").get(f"/admin/casework/{emergency}").get_data(as_text=True)
    shown = page[page.index('data-testid="emergency-reason"'):]
    assert "急难" in shown[:200] and "务工中坠落受伤，无力支付急救费用" in shown[:300]  # the reason, on the case
    assert open_keys(app, emergency) == ["acceptance", "advance_relief"]
    do(app, "zy-t1-staff", emergency, "acceptance", "accept", OCT_9)
    assert "economic_check" not in open_keys(app, emergency)

    ordinary = relief_case(app, emergency=None, seq=2)
    assert open_keys(app, ordinary) == ["acceptance"]
    do(app, "zy-t1-staff", ordinary, "acceptance", "accept", OCT_9)
    assert open_keys(app, ordinary) == ["economic_check", "home_investigation"]
    do(app, "zy-county", ordinary, "economic_check", "reported", D(2026, 10, 12), CHECK)
    do(app, "zy-t1-staff", ordinary, "home_investigation", "done", D(2026, 10, 12),
       {**VISIT, "visited_on": "2026-10-12"})
    skip(app, "zy-t1-staff", ordinary, "appraisal", "核对和调查均无疑义", D(2026, 10, 12))
    do(app, "zy-t1-leader", ordinary, "review_opinion", "propose_approve", D(2026, 10, 13), {"opinion": "拟给予临时救助"})
    assert open_keys(app, ordinary) == ["publicity"]
    do(app, "zy-t1-staff", ordinary, "publicity", "no_objection", D(2026, 10, 20), {"channels": ["村务公开栏"]})
    assert open_keys(app, ordinary) == ["relief_decision"]
    do(app, "zy-t1-leader", ordinary, "relief_decision", "approve", D(2026, 10, 21),
       {**MEETING, "total_amount": "1500.00", "reason": "务工受伤", "stages": [{"amount": "1500.00"}]})
    with acting(app, "zy-t1-staff"):
        assert db.session.get(Case, ordinary).status == CaseStatus.approved

    # 急难 is for temporary relief alone, and a checked box needs its reason on screen
    with pytest.raises(ValidationError) as err:
        apply(app, categories=["dibao"], emergency_reason="急")
    assert "emergency_reason" in err.value.field_errors
    client = client_for("zy-t1-staff")
    page = client.get("/admin/casework/new").get_data(as_text=True)
    assert 'data-testid="emergency"' in page
    from tests.conftest import csrf_token

    resp = client.post("/admin/casework/new", data={"csrf_token": csrf_token(page), "categories": "temporary_relief",
                                                    "emergency": "y", "emergency_reason": ""})
    assert "请简述急难情形" in resp.get_data(as_text=True)


ADVANCE = {"amount": "500", "emergency_place": "枞阳县第1镇某建筑工地", "emergency": "施工中坠落受伤，无力支付急救费用"}
PAPERWORK = {"recipient": "刘春生", "reason": "务工受伤急难救助", "amount": "500.00",
             "handler_signatures": ["章红", "疏建平"], "sealed": True}


def test_rule_relief_where_the_emergency_happened_without_registration_limit(app, county):
    case_id = relief_case(app)
    with acting(app, "zy-t1-staff"):
        case = db.session.get(Case, case_id)
        assert case.household.registered_place == "湖北省黄梅县" and case.household.separated
        assert case.status == CaseStatus.pending_acceptance
    # 低保 too, for a residence-permit holder where they live
    configure(app, "zy", dibao_standard="800")
    with acting(app, "zy-t2-staff") as user:
        from tests.factories import village_of

        village = village_of(user)
        h = register_household(db.session, user, village=village, address="居住证住址", registered_place="江苏省南京市",
                               members=[MemberInput("赵芳", make_id_number("320102", D(1975, 5, 5), 402), "head")])
        engine.open_case(db.session, user, household=h, categories=["dibao"], channel="window", applied_on=SEP_29)


def test_rule_emergency_relief_small_amount_first_paperwork_after(app, county):
    case_id = relief_case(app)
    c = case_of(app, "zy-t1-staff", case_id)
    assert sorted(s[0] for s in c["steps"]) == ["acceptance", "advance_relief"]  # before any paperwork
    with pytest.raises(ValidationError, match="超过县级设定的上限 1000.00 元"):
        do(app, "zy-t1-staff", case_id, "advance_relief", "paid", D(2026, 10, 9), {**ADVANCE, "amount": "1200"})
    with pytest.raises(PermissionDenied):
        do(app, "zy-t1-village", case_id, "advance_relief", "paid", D(2026, 10, 9), ADVANCE)
    do(app, "zy-t1-staff", case_id, "advance_relief", "paid", D(2026, 10, 9), ADVANCE)
    with acting(app, "zy-t1-staff"):
        [grant] = pay.advances_awaiting_paperwork(db.session)
        assert (grant.kind, grant.total_amount, grant.paid_amount) == (ReliefKind.advance, Decimal("500.00"),
                                                                     Decimal("500.00"))
        assert grant.emergency_place == "枞阳县第1镇某建筑工地" and grant.recipient is None
    with pytest.raises(ValidationError) as err:
        do(app, "zy-t1-staff", case_id, "advance_paperwork", "completed", D(2026, 10, 12),
           {**PAPERWORK, "handler_signatures": [" "], "sealed": False})
    assert err.value.field_errors == {"handler_signatures": ["请补齐经办人员签字。"], "sealed": ["请补齐盖章手续。"]}
    with pytest.raises(ValidationError, match="与先行发放的 500.00 元不一致"):
        do(app, "zy-t1-staff", case_id, "advance_paperwork", "completed", D(2026, 10, 12), {**PAPERWORK, "amount": "600"})
    do(app, "zy-t1-staff", case_id, "advance_paperwork", "completed", D(2026, 10, 12), PAPERWORK)
    with acting(app, "zy-t1-staff"):
        assert pay.advances_awaiting_paperwork(db.session) == []
        [grant] = pay.relief_grants(db.session, case_id)
        assert (grant.recipient, grant.handler_signatures, grant.sealed, grant.paperwork_completed_on) == (
            "刘春生", ["章红", "疏建平"], True, D(2026, 10, 12))


def test_rule_advance_needs_the_county_ceiling(app, county):
    configure(app, "zy", dibao_standard="800")
    case_id = relief_case(app)
    with pytest.raises(ValidationError, match="尚未设定小金额先行救助的金额上限"):
        do(app, "zy-t1-staff", case_id, "advance_relief", "paid", D(2026, 10, 9), ADVANCE)
    skip(app, "zy-t1-staff", case_id, "advance_relief", "非急难情形，按程序救助", D(2026, 10, 9))


def test_rule_relief_simplified_and_approved_once_paid_in_stages(app, county):
    case_id = relief_case(app)
    do(app, "zy-t1-staff", case_id, "advance_relief", "paid", D(2026, 10, 9), ADVANCE)
    do(app, "zy-t1-staff", case_id, "acceptance", "accept", D(2026, 10, 9))
    do(app, "zy-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 10),
       {**VISIT, "visited_on": "2026-10-10", "findings": "住院治疗，需后续康复费用"})
    form = {**MEETING, "meeting_held_on": "2026-10-13", "total_amount": "3500", "reason": "务工受伤急难救助（跟进救助）",
            "stages": [{"amount": "1500", "planned_on": "2026-10-13"}, {"amount": "1500", "planned_on": "2026-11-13"}]}
    with pytest.raises(ValidationError, match="先行救助的登记和签字、盖章手续尚未补齐"):
        do(app, "zy-t1-leader", case_id, "relief_decision", "approve", D(2026, 10, 13), form)
    do(app, "zy-t1-staff", case_id, "advance_paperwork", "completed", D(2026, 10, 12), PAPERWORK)
    with pytest.raises(ValidationError, match="须等于批准的救助总额 3500.00 元"):
        do(app, "zy-t1-leader", case_id, "relief_decision", "approve", D(2026, 10, 13),
           {**form, "stages": [{"amount": "3500"}]})
    do(app, "zy-t1-leader", case_id, "relief_decision", "approve", D(2026, 10, 13), form)
    c = case_of(app, "zy-t1-staff", case_id)
    # no economic check, appraisal or publicity: simplified for the emergency
    assert [s[0] for s in c["steps"]] == ["acceptance", "advance_relief", "advance_paperwork", "home_investigation",
                                          "relief_decision"]
    assert c["status"] == CaseStatus.approved and c["benefit_start"] is None
    with acting(app, "zy-t1-staff") as user:
        grant = next(g for g in pay.relief_grants(db.session, case_id) if g.kind == ReliefKind.staged)
        assert grant.total_amount == Decimal("3500.00")
        first, second = grant.payments
        assert (second.amount, second.planned_on) == (Decimal("1500.00"), D(2026, 11, 13))
        first_id, second_id = first.id, second.id
        with pytest.raises(ValidationError, match="请先发放第 1 次救助金"):
            pay.pay_relief(db.session, user, second_id, on=D(2026, 10, 14))
        pay.pay_relief(db.session, user, first_id, on=D(2026, 10, 14), voucher_no="枞临〔2026〕301")
    with acting(app, "zy-t1-village") as user, pytest.raises(PermissionDenied, match="村（社区）不能发放"):
        pay.pay_relief(db.session, user, second_id, on=D(2026, 11, 13))
    with acting(app, "zy-t1-staff") as user:
        pay.pay_relief(db.session, user, second_id, on=D(2026, 11, 13))
        with pytest.raises(ValidationError, match="不能重复发放"):
            pay.pay_relief(db.session, user, second_id, on=D(2026, 11, 14))
        grant = next(g for g in pay.relief_grants(db.session, case_id) if g.kind == ReliefKind.staged)
        assert grant.paid_amount == Decimal("3000.00")


def test_village_cannot_decide_relief_under_zongyang(app, county):
    case_id = relief_case(app)
    skip(app, "zy-t1-staff", case_id, "advance_relief", "已按程序救助", D(2026, 10, 9))
    do(app, "zy-t1-staff", case_id, "acceptance", "accept", D(2026, 10, 9))
    do(app, "zy-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 10), VISIT)
    for outcome in ("approve", "deny"):
        with pytest.raises(PermissionDenied, match="村（社区）不能作出"):
            do(app, "zy-t1-village", case_id, "relief_decision", outcome, D(2026, 10, 13), {}, reason="村里定的")
    with acting(app, "zy-t1-village") as user, pytest.raises(PermissionDenied):
        engine.skip(db.session, user, open_step(case_id, "relief_decision").id, "村里跳过", on=D(2026, 10, 13))


# -- green channel, tags, materials, settings, notices ----------------------------------------------------

def test_rule_green_channel_for_60_plus_and_severely_disabled(app, county):
    def turns_60(session, user):  # 60 on the day of the application: “60周岁以上” includes 60
        return elderly_man(session, user, region=REGION, born=D(1966, 9, 29), seq=1)

    def is_59(session, user):
        return elderly_man(session, user, region=REGION, born=D(1966, 9, 30), seq=2)

    def disabled(session, user):
        return elderly_man(session, user, region=REGION, born=D(1980, 1, 1), seq=3, disability_grade=1)

    def moderately_disabled(session, user):
        return elderly_man(session, user, region=REGION, born=D(1981, 1, 1), seq=4, disability_grade=3)

    cases = {name: apply(app, make=make) for name, make in (("60", turns_60), ("59", is_59), ("d1", disabled),
                                                           ("d3", moderately_disabled))}
    got = {name: case_of(app, "zy-t1-staff", cid) for name, cid in cases.items()}
    assert got["60"]["priority"] and got["60"]["priority_reason"] == "绿色通道：吴德福（60周岁）为60周岁以上老年人"
    assert not got["59"]["priority"]
    assert got["d1"]["priority"] and got["d1"]["priority_reason"] == "绿色通道：吴德福为重度残疾人（一级）"
    assert not got["d3"]["priority"]


def test_rule_green_channel_first_in_every_worklist_shorter_limit_sooner_reminders(app, county, client_for):
    """“为60周岁以上的老年人、重度残疾人等困难群体办理社会救助开通绿色通道…实现及时发现、快速响应、即时
    救助”: a green-channel case comes first on the township's worklist and the village's 我的待办, runs under
    the shorter limit the county set, and its deadlines are reminded sooner."""
    from jiuzhu.reminders.models import Reminder, ReminderKind, Subject

    configure(app, "zy", dibao_standard="800", advance_relief_ceiling="1000", green_channel_limit_workdays=10)
    first = apply(app, make=lambda s, u: young_family(s, u, region=REGION, seq=1))
    green = apply(app, on=OCT_20, make=lambda s, u: elderly_man(s, u, region=REGION, born=D(1956, 3, 1), seq=1))
    last = apply(app, on=OCT_20, make=lambda s, u: young_family(s, u, region=REGION, seq=2))
    do(app, "zy-t1-staff", first, "acceptance", "accept", SEP_29)
    do(app, "zy-t1-staff", green, "acceptance", "accept", OCT_20)
    do(app, "zy-t1-staff", last, "acceptance", "accept", OCT_20)
    got = {k: case_of(app, "zy-t1-staff", cid) for k, cid in (("first", first), ("green", green), ("last", last))}
    assert got["green"]["priority"] and not got["first"]["priority"] and not got["last"]["priority"]
    # accepted Tue 09-29, 20 working days over National Day → Mon 11-02; the green case accepted Tue 10-20
    # has 10 → Tue 11-03; the ordinary case accepted the same day has 20 → Tue 11-17
    assert (got["first"]["due_on"], got["first"]["limit_workdays"]) == (D(2026, 11, 2), 20)
    assert (got["green"]["due_on"], got["green"]["limit_workdays"]) == (D(2026, 11, 3), 10)
    assert (got["last"]["due_on"], got["last"]["limit_workdays"]) == (D(2026, 11, 17), 20)

    def rows(html: str) -> list[int]:
        return [int(n) for n in re.findall(r'href="/admin/casework/(\d+)"', html)]

    # the township's worklist: the green case first, though the first case's deadline is earlier
    worklist = client_for("zy-t1-staff").get("/admin/casework/").get_data(as_text=True)
    assert rows(worklist)[0] == green and set(rows(worklist)) == {first, green, last}
    assert worklist.count('data-testid="green-channel"') == 1
    # the village's 我的待办: the green case first, though the newest case is listed first otherwise
    mine = client_for("zy-t1-village").get("/admin/casework/").get_data(as_text=True)
    assert rows(mine)[:3] == [green, last, first]
    # reminders of the green case's limit begin 5 working days ahead (the county's 3 and 1 for the others)
    with acting(app, "zy-t1-staff"):
        def offsets(case_id):
            return sorted(r.offset for r in db.session.scalars(select(Reminder).where(
                Reminder.case_id == case_id, Reminder.subject == Subject.case, Reminder.kind == ReminderKind.before)))
        assert offsets(green) == [1, 3, 5] and offsets(last) == [1, 3]
    # the county's limit is shorter than the ordinary one, and the earlier reminders earlier, or refused
    for bad, message in [({"green_channel_limit_workdays": 20}, "绿色通道办理时限须在 1 至 19 之间"),
                         ({"limit_workdays": 15, "green_channel_limit_workdays": 15}, "须短于办理时限（15 个工作日）"),
                         ({"green_channel_reminder_days_before": [3, 2]}, "首次提醒须早于一般案件")]:
        with pytest.raises(ValidationError) as err:
            configure(app, "zy", **bad)
        assert message in " ".join(m for ms in err.value.field_errors.values() for m in ms)


def test_green_channel_cases_stay_first_across_the_worklist_pages(app, county, client_for, monkeypatch):
    """Paged (two rows a page here), the township's worklist gives every open step once: the
    green-channel cases first, by deadline, then the others by deadline — the green ones are read in a
    statement of their own, and the page that crosses from them to the others takes both."""
    from jiuzhu.cases import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    plain = [apply(app, on=day, make=lambda s, u, n=n: young_family(s, u, region=REGION, seq=n))
             for n, day in ((1, SEP_29), (2, OCT_20), (3, OCT_20))]
    green = [apply(app, on=day, make=lambda s, u, n=n: elderly_man(s, u, region=REGION, born=D(1956, 3, 1), seq=n))
             for n, day in ((1, OCT_20), (2, SEP_29))]
    client = client_for("zy-t1-staff")
    pages, url = [], "/admin/casework/"
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append([int(n) for n in re.findall(r'href="/admin/casework/(\d+)"', html)])
        more = re.search(r'href="(/admin/casework/\?after=[^"]+)"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert [len(p) for p in pages] == [2, 2, 1]
    assert set(pages[0]) == set(green) and set(pages[1] + pages[2]) == set(plain)
    # the same order as one page holding them all
    monkeypatch.setattr(views, "PAGE_SIZE", 50)
    whole = [int(n) for n in re.findall(r'href="/admin/casework/(\d+)"',
                                        client.get("/admin/casework/").get_data(as_text=True))]
    assert sum(pages, []) == whole


def test_worklist_filters_on_the_cases_page_with_the_green_channel_first(app, county, client_for, monkeypatch):
    """Filtered by category or by channel, the worklist gives exactly the open steps of the cases that
    match, each once over the pages, green-channel cases first; another township's never."""
    from jiuzhu.cases import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    online = [apply(app, on=day, channel="online", make=lambda s, u, n=n: young_family(s, u, region=REGION, seq=n))
              for n, day in ((11, SEP_29), (12, OCT_20), (13, OCT_20))]
    window = [apply(app, on=SEP_29, make=lambda s, u: young_family(s, u, region=REGION, seq=14))]
    green_online = [apply(app, on=OCT_20, channel="online", make=lambda s, u: elderly_man(
        s, u, region=REGION, born=D(1956, 3, 1), seq=15))]
    green_window = [apply(app, on=SEP_29, make=lambda s, u: elderly_man(s, u, region=REGION, born=D(1957, 3, 1),
                                                                         seq=16))]
    elsewhere = apply(app, on=SEP_29, channel="online", username="zy-t2-staff",
                      make=lambda s, u: young_family(s, u, region=REGION, seq=17))
    client = client_for("zy-t1-staff")

    def walk(url):
        pages = []
        while url:
            html = client.get(url).get_data(as_text=True)
            pages.append([int(n) for n in re.findall(r'href="/admin/casework/(\d+)"', html)])
            more = re.search(r'href="(/admin/casework/\?after=[^"]+)"', html)
            url = more.group(1).replace("&amp;", "&") if more else None
        return pages

    pages = walk("/admin/casework/?channel=online")
    assert [len(p) for p in pages] == [2, 2]
    assert pages[0][0] == green_online[0] and set(sum(pages, [])) == set(green_online + online)
    assert elsewhere not in sum(pages, [])
    assert sum(walk("/admin/casework/?channel=window"), []) == green_window + window
    assert set(sum(walk("/admin/casework/?category=dibao"), [])) == set(online + window + green_online + green_window)
    assert sum(walk("/admin/casework/?category=tekun"), []) == []


def test_rule_hotline_tickets_have_a_deadline_in_the_warnings_flow(app, county, client_for):
    """“做好“12345”政务服务热线交办社会救助热线工单处置”: a hotline ticket enters the warnings flow with the
    county's deadline (5 working days unless it sets another), is visited and decided by its township,
    reminded and, late, listed for the county; the plan sets no deadline for monitoring warnings."""
    from jiuzhu.reminders.models import Reminder
    from jiuzhu.warnings import services as warnings
    from jiuzhu.warnings.models import WarningTicket
    from tests.conftest import csrf_token

    person = make_id_number(REGION, D(1950, 5, 1), 301)
    county_staff = client_for("zy-county")
    page = county_staff.get("/admin/warnings/").get_data(as_text=True)
    assert "“12345”热线工单处置时限：自工单交办之日起 5 个工作日" in page and source.HOTLINE in page
    html = county_staff.post("/admin/warnings/new", data={
        "csrf_token": csrf_token(page), "origin": "hotline_12345", "source_ref": "12345-20260929-0088",
        "id_number": person, "township_id": county["towns"][0], "received_on": "2026-09-29",
        "summary": "老人独居，来电反映无人照料、生活困难"}, follow_redirects=True).get_data(as_text=True)
    # Tue 09-29 + 5 working days: 09-30, 10-08, 10-09, Saturday 10-10 (worked), 10-12
    assert "已登记“12345”热线工单 12345-20260929-0088，须于 2026-10-12 前核查并作出确认决定。" in html
    with acting(app, "zy-t1-staff") as user:
        ticket = db.session.scalars(select(WarningTicket)).one()
        ticket_id = ticket.id
        assert (ticket.origin, ticket.due_on) == ("hotline_12345", D(2026, 10, 12))
        assert any(r.title.startswith("“12345”热线工单 12345-20260929-0088") and r.escalate
                   for r in db.session.scalars(select(Reminder).where(Reminder.subject_id == ticket.id)))
        assert [t.id for t in warnings.overdue_tickets(db.session, D(2026, 10, 13))] == [ticket.id]
        warnings.record_visit(db.session, user, ticket.id, visited_on=D(2026, 10, 9), visitors=["章红", "疏建平"],
                              findings="独居，儿子在外务工", on=D(2026, 10, 9))
        warnings.decide(db.session, user, ticket.id, decision="eligible", online_check="核对：无收入",
                        reason="符合特困供养条件，引导申请", decided_on=D(2026, 10, 9))
        db.session.commit()
        assert warnings.overdue_tickets(db.session, D(2026, 10, 13)) == []
    # another township does not see it; a village cannot enter one; a monitoring warning has no deadline here
    assert client_for("zy-t2-staff").get(f"/admin/warnings/{ticket_id}").status_code == 404
    with acting(app, "zy-t1-village") as user, pytest.raises(PermissionDenied):
        warnings.receive(db.session, user, township=db.session.get(OrgUnit, county["towns"][0]), id_number=person,
                         source_ref="12345-X", summary="来电", origin="hotline_12345")
    with acting(app, "zy-county") as user, pytest.raises(ValidationError) as err:
        warnings.receive(db.session, user, township=db.session.get(OrgUnit, county["towns"][0]), id_number=person,
                         source_ref="YJ-1", summary="大额医疗支出", origin="monitoring")
    assert "未规定预警单据的处置时限" in err.value.field_errors["origin"][0]
    # the county may shorten it (never beyond the plan's 20 working days)
    configure(app, "zy", dibao_standard="800", hotline_ticket_workdays=3)
    with acting(app, "zy-county") as user:
        t = warnings.receive(db.session, user, township=db.session.get(OrgUnit, county["towns"][0]),
                             id_number=person, source_ref="12345-20261009-0102", summary="来电反映",
                             received_on=D(2026, 10, 9), origin="hotline_12345")
        assert t.due_on == D(2026, 10, 13)  # 10-10 (worked), 10-12, 10-13
    with pytest.raises(ValidationError, match="热线工单处置时限须在 1 至 20 之间"):
        configure(app, "zy", hotline_ticket_workdays=21)


def test_rule_dispersed_tekun_confirmed_and_paid_only_with_the_three_party_care_agreement(app, county, client_for):
    """“全面落实乡镇人民政府（县经开区）与分散供养特困人员、照料服务人三方签订照料服务协议”: a 特困 person is
    confirmed with how they are supported; supported at home, only once the agreement is recorded — and it
    stays in sight on the case page."""
    case_id = apply(app, categories=("tekun",),
                    make=lambda s, u: elderly_man(s, u, region=REGION, born=D(1950, 2, 2), seq=5))
    to_decision(app, case_id)
    with pytest.raises(ValidationError, match="确认特困人员须登记供养方式"):
        do(app, "zy-t1-leader", case_id, "decision", "approve", OCT_20, {**MEETING, "monthly_amount": "1050.00"})
    at_home = {**MEETING, "monthly_amount": "1050.00", "support_mode": "分散供养"}
    with pytest.raises(ValidationError, match="三方签订照料服务协议，请登记协议的照料服务人、协议编号、签订日期"):
        do(app, "zy-t1-leader", case_id, "decision", "approve", OCT_20, at_home)
    agreement = {**at_home, "care_provider": "吴桂兰", "care_agreement_no": "ZY-ZL-2026-031",
                 "care_agreement_signed_on": "2026-10-21"}
    with pytest.raises(ValidationError, match="照料服务协议签订日期不能晚于办理日期"):
        do(app, "zy-t1-leader", case_id, "decision", "approve", OCT_20, agreement)
    with acting(app, "zy-t1-village") as user, pytest.raises(PermissionDenied):
        engine.act(db.session, user, open_step(case_id, "decision").id, "approve",
                   data={**agreement, "care_agreement_signed_on": "2026-10-19"}, on=OCT_20)
    do(app, "zy-t1-leader", case_id, "decision", "approve", OCT_20, {**agreement, "care_agreement_signed_on": "2026-10-19"})
    c = case_of(app, "zy-t1-staff", case_id)
    assert c["status"] == CaseStatus.approved and c["step_data"]["decision"]["care_provider"] == "吴桂兰"
    page = client_for("zy-t1-staff").get(f"/admin/casework/{case_id}").get_data(as_text=True)
    assert ("乡镇人民政府（县经开区）、吴德福、照料服务人吴桂兰于 2026-10-19 签订，协议编号 ZY-ZL-2026-031"
            in page)
    with acting(app, "zy-county") as user:
        schedule = pay.schedule_of(db.session, case_id)
        assert schedule.category == "tekun"
        pay.pay_month(db.session, user, schedule.id, D(2026, 11, 1), on=D(2026, 11, 5))
    # supported in an institution (集中供养): no care agreement is asked for
    other = apply(app, categories=("tekun",),
                  make=lambda s, u: elderly_man(s, u, region=REGION, born=D(1948, 6, 6), seq=6))
    to_decision(app, other)
    do(app, "zy-t1-leader", other, "decision", "approve", OCT_20,
       {**MEETING, "monthly_amount": "1050.00", "support_mode": "集中供养"})
    assert case_of(app, "zy-t1-staff", other)["status"] == CaseStatus.approved


def test_rule_hotline_tickets_and_grid_discoveries_are_tagged(app, county):
    assert set(plugin(app).household_tags) == {"hotline_12345", "grid_found"}
    with acting(app, "zy-t1-staff") as user:
        h = young_family(db.session, user, region=REGION)
        h.tags = ["hotline_12345"]
        engine.open_case(db.session, user, household=h, categories=["dibao"], channel="window", applied_on=SEP_29)
        h2 = young_family(db.session, user, region=REGION, seq=2)
        h2.tags = ["someone_said"]
        with pytest.raises(ValidationError, match="户的来源标签无效：someone_said"):
            engine.open_case(db.session, user, household=h2, categories=["dibao"], channel="window",
                             applied_on=SEP_29)


def test_rule_materials_from_platforms_are_not_asked(app, county):
    specs = plugin(app).material_specs()
    assert not {m.key for m in specs} & set(AnhuiPlugin.PLATFORM_PROVIDED)
    case_id = apply(app, provided=["application_form"], via_platform=[])
    with acting(app, "zy-t1-staff") as user:
        engine.provide_material(db.session, user, case_id, "id_and_register", via_platform=True)
        notice = engine.notify_missing_materials(db.session, user, case_id, on=SEP_29)
        assert [m["label"] for m in notice.content["missing"]] == ["家庭经济状况核查授权书", "承诺书"]


def test_rule_settings_never_beyond_the_source(app, county):
    p = plugin(app)
    s = p.settings(p.validate_settings({"advance_relief_ceiling": "800", "gradual_exit_months": 9,
                                        "limit_workdays": 18, "publicity_days": 7}))
    assert s["advance_relief_ceiling"] == Decimal("800") and s["gradual_exit_months"] == 9
    assert s["extended_limit_workdays"] is None
    for bad, field, message in [
        ({"advance_relief_ceiling": "0"}, "advance_relief_ceiling", "小金额先行救助上限须大于 0 元。"),
        ({"advance_relief_ceiling": "abc"}, "advance_relief_ceiling", "须为数字。"),
        ({"gradual_exit_months": 0}, "gradual_exit_months", "渐退期默认月数须在 6 至 12 之间"),
        ({"limit_workdays": 25}, "limit_workdays", "办理时限须在 1 至 20 之间"),
        ({"extended_limit_workdays": 25}, "extended_limit_workdays", "不设延长时限"),
    ]:
        with pytest.raises(ValidationError) as err:
            p.validate_settings(bad)
        assert message in err.value.field_errors[field][0]


def test_rule_notices_quote_the_legal_basis(app, county):
    case_id = approved_case(app)
    p = plugin(app)
    with acting(app, "zy-t1-staff"):
        case = db.session.get(Case, case_id)
        text = p.notice_text("certificate", case)
        assert "乡镇人民政府（县经开区）于2026年10月20日确认给予救助" in text[1]
        assert "家庭月保障金额 2140.00 元，自2026年11月起发放。" in text
        assert source.DELEGATION in text[-1] and "《安徽省最低生活保障工作操作规程》（皖民社救字〔2021〕76号）" in text[-1]
        assert source.LIMIT in p.notice_text("missing_materials", case)[-1]


def test_every_rule_of_the_plugin_quotes_the_source_verbatim():
    text = seed_text(source.SEED)
    if text is None:
        pytest.skip("the seed documents are not on this machine")
    for sentence in source.RULES:
        assert normalised(sentence) in text, sentence
    p = ZongyangPlugin()
    assert p.validate() == []
    for variant in ("main", "relief"):
        assert all(s.source for s in p.default_workflow(variant).steps)


def test_anhui_rules_are_inherited_not_copied():
    p = ZongyangPlugin()
    assert isinstance(p, AnhuiPlugin) and p.province == "安徽省" and p.deciding_level.value == "township"
    for name in ("material_specs", "file_application", "workflow_for", "settings", "decision_step", "notice_text"):
        assert getattr(ZongyangPlugin, name) is getattr(AnhuiPlugin, name), name
    assert p.joint_review_meeting and p.default_workflow().step("decision").label == "联审联批（审核确认）"
