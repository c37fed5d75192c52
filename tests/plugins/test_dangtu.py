"""当涂县 (《当涂县城乡低保及特困人员审核确认权限委托下放工作实施方案（试行）》): every rule of the
document, on real 2026 dates around National Day (10-01..10-07 off, Saturday 10-10 worked) and the
Spring Festival (02-15..02-23 off, Saturdays 02-14 and 02-28 worked)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from jiuzhu.calendar import add_workdays
from jiuzhu.cases.categories import CaseStatus
from jiuzhu.cases.models import Case
from jiuzhu.errors import PermissionDenied, ValidationError
from jiuzhu.extensions import db
from jiuzhu.payments import services as pay
from jiuzhu.spotchecks import services as spot
from jiuzhu.spotchecks.models import SpotCheckMethod
from jiuzhu.tenancy.models import OrgUnit
from jiuzhu.workflow import engine
from plugins.anhui import AnhuiPlugin
from plugins.dangtu import source
from plugins.dangtu.plugin import DangtuPlugin
from tests.factories import acting, household_of_four
from tests.plugins.anhui_support import (
    add_park,
    case_of,
    configure,
    do,
    elderly_man,
    normalised,
    seed_text,
    skip,
    step_due,
    young_family,
)

D = dt.date
REGION = "340521"
SEP_29 = D(2026, 9, 29)
FEB_5 = D(2026, 2, 5)
AGENCY = "当涂县居民家庭经济状况核对中心"
CHECK = {"report_no": "DT-HD-2026-1009", "result": "pass", "agency": AGENCY, "report_issued_on": "2026-10-09"}
VISIT = {"investigators": ["陶静", "夏明"], "visited_on": "2026-10-08", "findings": "父亲重病，儿子重度残疾。",
         "doubt": False, "neighbour_visits": 2}


@pytest.fixture
def county(world):
    info = world.county("dt", plugin="dangtu", townships=2, villages=2)
    configure(world.app, "dt", dibao_standard="790", entrusted_check_agency=AGENCY)
    return info


def plugin(app) -> DangtuPlugin:
    return app.extensions["jiuzhu.plugins"].get("dangtu")


def application(on: dt.date, categories=("dibao",), **extra) -> dict:
    return {"categories": list(categories), "channel": "window", "applied_on": on.isoformat(),
            "authorization_signed_on": on.isoformat(), "provided": ["id_and_register", "authorization"], **extra}


def apply(app, *, on=SEP_29, categories=("dibao",), make=None, username="dt-t1-staff", **extra) -> int:
    with acting(app, username) as user:
        household = (make or (lambda s, u: household_of_four(s, u, region=REGION)))(db.session, user)
        return plugin(app).file_application(db.session, user, household, application(on, categories, **extra)).id


def to_publicity(app, case_id, accept_on=SEP_29, town="dt-t1"):
    do(app, f"{town}-staff", case_id, "acceptance", "accept", accept_on)
    do(app, "dt-county", case_id, "economic_check", "reported", D(2026, 10, 9), CHECK)
    do(app, f"{town}-staff", case_id, "home_investigation", "done", D(2026, 10, 8), VISIT)
    skip(app, f"{town}-staff", case_id, "appraisal", "核对和入户调查均无疑义", D(2026, 10, 12))
    do(app, f"{town}-leader", case_id, "review_opinion", "propose_approve", D(2026, 10, 13),
       {"opinion": "初审符合低保条件", "proposed_amount": "2150.00"})


def approved_case(app, seq: int | None = None) -> int:
    case_id = apply(app, make=None if seq is None else (lambda s, u: household_of_four(s, u, region=REGION, seq=seq)))
    to_publicity(app, case_id)
    do(app, "dt-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 20), {"channels": ["村务公开栏"]})
    do(app, "dt-t1-leader", case_id, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "2150.00"})
    return case_id


ARCHIVE = {"archive_no": "DT-DB-2026-0101", "system_entered": True, "paper_exported": True, "consistent": True,
           "paper_location": "护河镇民政办档案室 3 号柜"}


# -- the whole life of a case -------------------------------------------------------------------------

def test_lifecycle_household_of_four_approved_filed_and_archived(app, county):
    case_id = apply(app)
    to_publicity(app, case_id)
    c = case_of(app, "dt-t1-staff", case_id)
    # accepted Tue 09-29: 20 working days over National Day (Saturday 10-10 worked) → Mon 11-02, and the
    # publicity period 10-13 to 10-20 (5 working days) is not counted: the limit moves to Mon 11-09 as it opens
    assert step_due(c, "publicity") == (D(2026, 10, 13), D(2026, 10, 20))
    assert c["paused_workdays"] == 5 and c["due_on"] == D(2026, 11, 9)
    do(app, "dt-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 20), {"channels": ["村务公开栏"]})
    c = case_of(app, "dt-t1-staff", case_id)
    assert c["paused_workdays"] == 5 and c["due_on"] == D(2026, 11, 9)
    do(app, "dt-t1-leader", case_id, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "2150.00"})
    c = case_of(app, "dt-t1-staff", case_id)
    assert (c["status"], c["benefit_start"]) == (CaseStatus.approved, D(2026, 11, 1))
    assert sorted(s[0] for s in c["steps"] if s[2] == "open") == ["archive", "certificate", "county_filing"]
    do(app, "dt-t1-staff", case_id, "certificate", "issued", D(2026, 10, 22))
    do(app, "dt-county", case_id, "county_filing", "filed", D(2026, 10, 26), {"batch_no": "当民备〔2026〕10号"})
    do(app, "dt-t1-staff", case_id, "archive", "archived", D(2026, 10, 27), ARCHIVE)
    c = case_of(app, "dt-t1-staff", case_id)
    assert [(s[0], s[2]) for s in c["steps"]] == [
        ("acceptance", "done"), ("economic_check", "done"), ("home_investigation", "done"), ("appraisal", "skipped"),
        ("review_opinion", "done"), ("publicity", "done"), ("decision", "done"), ("certificate", "done"),
        ("county_filing", "done"), ("archive", "done")]
    with acting(app, "dt-county") as user:
        schedule = pay.schedule_of(db.session, case_id)
        assert schedule.paid_through == "县民政局委托金融机构（安徽财政惠农补贴资金管理发放系统）"
        pay.pay_month(db.session, user, schedule.id, D(2026, 11, 1), on=D(2026, 11, 10))


def test_lifecycle_elderly_man_denied_around_spring_festival(app, county):
    case_id = apply(app, on=FEB_5, categories=["tekun"],
                    make=lambda s, u: elderly_man(s, u, region=REGION, born=D(1951, 7, 7), pension="2600"))
    do(app, "dt-t1-staff", case_id, "acceptance", "accept", FEB_5)
    # accepted Thu 02-05: Saturday 02-14 worked, 02-15..02-23 off → Wed 03-11
    assert case_of(app, "dt-t1-staff", case_id)["due_on"] == D(2026, 3, 11)
    do(app, "dt-county", case_id, "economic_check", "reported", D(2026, 2, 12),
       {**CHECK, "result": "fail", "report_issued_on": "2026-02-12", "per_capita_income": "2700.00"})
    do(app, "dt-t1-staff", case_id, "home_investigation", "done", D(2026, 2, 14),
       {**VISIT, "visited_on": "2026-02-14", "findings": "领取退休金，子女赡养。", "doubt": True, "letters": 1})
    do(app, "dt-t1-staff", case_id, "appraisal", "done", D(2026, 2, 24),
       {"held_on": "2026-02-24", "participants": 10, "result": "不符合特困人员条件"})
    do(app, "dt-t1-leader", case_id, "review_opinion", "propose_deny", D(2026, 2, 25), {"opinion": "不符合"},
       reason="有法定赡养义务人且具备赡养能力，本人收入高于特困供养标准")
    do(app, "dt-t1-leader", case_id, "decision", "deny", D(2026, 2, 27), {},
       reason="有法定赡养义务人且具备赡养能力，本人收入高于特困供养标准")
    c = case_of(app, "dt-t1-staff", case_id)
    assert c["status"] == CaseStatus.denied and c["paused_workdays"] == 0
    assert step_due(c, "denial_notice") == (D(2026, 2, 27), D(2026, 3, 3))  # Saturday 02-28 worked
    assert sorted(s[0] for s in c["steps"] if s[2] == "open") == ["archive", "county_filing", "denial_notice"]
    do(app, "dt-t1-staff", case_id, "denial_notice", "issued", D(2026, 2, 28))
    do(app, "dt-county", case_id, "county_filing", "filed", D(2026, 3, 2))
    do(app, "dt-t1-staff", case_id, "archive", "archived", D(2026, 3, 3), {**ARCHIVE, "archive_no": "DT-TK-2026-0007"})
    c = case_of(app, "dt-t1-staff", case_id)
    assert c["notices"] == [("denial", "救不确〔2026〕0001号")] and not [s for s in c["steps"] if s[2] == "open"]


# -- confirmation, filing, supervision ----------------------------------------------------------------

def test_rule_township_and_industrial_park_confirm(app, county):
    add_park(app, "dt", "当涂经济开发区")
    with acting(app, "dt-park-village") as user:
        household = young_family(db.session, user, region=REGION, village=db.session.get(OrgUnit, user.org_unit_id))
        case_id = engine.open_case(db.session, user, household=household, categories=["dibao"],
                                   channel="village_proxy", applied_on=SEP_29, authorization_signed_on=SEP_29,
                                   provided=["id_and_register", "authorization"]).id
    to_publicity(app, case_id, town="dt-park")
    do(app, "dt-park-staff", case_id, "publicity", "no_objection", D(2026, 10, 20))
    with pytest.raises(PermissionDenied, match="村（社区）不能作出"):
        do(app, "dt-park-village", case_id, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "800"})
    with pytest.raises(PermissionDenied, match="由乡镇"):
        do(app, "dt-county", case_id, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "800"})
    do(app, "dt-park-leader", case_id, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "800"})
    assert case_of(app, "dt-park-staff", case_id)["status"] == CaseStatus.approved
    assert plugin(app).default_workflow().step("decision").label == "审核确认"


def test_rule_results_filed_with_the_county(app, county):
    case_id = approved_case(app)
    spec = plugin(app).default_workflow().step("county_filing")
    assert spec.level.value == "county" and source.FILING in spec.source
    with pytest.raises(PermissionDenied, match="由县（区）办理"):
        do(app, "dt-t1-staff", case_id, "county_filing", "filed", D(2026, 10, 22))
    with pytest.raises(PermissionDenied):
        do(app, "dt-t1-village", case_id, "county_filing", "filed", D(2026, 10, 22))
    do(app, "dt-county", case_id, "county_filing", "filed", D(2026, 10, 22), {"note": "抽查前备案，材料齐全"})
    c = case_of(app, "dt-county", case_id)
    assert c["step_data"]["county_filing"] == {"batch_no": None, "note": "抽查前备案，材料齐全"}


def unfiled_card(client) -> str:
    page = client.get("/admin/dashboard/").get_data(as_text=True)
    card = page[page.index('data-testid="unfiled"'):]
    return card[:card.index("</table>")]


def test_rule_county_acknowledges_each_filing_by_its_deadline_and_sees_the_overdue_on_its_dashboard(
        app, county, world, client_for):
    """“审核确认结果汇总上报至县民政局备案”: after the township confirms, the county acknowledges the filing
    within its own deadline (5 working days unless it sets another, 1–20); its 督办看板 lists the filings not yet
    acknowledged, those past the deadline flagged; a township sees only its own, another county none."""
    world.county("odt", plugin="dangtu", townships=1, villages=1)
    case_id = approved_case(app)  # confirmed by the township on Wed 2026-10-21
    assert step_due(case_of(app, "dt-county", case_id), "county_filing") == (D(2026, 10, 21), D(2026, 10, 28))
    card = unfiled_card(client_for("dt-county"))
    assert f">案件 {case_id}<" in card and "2026-10-28" in card and "已超期" in card  # today is past 10-28
    assert f">案件 {case_id}<" not in unfiled_card(client_for("dt-t2-leader"))
    assert f">案件 {case_id}<" in unfiled_card(client_for("dt-t1-leader"))
    assert f">案件 {case_id}<" not in unfiled_card(client_for("odt-county"))
    do(app, "dt-county", case_id, "county_filing", "filed", D(2026, 10, 27), {"batch_no": "当民备〔2026〕10号"})
    assert f">案件 {case_id}<" not in unfiled_card(client_for("dt-county"))
    configure(app, "dt", dibao_standard="790", entrusted_check_agency=AGENCY, filing_workdays=3)
    second = approved_case(app, seq=2)
    assert step_due(case_of(app, "dt-county", second), "county_filing") == (D(2026, 10, 21), D(2026, 10, 26))
    with pytest.raises(ValidationError):
        configure(app, "dt", filing_workdays=21)


def test_rule_the_county_exports_one_bank_file_a_month_recorded_with_full_id_numbers(app, county, world,
                                                                                      client_for):
    """“救助资金由县民政局委托金融机构…发放”: the county makes the month's file for its bank from 保障金发放 —
    CSV in the documented columns, the head's ID number in full only there, each export in the audit chain and
    the access log; townships and villages cannot make it, and another county's file never holds this one."""
    import csv
    import io

    from jiuzhu.audit.models import AuditEvent
    from jiuzhu.payments.bankfile import COLUMNS
    from jiuzhu.privacy.models import PersonalDataAccess
    from tests.conftest import csrf_token

    world.county("odt", plugin="dangtu", townships=1, villages=1)
    case_id = approved_case(app)  # confirmed 2026-10-21: paid from November (the month after)
    with acting(app, "dt-county"):
        head = db.session.get(Case, case_id).household.head
        name, number = head.name, head.id_number
    staff = client_for("dt-county")
    page = staff.get("/admin/payments/").get_data(as_text=True)
    assert 'data-testid="bank-file"' in page and "安徽财政惠农补贴资金管理发放系统" in page
    assert number not in page  # no full ID number on the screen
    token = csrf_token(page)
    got = staff.post("/admin/payments/bank-file", data={"csrf_token": token, "month": "2026-11"})
    assert got.status_code == 200 and got.headers["Cache-Control"] == "no-store"
    assert "dt-%E4%BF%9D%E9%9A%9C%E9%87%91%E5%8F%91%E6%94%BE-2026-11.csv" in got.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(got.get_data().decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    assert rows[1:] == [["1", "dt第1镇", rows[1][2], name, number, "最低生活保障", "2026-11", "2150.00", str(case_id)]]
    # October was not owed (benefits start the month after the confirmation): nothing to send, nothing written
    refused = staff.post("/admin/payments/bank-file", data={"csrf_token": token, "month": "2026-10"},
                         follow_redirects=True).get_data(as_text=True)
    assert "发放月份：2026年10月没有应发放的保障金。" in refused
    assert "请选择发放月份" in staff.post("/admin/payments/bank-file", data={"csrf_token": token, "month": "十一月"},
                                     follow_redirects=True).get_data(as_text=True)
    with acting(app, "dt-county"):
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "bank_file")).all()
        assert [(e.entity_id, e.action) for e in events] == [("2026-11", "export")]
        logged = db.session.scalars(select(PersonalDataAccess).where(PersonalDataAccess.subject_type == "bank_file")).all()
        assert [a.detail for a in logged] == ["2026-11 保障金发放文件：1 户，合计 2150.00 元（含完整身份证号码）"]
    for username in ("dt-t1-staff", "dt-t1-leader", "dt-t1-village"):
        client = client_for(username)
        assert client.get("/admin/payments/").status_code == 403
        assert client.post("/admin/payments/bank-file", data={"csrf_token": token, "month": "2026-11"}).status_code \
            in (400, 403)
    other = client_for("odt-county")
    text = other.post("/admin/payments/bank-file", data={"csrf_token": csrf_token(other.get("/admin/payments/")
                                                                                  .get_data(as_text=True)),
                                                          "month": "2026-11"}, follow_redirects=True)
    assert number not in text.get_data(as_text=True) and "2026年11月没有应发放的保障金" in text.get_data(as_text=True)


