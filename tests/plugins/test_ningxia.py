"""宁夏回族自治区 (ningxia): every rule of 自治区民政厅's plan delegating confirmation to townships, on
real 2026 dates around Labour Day (05-01..05-05 off, Saturday 05-09 worked) and the Dragon Boat
Festival (06-19..06-21 off), through the engine, the payments and the spot-check services.

The rule table in docs/plugins/ningxia.md names the test proving each rule.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from sqlalchemy import select

from jiuzhu.cases.assessment import assess
from jiuzhu.cases.categories import CaseStatus, Channel
from jiuzhu.cases.models import Case, Notice
from jiuzhu.errors import NotFound, PermissionDenied, ValidationError
from jiuzhu.extensions import db
from jiuzhu.payments import services as pay
from jiuzhu.plugins.baseline import MaterialSpec
from jiuzhu.spotchecks import services as spotchecks
from jiuzhu.workflow import engine
from jiuzhu.workflow.models import Step
from plugins.ningxia import source
from plugins.ningxia.plugin import NingxiaPlugin
from tests.factories import acting, household_of_four
from tests.plugins.anhui_support import (
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
REGION = "640121"  # 永宁县
STANDARD = "790.00"  # the county's 低保 standard, yuan per person per month (set by the county admin)
APR_29, JUN_18, NOV_16, NOV_20 = D(2026, 4, 29), D(2026, 6, 18), D(2026, 11, 16), D(2026, 11, 20)
CHECK = {"report_no": "YN-HD-2026-0508", "result": "pass", "agency": "永宁县居民家庭经济状况核对中心",
         "per_capita_income": "362.50"}
VISIT = {"investigators": ["马文静", "杨学军"], "visited_on": "2026-05-06",
         "findings": "户主重病，儿子重度残疾，妻子务工，收入低。", "doubt": False}
PUBLICITY = {"village_board_posted_on": "2026-05-11", "township_board_posted_on": "2026-05-11",
             "e_screen_posted_on": "2026-05-11", "wechat_posted_on": "2026-05-11"}


_seq = itertools.count(1)


def ningxia_county(world) -> dict:
    """永宁县 under the ningxia plugin, its 低保 standard set by the county admin."""
    info = world.county("nx", plugin="ningxia", name="永宁县", townships=2, villages=2)
    configure(world.app, "nx", dibao_standard=STANDARD)
    return info


@pytest.fixture
def county(world):
    return ningxia_county(world)


def plugin(app) -> NingxiaPlugin:
    return app.extensions["jiuzhu.plugins"].get("ningxia")


def application(on: dt.date, categories=("dibao",), channel="window", **extra) -> dict:
    return {"categories": list(categories), "channel": channel, "applied_on": on.isoformat(),
            "authorization_signed_on": on.isoformat(), "provided": ["application_form", "authorization"],
            "via_platform": ["id_and_register"], **extra}


def apply(app, *, on=APR_29, categories=("dibao",), make=None, username="nx-t1-staff", **extra) -> int:
    with acting(app, username) as user:
        seq = next(_seq)
        household = (make or (lambda s, u: household_of_four(s, u, region=REGION, seq=seq)))(db.session, user)
        return plugin(app).file_application(db.session, user, household, application(on, categories, **extra)).id


NEEDS = {"needs": "父亲重病需长期服药，女儿上学", "measures": ["按低保标准补差", "协助申请教育资助"]}


def approved_case(app, categories=("dibao",)) -> int:
    """The short path of the lifecycle test: applied 04-29, confirmed by the township on 05-19."""
    case_id = apply(app, categories=categories)
    do(app, "nx-t1-staff", case_id, "acceptance", "accept", APR_29)
    do(app, "nx-t1-staff", case_id, "needs_assessment", "handled", D(2026, 5, 6), NEEDS)
    do(app, "nx-t1-staff", case_id, "home_investigation", "done", D(2026, 5, 6), VISIT)
    do(app, "nx-county", case_id, "economic_check", "reported", D(2026, 5, 8), CHECK)
    skip(app, "nx-t1-staff", case_id, "appraisal", "申请对象没有争议，不再进行民主评议", D(2026, 5, 8))
    do(app, "nx-t1-leader", case_id, "review_opinion", "propose_approve", D(2026, 5, 11),
       {"opinion": "家庭人均收入低于低保标准，拟确认", "proposed_amount": "1710.00"})
    do(app, "nx-t1-staff", case_id, "publicity", "no_objection", D(2026, 5, 18), PUBLICITY)
    do(app, "nx-t1-leader", case_id, "decision", "approve", D(2026, 5, 19), {"monthly_amount": "1710.00"})
    return case_id


# -- the whole life of a case ----------------------------------------------------------------------

def test_approved_household_through_the_whole_workflow_around_labour_day(app, county):
    """汪建国户 (father 58 and seriously ill, a working mother, a disabled son, a schoolgirl; a married
    daughter in 杭州 is the father's legal supporter) applies at the township window on Wednesday
    2026-04-29, two days before the Labour Day holiday, and is confirmed by the township on 05-19."""
    case_id = apply(app, on=APR_29)
    do(app, "nx-t1-staff", case_id, "acceptance", "accept", APR_29)
    c = case_of(app, "nx-county", case_id)
    # no limit in the plan: the national 30 working days from acceptance (05-01..05-05 off, 05-09 worked)
    assert (c["limit_workdays"], c["due_on"]) == (30, D(2026, 6, 12))
    assert sorted(s[0] for s in c["steps"] if s[2] == "open") == ["economic_check", "home_investigation",
                                                                  "needs_assessment"]
    do(app, "nx-t1-staff", case_id, "needs_assessment", "handled", D(2026, 5, 6), NEEDS)

    do(app, "nx-t1-staff", case_id, "home_investigation", "done", D(2026, 5, 6), VISIT)
    with pytest.raises(PermissionDenied):  # the county checks economic status, not the township
        do(app, "nx-t1-staff", case_id, "economic_check", "reported", D(2026, 5, 8), CHECK)
    do(app, "nx-county", case_id, "economic_check", "reported", D(2026, 5, 8), CHECK)
    skip(app, "nx-t1-staff", case_id, "appraisal", "申请对象没有争议，不再进行民主评议", D(2026, 5, 8))
    with acting(app, "nx-t1-staff") as user:
        household = db.session.get(Case, case_id).household
        result = assess(household, plugin(app), plugin(app).tenant_settings(user.tenant_id), D(2026, 5, 11))
        assert (result.per_capita, result.monthly_benefit) == (Decimal("362.50"), Decimal("1710.00"))
    do(app, "nx-t1-leader", case_id, "review_opinion", "propose_approve", D(2026, 5, 11),
       {"opinion": "家庭人均收入 362.50 元，低于低保标准 790 元，拟确认", "proposed_amount": "1710.00"})
    assert step_due(case_of(app, "nx-county", case_id), "publicity") == (D(2026, 5, 11), D(2026, 5, 18))
    with pytest.raises(ValidationError, match="期满前不能"):
        do(app, "nx-t1-staff", case_id, "publicity", "no_objection", D(2026, 5, 15), PUBLICITY)
    do(app, "nx-t1-staff", case_id, "publicity", "no_objection", D(2026, 5, 18), PUBLICITY)
    with pytest.raises(PermissionDenied):  # the township confirms, not the county
        do(app, "nx-county", case_id, "decision", "approve", D(2026, 5, 19), {"monthly_amount": "1710.00"})
    do(app, "nx-t1-leader", case_id, "decision", "approve", D(2026, 5, 19), {"monthly_amount": "1710.00"})
    do(app, "nx-t1-staff", case_id, "certificate", "issued", D(2026, 5, 20))

    c = case_of(app, "nx-county", case_id)
    assert (c["status"], c["decided_on"], c["benefit_start"]) == (CaseStatus.approved, D(2026, 5, 19), D(2026, 6, 1))
    assert [(s[0], s[2], s[3]) for s in c["steps"]] == [
        ("acceptance", "done", "accept"), ("economic_check", "done", "reported"),
        ("home_investigation", "done", "done"), ("needs_assessment", "done", "handled"),
        ("appraisal", "skipped", None),
        ("review_opinion", "done", "propose_approve"), ("publicity", "done", "no_objection"),
        ("decision", "done", "approve"), ("certificate", "done", "issued")]
    assert c["step_data"]["publicity"]["channels"] == ["村级公示栏", "乡镇（街道）公示栏", "电子屏", "微信公众号"]
    assert c["notices"] == [("certificate", "救确认〔2026〕0001号")]

    # the county pays (权钱分离): a schedule from June; the township may not pay
    with acting(app, "nx-t1-staff") as user:
        schedule = pay.schedule_of(db.session, case_id)
        assert (schedule.monthly_amount, schedule.start_month) == (Decimal("1710.00"), D(2026, 6, 1))
        with pytest.raises(PermissionDenied, match="权钱分离"):
            pay.pay_month(db.session, user, schedule.id, D(2026, 6, 1), on=D(2026, 6, 5))
    with acting(app, "nx-county") as user:
        paid = pay.pay_month(db.session, user, pay.schedule_of(db.session, case_id).id, D(2026, 6, 1),
                             on=D(2026, 6, 5))
        assert paid.amount == Decimal("1710.00")


def test_denied_household_through_the_whole_workflow_around_the_dragon_boat_festival(app, county):
    """程志强户 applies online on Thursday 2026-06-18, the eve of the Dragon Boat Festival; a villager
    objects during publicity, the re-investigation finds a ride-hailing income, the township denies
    and issues the 不予批准通知书."""
    case_id = apply(app, on=JUN_18, channel="online",
                    make=lambda s, u: young_family(s, u, region=REGION, wage="1500"))
    do(app, "nx-t1-staff", case_id, "acceptance", "accept", JUN_18)
    assert case_of(app, "nx-county", case_id)["due_on"] == D(2026, 7, 31)  # 30 WD, 06-19..06-21 off
    do(app, "nx-t1-staff", case_id, "needs_assessment", "referred", D(2026, 6, 22),
       {"needs": "妻子慢性病，医疗支出较大", "measures": ["转请县医疗保障局落实医疗救助"],
        "departments": ["县医疗保障局"], "referred_on": "2026-06-22"})
    do(app, "nx-t1-staff", case_id, "home_investigation", "done", D(2026, 6, 22),
       {**VISIT, "visited_on": "2026-06-22", "findings": "妻子慢性病，丈夫务工。"})
    do(app, "nx-county", case_id, "economic_check", "reported", D(2026, 6, 23),
       {**CHECK, "per_capita_income": "500.00"})
    skip(app, "nx-t1-staff", case_id, "appraisal", "申请对象没有争议", D(2026, 6, 23))
    do(app, "nx-t1-leader", case_id, "review_opinion", "propose_approve", D(2026, 6, 24),
       {"opinion": "拟确认", "proposed_amount": "870.00"})
    with pytest.raises(ValidationError) as exc:
        do(app, "nx-t1-staff", case_id, "publicity", "objection", D(2026, 7, 1), {}, reason="村民实名反映")
    assert exc.value.field_errors["objection"] == ["请填写异议内容。"]
    do(app, "nx-t1-staff", case_id, "publicity", "objection", D(2026, 7, 1),
       {"objection": "村民实名反映程志强另有网约车经营收入"}, reason="村民实名反映该户有网约车收入")
    c = case_of(app, "nx-county", case_id)
    assert step_due(c, "home_investigation", 2)[0] == D(2026, 7, 1)  # 重新开展调查核实
    do(app, "nx-t1-staff", case_id, "home_investigation", "done", D(2026, 7, 3),
       {**VISIT, "visited_on": "2026-07-03", "doubt": True, "findings": "程志强每月网约车收入约 3000 元。"})
    with pytest.raises(ValidationError, match="不满足跳过"):
        skip(app, "nx-t1-staff", case_id, "appraisal", "想跳过", D(2026, 7, 3))
    do(app, "nx-t1-staff", case_id, "appraisal", "done", D(2026, 7, 7),
       {"held_on": "2026-07-07", "participants": 13, "result": "多数认为该户收入超过低保标准"})
    do(app, "nx-t1-leader", case_id, "review_opinion", "propose_deny", D(2026, 7, 8),
       {"opinion": "家庭人均收入超过低保标准"}, reason="家庭人均月收入超过当地低保标准")
    # the wife's chronic illness was referred to the county's medical-security bureau at acceptance: no
    # decision until its answer is recorded
    with pytest.raises(ValidationError, match="尚未办结：转办事项答复"):
        do(app, "nx-t1-leader", case_id, "decision", "deny", D(2026, 7, 9), reason="收入高于低保标准")
    do(app, "nx-t1-staff", case_id, "referral_answer", "answered", D(2026, 7, 9),
       {"answers": ["县医疗保障局：方丽已纳入门诊慢特病医疗救助"], "answered_on": "2026-07-08"})
    do(app, "nx-t1-leader", case_id, "decision", "deny", D(2026, 7, 9),
       reason="程志强有网约车经营收入，家庭人均月收入高于当地低保标准 790 元")
    assert step_due(case_of(app, "nx-county", case_id), "denial_notice", 2) == (D(2026, 7, 9), D(2026, 7, 14))
    do(app, "nx-t1-staff", case_id, "denial_notice", "issued", D(2026, 7, 10))

    c = case_of(app, "nx-county", case_id)
    assert (c["status"], c["benefit_start"], c["round"]) == (CaseStatus.denied, None, 2)
    assert c["notices"] == [("denial", "救不批〔2026〕0001号")]
    with acting(app, "nx-t1-staff"):
        notice = db.session.get(Case, case_id).notices[0]
        assert notice.content["title"] == "不予批准通知书"
        text = plugin(app).notice_text("denial", db.session.get(Case, case_id))
    assert text[0] == "程志强："
    assert "nx第1镇人民政府于2026年7月9日审核确认：你户不符合条件，不予批准" in text[1]
    assert text[2].startswith("理由：程志强有网约车经营收入")
    assert source.DENY in text[3] and "行政复议" in text[4]


# -- who does what ---------------------------------------------------------------------------------

def test_rule_township_confirms_county_may_revoke(app, county):
    case_id = approved_case(app)
    with acting(app, "nx-county") as user:
        engine.revoke(db.session, user, case_id, "举报查实：隐瞒经营收入，依法撤销原确认决定", on=D(2026, 7, 1))
    assert case_of(app, "nx-county", case_id)["status"] == CaseStatus.revoked
    assert plugin(app).default_workflow().step("decision").level.value == "township"


def test_rule_the_confirming_township_revokes_its_own_decision_after_self_inspection(app, county, client_for):
    """“乡镇（街道）要加强自查，尽快整改，必要时应当撤销原确认决定”: the township that confirmed may revoke
    its own confirmation, with its reason — not another township's, and never its staff or a village."""
    case_id = approved_case(app)
    for who in ("nx-t1-staff", "nx-t1-village"):
        with acting(app, who) as user, pytest.raises(PermissionDenied):
            engine.revoke(db.session, user, case_id, "自查发现收入漏报", on=D(2026, 7, 1))
    with acting(app, "nx-t2-leader") as user, pytest.raises(NotFound):
        engine.revoke(db.session, user, case_id, "自查发现收入漏报", on=D(2026, 7, 1))
    leader = client_for("nx-t1-leader")
    page = leader.get(f"/admin/casework/{case_id}").get_data(as_text=True)
    assert "撤销确认决定" in page
    from tests.conftest import csrf_token

    leader.post(f"/admin/casework/{case_id}/end/revoke", data={"csrf_token": csrf_token(page),
                                                            "reason": "自查发现隐瞒经营收入，撤销原确认决定"})
    c = case_of(app, "nx-county", case_id)
    assert c["status"] == CaseStatus.revoked
    # the household is told in writing: the 撤销确认决定通知书, with the reason, the basis and its remedies
    assert c["notices"][-1][0] == "revocation" and c["notices"][-1][1].startswith("救撤〔")
    from jiuzhu.cases.models import Notice

    with acting(app, "nx-t1-leader"):
        notice = db.session.scalars(select(Notice).where(Notice.case_id == case_id, Notice.kind == "revocation")).one()
        text = "".join(plugin(app).notice_text("revocation", notice.case))
    assert "决定撤销原确认决定" in text and "理由：自查发现隐瞒经营收入，撤销原确认决定" in text
    assert "必要时应当撤销原确认决定" in text and "行政复议" in text


def test_rule_village_applies_only_on_commission(app, county):
    with acting(app, "nx-t1-village") as user:
        household = household_of_four(db.session, user, region=REGION)
        with pytest.raises(ValidationError) as exc:
            plugin(app).file_application(db.session, user, household, application(APR_29, channel="village_proxy"))
        assert exc.value.field_errors["commissioned_on"] == ["村（居）民委员会须受申请人委托才能代为提出申请：请填写委托日期。"]
        with pytest.raises(ValidationError, match="只能受申请人委托代为提出申请"):
            plugin(app).file_application(db.session, user, household, application(APR_29, channel="window"))
        case = plugin(app).file_application(db.session, user, household, application(
            APR_29, channel="village_proxy", commissioned_on="2026-04-28"))
        assert [(m.key, m.provided) for m in case.materials if m.key == "commission"] == [("commission", True)]
        case_id = case.id
    # a village application whose commission letter is missing cannot be accepted
    with acting(app, "nx-t1-staff") as user:
        other = household_of_four(db.session, user, region=REGION, seq=2)
        bare = engine.open_case(db.session, user, household=other, categories=["dibao"], channel="village_proxy",
                                applied_on=APR_29, authorization_signed_on=APR_29,
                                provided=["application_form", "authorization"], via_platform=["id_and_register"])
        bare_id = bare.id
    with pytest.raises(ValidationError, match="委托书"):
        do(app, "nx-t1-staff", bare_id, "acceptance", "accept", APR_29)
    do(app, "nx-t1-staff", case_id, "acceptance", "accept", APR_29)


def test_rule_village_never_decides_any_ningxia_step(app, county):
    """无权作出不予受理或不符合低保等社会救助条件的决定 — nor any other decision."""
    case_id = apply(app)
    with pytest.raises(PermissionDenied):
        do(app, "nx-t1-village", case_id, "acceptance", "refuse", APR_29, reason="材料不全")
    with pytest.raises(PermissionDenied):
        do(app, "nx-t1-village", case_id, "acceptance", "accept", APR_29)
    do(app, "nx-t1-staff", case_id, "acceptance", "accept", APR_29)
    do(app, "nx-t1-staff", case_id, "home_investigation", "done", D(2026, 5, 6), VISIT)
    do(app, "nx-county", case_id, "economic_check", "reported", D(2026, 5, 8), CHECK)
    skip(app, "nx-t1-staff", case_id, "appraisal", "申请对象没有争议", D(2026, 5, 8))
    do(app, "nx-t1-leader", case_id, "review_opinion", "propose_approve", D(2026, 5, 11), {"opinion": "拟确认"})
    do(app, "nx-t1-staff", case_id, "publicity", "no_objection", D(2026, 5, 18), PUBLICITY)
    for outcome, data, reason in (("approve", {"monthly_amount": "1710.00"}, None), ("deny", {}, "不符合条件")):
        with pytest.raises(PermissionDenied):
            do(app, "nx-t1-village", case_id, "decision", outcome, D(2026, 5, 19), data, reason)
    with acting(app, "nx-t1-village") as user, pytest.raises(PermissionDenied):
        engine.close(db.session, user, case_id, "村里认为不符合")
    assert case_of(app, "nx-county", case_id)["status"] == CaseStatus.in_review


def test_rule_needs_assessed_measures_handled_or_referred_to_named_departments_until_answered(app, county,
                                                                                                 client_for):
    """“根据申请对象的实际情况，综合评估救助需求，提出综合实施社会救助措施的意见，并按照职责分工及时办理或转请
    县级相关职能部门办理”: at acceptance the township assesses the needs and proposes measures; what it cannot do
    itself goes to named county departments, and the case is decided only once each has answered."""
    case_id = apply(app)
    do(app, "nx-t1-staff", case_id, "acceptance", "accept", APR_29)
    with pytest.raises(ValidationError) as exc:
        do(app, "nx-t1-staff", case_id, "needs_assessment", "referred", D(2026, 5, 6),
           {"needs": "儿子重度残疾需康复", "measures": [], "departments": ["县康复中心"], "referred_on": "2026-05-06"})
    assert exc.value.field_errors["measures"] == ["请至少填写一项综合实施社会救助措施的意见。"]
    assert "转办部门须为：县医疗保障局" in str(exc.value.field_errors["departments"])
    with pytest.raises(PermissionDenied):  # a village assists, it does not propose or refer
        do(app, "nx-t1-village", case_id, "needs_assessment", "handled", D(2026, 5, 6), NEEDS)
    do(app, "nx-t1-staff", case_id, "needs_assessment", "referred", D(2026, 5, 6),
       {"needs": "儿子重度残疾需康复；父亲重病", "measures": ["按低保标准补差", "转请残联落实残疾人康复救助",
                                                           "转请医保局落实医疗救助"],
        "departments": ["县残疾人联合会", "县医疗保障局"], "referred_on": "2026-05-06"})
    worklist = client_for("nx-t1-staff").get("/admin/casework/").get_data(as_text=True)
    assert "转办事项答复" in worklist
    do(app, "nx-t1-staff", case_id, "home_investigation", "done", D(2026, 5, 6), VISIT)
    do(app, "nx-county", case_id, "economic_check", "reported", D(2026, 5, 8), CHECK)
    skip(app, "nx-t1-staff", case_id, "appraisal", "申请对象没有争议", D(2026, 5, 8))
    do(app, "nx-t1-leader", case_id, "review_opinion", "propose_approve", D(2026, 5, 11), {"opinion": "拟确认"})
    do(app, "nx-t1-staff", case_id, "publicity", "no_objection", D(2026, 5, 18), PUBLICITY)
    with pytest.raises(ValidationError, match="尚未办结：转办事项答复"):
        do(app, "nx-t1-leader", case_id, "decision", "approve", D(2026, 5, 19), {"monthly_amount": "1710.00"})
    with pytest.raises(ValidationError, match="尚未登记县医疗保障局的答复"):
        do(app, "nx-t1-staff", case_id, "referral_answer", "answered", D(2026, 5, 19),
           {"answers": ["县残疾人联合会：已纳入残疾儿童康复救助"], "answered_on": "2026-05-15"})
    with pytest.raises(ValidationError, match="答复日期不能早于转办日期 2026-05-06"):
        do(app, "nx-t1-staff", case_id, "referral_answer", "answered", D(2026, 5, 19),
           {"answers": ["县残疾人联合会：已纳入", "县医疗保障局：已纳入"], "answered_on": "2026-05-05"})
    do(app, "nx-t1-staff", case_id, "referral_answer", "answered", D(2026, 5, 19),
       {"answers": ["县残疾人联合会：已纳入残疾儿童康复救助", "县医疗保障局：已纳入医疗救助对象"],
        "answered_on": "2026-05-15"})
    do(app, "nx-t1-leader", case_id, "decision", "approve", D(2026, 5, 19), {"monthly_amount": "1710.00"})
    c = case_of(app, "nx-county", case_id)
    assert c["status"] == CaseStatus.approved
    assert c["step_data"]["needs_assessment"]["departments"] == ["县残疾人联合会", "县医疗保障局"]
    assert len(c["step_data"]["referral_answer"]["answers"]) == 2


def test_rule_a_report_found_true_is_corrected_before_the_reporter_is_answered(app, county, client_for, world):
    """“举报查实、问题纠正”: the county verifies each real-name report; one found true is corrected, and the
    correction recorded, before the reporter hears the result — on screen, county eyes only."""
    import re

    from tests.conftest import csrf_token

    case_id = approved_case(app)
    staff = client_for("nx-county")
    token = csrf_token(staff.get("/admin/reports/").get_data(as_text=True))
    staff.post("/admin/reports/", data={
        "csrf_token": token, "reporter_name": "马某", "reporter_contact": "13995112345", "channel": "来电",
        "received_on": "2026-06-01", "subject": "汪建国户", "content": "该户女儿已在银川就业，收入较高。"})
    report_id = int(re.search(r"/admin/reports/(\d+)/verify", staff.get("/admin/reports/").get_data(as_text=True))
                    .group(1))
    staff.post(f"/admin/reports/{report_id}/verify", data={
        "csrf_token": token, "verified_on": "2026-06-03", "substantiated": "yes",
        "verification": "经核实，女儿已就业，月收入 4200 元，未如实申报。"})
    early = staff.post(f"/admin/reports/{report_id}/answer", data={
        "csrf_token": token, "answered_on": "2026-06-04", "answer": "举报属实", "via": "电话"},
        follow_redirects=True).get_data(as_text=True)
    assert "举报属实：须先纠正问题并登记纠正情况，再向举报人反馈" in early and 'data-testid="correct-form"' in early
    blank = staff.post(f"/admin/reports/{report_id}/correct", data={
        "csrf_token": token, "corrected_on": "2026-06-04", "correction": ""}, follow_redirects=True)
    assert "请填写纠正情况。" in blank.get_data(as_text=True)
    leader = client_for("nx-t1-leader")
    leader_token = csrf_token(leader.get(f"/admin/casework/{case_id}").get_data(as_text=True))
    assert leader.post(f"/admin/reports/{report_id}/correct", data={
        "csrf_token": leader_token, "corrected_on": "2026-06-04", "correction": "乡镇想纠正"}).status_code == 403
    with acting(app, "nx-t1-leader") as user:  # the correction itself: the township revokes its confirmation
        engine.revoke(db.session, user, case_id, "举报查实：女儿就业收入未申报，撤销原确认决定", on=D(2026, 6, 4))
    staff.post(f"/admin/reports/{report_id}/correct", data={
        "csrf_token": token, "corrected_on": "2026-06-04", "correction": "乡镇撤销原确认决定，停发低保金"})
    done = staff.post(f"/admin/reports/{report_id}/answer", data={
        "csrf_token": token, "answered_on": "2026-06-05", "answer": "举报属实，已撤销低保", "via": "电话"},
        follow_redirects=True).get_data(as_text=True)
    assert "已向举报人反馈核实结果。" in done and "2026-06-04 纠正：乡镇撤销原确认决定，停发低保金" in done
    world.county("nxo", plugin="ningxia", townships=1, villages=1)
    other = client_for("nxo-county")
    assert "马某" not in other.get("/admin/reports/").get_data(as_text=True)
    own = csrf_token(other.get("/admin/reports/").get_data(as_text=True))
    assert other.post(f"/admin/reports/{report_id}/correct", data={
        "csrf_token": own, "corrected_on": "2026-06-04", "correction": "x"}).status_code == 404


def test_rule_no_village_seal_or_review_among_the_materials(app, county):
    p = plugin(app)
    for channel in (Channel.window, Channel.online, Channel.village_proxy):
        labels = [m.label for m in p.material_specs(channel) if m.required and m.key != "commission"]
        assert labels == ["社会救助申请书", "居民身份证、户口簿", "家庭经济状况核查授权书（收入、财产、支出）"]
    assert [m.key for m in p.material_specs(Channel.window) if m.platform] == [
        "id_and_register", "income_statement", "disability_certificate"]

    class SealingCounty(NingxiaPlugin):
        key = "sealing"

        def material_specs(self, channel=None):
            return [*super().material_specs(channel), MaterialSpec("village_seal", "村委会审核盖章的证明")]

    assert SealingCounty().validate() == ["不得增设村（居）民委员会审核签章等附加条件：村委会审核盖章的证明"] * 2


def test_rule_appraisal_not_held_for_undisputed_applicants_reason_recorded(app, county):
    case_id = apply(app)
    do(app, "nx-t1-staff", case_id, "acceptance", "accept", APR_29)
    do(app, "nx-t1-staff", case_id, "home_investigation", "done", D(2026, 5, 6), VISIT)
    do(app, "nx-county", case_id, "economic_check", "reported", D(2026, 5, 8), {**CHECK, "result": "fail"})
    with pytest.raises(ValidationError, match="不满足跳过“民主评议”的条件：申请对象没有争议"):
        skip(app, "nx-t1-staff", case_id, "appraisal", "想跳过", D(2026, 5, 8))
    undisputed = approved_case(app)
    step = next(s for s in case_of(app, "nx-county", undisputed)["steps"] if s[0] == "appraisal")
    assert step[2] == "skipped"
    with acting(app, "nx-county"):
        reason = db.session.scalar(select(Step.reason).where(Step.case_id == undisputed, Step.key == "appraisal"))
    assert reason == "申请对象没有争议，不再进行民主评议"


def test_rule_publicity_on_every_named_channel_runs_its_period_on_each(app, county, client_for):
    """“按规定利用村级公示栏、乡镇（街道）公示栏、电子屏、微信公众号等进行公示”: each channel is recorded with
    the day it was posted there, and the publicity cannot end before its 7 days have run on all of them."""
    case_id = apply(app)
    do(app, "nx-t1-staff", case_id, "acceptance", "accept", APR_29)
    do(app, "nx-t1-staff", case_id, "home_investigation", "done", D(2026, 5, 6), VISIT)
    do(app, "nx-county", case_id, "economic_check", "reported", D(2026, 5, 8), CHECK)
    skip(app, "nx-t1-staff", case_id, "appraisal", "申请对象没有争议", D(2026, 5, 8))
    do(app, "nx-t1-leader", case_id, "review_opinion", "propose_approve", D(2026, 5, 11), {"opinion": "拟确认"})
    # every channel the plan names, each with its date, beside its field
    with pytest.raises(ValidationError) as exc:
        do(app, "nx-t1-staff", case_id, "publicity", "no_objection", D(2026, 5, 18),
           {"village_board_posted_on": "2026-05-11"})
    assert exc.value.field_errors == {"township_board_posted_on": ["请填写乡镇（街道）公示栏的张贴（发布）日期。"],
                                      "e_screen_posted_on": ["请填写电子屏的张贴（发布）日期。"],
                                      "wechat_posted_on": ["请填写微信公众号的张贴（发布）日期。"]}
    # the WeChat notice went out a day late (Tue 05-12): its 7 days run to 05-19, so not on Mon 05-18
    late = {**PUBLICITY, "wechat_posted_on": "2026-05-12"}
    with pytest.raises(ValidationError, match="微信公众号于 2026-05-12 张贴，公示期 7 天，2026-05-19 前不能结束公示"):
        do(app, "nx-t1-staff", case_id, "publicity", "no_objection", D(2026, 5, 18), late)
    with pytest.raises(ValidationError, match="电子屏的张贴日期 2026-05-08 早于公示开始日期 2026-05-11"):
        do(app, "nx-t1-staff", case_id, "publicity", "no_objection", D(2026, 5, 19),
           {**late, "e_screen_posted_on": "2026-05-08"})
    # the village cannot end it either way; the township can, once every channel's period has run
    with acting(app, "nx-t1-village") as user, pytest.raises(PermissionDenied):
        engine.act(db.session, user, open_step(case_id, "publicity").id, "no_objection", data=late,
                   on=D(2026, 5, 19))
    page = client_for("nx-t1-staff").get(f"/admin/casework/{case_id}").get_data(as_text=True)
    assert "微信公众号张贴（发布）日期" in page and "村级公示栏张贴（发布）日期" in page
    do(app, "nx-t1-staff", case_id, "publicity", "no_objection", D(2026, 5, 19), late)
    data = case_of(app, "nx-county", case_id)["step_data"]["publicity"]
    assert data["channels"] == ["村级公示栏", "乡镇（街道）公示栏", "电子屏", "微信公众号"]
    assert (data["village_board_posted_on"], data["wechat_posted_on"]) == ("2026-05-11", "2026-05-12")
    assert plugin(app).disclosure_rule.channels == ("村级公示栏", "乡镇（街道）公示栏", "电子屏", "微信公众号")


def test_rule_nobody_confirmed_without_investigation(app, county):
    case_id = apply(app)
    do(app, "nx-t1-staff", case_id, "acceptance", "accept", APR_29)
    with pytest.raises(ValidationError, match="不能跳过"):
        skip(app, "nx-t1-staff", case_id, "home_investigation", "情况清楚，无需入户", D(2026, 5, 6))
    p = plugin(app)
    with acting(app, "nx-t1-leader"):
        case = db.session.get(Case, case_id)
        view = engine.load_view(db.session, case)
        spec = p.workflow_for(case).step("decision")
        assert "不得将不经过调查核实的任何群体或者个人直接确认为保障对象：入户核查和经济状况核对须已完成。" in (
            p.check_outcome(case, view, spec, spec.outcome("approve"), {}, D(2026, 5, 6)))


def test_rule_elderly_low_income_is_a_category_from_the_countys_age(app, county):
    young = lambda s, u: young_family(s, u, region=REGION)  # noqa: E731
    with pytest.raises(ValidationError, match="年满 80 周岁"):
        apply(app, categories=("elderly_low_income",), make=young)
    old = lambda s, u: elderly_man(s, u, region=REGION, born=D(1944, 2, 1))  # noqa: E731
    case_id = apply(app, categories=("elderly_low_income",), make=old)
    assert case_of(app, "nx-county", case_id)["categories"] == ["elderly_low_income"]
    configure(app, "nx", dibao_standard=STANDARD, elderly_min_age=75, elderly_standard="200")
    seventy_seven = lambda s, u: elderly_man(s, u, region=REGION, born=D(1949, 3, 1), seq=2)  # noqa: E731
    apply(app, categories=("elderly_low_income",), make=seventy_seven)
    with pytest.raises(ValidationError, match="高龄低收入老年人的起始年龄须在 60 至 100 之间"):
        configure(app, "nx", elderly_min_age=55)
    assert "elderly_low_income" in [c.value for c in plugin(app).monthly_categories]


def test_rule_national_limits_apply_county_may_shorten(app, county):
    p = plugin(app)
    assert (p.defaults()["limit_workdays"], p.defaults()["extended_limit_workdays"]) == (30, 45)
    with pytest.raises(ValidationError, match="办理时限须在 1 至 30 之间"):
        configure(app, "nx", limit_workdays=31)
    with pytest.raises(ValidationError, match="延长后的办理时限须在 1 至 45 之间"):
        configure(app, "nx", extended_limit_workdays=50)
    configure(app, "nx", dibao_standard=STANDARD, limit_workdays=20, extended_limit_workdays=30)
    case_id = apply(app)
    do(app, "nx-t1-staff", case_id, "acceptance", "accept", APR_29)
    assert case_of(app, "nx-county", case_id)["due_on"] == D(2026, 5, 29)  # 20 WD across Labour Day
    with acting(app, "nx-t1-leader") as user:
        engine.extend(db.session, user, case_id, "申请人外出务工，入户核查须待其返乡", on=D(2026, 5, 20))
    assert case_of(app, "nx-county", case_id)["due_on"] == D(2026, 6, 12)  # extended to 30 WD


# -- dynamic management ----------------------------------------------------------------------------

def review_to_decision(app, review_id, income: str, on=NOV_20):
    do(app, "nx-county", review_id, "economic_check", "reported", on,
       {**CHECK, "report_no": "YN-FH-2026-1120", "per_capita_income": income})
    do(app, "nx-t1-staff", review_id, "home_investigation", "done", on,
       {**VISIT, "visited_on": on.isoformat(), "findings": "复核入户。"})


def open_review(app, case_id, on=NOV_16) -> int:
    with acting(app, "nx-t1-staff") as user:
        return engine.open_review(db.session, user, case_id, on=on).id


def test_rule_review_increase_reduce_stop_and_gradual_exit_each_published(app, county):
    first, second = approved_case(app), approved_case(app)
    review_id = open_review(app, first)
    review_to_decision(app, review_id, "400.00")
    with pytest.raises(ValidationError, match="请选择“增发或减发”"):
        do(app, "nx-t1-leader", review_id, "review_decision", "continue", D(2026, 11, 23), {"monthly_amount": "1560.00"})
    with pytest.raises(ValidationError, match="须填写与现保障金额（1710.00 元）不同的新金额"):
        do(app, "nx-t1-leader", review_id, "review_decision", "adjust", D(2026, 11, 23),
           {"monthly_amount": "1710.00"}, reason="收入增加")
    do(app, "nx-t1-leader", review_id, "review_decision", "adjust", D(2026, 11, 23), {"monthly_amount": "1560.00"},
       reason="妻子工资上涨，减发")
    c = case_of(app, "nx-county", review_id)
    assert [s[0] for s in c["steps"] if s[2] == "open"] == ["change_publicity"]
    with pytest.raises(ValidationError):
        do(app, "nx-t1-staff", review_id, "change_publicity", "posted", D(2026, 11, 24), {"channels": []})
    do(app, "nx-t1-staff", review_id, "change_publicity", "posted", D(2026, 11, 24),
       {"channels": ["村级公示栏", "电子屏"], "posted_on": "2026-11-24"})
    with acting(app, "nx-county"):
        assert pay.schedule_of(db.session, first).monthly_amount == Decimal("1560.00")

    # income above the standard: a gradual exit (6 months unless set, at most 12), then published
    review_id = open_review(app, second)
    review_to_decision(app, review_id, "820.00")
    # “对收入超过低保标准暂未实现稳定脱贫或就业的”: staff confirm the condition and say what they found
    not_yet = {"condition_met": True, "condition_detail": "丈夫打零工，尚无稳定工作"}
    with pytest.raises(ValidationError) as err:
        do(app, "nx-t1-leader", review_id, "review_decision", "gradual_exit", D(2026, 11, 23),
           {"condition_met": False}, reason="收入超过低保标准")
    assert err.value.field_errors["condition_met"] == ["渐退期只适用于暂未实现稳定脱贫或就业的家庭。"]
    assert "condition_detail" in err.value.field_errors
    for months in (13, 5):  # 6 to 12 months when staff set it
        with pytest.raises(ValidationError, match="渐退期须为 6 至 12 个月"):
            do(app, "nx-t1-leader", review_id, "review_decision", "gradual_exit", D(2026, 11, 23),
               {**not_yet, "months": months}, reason="收入超过低保标准，暂未实现稳定就业")
    do(app, "nx-t1-leader", review_id, "review_decision", "gradual_exit", D(2026, 11, 23), not_yet,
       reason="收入超过低保标准，暂未实现稳定就业")
    data = case_of(app, "nx-county", review_id)["step_data"]["review_decision"]
    assert (data["condition"], data["condition_detail"], data["months"]) == (
        "收入超过低保标准暂未实现稳定脱贫或就业", "丈夫打零工，尚无稳定工作", 6)
    with acting(app, "nx-county") as user:
        schedule = pay.schedule_of(db.session, second)
        assert (schedule.gradual_exit_months, schedule.end_month) == (6, D(2027, 5, 1))
        # benefits stop at its end: May 2027 is the last month paid
        pay.pay_month(db.session, user, schedule.id, D(2027, 5, 1), on=D(2027, 5, 6))
        with pytest.raises(ValidationError, match="发放至2027年05月止，2027年06月不再发放"):
            pay.pay_month(db.session, user, schedule.id, D(2027, 6, 1), on=D(2027, 6, 3))
    assert [s[0] for s in case_of(app, "nx-county", review_id)["steps"] if s[2] == "open"] == ["change_publicity"]

    # “落实好低保渐退期政策”: a 低保 policy — a 特困 household's review cannot grant one
    tekun = approved_case(app, categories=("tekun",))
    review_id = open_review(app, tekun)
    review_to_decision(app, review_id, "820.00")
    with pytest.raises(ValidationError, match="渐退期只适用于最低生活保障对象，该户按特困人员发放"):
        do(app, "nx-t1-leader", review_id, "review_decision", "gradual_exit", D(2026, 11, 23), not_yet,
           reason="收入超过低保标准")
    do(app, "nx-t1-leader", review_id, "review_decision", "continue", D(2026, 11, 23), {"monthly_amount": "1710.00"})

    # a stop ends the benefits and is published too
    third = approved_case(app)
    review_id = open_review(app, third)
    review_to_decision(app, review_id, "1200.00")
    do(app, "nx-t1-leader", review_id, "review_decision", "stop", D(2026, 11, 23), reason="家庭收入大幅增加，停发")
    assert case_of(app, "nx-county", third)["status"] == CaseStatus.closed
    assert [s[0] for s in case_of(app, "nx-county", review_id)["steps"] if s[2] == "open"] == ["change_publicity"]


def test_rule_county_spot_checks_sampled_households_at_home(app, county):
    for _ in range(4):
        approved_case(app)
    with acting(app, "nx-t1-staff") as user, pytest.raises(PermissionDenied):
        spotchecks.draw(db.session, user, on=D(2026, 6, 1), seed="2026-06", window_days=60)
    with acting(app, "nx-county") as user, pytest.raises(ValidationError, match="请填写抽查比例"):
        spotchecks.draw(db.session, user, on=D(2026, 6, 1), seed="2026-06", window_days=60)
    configure(app, "nx", dibao_standard=STANDARD, spot_check_share="0.5")
    with acting(app, "nx-county") as user:
        draw = spotchecks.draw(db.session, user, on=D(2026, 6, 1), seed="2026-06", window_days=60)
        assert len(draw.population) == 4 and len(draw.items) == 2
        assert {i.method.value for i in draw.items} == {"on_site"}  # 入户抽查
    with pytest.raises(ValidationError, match="入户抽查比例须大于 0 且不超过 100%"):
        configure(app, "nx", spot_check_share="1.5")


# -- wording, forms, sources ---------------------------------------------------------------------

def test_rule_notice_wording_quotes_the_plan(app, county):
    case_id = approved_case(app)
    do(app, "nx-t1-staff", case_id, "certificate", "issued", D(2026, 5, 20))
    with acting(app, "nx-t1-staff"):
        case = db.session.get(Case, case_id)
        text = plugin(app).notice_text("certificate", case)
        notice = db.session.scalars(select(Notice).where(Notice.case_id == case_id)).one()
        assert (notice.kind, notice.content["title"]) == ("certificate", "社会救助审核确认通知书")
        missing = plugin(app).notice_text("missing_materials", case)
    assert text[0] == "汪建国："
    assert "nx第1镇人民政府于2026年5月19日确认给予救助，家庭月救助金额 1710.00 元。自2026年6月起由县级民政部门按月发放。" in text[1]
    assert source.TOWNSHIP_DUTIES in text[2]
    assert source.NO_EXTRA_SEALS in missing[3]
    assert plugin(app).notice_title("denial") == "不予批准通知书"


def test_application_form_validates_in_chinese(app, county):
    form = plugin(app).application_form()
    errors = form.validate({"categories": ["nothing"], "channel": "fax", "applied_on": "2026-13-01"})
    assert errors["categories"] == {0: ["申请类别无效。"]}
    assert errors["channel"] == ["申请渠道须为窗口申请、网上申请或村（社区）代为申请。"]
    assert errors["applied_on"] == ["日期格式应为 YYYY-MM-DD。"]
    assert errors["authorization_signed_on"] == ["此项必填。"]
    late = form.validate(application(APR_29, channel="village_proxy", commissioned_on="2026-04-30"))
    assert late == {"commissioned_on": ["委托日期不能晚于申请日期。"]}


def test_rule_sources_are_quoted_verbatim_from_the_seed():
    text = seed_text(source.SEED)
    if text is None:
        pytest.skip("the seed documents are not beside this checkout")
    missing = [s for s in source.RULES if normalised(s) not in text]
    assert missing == []
    for channel in source.PUBLICITY_CHANNELS:
        assert channel in source.OPINION
