"""景德镇市 (jingdezhen): every rule of 景民字〔2024〕40号, on real 2026 dates around National Day and the
Spring Festival, through the engine and the spot-check, warning and disclosure services.

The rule table in docs/plugins/jingdezhen.md names the test proving each rule.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from sqlalchemy import select

from jiuzhu.cases.assessment import assess
from jiuzhu.cases.categories import CaseStatus
from jiuzhu.cases.households import Household
from jiuzhu.cases.idcard import make_id_number
from jiuzhu.cases.models import Case, Notice
from jiuzhu.clock import china_today
from jiuzhu.disclosure.services import Place, mask_name, publicity_list
from jiuzhu.errors import PermissionDenied, ValidationError
from jiuzhu.extensions import db
from jiuzhu.spotchecks import services as spotchecks
from jiuzhu.spotchecks.models import (
    RealNameReport,
    SpotCheckDraw,
    SpotCheckItem,
    SpotCheckMethod,
    StaffKinship,
)
from jiuzhu.tenancy.models import OrgUnit, Tenant
from jiuzhu.warnings import services as warnings_
from jiuzhu.warnings.models import WarningTicket
from jiuzhu.workflow import engine
from jiuzhu.workflow.models import Step, StepStatus
from plugins.jingdezhen import plugin as jingdezhen
from plugins.jingdezhen import source
from plugins.jingdezhen.plugin import NINE_GROUPS, first_payment_by
from tests import factories
from tests.factories import acting, household_of_four

D = dt.date
REGION = "360222"  # 浮梁县
STANDARD = "845.00"  # a county's 低保 standard, yuan per person per month (set by the county admin)
SEPT_30, OCT_9, OCT_14 = D(2026, 9, 30), D(2026, 10, 9), D(2026, 10, 14)

INVESTIGATION = {"investigators": ["程敏", "余军"], "visited_on": "2026-10-09", "methods": ["入户调查", "邻里访问"],
                 "village_assistance": "村委会委员 汪红", "findings": "父亲重病、儿子重度残疾，仅母亲务工，收入低。",
                 "doubt": False}
CHECK_PASS = {"report_no": "FL2026-0930", "result": "pass", "agency": "浮梁县居民家庭经济状况核对中心",
              "per_capita_income": "362.50", "assessment": "结合实地调查，人均月收入 362.50 元，低于当地低保标准，符合条件。"}
PUBLICITY = {"channels": ["村务公开栏", "浮梁县民政局网站"]}

_seq = itertools.count(1)


@pytest.fixture
def county(app, world):
    info = world.county("jdz", plugin="jingdezhen", name="浮梁县", townships=2, villages=2)
    settings(app, {"dibao_standard": STANDARD})
    return info


def settings(app, raw: dict) -> None:
    with acting(app, "jdz-admin") as user:
        tenant = db.session.get(Tenant, user.tenant_id)
        checked = jingdezhen.validate_settings(raw)
        tenant.plugin_settings = {k: str(v) if isinstance(v, Decimal) else v for k, v in checked.items()}


def register(user, *, seq: int | None = None, registered_unit_id: int | None = None,
             registered_place: str | None = None, tags=()) -> Household:
    household = household_of_four(db.session, user, seq=seq or next(_seq), region=REGION)
    household.registered_unit_id = registered_unit_id
    household.registered_place = registered_place
    household.tags = list(tags)
    db.session.flush()
    return household


def new_case(app, username="jdz-t1-staff", on=SEPT_30, channel="window", **household) -> int:
    with acting(app, username) as user:
        h = register(user, **household)
        return engine.open_case(db.session, user, household=h, categories=["dibao"], channel=channel,
                                applied_on=on, authorization_signed_on=on, commitment_signed_on=on,
                                provided=["application_form", "authorization", "commitment"],
                                via_platform=["id_and_register"]).id


def open_step(case_id: int, key: str) -> Step:
    return db.session.scalars(select(Step).where(Step.case_id == case_id, Step.key == key,
                                                 Step.status == StepStatus.open)).one()


def do(app, username, case_id, key, outcome, on, data=None, reason=None):
    with acting(app, username) as user:
        return engine.act(db.session, user, open_step(case_id, key).id, outcome, data=data, reason=reason, on=on).id


def skip(app, username, case_id, key, reason, on):
    with acting(app, username) as user:
        engine.skip(db.session, user, open_step(case_id, key).id, reason, on=on)


def steps_of(app, case_id) -> dict:
    """key → (status, opened_on, due_on, closed_on, reason) of each step's latest instance."""
    with acting(app, "jdz-county"):
        steps = db.session.scalars(select(Step).where(Step.case_id == case_id).order_by(Step.id)).all()
        return {s.key: (s.status.value, s.opened_on, s.due_on, s.closed_on, s.reason) for s in steps}


def case_of(app, case_id) -> Case:
    with acting(app, "jdz-county"):
        case = db.session.get(Case, case_id)
        db.session.expunge(case)
        return case


def due(app, case_id, key) -> dt.date | None:
    return steps_of(app, case_id)[key][2]


def accept_and_investigate(app, case_id, accepted=SEPT_30, visited=OCT_9, doubt=False):
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", accepted)
    do(app, "jdz-t1-staff", case_id, "home_investigation", "done", visited,
       {**INVESTIGATION, "visited_on": visited.isoformat(), "doubt": doubt})