def test_rule_county_supervises_and_corrects(app, county):
    case_id = approved_case(app)
    with acting(app, "dt-t1-leader") as user, pytest.raises(PermissionDenied):
        engine.revoke(db.session, user, case_id, "乡镇想撤销")
    with acting(app, "dt-county") as user:
        engine.revoke(db.session, user, case_id, "入户抽查发现隐瞒收入，依法纠正", on=D(2026, 11, 20))
    assert case_of(app, "dt-t1-staff", case_id)["status"] == CaseStatus.revoked


def test_rule_county_spot_checks_new_cases_on_site(app, county):
    """“负责对新审核确认低保及特困对象入户抽查”: the county draws from the households newly confirmed, and every
    one it samples is checked in the home (入户) — at the share the county sets, since the source names none;
    a township cannot draw."""
    ids = [approved_case(app, seq=s) for s in (1, 2, 3, 4)]  # confirmed 2026-10-21
    with acting(app, "dt-t1-leader") as user, pytest.raises(PermissionDenied):
        spot.draw(db.session, user, on=D(2026, 11, 2), seed="dt", window_days=30)
    with acting(app, "dt-county") as user, pytest.raises(ValidationError, match="本地规则未规定抽查比例"):
        spot.draw(db.session, user, on=D(2026, 11, 2), seed="dt", window_days=30)
    configure(app, "dt", spot_check_share="0.5")
    with acting(app, "dt-county") as user:
        drawn = spot.draw(db.session, user, on=D(2026, 11, 2), seed="dt-2026-11", window_days=30)
        assert sorted(drawn.population) == sorted(ids)
        assert len(drawn.items) == 2 and {i.method for i in drawn.items} == {SpotCheckMethod.on_site}
        item = drawn.items[0]
        spot.record_result(db.session, user, item.id, result="irregular", checked_on=D(2026, 11, 4), checker="县民政局",
                           finding="入户发现家庭有营运车辆未申报", on=D(2026, 11, 4))
        found_in = item.case_id
    # “发现问题及时依法纠正”: the county corrects what it found
    with acting(app, "dt-county") as user:
        engine.revoke(db.session, user, found_in, "入户抽查发现隐瞒营运车辆，依法纠正", on=D(2026, 11, 5))
    assert case_of(app, "dt-t1-staff", found_in)["status"] == CaseStatus.revoked
    with pytest.raises(ValidationError, match="抽查比例须大于 0、不超过 100%"):
        configure(app, "dt", spot_check_share="1.5")


def test_rule_real_name_reports_are_verified_and_answered(app, county):
    """“负责…来电来访、举报核查等工作”: the county records each report, verifies it, and only then answers the
    reporter; a township cannot handle one."""
    case_id = approved_case(app)
    with acting(app, "dt-t1-staff") as user, pytest.raises(PermissionDenied):
        spot.receive_report(db.session, user, reporter_name="王某", reporter_contact="13700000000", channel="来电",
                            received_on=D(2026, 11, 2), subject="隐瞒收入", content="该户儿子在外务工收入较高")
    with acting(app, "dt-county") as user:
        case = db.session.get(Case, case_id)
        report = spot.receive_report(db.session, user, reporter_name="王某", reporter_contact="13700000000",
                                     channel="来电", received_on=D(2026, 11, 2), subject="隐瞒收入",
                                     content="该户儿子在外务工收入较高", household=case.household, case=case)
        report_id = report.id
    with acting(app, "dt-county") as user, pytest.raises(ValidationError):
        spot.answer_report(db.session, user, report_id, answered_on=D(2026, 11, 3), answer="已核实", via="电话")
    with acting(app, "dt-county") as user:
        spot.verify_report(db.session, user, report_id, verified_on=D(2026, 11, 4), substantiated=False,
                           verification="入户核查并比对社保、工商数据，儿子系残疾人，无务工收入")
        answered = spot.answer_report(db.session, user, report_id, answered_on=D(2026, 11, 5),
                                      answer="经核实，反映情况不属实", via="电话")
        assert answered.answered_on == D(2026, 11, 5) and answered.status.value == "answered"