def approve(app, case_id, *, decided=OCT_14, amount="1930.00"):
    """A window application of 2026-09-30 carried to approval (the short path of the lifecycle test)."""
    accept_and_investigate(app, case_id)
    do(app, "jdz-county", case_id, "economic_check", "reported", D(2026, 10, 12), CHECK_PASS)
    do(app, "jdz-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 8), PUBLICITY)
    skip(app, "jdz-t1-staff", case_id, "appraisal", "受理公示无异议，核对和调查均无疑义", D(2026, 10, 12))
    do(app, "jdz-t1-leader", case_id, "initial_opinion", "propose_approve", D(2026, 10, 13),
       {"opinion": "符合低保条件，拟同意", "proposed_amount": amount})
    do(app, "jdz-t1-leader", case_id, "decision", "approve", decided, {"monthly_amount": amount})


# -- the whole life of a case ----------------------------------------------------------------------

def test_approved_household_through_the_whole_workflow_around_national_day(app, county):
    """汪建国户 applies at the window on 2026-09-30, the day before the National Day holiday
    (10-01..10-07 off, Saturday 10-10 worked), and is approved on 10-14."""
    case_id = new_case(app, on=D(2026, 9, 30), channel="window")
    assert due(app, case_id, "acceptance") == D(2026, 9, 30)  # 当场: the day of application
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    s = steps_of(app, case_id)
    # 18 working days from the application: 10-08 is the first after the holiday → 10-30
    assert case_of(app, case_id).due_on == D(2026, 10, 30)
    assert s["home_investigation"][1:3] == (D(2026, 9, 30), D(2026, 10, 10))  # 3 WD, the make-up Saturday
    assert s["check_request"][0] == "skipped" and s["check_request"][4].startswith("不适用")
    assert s["economic_check"][1:3] == (D(2026, 9, 30), D(2026, 10, 15))  # 7 WD from the request
    assert s["publicity"][1:3] == (D(2026, 9, 30), D(2026, 10, 7))  # 受理公示, 7 days
    assert "appraisal" not in s and "initial_opinion" not in s

    do(app, "jdz-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 9), INVESTIGATION)
    do(app, "jdz-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 8), PUBLICITY)
    assert "appraisal" not in steps_of(app, case_id)  # still waiting for the county's assessment
    do(app, "jdz-county", case_id, "economic_check", "reported", D(2026, 10, 12), CHECK_PASS)
    assert steps_of(app, case_id)["appraisal"][1] == D(2026, 10, 12)
    skip(app, "jdz-t1-staff", case_id, "appraisal", "受理公示无异议，核对和调查均无疑义", D(2026, 10, 12))
    assert steps_of(app, case_id)["initial_opinion"][1:3] == (D(2026, 10, 12), D(2026, 10, 14))

    with acting(app, "jdz-t1-staff") as user:
        household = db.session.get(Case, case_id).household
        result = assess(household, jingdezhen, jingdezhen.tenant_settings(user.tenant_id), D(2026, 10, 13))
        assert (result.per_capita, result.monthly_benefit) == (Decimal("362.50"), Decimal("1930.00"))
    do(app, "jdz-t1-leader", case_id, "initial_opinion", "propose_approve", D(2026, 10, 13),
       {"opinion": "人均月收入低于当地低保标准，拟同意", "proposed_amount": "1930.00"})
    assert steps_of(app, case_id)["decision"][1:3] == (D(2026, 10, 13), D(2026, 10, 15))
    do(app, "jdz-t1-leader", case_id, "decision", "approve", D(2026, 10, 14), {"monthly_amount": "1930.00"})
    do(app, "jdz-t1-staff", case_id, "certificate", "issued", D(2026, 10, 15))

    case = case_of(app, case_id)
    assert case.status == CaseStatus.approved and case.decided_on == D(2026, 10, 14)
    assert case.monthly_amount == Decimal("1930.00")
    assert case.benefit_start == D(2026, 10, 1)  # 当月计发
    assert jingdezhen.first_payment_by(case) == D(2026, 11, 10)  # the 10th has passed in October
    s = steps_of(app, case_id)
    assert list(s) == ["acceptance", "home_investigation", "check_request", "economic_check", "publicity",
                       "appraisal", "initial_opinion", "decision", "certificate"]
    assert [v[0] for v in s.values()] == ["done", "done", "skipped", "done", "done", "skipped", "done", "done", "done"]
    with acting(app, "jdz-t1-staff"):
        assert [(n.kind, n.number, n.content["title"]) for n in db.session.scalars(select(Notice))] == [
            ("certificate", "救低保证〔2026〕0001号", "最低生活保障证")]


def test_denied_household_through_the_whole_workflow_around_the_spring_festival(app, county):
    """An online application on Friday 2026-02-13, the eve of the Spring Festival (02-14 a make-up
    working Saturday, 02-15..02-23 off, 02-28 worked): objection, appraisal, denial, notice."""
    case_id = new_case(app, on=D(2026, 2, 13), channel="online")
    assert due(app, case_id, "acceptance") == D(2026, 2, 14)  # 1 WD: the make-up Saturday
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", D(2026, 2, 14))
    assert case_of(app, case_id).due_on == D(2026, 3, 17)  # 18 WD from the application, not 03-18
    s = steps_of(app, case_id)
    assert s["home_investigation"][2] == D(2026, 2, 26)
    assert s["economic_check"][2] == D(2026, 3, 3)
    assert s["publicity"][2] == D(2026, 2, 21)
    with pytest.raises(ValidationError, match="期满前不能"):
        do(app, "jdz-t1-staff", case_id, "publicity", "objection", D(2026, 2, 20), PUBLICITY, reason="有异议")
    do(app, "jdz-t1-staff", case_id, "publicity", "objection", D(2026, 2, 24),
       {**PUBLICITY, "objection": "村民实名反映该户有一辆营运货车"}, reason="村民实名反映该户有营运货车")
    do(app, "jdz-t1-staff", case_id, "home_investigation", "done", D(2026, 2, 25),
       {**INVESTIGATION, "visited_on": "2026-02-25", "doubt": True, "findings": "院内停有货车一辆，户主称已转卖。"})
    do(app, "jdz-county", case_id, "economic_check", "reported", D(2026, 2, 27),
       {**CHECK_PASS, "result": "fail", "assessment": "车辆登记信息显示该户名下有营运货车一辆，收入超标。"})
    with pytest.raises(ValidationError, match="不满足跳过“民主评议”的条件"):
        skip(app, "jdz-t1-staff", case_id, "appraisal", "想跳过", D(2026, 2, 27))
    do(app, "jdz-t1-staff", case_id, "appraisal", "done", D(2026, 3, 2),
       {"held_on": "2026-03-02", "participants": 11, "result": "多数认为该户有营运收入，不符合条件"})
    assert steps_of(app, case_id)["initial_opinion"][2] == D(2026, 3, 4)
    do(app, "jdz-t1-leader", case_id, "initial_opinion", "propose_deny", D(2026, 3, 3),
       {"opinion": "家庭有营运车辆，收入超过当地低保标准"}, reason="家庭人均收入高于当地低保标准")
    assert steps_of(app, case_id)["decision"][2] == D(2026, 3, 5)
    with pytest.raises(ValidationError, match="须填写理由"):
        do(app, "jdz-t1-leader", case_id, "decision", "deny", D(2026, 3, 4))
    do(app, "jdz-t1-leader", case_id, "decision", "deny", D(2026, 3, 4),
       reason="家庭名下有营运货车一辆，人均月收入高于当地低保标准")
    assert steps_of(app, case_id)["denial_notice"][1:3] == (D(2026, 3, 4), D(2026, 3, 9))  # 3 WD
    do(app, "jdz-t1-staff", case_id, "denial_notice", "issued", D(2026, 3, 5))

    case = case_of(app, case_id)
    assert case.status == CaseStatus.denied and case.benefit_start is None
    with acting(app, "jdz-t1-staff"):
        notice = db.session.scalars(select(Notice)).one()
        assert (notice.kind, notice.number, notice.content["title"]) == ("denial", "救不同意〔2026〕0001号",
                                                                         "不予同意告知书")
        text = jingdezhen.notice_text("denial", db.session.get(Case, case_id))
    assert text[0] == "汪建国："
    assert "2026年3月4日作出不予同意的确认决定" in text[1]
    assert text[2] == "理由：家庭名下有营运货车一辆，人均月收入高于当地低保标准"
    assert source.DENY in text[3] and "行政复议" in text[4]


# -- 受理 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("channel", "applied", "due_on"), [
    ("window", D(2026, 9, 30), D(2026, 9, 30)),  # 当场
    ("online", D(2026, 9, 30), D(2026, 10, 8)),  # 1 WD, across National Day
    ("online", D(2026, 2, 13), D(2026, 2, 14)),  # 1 WD, the make-up Saturday
    ("village_proxy", D(2026, 9, 29), D(2026, 9, 30)),  # not at the window: as online
])
def test_rule_window_review_same_day_online_within_1_workday(app, county, channel, applied, due_on):
    username = "jdz-t1-village" if channel == "village_proxy" else "jdz-t1-staff"
    case_id = new_case(app, username=username, on=applied, channel=channel)
    assert due(app, case_id, "acceptance") == due_on


def test_rule_whole_procedure_within_18_workdays_from_application_no_extension(app, county):
    case_id = new_case(app, on=D(2026, 9, 29), channel="online")
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    case = case_of(app, case_id)
    assert (case.limit_workdays, case.due_on) == (18, D(2026, 10, 29))  # from 09-29, not from 09-30
    with acting(app, "jdz-t1-staff") as user, pytest.raises(ValidationError, match="不允许延长办理时限"):
        engine.extend(db.session, user, case_id, "需等待外县核对结果")
    settings(app, {"dibao_standard": STANDARD, "limit_workdays": 15})  # a county may be quicker
    case_id = new_case(app, on=D(2026, 9, 29), channel="online")
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    assert case_of(app, case_id).due_on == D(2026, 10, 26)


def test_rule_18_workdays_run_from_the_application_and_a_one_time_notice_does_not_stop_them(app, county):
    """“在18个工作日内完成社会救助受理、调查、核对、确认工作”: 受理 is within the 18 days, so they count from the
    application; the source stops them for nothing, so a one-time notice of missing materials does not pause
    them (the applicant's decision is not put off unseen) — and the notice tells the applicant so."""
    with acting(app, "jdz-t1-staff") as user:
        h = register(user)
        case = engine.open_case(db.session, user, household=h, categories=["dibao"], channel="window",
                                applied_on=D(2026, 9, 29), authorization_signed_on=D(2026, 9, 29),
                                commitment_signed_on=D(2026, 9, 29), provided=["authorization", "commitment"],
                                via_platform=["id_and_register"])
        case_id = case.id
        notice = engine.notify_missing_materials(db.session, user, case_id, on=D(2026, 9, 29))
        assert notice.content["title"] == "社会救助申请材料一次性告知书"
        paragraph = jingdezhen.notice_text("missing_materials", case)[-1]
        assert "自你户提出申请之日（2026年9月29日）起 18 个工作日内办结，即不晚于2026年10月29日；补齐材料期间不中止计算" \
               in paragraph and source.LIMIT in paragraph
    # the application form comes in after National Day; the township accepts it that day
    with acting(app, "jdz-t1-staff") as user:
        engine.provide_material(db.session, user, case_id, "application_form")
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", D(2026, 10, 12))
    case = case_of(app, case_id)
    assert (case.due_on, case.paused_workdays) == (D(2026, 10, 29), 0)  # not moved by the wait for the form


# -- 入户调查 ----------------------------------------------------------------------------------------

def test_rule_investigation_within_3_workdays_by_2_investigators_with_village_help(app, county):
    case_id = new_case(app)
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    assert due(app, case_id, "home_investigation") == D(2026, 10, 10)
    bad = [({"investigators": ["程敏"]}, "investigators", "不少于 2 名调查人员"),
           ({"village_assistance": None}, "village_assistance", "此项必填"),
           ({"methods": ["邻里访问"]}, "methods", "须包括入户调查"),
           ({"methods": ["电话询问", "入户调查"]}, "methods", "调查方式须为")]
    for change, field, message in bad:
        with pytest.raises(ValidationError) as err:
            do(app, "jdz-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 9), {**INVESTIGATION, **change})
        assert message in str(err.value.field_errors[field]), field
    with pytest.raises(ValidationError, match="不能早于受理日期"):
        do(app, "jdz-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 9),
           {**INVESTIGATION, "visited_on": "2026-09-29"})
    do(app, "jdz-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 9), INVESTIGATION)
    with acting(app, "jdz-t1-staff"):
        step = db.session.scalars(select(Step).where(Step.case_id == case_id, Step.key == "home_investigation")).one()
        assert step.data["investigators"] == ["程敏", "余军"] and step.data["village_assistance"] == "村委会委员 汪红"


# -- 信息核对 ----------------------------------------------------------------------------------------

def test_rule_county_check_within_7_workdays_assessed_with_the_investigation(app, county):
    case_id = new_case(app)
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    assert due(app, case_id, "economic_check") == D(2026, 10, 15)
    with pytest.raises(PermissionDenied, match="由县（区）办理"):
        do(app, "jdz-t1-staff", case_id, "economic_check", "reported", D(2026, 10, 9), CHECK_PASS)
    with pytest.raises(ValidationError, match="入户调查尚未完成"):
        do(app, "jdz-county", case_id, "economic_check", "reported", D(2026, 10, 9), CHECK_PASS)
    with pytest.raises(ValidationError) as err:
        do(app, "jdz-county", case_id, "economic_check", "reported", D(2026, 10, 9), {**CHECK_PASS, "assessment": ""})
    assert "综合评估意见" in str(err.value.field_errors["assessment"])
    do(app, "jdz-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 9), INVESTIGATION)
    do(app, "jdz-county", case_id, "economic_check", "reported", D(2026, 10, 12), CHECK_PASS)
    assert steps_of(app, case_id)["economic_check"][0] == "done"


def test_rule_registered_township_requests_the_check_within_1_workday_when_separated(app, county):
    """人户分离 within the county: lives in 第1镇, registered in 第2镇第1村. The check request is its
    own step, 第2镇's (the registered township), due 1 WD after the acceptance was made known; the
    county's 7 WD run from the request."""
    case_id = new_case(app, on=D(2026, 9, 30), registered_unit_id=county["villages"][1][0])
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    s = steps_of(app, case_id)
    assert s["check_request"][:3] == ("open", D(2026, 9, 30), D(2026, 10, 8))
    assert "economic_check" not in s
    with pytest.raises(PermissionDenied), acting(app, "jdz-t1-village") as user:
        engine.act(db.session, user, open_step(case_id, "check_request").id, "requested",
                   data={"requested_by": "村里"}, on=D(2026, 10, 8))
    # the registered township's own step: on its worklist, refused to the residence township
    # (tests/plugins/test_shared_township.py follows such a case to its decision)
    with pytest.raises(PermissionDenied, match="户籍所在地乡镇（街道）办理"):
        do(app, "jdz-t1-staff", case_id, "check_request", "requested", D(2026, 10, 9), {"requested_by": "程敏"})
    do(app, "jdz-t2-staff", case_id, "check_request", "requested", D(2026, 10, 9),
       {"requested_by": "第2镇民政办 胡丽", "request_no": "HZ-2026-118"})
    assert steps_of(app, case_id)["economic_check"][1:3] == (D(2026, 10, 9), D(2026, 10, 19))


def test_rule_check_request_outside_the_county_names_the_registered_bureau(app, county):
    place = "江西省上饶市鄱阳县饶州街道"
    case_id = new_case(app, on=D(2026, 9, 30), registered_place=place)
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    with pytest.raises(ValidationError, match="请填写受理核对申请的户籍所在地县级民政部门"):
        do(app, "jdz-t1-staff", case_id, "check_request", "requested", D(2026, 10, 8), {"requested_by": "饶州街道 李梅"})
    do(app, "jdz-t1-staff", case_id, "check_request", "requested", D(2026, 10, 8),
       {"requested_by": "饶州街道 李梅", "county_bureau": "鄱阳县民政局"})
    do(app, "jdz-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 9), INVESTIGATION)
    with pytest.raises(ValidationError, match="户籍所在地县级民政部门"):
        do(app, "jdz-county", case_id, "economic_check", "reported", D(2026, 10, 12), {**CHECK_PASS, "agency": None})
    do(app, "jdz-county", case_id, "economic_check", "reported", D(2026, 10, 12),
       {**CHECK_PASS, "agency": "鄱阳县居民家庭经济状况核对中心"})


# -- 受理公示、评估、评议 → 初审意见 → 确认决定 ---------------------------------------------------------------

def test_rule_initial_opinion_within_2_workdays_after_publicity_assessment_and_appraisal(app, county):
    case_id = new_case(app)
    accept_and_investigate(app, case_id)
    do(app, "jdz-county", case_id, "economic_check", "reported", D(2026, 10, 12), CHECK_PASS)
    assert "appraisal" not in steps_of(app, case_id)  # the publicity has not ended
    do(app, "jdz-t1-staff", case_id, "publicity", "objection", D(2026, 10, 13), {**PUBLICITY, "objection": "邻居有异议"},
       reason="邻居反映其子在外务工收入较高")
    with pytest.raises(ValidationError, match="不满足跳过"):  # an objection is settled by an appraisal
        skip(app, "jdz-t1-staff", case_id, "appraisal", "无疑义", D(2026, 10, 13))
    do(app, "jdz-t1-staff", case_id, "appraisal", "done", D(2026, 10, 16),
       {"held_on": "2026-10-16", "participants": 9, "result": "其子重度残疾，无务工收入，异议不成立"})
    assert steps_of(app, case_id)["initial_opinion"][1:3] == (D(2026, 10, 16), D(2026, 10, 20))


def test_rule_decision_by_the_township_within_2_workdays_of_the_initial_opinion(app, county):
    case_id = new_case(app)
    accept_and_investigate(app, case_id)
    do(app, "jdz-county", case_id, "economic_check", "reported", D(2026, 10, 12), CHECK_PASS)
    do(app, "jdz-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 8), PUBLICITY)
    skip(app, "jdz-t1-staff", case_id, "appraisal", "无异议无疑义", D(2026, 10, 12))
    do(app, "jdz-t1-staff", case_id, "initial_opinion", "propose_approve", D(2026, 10, 14), {"opinion": "拟同意"})
    assert due(app, case_id, "decision") == D(2026, 10, 16)
    with acting(app, "jdz-county"):
        assert jingdezhen.workflow_for(db.session.get(Case, case_id)).step("decision").level.value == "township"
    with pytest.raises(PermissionDenied, match="由乡镇"):  # 户籍所在地乡镇（街道）作出确认决定, not the county
        do(app, "jdz-county", case_id, "decision", "approve", D(2026, 10, 15), {"monthly_amount": "1930.00"})
    with pytest.raises(ValidationError) as err:  # 确定保障金额
        do(app, "jdz-t1-leader", case_id, "decision", "approve", D(2026, 10, 15), {})
    assert err.value.field_errors["monthly_amount"] == ["此项必填。"]
    do(app, "jdz-t1-leader", case_id, "decision", "approve", D(2026, 10, 15), {"monthly_amount": "1930.00"})
    assert steps_of(app, case_id)["certificate"][0] == "open"


def test_rule_denial_notice_within_3_workdays_of_the_decision(app, county):
    case_id = new_case(app)
    accept_and_investigate(app, case_id)
    do(app, "jdz-county", case_id, "economic_check", "reported", D(2026, 10, 12), CHECK_PASS)
    do(app, "jdz-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 8), PUBLICITY)
    skip(app, "jdz-t1-staff", case_id, "appraisal", "无异议无疑义", D(2026, 10, 12))
    do(app, "jdz-t1-staff", case_id, "initial_opinion", "propose_deny", D(2026, 10, 13), {"opinion": "不符合"},
       reason="赡养人给付足额")
    do(app, "jdz-t1-leader", case_id, "decision", "deny", D(2026, 10, 14), reason="赡养人给付足额")
    assert due(app, case_id, "denial_notice") == D(2026, 10, 19)  # 15, 16, 19 (weekend 17–18)
    settings(app, {"dibao_standard": STANDARD, "denial_notice_workdays": 1})
    with acting(app, "jdz-county"):
        assert jingdezhen.workflow_for(db.session.get(Case, case_id)).step("denial_notice").due.days == 1


def test_rule_approval_issues_the_certificate_and_pays_from_the_month_of_confirmation_by_the_10th(app, county):
    case_id = new_case(app)
    approve(app, case_id, decided=D(2026, 10, 14))
    do(app, "jdz-t1-staff", case_id, "certificate", "issued", D(2026, 10, 15))
    case = case_of(app, case_id)
    assert case.benefit_start == D(2026, 10, 1)
    assert jingdezhen.payment_rule.pay_by_day == 10
    assert first_payment_by(D(2026, 10, 14)) == D(2026, 11, 10)
    assert first_payment_by(D(2026, 12, 21)) == D(2027, 1, 10)
    assert first_payment_by(D(2026, 2, 9)) == D(2026, 2, 10)
    with acting(app, "jdz-t1-staff"):
        text = jingdezhen.notice_text("certificate", db.session.get(Case, case_id))
        assert "保障人数 4 人，家庭月保障金额 1930.00 元" in text[1]
        assert text[2] == "最低生活保障金自2026年10月起计发，于每月10日前发放到你户账户，首次发放不晚于2026年11月10日。"
        assert source.PAY in text[3] and source.APPROVE in text[3]


def test_rule_the_month_of_confirmation_is_owed_by_the_next_10th_and_a_late_month_shows_on_the_case(
        app, county, client_for):
    """“从确认给予最低生活保障的当月计发，并于每月10日前发放”: confirmed on 10-14, October is owed by 11-10
    (never by a 10th before the confirmation), November by 11-10, December by 12-10; on the case page the
    county sees each month's pay-by day and a month not paid by it marked."""
    from jiuzhu.payments import services as pay

    case_id = new_case(app)
    approve(app, case_id, decided=D(2026, 10, 14))
    with acting(app, "jdz-county"):
        schedule = pay.schedule_of(db.session, case_id)
        months = pay.months_due(schedule, D(2026, 12, 20))
        assert [(m.month, m.pay_by) for m in months] == [
            (D(2026, 10, 1), D(2026, 11, 10)), (D(2026, 11, 1), D(2026, 11, 10)), (D(2026, 12, 1), D(2026, 12, 10))]
    page = client_for("jdz-county").get(f"/admin/casework/{case_id}").get_data(as_text=True)
    october = page[page.index('data-testid="month-2026-10"') - 40:page.index('data-testid="month-2026-10"')]
    assert "table-warning" in october  # 11-10 has passed unpaid (today is after it)
    assert "2026-11-10" in page


def test_rule_a_month_unpaid_by_the_10th_is_on_the_county_list_and_reminded_until_paid(app, county, world,
                                                                                        client_for):
    """“并于每月10日前发放”: a month not paid by its 10th is on the county's 保障金发放 list (every township's),
    and the reminder outbox tells the county's staff (and puts it on 督办) until it is paid."""
    from jiuzhu.payments import services as pay
    from jiuzhu.reminders.dispatch import dispatch_due
    from jiuzhu.reminders.models import Notification, SupervisionItem
    from jiuzhu.reminders.planner import sync_late_payments

    world.county("ojdz", plugin="jingdezhen", townships=1, villages=1)
    case_id = new_case(app)
    approve(app, case_id, decided=D(2026, 10, 14))
    with acting(app, "jdz-county") as user:
        schedule_id = pay.schedule_of(db.session, case_id).id
        pay.pay_month(db.session, user, schedule_id, D(2026, 10, 1), on=D(2026, 11, 9))  # October, in time
        assert pay.late_months(db.session, D(2026, 11, 10)) == []  # November is owed by 11-10: not late on it
        late = pay.late_months(db.session, D(2026, 11, 11))
        assert [(m.case_id, m.month, m.pay_by, m.days_late) for m in late] == [
            (case_id, D(2026, 11, 1), D(2026, 11, 10), 1)]
        assert sync_late_payments(db.session, D(2026, 11, 11)) == 1
        dispatch_due(db.session, D(2026, 11, 11))
        notes = db.session.scalars(select(Notification).where(Notification.case_id == case_id)).all()
        assert notes and {n.title for n in notes} == {f"【已超期】案件 {case_id} · 2026年11月保障金发放"}
        assert "已于 2026年11月10日 到期仍未办结" in notes[0].body
        assert db.session.scalars(select(SupervisionItem).where(SupervisionItem.case_id == case_id)).one()
        sync_late_payments(db.session, D(2026, 11, 11))  # planned once
        assert dispatch_due(db.session, D(2026, 11, 11)) == 0
    # the county's list, on its payment screen (today is past 11-10 with November unpaid)
    page = client_for("jdz-county").get("/admin/payments/").get_data(as_text=True)
    assert f'data-testid="late-{case_id}-2026-11"' in page and f'data-testid="late-{case_id}-2026-10"' not in page
    assert "每月 10 日前发放到家庭账户" in page
    for username in ("jdz-t1-staff", "jdz-t1-leader", "jdz-t1-village"):  # the county pays (权钱分离)
        assert client_for(username).get("/admin/payments/").status_code == 403
    assert f"案件 {case_id}<" not in client_for("ojdz-county").get("/admin/payments/").get_data(as_text=True)
    with acting(app, "jdz-county") as user:
        pay.pay_month(db.session, user, schedule_id, D(2026, 11, 1), on=D(2026, 11, 12))
        before = len(db.session.scalars(select(Notification).where(Notification.case_id == case_id)).all())
        dispatch_due(db.session, D(2026, 11, 20))  # the repeat finds November paid: nothing more is sent
        assert len(db.session.scalars(select(Notification).where(Notification.case_id == case_id)).all()) == before
        assert pay.late_months(db.session, D(2026, 11, 20)) == []


def test_rule_nine_group_households_are_visited_every_period_and_the_overdue_listed(app, county):
    """“聚焦必到必访九类人群”“县级民政部门要健全完善定期摸排机制…常态化开展困难群众走访摸排”: a household of a
    must-visit group is due a visit one period (the county's; a quarter until it sets one) after its last
    visit or its registration, overdue past it; a visit starts the next period."""
    from jiuzhu.outreach import services as outreach

    rule = jingdezhen.visit_rule
    with acting(app, "jdz-t1-staff") as user:
        tagged = register(user, tags=["elderly_disabled_ill", "weak_work_ability"])
        plain = register(user)  # no must-visit group: no schedule
        tagged.created_at = plain.created_at = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)  # registered 06-01
        db.session.flush()
        tagged_id, plain_id = tagged.id, plain.id
        settings_ = jingdezhen.tenant_settings(user.tenant_id)
        assert outreach.interval(rule, settings_) == 90
        due = outreach.schedule(db.session, rule, settings_, D(2026, 8, 30))
        assert [(d.household_id, d.due_on, d.overdue) for d in due] == [(tagged_id, D(2026, 8, 30), False)]
        assert [d.overdue for d in outreach.schedule(db.session, rule, settings_, D(2026, 8, 31))] == [True]
        with pytest.raises(ValidationError) as err:
            outreach.record_visit(db.session, user, rule, plain_id, visited_on=D(2026, 9, 2), visitors="程敏",
                                  finding="x", on=D(2026, 9, 2))
        assert err.value.field_errors["household_id"] == ["该户不属于必到必访人群，无需登记走访。"]
        with pytest.raises(ValidationError) as err:
            outreach.record_visit(db.session, user, rule, tagged_id, visited_on=D(2026, 9, 3), visitors=" ",
                                  finding="", on=D(2026, 9, 2))
        assert set(err.value.field_errors) == {"visited_on", "visitors", "finding"}
        visit = outreach.record_visit(db.session, user, rule, tagged_id, visited_on=D(2026, 9, 2),
                                      visitors="协理员 汪红、网格员 余军", finding="父亲病情加重，医疗支出大",
                                      needs_assistance=True, on=D(2026, 9, 2))
        assert visit.groups == ["elderly_disabled_ill", "weak_work_ability"]
        due = outreach.schedule(db.session, rule, settings_, D(2026, 9, 2))
        assert [(d.last_visit, d.due_on, d.overdue) for d in due] == [(D(2026, 9, 2), D(2026, 12, 1), False)]
    settings(app, {"dibao_standard": STANDARD, "visit_interval_days": 30})  # the county's own period: monthly
    with acting(app, "jdz-t1-staff") as user:
        due = outreach.schedule(db.session, rule, jingdezhen.tenant_settings(user.tenant_id), D(2026, 10, 9))
        assert [(d.due_on, d.overdue) for d in due] == [(D(2026, 10, 2), True)]
    with pytest.raises(ValidationError):
        settings(app, {"dibao_standard": STANDARD, "visit_interval_days": 400})


def test_must_visit_schedule_on_screen_each_sees_its_own_and_a_visit_is_recorded(app, county, world, client_for):
    """The 必访走访 screen: the township and the village see their own overdue households, the county all, another
    county none; a visit recorded there (refused, nothing written, when incomplete) clears the overdue mark."""
    from jiuzhu.outreach.models import OutreachVisit
    from tests.conftest import csrf_token

    world.county("ojdz", plugin="jingdezhen", townships=1, villages=1)
    ids = {}
    for username in ("jdz-t1-staff", "jdz-t2-staff"):
        with acting(app, username) as user:
            h = register(user, tags=["applied_before"])
            h.created_at = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)  # overdue since 08-30: today is later
            ids[username] = h.id
    one, two = ids["jdz-t1-staff"], ids["jdz-t2-staff"]
    county_page = client_for("jdz-county").get("/admin/outreach/").get_data(as_text=True)
    assert f'data-testid="visit-{one}"' in county_page and f'data-testid="visit-{two}"' in county_page
    assert "2 户逾期未走访" in county_page and "汪*国户" in county_page and "汪建国" not in county_page
    for username, sees, not_sees in (("jdz-t1-staff", one, two), ("jdz-t2-leader", two, one),
                                     ("jdz-t1-village", one, two)):
        page = client_for(username).get("/admin/outreach/").get_data(as_text=True)
        assert f'data-testid="visit-{sees}"' in page and f'data-testid="visit-{not_sees}"' not in page, username
    other = client_for("ojdz-county").get("/admin/outreach/").get_data(as_text=True)
    assert "visit-" not in other.replace("visit-schedule", "")
    staff = client_for("jdz-t1-staff")
    token = csrf_token(staff.get("/admin/outreach/").get_data(as_text=True))
    today = china_today().isoformat()
    refused = staff.post("/admin/outreach/", data={"csrf_token": token, "household_id": str(one), "visited_on": today,
                                                   "visitors": "", "finding": ""}, follow_redirects=True)
    assert "走访人员：请填写走访人员。" in refused.get_data(as_text=True)
    assert staff.post("/admin/outreach/", data={"csrf_token": token, "household_id": str(two), "visited_on": today,
                                                "visitors": "程敏", "finding": "x"}).status_code == 404  # not its own
    done = staff.post("/admin/outreach/", data={"csrf_token": token, "household_id": str(one), "visited_on": today,
                                                "visitors": "协理员 汪红", "finding": "生活稳定"},
                      follow_redirects=True).get_data(as_text=True)
    assert "已登记走访" in done
    row = done[done.index(f'data-testid="visit-{one}"'):]
    assert "逾期" not in row[:row.index("</tr>")]
    with acting(app, "jdz-county"):
        assert [v.household_id for v in db.session.scalars(select(OutreachVisit))] == [one]


def test_rule_notice_texts_quote_the_source(app, county):
    with acting(app, "jdz-t1-staff") as user:
        h = register(user)
        case = engine.open_case(db.session, user, household=h, categories=["dibao"], channel="window",
                                applied_on=D(2026, 9, 30))
        notice = engine.notify_missing_materials(db.session, user, case.id, on=D(2026, 9, 30))
        assert notice.number == "救告〔2026〕0001号"
        assert notice.content["title"] == "社会救助申请材料一次性告知书"
        text = jingdezhen.notice_text("missing_materials", case)
        assert "低收入人口申请认定表（申请书）、居民身份证、户口簿、家庭经济状况核查授权书、承诺书" in text[1]
        assert source.ACCEPT in text[3]
        case.decision_reason = "申请人户籍及居住地均不在本镇"
        assert "行政复议" in jingdezhen.notice_text("not_accepted", case)[-1]
        with pytest.raises(KeyError):
            jingdezhen.notice_text("nonsense", case)


# -- settings, application form, tags ------------------------------------------------------------------

def test_rule_settings_never_beyond_the_source_maxima(app, county):
    with pytest.raises(ValidationError) as err:
        jingdezhen.validate_settings({"limit_workdays": 19, "investigation_workdays": 4, "check_workdays": 8,
                                      "opinion_workdays": 3, "decision_workdays": 3, "online_review_workdays": 2,
                                      "check_request_workdays": 2, "denial_notice_workdays": 4,
                                      "warning_workdays": 21, "extended_limit_workdays": 25, "publicity_days": 6,
                                      "spot_check_share": "0.40", "spot_check_on_site_share": "0.20"})
    fe = err.value.field_errors
    assert fe["limit_workdays"] == ["办理时限须在 1 至 18 之间（依据：景民字〔2024〕40号《关于全面提升社会救助服务能力的工作方案》）。"]
    for name in ("investigation_workdays", "check_workdays", "opinion_workdays", "decision_workdays",
                 "online_review_workdays", "check_request_workdays", "denial_notice_workdays", "warning_workdays",
                 "publicity_days"):
        assert "须在" in fe[name][0], name
    assert "不设延长时限" in fe["extended_limit_workdays"][0]
    assert fe["spot_check_share"] == ["抽查比例须在 50% 至 100% 之间（依据：景民字〔2024〕40号《关于全面提升社会救助服务能力的工作方案》）。"]
    assert "30%" in fe["spot_check_on_site_share"][0]
    with pytest.raises(ValidationError, match="须为整数"):
        jingdezhen.validate_settings({"check_workdays": "七"})
    # shorter deadlines are the county's to set, and the workflow follows them
    settings(app, {"dibao_standard": STANDARD, "investigation_workdays": 2, "check_workdays": 5,
                   "online_review_workdays": 0, "publicity_days": 8})
    case_id = new_case(app, on=D(2026, 9, 30), channel="online")
    assert due(app, case_id, "acceptance") == D(2026, 9, 30)
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    s = steps_of(app, case_id)
    assert (s["home_investigation"][2], s["economic_check"][2], s["publicity"][2]) == (
        D(2026, 10, 9), D(2026, 10, 13), D(2026, 10, 8))


def test_application_form_validates_in_chinese(app):
    form = jingdezhen.application_form()
    data = form.load({"categories": ["dibao"], "channel": "online", "applied_on": "2026-02-13",
                      "authorization_signed_on": "2026-02-13", "tags": ["hotline_petition"]})
    assert data["tags"] == ["hotline_petition"] and data["applied_on"] == D(2026, 2, 13)
    from marshmallow import ValidationError as SchemaError

    with pytest.raises(SchemaError) as err:
        form.load({"categories": [], "channel": "fax", "applied_on": "2099-01-01", "tags": ["rich"]})
    m = err.value.messages
    assert m["categories"] == ["请至少选择一个申请类别。"]
    assert m["channel"] == ["申请渠道须为窗口申请、网上申请或村（社区）代为申请。"]
    assert m["authorization_signed_on"] == ["此项必填。"]
    assert m["tags"] == {0: ["人群类别无效。"]}


def test_rule_nine_must_visit_groups_are_household_tags(app, county):
    assert len(NINE_GROUPS) == 9 and jingdezhen.household_tags == NINE_GROUPS
    flat = source.NINE_GROUPS
    for label in NINE_GROUPS.values():
        assert label in flat, label
    assert list(NINE_GROUPS.values()) == sorted(NINE_GROUPS.values(), key=flat.index)  # the source's order
    with acting(app, "jdz-t1-staff") as user:
        h = register(user, tags=["applied_before", "hotline_petition"])
        household_id = h.id
        assert jingdezhen.suggest_tags(h, D(2026, 10, 1)) == ["elderly_disabled_ill"]
        engine.open_case(db.session, user, household=h, categories=["dibao"], channel="window",
                         applied_on=D(2026, 10, 8))
        h2 = register(user, tags=["rich_people"])
        with pytest.raises(ValidationError, match="人群标签无效：rich_people"):
            engine.open_case(db.session, user, household=h2, categories=["dibao"], channel="window",
                             applied_on=D(2026, 10, 8))
    with acting(app, "jdz-t1-staff"):
        tagged = db.session.scalars(select(Household).where(Household.id == household_id)).one()
        assert [NINE_GROUPS[t] for t in tagged.tags] == [
            "曾经申请过社会救助、暂时不符合救助条件但存在一定困难的人员或家庭", "通过社会救助热线等信访渠道反映救助诉求的人员或家庭"]


# -- warnings ------------------------------------------------------------------------------------------

def _ticket(app, username="jdz-county", ref="YJ2026-0001", received=SEPT_30, id_number=None) -> int:
    with acting(app, username) as user:
        town = db.session.get(OrgUnit, user.org_unit_id) if user.role.is_township else db.session.scalars(
            select(OrgUnit).where(OrgUnit.name == "jdz第1镇")).one()
        return warnings_.receive(db.session, user, township=town, id_number=id_number or make_id_number(
            REGION, D(1950, 1, 1), 99), source_ref=ref, summary="大额医疗支出", received_on=received).id


def test_rule_warning_verified_and_decided_within_20_workdays(app, county):
    with acting(app, "jdz-t1-staff") as user:
        h = register(user)
        head, household_id, village_id = h.head.id_number, h.id, h.village_id
    ticket_id = _ticket(app, id_number=head, received=D(2026, 9, 30))
    with acting(app, "jdz-county"):
        t = db.session.get(WarningTicket, ticket_id)
        assert t.due_on == D(2026, 11, 3)  # 20 WD after 09-30, across National Day
        assert t.household_id == household_id and t.village_id == village_id
        assert t.due_rule.startswith("自预警单据返回之日起 20 个工作日（景民字〔2024〕40号")
    # decision only after the home visit, on online check and visit
    with acting(app, "jdz-t1-staff") as user, pytest.raises(ValidationError, match="须先上门开展入户核查"):
        warnings_.decide(db.session, user, ticket_id, decision="eligible", online_check="医保报销记录核实",
                         reason="支出型困难", decided_on=D(2026, 10, 20))
    with acting(app, "jdz-t1-staff") as user:
        warnings_.request_clarification(db.session, user, ticket_id, question="预警所列医疗费用是否已报销？",
                                        on=D(2026, 10, 9))
    with acting(app, "jdz-county") as user:
        warnings_.answer_clarification(db.session, user, ticket_id, answer="已报销 60%，自付 3.2 万元",
                                       on=D(2026, 10, 12))
        assert db.session.get(WarningTicket, ticket_id).due_on == D(2026, 11, 3)  # asking moves no deadline
    with acting(app, "jdz-t1-staff") as user:
        warnings_.record_visit(db.session, user, ticket_id, visited_on=D(2026, 10, 13), visitors=["程敏", "余军"],
                               findings="户主住院，家庭自付医疗费用较大", on=D(2026, 10, 13))
        with pytest.raises(ValidationError, match="请填写线上核查结果"):
            warnings_.decide(db.session, user, ticket_id, decision="eligible", online_check=" ", reason="x",
                             decided_on=D(2026, 10, 14))
        t = warnings_.decide(db.session, user, ticket_id, decision="eligible", online_check="医保报销记录核实",
                             reason="刚性支出大，符合条件，纳入救助", decided_on=D(2026, 10, 14))
        assert not t.overdue_on(D(2026, 12, 1))


def test_rule_warnings_overdue_flagged_township_acts_county_sees_all(app, county):
    late = _ticket(app, ref="YJ-A", received=D(2026, 2, 12))  # due 03-18
    _ticket(app, username="jdz-t2-staff", ref="YJ-B", received=D(2026, 3, 16))
    with acting(app, "jdz-county") as user:
        assert [t.source_ref for t in warnings_.overdue_tickets(db.session, D(2026, 3, 18))] == []
        assert [t.source_ref for t in warnings_.overdue_tickets(db.session, D(2026, 3, 19))] == ["YJ-A"]
        assert [t.source_ref for t in warnings_.open_tickets(db.session)] == ["YJ-A", "YJ-B"]  # all townships
        with pytest.raises(PermissionDenied, match="由乡镇（街道）组织入户核查"):
            warnings_.record_visit(db.session, user, late, visited_on=D(2026, 3, 2), visitors=["县里"], findings="x")
    with acting(app, "jdz-t2-staff"):
        assert [t.source_ref for t in warnings_.open_tickets(db.session)] == ["YJ-B"]
        assert db.session.get(WarningTicket, late) is None
    with acting(app, "jdz-t1-village") as user, pytest.raises(PermissionDenied):
        warnings_.record_visit(db.session, user, late, visited_on=D(2026, 3, 2), visitors=["村里"], findings="x")
    with acting(app, "jdz-t1-staff") as user:
        warnings_.record_visit(db.session, user, late, visited_on=D(2026, 3, 18), visitors=["程敏"], findings="已核查",
                               on=D(2026, 3, 18))
        warnings_.decide(db.session, user, late, decision="ineligible", online_check="无异常", reason="收入稳定",
                         decided_on=D(2026, 3, 20))
    with acting(app, "jdz-county"):
        assert [t.source_ref for t in warnings_.overdue_tickets(db.session, D(2026, 3, 25))] == ["YJ-A"]  # decided late
    with pytest.raises(ValidationError, match="已登记"):
        _ticket(app, ref="YJ-A")
    settings(app, {"dibao_standard": STANDARD, "warning_workdays": 10})  # a county may be quicker
    quick = _ticket(app, ref="YJ-C", received=D(2026, 9, 30))
    with acting(app, "jdz-county"):
        assert db.session.get(WarningTicket, quick).due_on == D(2026, 10, 20)


# -- spot checks -----------------------------------------------------------------------------------

def approved_directly(app, decided_on: dt.date, categories=("dibao",), username="jdz-t1-staff") -> int:
    """A case already approved on ``decided_on`` (set up directly: the draw reads approved cases)."""
    return factories.approved_directly(app, username, "jdz-county", decided_on, register, categories=categories)


def test_rule_spot_check_at_least_half_of_new_dibao_households_30pct_on_site(app, county):
    new = [approved_directly(app, D(2026, 10, d)) for d in (8, 9, 12, 13, 14, 15, 16, 19, 20, 21)]
    tekun = approved_directly(app, D(2026, 10, 9), categories=("tekun",))  # not a 低保 household
    with acting(app, "jdz-county") as user:
        drawn = spotchecks.draw(db.session, user, on=D(2026, 10, 30), seed="2026-10-30 福彩3D 517")
        items = {i.case_id: i for i in drawn.items}
        assert drawn.population == new and tekun not in drawn.population
        assert (drawn.window_start, drawn.window_end) == (D(2026, 8, 1), D(2026, 10, 30))
        assert len(items) == 5  # ⌈50% × 10⌉ of the new households
        # 其中实地抽查比例不低于 30%: of the 10 new households (3), not of the 5 sampled (2)
        assert sum(i.on_site for i in items.values()) == 3
        summary = spotchecks.summarize(drawn)
        assert summary.meets_rule and summary.pending == 5
        # reproducible: the stored population and seed give the same households, on site the same
        again = spotchecks.choose([spotchecks.Candidate(c) for c in drawn.population], drawn.seed,
                                  drawn.sample_share, drawn.on_site_share, on_site_of_new_cases=True)
        assert [(p.case_id, p.on_site) for p in again] == [(i.case_id, i.on_site) for i in drawn.items]
        other = spotchecks.choose([spotchecks.Candidate(c) for c in drawn.population], "another seed",
                                  drawn.sample_share, drawn.on_site_share, on_site_of_new_cases=True)
        assert len(other) == 5 and sum(p.on_site for p in other) == 3
        # on site is part of the sample: its share may not exceed the sample's
        with pytest.raises(ValidationError, match="实地抽查比例（60%）不能高于抽查比例（50%）"):
            spotchecks.draw(db.session, user, on=D(2026, 10, 31), on_site_share="0.6")
        first = drawn.items[0]
        with pytest.raises(ValidationError, match="须写明发现的问题"):
            spotchecks.record_result(db.session, user, first.id, result="irregular", checked_on=D(2026, 11, 2),
                                     checker="县民政局 王强、李娜", on=D(2026, 11, 2))
        spotchecks.record_result(db.session, user, first.id, result="conforms", checked_on=D(2026, 11, 2),
                                 checker="县民政局 王强、李娜", on=D(2026, 11, 2))
        assert spotchecks.summarize(drawn).pending == 4
        # a second draw considers only cases no draw has considered
        with pytest.raises(ValidationError, match="没有尚未抽查过的新增最低生活保障家庭"):
            spotchecks.draw(db.session, user, on=D(2026, 10, 31), seed="x")
        # never below the rule
        with pytest.raises(ValidationError, match="不能低于本地规则规定的 50%"):
            spotchecks.draw(db.session, user, on=D(2026, 10, 31), sample_share="0.4")


def test_rule_spot_check_covers_every_new_household_and_warns_of_missing_or_short_draws(app, county):
    """A household confirmed more than 90 days before a draw that no draw considered is still drawn;
    the county is told when new households pass 90 days undrawn and when a draw falls short."""
    rule = jingdezhen.spot_check_rule
    july = approved_directly(app, D(2026, 7, 1))
    imported = approved_directly(app, D(2026, 7, 2))
    with acting(app, "jdz-county") as user:
        # a household of the roll imported as 存量在保对象 (no procedure here) is not a new household
        db.session.execute(Step.__table__.delete().where(Step.case_id == imported))
        assert spotchecks.coverage_gaps(db.session, rule, D(2026, 9, 29)) == []  # 90 days on 9-29: not late yet
        gaps = spotchecks.coverage_gaps(db.session, rule, D(2026, 9, 30))
        assert [g.kind for g in gaps] == ["missing"]
        assert gaps[0].message.startswith("1 户新增最低生活保障家庭确认已超过 90 天仍未纳入任何抽查（最早于 2026-07-01 确认）")
    october = [approved_directly(app, D(2026, 10, d)) for d in (8, 9, 12, 13, 14, 15, 16, 19, 20)]
    with acting(app, "jdz-county") as user:
        drawn = spotchecks.draw(db.session, user, on=D(2026, 10, 30), seed="2026-10-30 福彩3D 517")
        assert drawn.population == [july, *october] and imported not in drawn.population
        assert drawn.window_start == D(2026, 7, 1)  # the period reaches back to the oldest undrawn household
        assert (len(drawn.items), sum(i.on_site for i in drawn.items)) == (5, 3)  # ⌈50% × 10⌉, ⌈30% × 10⌉
        assert spotchecks.coverage_gaps(db.session, rule, D(2026, 10, 30)) == []
        # a draw with fewer on site than 30% of its new households (as the sample-based reading drew) is short
        next(i for i in drawn.items if i.on_site and not i.related_to_staff).method = SpotCheckMethod.desk
        db.session.flush()
        gaps = spotchecks.coverage_gaps(db.session, rule, D(2026, 11, 2))
        assert [(g.kind, g.draw_id) for g in gaps] == [("short", drawn.id)]
        assert gaps[0].message == "2026-10-30 的抽取不足：实地抽查 2 户，低于新增家庭 10 户的 30%。"


def test_rule_staff_relatives_registered_and_all_checked_on_site(app, county):
    cases = [approved_directly(app, D(2026, 10, d)) for d in (8, 9, 12, 13, 14, 15, 16, 19, 20, 21)]
    related = cases[2:6]  # four households with a close relative among the handling staff
    with acting(app, "jdz-county") as user:
        for i, case_id in enumerate(related):
            household = db.session.get(Case, case_id).household
            spotchecks.register_kinship(db.session, user, household=household, staff_name=f"经办人{i}",
                                        staff_level=["township", "village", "county", "city"][i],
                                        staff_unit="第1镇民政办 经办人", relation="兄弟姐妹", registered_on=D(2026, 9, 1))
        with pytest.raises(ValidationError, match="近亲属关系须为"):
            spotchecks.register_kinship(db.session, user, household=household, staff_name="某", staff_level="county",
                                        staff_unit="县民政局", relation="同学")
        drawn = spotchecks.draw(db.session, user, on=D(2026, 10, 30), seed="42")
        by_case = {i.case_id: i for i in drawn.items}
        assert set(related) <= set(by_case)
        assert all(by_case[c].on_site and by_case[c].related_to_staff for c in related)
        assert len(drawn.items) == 5  # ⌈50% × 10⌉: the 4 relatives and 1 more
        assert sum(i.on_site for i in drawn.items) == 4  # ⌈30% × 10⌉ = 3, but every relative is on site
        assert spotchecks.summarize(drawn).meets_rule
    # relatives even above half the population are all taken, all on site
    with acting(app, "jdz-county") as user:
        picks = spotchecks.choose([spotchecks.Candidate(c, c % 3 != 0) for c in range(1, 11)], "s", Decimal("0.5"),
                                  Decimal("0.3"))
        assert {p.case_id for p in picks if p.related_to_staff} == {c for c in range(1, 11) if c % 3 != 0}
        assert all(p.on_site for p in picks if p.related_to_staff)


def test_rule_spot_checks_are_county_work_only(app, county):
    approved_directly(app, D(2026, 10, 12))
    for username in ("jdz-t1-staff", "jdz-t1-leader", "jdz-t1-village"):
        with acting(app, username) as user, pytest.raises(PermissionDenied, match="由县级民政部门办理"):
            spotchecks.draw(db.session, user, on=D(2026, 10, 30), seed="1")
    with acting(app, "jdz-county") as user:
        spotchecks.draw(db.session, user, on=D(2026, 10, 30), seed="1")
        spotchecks.receive_report(db.session, user, reporter_name="张某", reporter_contact="13900000000",
                                  channel="来电", received_on=D(2026, 10, 30), subject="某户", content="有车")
    with acting(app, "jdz-t1-staff"):  # the county's files are invisible below it
        for model in (SpotCheckDraw, SpotCheckItem, RealNameReport, StaffKinship):
            assert db.session.scalars(select(model)).all() == [], model
    with acting(app, "jdz-county"):
        assert len(db.session.scalars(select(SpotCheckItem)).all()) == 1


def test_rule_real_name_reports_each_verified_and_answered(app, county):
    case_id = approved_directly(app, D(2026, 10, 12))
    with acting(app, "jdz-county") as user:
        case = db.session.get(Case, case_id)
        with pytest.raises(ValidationError, match="实名举报须登记举报人姓名"):
            spotchecks.receive_report(db.session, user, reporter_name=" ", reporter_contact="x", channel="来信",
                                      received_on=D(2026, 10, 20), subject="汪建国户", content="有营运车辆")
        report = spotchecks.receive_report(db.session, user, reporter_name="程某", reporter_contact="13900000001",
                                           channel="来电", received_on=D(2026, 10, 20), subject="汪建国户",
                                           content="该户有营运车辆", household=case.household, case=case)
        other = spotchecks.receive_report(db.session, user, reporter_name="余某", reporter_contact="13900000002",
                                          channel="来信", received_on=D(2026, 10, 21), subject="某村干部亲属",
                                          content="优亲厚友")
        other_id = other.id
        with pytest.raises(ValidationError, match="须先核实"):
            spotchecks.answer_report(db.session, user, report.id, answered_on=D(2026, 10, 22), answer="x", via="电话")
        spotchecks.verify_report(db.session, user, report.id, verified_on=D(2026, 10, 23), substantiated=False,
                                 verification="车辆于 2025 年已过户他人，举报不属实")
        with pytest.raises(ValidationError, match="不能早于核实日期"):
            spotchecks.answer_report(db.session, user, report.id, answered_on=D(2026, 10, 22), answer="x", via="电话")
        spotchecks.answer_report(db.session, user, report.id, answered_on=D(2026, 10, 26),
                                 answer="经核实，该车辆已于 2025 年过户，举报情况不属实。", via="电话")
        assert [r.id for r in spotchecks.unanswered_reports(db.session)] == [other_id]
        with pytest.raises(ValidationError, match="已向举报人反馈过"):
            spotchecks.answer_report(db.session, user, report.id, answered_on=D(2026, 10, 27), answer="x", via="电话")
    with acting(app, "jdz-t1-staff") as user, pytest.raises(PermissionDenied):
        spotchecks.verify_report(db.session, user, other_id, verified_on=D(2026, 10, 23), substantiated=True,
                                 verification="x")


# -- publicity -----------------------------------------------------------------------------------

PUBLIC_FIELDS = ["公示类别", "公示期", "救助类别", "家庭成员姓名", "保障人数", "困难原因", "家庭月保障金额", "所在村（社区）"]


def lists(app, on, username="jdz-county", **kw) -> dict[Place, list[dict]]:
    with acting(app, username):
        return {p: [r.as_public() for r in rows] for p, rows in publicity_list(db.session, on, **kw).items()}


def test_rule_publicity_shows_exactly_the_source_fields_minors_and_unrelated_data_hidden(app, county):
    case_id = new_case(app)
    approve(app, case_id)
    rows = lists(app, D(2026, 10, 20))
    assert list(rows) == [Place("jdz第1镇第1村", county["villages"][0][0])]
    [row] = rows[Place("jdz第1镇第1村", county["villages"][0][0])]
    assert list(row) == PUBLIC_FIELDS
    assert row == {"公示类别": "保障中", "公示期": "—", "救助类别": "最低生活保障",
                   "家庭成员姓名": "汪*国、李*英、汪*", "保障人数": "4",
                   "困难原因": "因病、因残、缺乏劳动能力", "家庭月保障金额": "1930.00 元",
                   "所在村（社区）": "jdz第1镇第1村"}
    text = " ".join(row.values())
    with acting(app, "jdz-county"):
        h = db.session.get(Case, case_id).household
        unrelated = [m.id_number for m in h.members] + [h.phone, h.address, "1200", "150", "汪丽", "小雨"]
    assert not [u for u in unrelated if u and u in text]
    assert mask_name("欧阳小明") == "欧**明" and mask_name("张三") == "张*"


def test_rule_approved_shown_until_benefits_stop_and_exits_at_least_six_months(app, county):
    case_id = new_case(app)
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    # during the 受理公示 the proposal is on the list, its amount not yet set
    [row] = next(iter(lists(app, D(2026, 10, 2)).values()))
    assert row["公示类别"] == "公示中（拟保障）" and row["家庭月保障金额"] == "待核定"
    do(app, "jdz-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 9), INVESTIGATION)
    do(app, "jdz-county", case_id, "economic_check", "reported", D(2026, 10, 12), CHECK_PASS)
    do(app, "jdz-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 8), PUBLICITY)
    assert lists(app, D(2026, 10, 12)) == {}  # between publicity and decision: nothing is published
    skip(app, "jdz-t1-staff", case_id, "appraisal", "无异议无疑义", D(2026, 10, 12))
    do(app, "jdz-t1-leader", case_id, "initial_opinion", "propose_approve", D(2026, 10, 13), {"opinion": "拟同意"})
    do(app, "jdz-t1-leader", case_id, "decision", "approve", D(2026, 10, 14), {"monthly_amount": "1930.00"})
    for day in (D(2026, 10, 14), D(2027, 6, 1), D(2029, 1, 1)):  # 自批准之日起，至停止之日止
        assert [r["公示类别"] for rows in lists(app, day).values() for r in rows] == ["保障中"], day
    with acting(app, "jdz-t1-staff") as user:  # benefits stop
        engine.close(db.session, user, case_id, "家庭收入已超过当地低保标准，停发", on=D(2027, 3, 15))
    for day, shown in ((D(2027, 3, 15), True), (D(2027, 9, 15), True), (D(2027, 9, 16), False)):
        rows = [r["公示类别"] for rows in lists(app, day).values() for r in rows]
        assert rows == (["已退出"] if shown else []), day


def test_rule_separated_households_published_at_both_places(app, county):
    in_county = new_case(app, registered_unit_id=county["villages"][1][1])
    outside = new_case(app, registered_place="江西省上饶市鄱阳县饶州街道")
    for case_id in (in_county, outside):
        do(app, "jdz-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
        with pytest.raises(ValidationError, match="应当在户籍所在地和实际居住地同时公示"):
            do(app, "jdz-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 8), PUBLICITY)
        do(app, "jdz-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 8),
           {**PUBLICITY, "at_registered_place": True})
    with acting(app, "jdz-county"):
        for case_id in (in_county, outside):  # approved (set directly: the path is tested above)
            case = db.session.get(Case, case_id)
            case.status, case.decided_on, case.monthly_amount = CaseStatus.approved, D(2026, 10, 20), Decimal("900")
            case.benefit_start = D(2026, 10, 1)
    rows = lists(app, D(2026, 10, 21))
    residence = Place("jdz第1镇第1村", county["villages"][0][0])
    registered = Place("jdz第2镇第2村", county["villages"][1][1])
    external = Place("江西省上饶市鄱阳县饶州街道", None, external=True)
    assert list(rows) == [residence, registered, external]
    assert len(rows[residence]) == 2 and len(rows[registered]) == 1 and len(rows[external]) == 1
    assert rows[registered][0]["所在村（社区）"] == "jdz第1镇第1村"  # where the family lives
    # a township's own list: the places of that township only
    mine = lists(app, D(2026, 10, 21), township_id=county["towns"][1])
    assert list(mine) == [registered]


def test_publicity_lists_only_dibao_households(app, county):
    approved_directly(app, D(2026, 10, 12), categories=("tekun",))
    assert lists(app, D(2026, 10, 20)) == {}
    approved_directly(app, D(2026, 10, 12), categories=("tekun", "dibao"))
    assert [len(r) for r in lists(app, D(2026, 10, 20)).values()] == [1]


# -- the village rule under this plugin ------------------------------------------------------------

def test_village_cannot_decide_any_jingdezhen_step(app, county):
    """Every step of the Jingdezhen workflow is refused to the village, and nothing changes."""
    case_id = new_case(app, registered_unit_id=county["villages"][1][0])
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    spec = jingdezhen.default_workflow()
    assert all(s.level.value != "village" for s in spec.steps)
    with acting(app, "jdz-t1-village") as user:
        for key, outcome, data in (("check_request", "requested", {"requested_by": "村"}),
                                   ("home_investigation", "done", INVESTIGATION),
                                   ("publicity", "no_objection", PUBLICITY)):
            with pytest.raises(PermissionDenied):
                engine.act(db.session, user, open_step(case_id, key).id, outcome, data=data, on=D(2026, 10, 9))
        db.session.rollback()
    assert {k: v[0] for k, v in steps_of(app, case_id).items()} == {
        "acceptance": "done", "home_investigation": "open", "check_request": "open", "publicity": "open"}
    approve_case = new_case(app)
    approve(app, approve_case)
    with acting(app, "jdz-t1-village") as user:
        with pytest.raises(PermissionDenied, match="不能办理"):
            engine.act(db.session, user, open_step(approve_case, "certificate").id, "issued", on=D(2026, 10, 15))
        with pytest.raises(PermissionDenied):
            engine.revoke(db.session, user, approve_case, "村里定的")
        with pytest.raises(PermissionDenied):
            spotchecks.draw(db.session, user, on=D(2026, 10, 30), seed="1")


def test_rule_publicity_posted_at_fixed_boards_or_the_local_network_platform(app, county):
    case_id = new_case(app)
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    with pytest.raises(ValidationError) as err:
        do(app, "jdz-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 8), {"channels": []})
    assert "公示场所" in err.value.field_errors["channels"][0]
    do(app, "jdz-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 8),
       {"channels": ["村务公开栏", "浮梁县人民政府网站"]})
    assert jingdezhen.disclosure_rule.channels == ("政务公开栏", "村务公开栏", "居务公开栏", "当地网络平台")