# -- materials, checks, investigation ----------------------------------------------------------------------

def test_rule_materials_one_book_one_letter(app, county):
    p = plugin(app)
    assert [(m.key, m.label, m.required) for m in p.material_specs()] == [
        ("id_and_register", "户口簿和身份证", True), ("authorization", "家庭经济状况核查授权委托书", True)]
    assert not {m.key for m in p.material_specs()} & set(AnhuiPlugin.PLATFORM_PROVIDED)
    form = p.application_form()
    assert form.load({k: v for k, v in application(SEP_29).items()})["commitment_signed_on"] is None
    case_id = apply(app, provided=[])
    with acting(app, "dt-t1-staff") as user:
        notice = engine.notify_missing_materials(db.session, user, case_id, on=SEP_29)
        assert [m["label"] for m in notice.content["missing"]] == ["户口簿和身份证", "家庭经济状况核查授权委托书"]
        assert notice.content["title"] == "城乡低保、特困人员申请材料一次性告知书"
        # the ID card cannot be replaced by a platform lookup: the applicant shows the 一本
        with pytest.raises(ValidationError, match="不能通过政务服务平台获取"):
            p.load_application({**application(SEP_29), "via_platform": ["id_and_register"]})


def test_rule_economic_check_through_the_entrusted_agency_with_its_report(app, county):
    case_id = apply(app)
    do(app, "dt-t1-staff", case_id, "acceptance", "accept", SEP_29)
    with pytest.raises(ValidationError) as err:
        do(app, "dt-county", case_id, "economic_check", "reported", D(2026, 10, 9), {"result": "pass"})
    assert set(err.value.field_errors) == {"agency", "report_no", "report_issued_on"}
    with pytest.raises(ValidationError, match="须通过县民政局委托的核对机构（当涂县居民家庭经济状况核对中心）"):
        do(app, "dt-county", case_id, "economic_check", "reported", D(2026, 10, 9), {**CHECK, "agency": "某咨询公司"})
    with pytest.raises(ValidationError, match="核对报告出具日期须在受理之后"):
        do(app, "dt-county", case_id, "economic_check", "reported", D(2026, 10, 9),
           {**CHECK, "report_issued_on": "2026-10-12"})
    with pytest.raises(PermissionDenied, match="由县（区）办理"):
        do(app, "dt-t1-staff", case_id, "economic_check", "reported", D(2026, 10, 9), CHECK)
    do(app, "dt-county", case_id, "economic_check", "reported", D(2026, 10, 9), CHECK)
    data = case_of(app, "dt-t1-staff", case_id)["step_data"]["economic_check"]
    assert (data["agency"], data["report_no"], data["report_issued_on"]) == (AGENCY, "DT-HD-2026-1009", "2026-10-09")


def test_rule_home_investigation_with_neighbour_visits(app, county):
    case_id = apply(app)
    do(app, "dt-t1-staff", case_id, "acceptance", "accept", SEP_29)
    with pytest.raises(ValidationError) as err:
        do(app, "dt-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 8), {**VISIT, "neighbour_visits": 0})
    assert err.value.field_errors["neighbour_visits"] == ["请走访邻里：邻里访问至少 1 户。"]
    do(app, "dt-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 8), {**VISIT, "letters": 1})
    assert case_of(app, "dt-t1-staff", case_id)["step_data"]["home_investigation"]["letters"] == 1


# -- the time limit without the publicity period -----------------------------------------------------

def workdays_after(app, start, n):
    with app.app_context():
        return add_workdays(start, n).due


def test_rule_20_workdays_not_counting_the_publicity_period(app, county):
    assert plugin(app).default_workflow().step("publicity").pauses_clock
    case_id = apply(app)
    to_publicity(app, case_id)
    # while the publicity runs, the limit already stands 5 working days later (the period is not counted)
    assert case_of(app, "dt-t1-staff", case_id)["due_on"] == D(2026, 11, 9)
    # an objection on 10-15 ends the first publicity after 2 working days (10-14, 10-15)
    do(app, "dt-t1-staff", case_id, "publicity", "objection", D(2026, 10, 15), {"objection": "村民反映有营运车辆"},
       reason="实名反映，需重新调查")
    c = case_of(app, "dt-t1-staff", case_id)
    assert c["paused_workdays"] == 2 and c["due_on"] == workdays_after(app, SEP_29, 22) == D(2026, 11, 4)
    do(app, "dt-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 16), {**VISIT, "visited_on": "2026-10-16"})
    skip(app, "dt-t1-staff", case_id, "appraisal", "复查无疑义", D(2026, 10, 16))
    do(app, "dt-t1-leader", case_id, "review_opinion", "propose_approve", D(2026, 10, 19), {"opinion": "异议不成立"})
    do(app, "dt-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 26))
    c = case_of(app, "dt-t1-staff", case_id)
    # the second publicity, 10-19 to 10-26, held it 5 more working days: 7 in all → Wed 11-11
    assert c["paused_workdays"] == 7 and c["due_on"] == workdays_after(app, SEP_29, 27) == D(2026, 11, 11)
    # a publicity over the Spring Festival holds it only for the working days in it (Saturday 02-14)
    case2 = apply(app, on=FEB_5, make=lambda s, u: young_family(s, u, region=REGION))
    do(app, "dt-t1-staff", case2, "acceptance", "accept", FEB_5)
    do(app, "dt-county", case2, "economic_check", "reported", D(2026, 2, 11), {**CHECK, "report_issued_on": "2026-02-11"})
    do(app, "dt-t1-staff", case2, "home_investigation", "done", D(2026, 2, 10), {**VISIT, "visited_on": "2026-02-10"})
    skip(app, "dt-t1-staff", case2, "appraisal", "无疑义", D(2026, 2, 12))
    do(app, "dt-t1-leader", case2, "review_opinion", "propose_approve", D(2026, 2, 13), {"opinion": "拟同意"})
    before = case_of(app, "dt-t1-staff", case2)["due_on"]
    do(app, "dt-t1-staff", case2, "publicity", "no_objection", D(2026, 2, 20))
    c2 = case_of(app, "dt-t1-staff", case2)
    assert (before, c2["paused_workdays"], c2["due_on"]) == (D(2026, 3, 12), 1, D(2026, 3, 12))
    with acting(app, "dt-t1-staff") as user, pytest.raises(ValidationError, match="本地规则不允许延长办理时限"):
        engine.extend(db.session, user, case2, "公示期长")


def test_rule_the_clock_excludes_the_publicity_period_not_the_days_staff_take_to_close_it(app, county):
    """“将办理时限压缩到20个工作日内(不含公示期)”: the period (7 days) is not counted — whenever staff close it."""
    case_id = apply(app)
    to_publicity(app, case_id)  # publicity 10-13 to 10-20
    do(app, "dt-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 28), {"channels": ["村务公开栏"]})
    c = case_of(app, "dt-t1-staff", case_id)
    # closed six working days after the period ended: those days count against the limit (still 11-09)
    assert c["paused_workdays"] == 5 and c["due_on"] == D(2026, 11, 9)


def test_rule_whoever_confirms_archives_and_the_county_sees_what_is_not_archived(app, county, client_for):
    """“纸质档案要一户一档,按照谁确认谁存档的要求”: the confirming township records the file and where its
    paper copy is kept; the county's 督办看板 lists the decided cases not yet archived."""
    case_id = approved_case(app)
    dashboard = client_for("dt-county").get("/admin/dashboard/").get_data(as_text=True)
    card = dashboard[dashboard.index('data-testid="unarchived"'):]
    assert "待归档案件（一户一档）：1" in card and f"案件 {case_id}<" in card
    with pytest.raises(ValidationError) as err:
        do(app, "dt-t1-staff", case_id, "archive", "archived", D(2026, 10, 23),
           {k: v for k, v in ARCHIVE.items() if k != "paper_location"})
    assert err.value.field_errors == {"paper_location": ["此项必填。"]}
    do(app, "dt-t1-staff", case_id, "archive", "archived", D(2026, 10, 23), ARCHIVE)
    c = case_of(app, "dt-t1-staff", case_id)
    assert ("archive", "done") in [(s[0], s[2]) for s in c["steps"]]
    dashboard = client_for("dt-county").get("/admin/dashboard/").get_data(as_text=True)
    assert "待归档案件（一户一档）：0" in dashboard and "已全部归档" in dashboard


# -- one household, one file -----------------------------------------------------------------------------

def test_rule_one_household_one_file(app, county):
    spec = plugin(app).default_workflow().step("archive")
    assert source.ONE_FILE in spec.source and spec.level.value == "township"
    # the register keeps a person in one household only — across townships too, although the second
    # township cannot see the first one's households
    with acting(app, "dt-t1-staff") as user:
        household_of_four(db.session, user, region=REGION, seq=2)
    with acting(app, "dt-t2-staff") as user, pytest.raises(ValidationError, match="已登记在本县其他家庭中（一户一档）"):
        household_of_four(db.session, user, region=REGION, seq=2)
    # one file is an archiving rule, not a bar: a household drawing 低保 may apply for 特困 (same file); only a
    # second application for the category it already has is sent to the file's review
    case_id = approved_case(app)
    with acting(app, "dt-t1-staff") as user, pytest.raises(ValidationError, match="该户已有同一类别"):
        household = db.session.get(Case, case_id).household
        engine.open_case(db.session, user, household=household, categories=["dibao"], channel="window",
                         applied_on=D(2026, 10, 26))
    with acting(app, "dt-t1-staff") as user:
        household = db.session.get(Case, case_id).household
        tekun = engine.open_case(db.session, user, household=household, categories=["tekun"], channel="window",
                                 applied_on=D(2026, 10, 26))
        assert tekun.household_id == household.id and tekun.status == CaseStatus.pending_acceptance
    # the file: entered into the province's system, exported to paper, alike — or it is not archived
    with pytest.raises(ValidationError) as err:
        do(app, "dt-t1-staff", case_id, "archive", "archived", D(2026, 10, 23),
           {**ARCHIVE, "paper_exported": False, "consistent": False})
    assert err.value.field_errors == {"paper_exported": ["须将纸质档案导出保存。"], "consistent": ["电子档案与纸质档案须一致。"]}
    # kept by whoever confirmed: the county does not archive, another township cannot reach it
    with pytest.raises(PermissionDenied, match="由乡镇"):
        do(app, "dt-county", case_id, "archive", "archived", D(2026, 10, 23), ARCHIVE)
    with acting(app, "dt-t2-staff"):
        assert db.session.get(Case, case_id) is None
    do(app, "dt-t1-staff", case_id, "archive", "archived", D(2026, 10, 23), ARCHIVE)
    assert case_of(app, "dt-t1-staff", case_id)["step_data"]["archive"]["archive_no"] == "DT-DB-2026-0101"


def test_rule_paid_by_the_county_through_a_financial_institution(app, county):
    case_id = approved_case(app)
    assert source.PAYMENT in plugin(app).payment_rule.source
    with acting(app, "dt-t1-staff") as user, pytest.raises(PermissionDenied, match="权钱分离"):
        pay.pay_month(db.session, user, pay.schedule_of(db.session, case_id).id, D(2026, 11, 1), on=D(2026, 11, 5))
    with acting(app, "dt-county") as user:
        schedule = pay.schedule_of(db.session, case_id)
        assert (schedule.start_month, schedule.monthly_amount) == (D(2026, 11, 1), Decimal("2150.00"))
        pay.pay_month(db.session, user, schedule.id, D(2026, 11, 1), on=D(2026, 11, 5))
        with pytest.raises(ValidationError, match="不能重复发放"):
            pay.pay_month(db.session, user, schedule.id, D(2026, 11, 1), on=D(2026, 11, 6))
        with pytest.raises(ValidationError, match="不能提前发放"):
            pay.pay_month(db.session, user, schedule.id, D(2026, 12, 1), on=D(2026, 11, 6))


# -- categories, settings, notices, the village, the source -----------------------------------------------

def test_rule_only_dibao_and_tekun_are_delegated(app, county):
    with acting(app, "dt-t1-staff") as user:
        h = young_family(db.session, user, region=REGION)
        with pytest.raises(ValidationError, match="本地规则不受理这些类别：temporary_relief"):
            engine.open_case(db.session, user, household=h, categories=["temporary_relief"], channel="window")


def test_rule_settings_never_beyond_the_source(app, county):
    p = plugin(app)
    s = p.settings(p.validate_settings({"limit_workdays": 15, "publicity_days": 10, "tekun_standard": "1030"}))
    assert (s["limit_workdays"], s["publicity_days"], s["tekun_standard"]) == (15, 10, Decimal("1030"))
    for bad, field, message in [
        ({"limit_workdays": 21}, "limit_workdays", "办理时限须在 1 至 20 之间"),
        ({"extended_limit_workdays": 30}, "extended_limit_workdays", "不含公示期），不设延长时限"),
        ({"publicity_days": 3}, "publicity_days", "公示天数须在 7 至 30 之间"),
        ({"spot_check_share": "0"}, "spot_check_share", "抽查比例须大于 0"),
    ]:
        with pytest.raises(ValidationError) as err:
            p.validate_settings(bad)
        assert message in err.value.field_errors[field][0]


def test_rule_notices_quote_the_legal_basis(app, county):
    case_id = approved_case(app)
    p = plugin(app)
    with acting(app, "dt-t1-staff"):
        case = db.session.get(Case, case_id)
        text = p.notice_text("certificate", case)
        assert "乡镇人民政府（园区管委会）于2026年10月21日确认给予救助" in text[1]
        assert "保障金由县民政局委托金融机构，通过安徽财政惠农补贴资金管理发放系统按月发放。" in text
        assert source.PAYMENT in text[-1] and "《安徽省特困人员认定办法》" in text[-1]
        assert source.MATERIALS in p.notice_text("missing_materials", case)[-1]
        for kind in p.NOTICE_TITLES:
            assert source.DOCUMENT in "".join(p.notice_text(kind, case))


def test_village_cannot_confirm_file_or_archive_under_dangtu(app, county):
    case_id = approved_case(app)
    for key, outcome, data in (("county_filing", "filed", {}), ("archive", "archived", ARCHIVE),
                               ("certificate", "issued", {})):
        with pytest.raises(PermissionDenied):
            do(app, "dt-t1-village", case_id, key, outcome, D(2026, 10, 22), data)
    assert case_of(app, "dt-t1-staff", case_id)["status"] == CaseStatus.approved


def test_every_rule_of_the_plugin_quotes_the_source_verbatim():
    text = seed_text(source.SEED)
    if text is None:
        pytest.skip("the seed documents are not on this machine")
    for sentence in source.RULES:
        assert normalised(sentence) in text, sentence
    p = DangtuPlugin()
    assert p.validate() == []
    assert all(s.source for s in p.default_workflow().steps)


def test_anhui_rules_are_inherited_not_copied():
    p = DangtuPlugin()
    assert isinstance(p, AnhuiPlugin) and p.province == "安徽省" and p.deciding_level.value == "township"
    for name in ("file_application", "workflow_for", "settings", "on_outcome", "benefit_start"):
        assert getattr(DangtuPlugin, name) is getattr(AnhuiPlugin, name), name
    assert not p.joint_review_meeting  # Dangtu's document sets up no joint review meeting
