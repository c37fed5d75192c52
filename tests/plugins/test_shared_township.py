"""A case shared by two townships of one county (``Case.other_township_id``, ``StepSpec.township``).

* 景德镇 人户分离: a household living in 第1镇 and registered in 第2镇: 第1镇 accepts, investigates and
  publicises; 第2镇 — “申请人户籍所在地乡镇（街道）” — requests the check, gives the initial opinion and
  decides. Each acts on its own steps only, both see the case, the household is published at both villages.
* 枞阳 “由急难发生地审核并发放临时救助金”: a household of 第1镇 in an emergency in 第2镇: 第2镇 handles and pays;
  第1镇 sees the case and acts on nothing of it.
* Nobody else sees more: a third township, the other villages, another county.

Real 2026 dates on the official calendar (National Day 10-01..10-07 off, Saturday 10-10 worked).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from jiuzhu.cases.households import Household
from jiuzhu.cases.models import Case
from jiuzhu.cases.views import worklist_query
from jiuzhu.errors import PermissionDenied, ValidationError
from jiuzhu.extensions import db
from jiuzhu.payments import services as pay
from jiuzhu.payments.models import ReliefKind
from jiuzhu.tenancy.models import Tenant
from jiuzhu.workflow import engine
from jiuzhu.workflow.models import Step
from plugins.jingdezhen import plugin as jingdezhen
from tests.api_helpers import api_redis  # noqa: F401 — the API's rate limits in this run's own Redis
from tests.conftest import csrf_token
from tests.factories import acting, household_of_four
from tests.plugins.test_jingdezhen import do, open_step

D = dt.date
SEPT_30 = D(2026, 9, 30)
INVESTIGATION = {"investigators": ["程敏", "余军"], "visited_on": "2026-10-09", "methods": ["入户调查", "邻里访问"],
                 "village_assistance": "村委会委员 汪红", "findings": "父亲重病、儿子重度残疾，仅母亲务工，收入低。",
                 "doubt": False}
CHECK_PASS = {"report_no": "FL2026-0930", "result": "pass", "agency": "浮梁县居民家庭经济状况核对中心",
              "per_capita_income": "362.50", "assessment": "结合实地调查，人均月收入 362.50 元，低于当地低保标准，符合条件。"}
PUBLICITY = {"channels": ["村务公开栏", "浮梁县民政局网站"], "at_registered_place": True}

_seq = itertools.count(1)


# -- helpers -----------------------------------------------------------------------------------------

def refused(app, username, case_id, key, outcome, on, data=None, match="本乡镇（街道）不能办理"):
    """The act is refused with the owner named, and the step is left exactly as it was."""
    with acting(app, "jdz-county" if username.startswith("jdz") else "zy-county"):
        before = open_step(case_id, key)
        before = (before.id, before.version, before.status)
    with pytest.raises(PermissionDenied, match=match), acting(app, username) as user:
        engine.act(db.session, user, before[0], outcome, data=data, on=on)
    with acting(app, "jdz-county" if username.startswith("jdz") else "zy-county"):
        step = db.session.get(Step, before[0])
        assert (step.id, step.version, step.status) == before


def owners(app, county_user, case_id) -> dict[str, int]:
    with acting(app, county_user):
        return {s.key: s.township_id for s in db.session.scalars(select(Step).where(Step.case_id == case_id))}


def worklist(app, username) -> list[tuple[int, str]]:
    with acting(app, username) as user:
        return [(step.case_id, step.key) for step, *_ in db.session.execute(worklist_query(user)).all()]


def settings(app, username, raw: dict, plugin) -> None:
    with acting(app, username) as user:
        tenant = db.session.get(Tenant, user.tenant_id)
        checked = plugin.validate_settings(raw)
        tenant.plugin_settings = {k: str(v) if isinstance(v, Decimal) else v for k, v in checked.items()}


# -- 景德镇 人户分离 ------------------------------------------------------------------------------------

@pytest.fixture
def jdz(app, world):
    info = world.county("jdz", plugin="jingdezhen", name="浮梁县", townships=3, villages=2)
    settings(app, "jdz-admin", {"dibao_standard": "845.00"}, jingdezhen)
    world.county("oth", plugin="jingdezhen", name="乐平市", townships=1, villages=1)
    return info


def separated_case(app, jdz, registered_village=None) -> int:
    """汪建国户 lives in 第1镇第1村, registered in 第2镇第1村, applies at 第1镇's window on 2026-09-30."""
    with acting(app, "jdz-t1-staff") as user:
        h = household_of_four(db.session, user, seq=next(_seq), region="360222")
        h.registered_unit_id = registered_village or jdz["villages"][1][0]
        db.session.flush()
        return engine.open_case(db.session, user, household=h, categories=["dibao"], channel="window",
                                applied_on=SEPT_30, authorization_signed_on=SEPT_30, commitment_signed_on=SEPT_30,
                                provided=["application_form", "authorization", "commitment"],
                                via_platform=["id_and_register"]).id


def test_separated_household_registered_in_another_township_each_township_acts_on_its_own_steps(
        app, jdz, client_for):
    """“申请人户籍所在地乡镇（街道）应当…向户籍所在地县级民政部门申请信息核对”, “…提出初审意见，并…作出确认决定”:
    第2镇 (registered) requests the check, gives the opinion and decides; 第1镇 (residence) accepts,
    investigates (入户调查, where the family lives) and publicises. Neither can act on the other's steps."""
    t1, t2, t3 = jdz["towns"]
    case_id = separated_case(app, jdz)
    with acting(app, "jdz-county"):
        case = db.session.get(Case, case_id)
        assert (case.township_id, case.other_township_id, case.other_township_role) == (t1, t2, "registered")
        household_id = case.household_id
    refused(app, "jdz-t2-staff", case_id, "acceptance", "accept", SEPT_30, match="实际居住地乡镇（街道）办理")
    do(app, "jdz-t1-staff", case_id, "acceptance", "accept", SEPT_30)
    assert owners(app, "jdz-county", case_id) == {"acceptance": t1, "home_investigation": t1, "check_request": t2,
                                                  "publicity": t1}
    # each worklist holds its own steps only
    assert sorted(worklist(app, "jdz-t1-staff")) == [(case_id, "home_investigation"), (case_id, "publicity")]
    assert worklist(app, "jdz-t2-staff") == [(case_id, "check_request")]
    assert worklist(app, "jdz-t3-staff") == []

    refused(app, "jdz-t1-staff", case_id, "check_request", "requested", D(2026, 10, 8),
            {"requested_by": "第1镇 程敏"}, match="户籍所在地乡镇（街道）办理")
    refused(app, "jdz-t2-staff", case_id, "home_investigation", "done", D(2026, 10, 9), INVESTIGATION,
            match="实际居住地乡镇（街道）办理")
    with pytest.raises(PermissionDenied), acting(app, "jdz-t2-staff") as user:  # nor skip it
        engine.skip(db.session, user, open_step(case_id, "publicity").id, "无", on=D(2026, 10, 8))
    do(app, "jdz-t2-staff", case_id, "check_request", "requested", D(2026, 10, 8),
       {"requested_by": "第2镇民政办 胡丽", "request_no": "HZ-2026-118"})
    do(app, "jdz-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 9), INVESTIGATION)
    do(app, "jdz-county", case_id, "economic_check", "reported", D(2026, 10, 12), CHECK_PASS)
    do(app, "jdz-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 8), PUBLICITY)
    with acting(app, "jdz-t1-staff") as user:
        engine.skip(db.session, user, open_step(case_id, "appraisal").id, "受理公示无异议，核对和调查均无疑义",
                    on=D(2026, 10, 12))
    assert worklist(app, "jdz-t2-staff") == [(case_id, "initial_opinion")]
    assert worklist(app, "jdz-t1-staff") == []
    refused(app, "jdz-t1-leader", case_id, "initial_opinion", "propose_approve", D(2026, 10, 13),
            {"opinion": "拟同意", "proposed_amount": "1930.00"})
    do(app, "jdz-t2-leader", case_id, "initial_opinion", "propose_approve", D(2026, 10, 13),
       {"opinion": "符合低保条件，拟同意", "proposed_amount": "1930.00"})

    # the residence township sees the decision step on the case page, without its form; the registered one acts
    leader1 = client_for("jdz-t1-leader")
    page = leader1.get(f"/admin/casework/{case_id}").get_data(as_text=True)
    assert 'data-testid="shared-township"' in page and "户籍所在地乡镇（街道）" in page
    assert 'value="approve"' not in page
    page2 = client_for("jdz-t2-leader").get(f"/admin/casework/{case_id}").get_data(as_text=True)
    assert 'value="approve"' in page2 and "入户调查" in page2  # the whole timeline, the form of its own step
    resp = leader1.post(f"/admin/casework/{case_id}/act/{_open_id(app, case_id, 'decision')}",
                        data={"csrf_token": csrf_token(page), "outcome": "approve",
                              "o.approve.monthly_amount": "1930.00"})
    assert resp.status_code == 403 and "户籍所在地乡镇（街道）办理" in resp.get_data(as_text=True)
    refused(app, "jdz-t1-leader", case_id, "decision", "approve", D(2026, 10, 14), {"monthly_amount": "1930.00"})
    do(app, "jdz-t2-leader", case_id, "decision", "approve", D(2026, 10, 14), {"monthly_amount": "1930.00"})
    assert worklist(app, "jdz-t2-staff") == [(case_id, "certificate")]  # the decider issues its certificate
    with acting(app, "jdz-county"):
        case = db.session.get(Case, case_id)
        assert case.status.value == "approved" and case.decided_on == D(2026, 10, 14)
    # the case as a whole (revocation) is the decider's; the residence township cannot revoke it
    with pytest.raises(PermissionDenied), acting(app, "jdz-t1-leader") as user:
        engine.revoke(db.session, user, case_id, "误")

    # both townships find the case in their case list and open it; the third township and the registered
    # township's village do not
    for username in ("jdz-t1-staff", "jdz-t2-staff"):
        client = client_for(username)
        assert f"/admin/casework/{case_id}" in client.get("/admin/casework/cases").get_data(as_text=True)
        assert client.get(f"/admin/casework/{case_id}").status_code == 200
        pdf = client.get(f"/admin/casework/{case_id}/file.pdf")  # the case file, printed by either
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    for username in ("jdz-t3-staff", "jdz-t2-village", "oth-t1-staff"):
        client = client_for(username)
        assert f"/admin/casework/{case_id}\"" not in client.get("/admin/casework/cases").get_data(as_text=True)
        assert client.get(f"/admin/casework/{case_id}").status_code == 404
        assert client.get(f"/admin/casework/{case_id}/file.pdf").status_code == 404
        assert client.get(f"/admin/casework/household/{household_id}").status_code == 404
        assert f"/admin/casework/{case_id}\"" not in client.get("/admin/casework/").get_data(as_text=True)  # worklist
    # the residence village keeps seeing its household's case
    assert client_for("jdz-t1-village").get(f"/admin/casework/{case_id}").status_code == 200

    # published at both places: the residence village's page and the registered village's page
    for village in (jdz["villages"][0][0], jdz["villages"][1][0]):
        html = app.test_client().get(f"/public/jdz/{village}/").get_data(as_text=True)
        assert "汪*国" in html, village
    assert "汪*国" not in app.test_client().get(f"/public/jdz/{jdz['villages'][2][0]}/").get_data(as_text=True)


def _open_id(app, case_id, key) -> int:
    with acting(app, "jdz-county"):
        return open_step(case_id, key).id


def test_scoping_shares_the_case_its_steps_and_household_with_the_registered_township_only(app, jdz):
    """The org scoping: the registered township reads the case, its steps, its household and members; it
    may not write the household (the residence township's record); a third township, the registered
    township's villages and another county read nothing of it."""
    case_id = separated_case(app, jdz)
    plain = separated_case(app, jdz, registered_village=jdz["villages"][0][1])  # same township: not shared
    with acting(app, "jdz-county"):
        household_id = db.session.get(Case, case_id).household_id
        assert db.session.get(Case, plain).other_township_id is None
    with acting(app, "jdz-t2-staff"):
        assert db.session.get(Case, case_id) is not None and db.session.get(Case, plain) is None
        household = db.session.get(Household, household_id)
        assert household is not None and len(household.members) == 4
        assert {s.key for s in db.session.scalars(select(Step).where(Step.case_id == case_id))} == {"acceptance"}
        assert db.session.scalars(select(Household)).all() == [household]  # only the shared one of 第1镇
        household.address = "改"
        with pytest.raises(Exception, match="outside the township"):
            db.session.flush()
        db.session.rollback()
    for username in ("jdz-t3-staff", "jdz-t2-village", "oth-t1-staff", "oth-county"):
        with acting(app, username):
            assert db.session.get(Case, case_id) is None
            assert db.session.get(Household, household_id) is None
            assert db.session.scalars(select(Step).where(Step.case_id == case_id)).all() == []


def test_intake_picks_the_registered_village_among_the_county_s(app, jdz, client_for):
    """The intake screen offers the county's villages for the registered place; a village of another
    county, or a township, is refused beside the field and nothing is written; a good one shares the case."""
    from jiuzhu.cases.idcard import make_id_number

    client = client_for("jdz-t1-staff")
    page = client.get("/admin/casework/new").get_data(as_text=True)
    assert 'data-testid="registered-unit"' in page and "jdz第2镇 · jdz第2镇第1村" in page
    assert "乐平市" not in page and 'data-testid="emergency-township"' not in page
    with acting(app, "oth-county"):
        from jiuzhu.tenancy.models import OrgUnit

        foreign = db.session.scalars(select(OrgUnit.id).where(OrgUnit.level == "village")).first()
    form = {"csrf_token": csrf_token(page), "village_id": str(jdz["villages"][0][0]), "address": "一组 3 号",
            "applied_on": "2026-09-30", "channel": "window", "categories": "dibao",
            "m0.name": "汪建国", "m0.id_number": make_id_number("360222", D(1968, 3, 12), 901), "m0.relation": "head"}
    for bad in (str(foreign), str(jdz["towns"][1]), "abc"):
        resp = client.post("/admin/casework/new", data={**form, "registered_unit_id": bad})
        assert resp.status_code == 400
        html = resp.get_data(as_text=True)
        assert re.search(r'data-testid="error-registered_unit_id">请从本县（区）的村（社区）中选择', html)
    resp = client.post("/admin/casework/new", data={**form, "registered_unit_id": str(jdz["villages"][1][0]),
                                                    "registered_place": "江西省"})
    assert 'data-testid="error-registered_place"' in resp.get_data(as_text=True)
    with acting(app, "jdz-county"):
        assert db.session.scalars(select(Case)).all() == []
    resp = client.post("/admin/casework/new", data={**form, "registered_unit_id": str(jdz["villages"][1][0]),
                                                    "confirm_warnings": "y"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with acting(app, "jdz-county"):
        case = db.session.scalars(select(Case)).one()
        assert (case.other_township_id, case.household.registered_unit_id) == (jdz["towns"][1], jdz["villages"][1][0])


# -- 枞阳 临时救助 by the emergency's township -----------------------------------------------------------

ADVANCE = {"amount": "500", "emergency_place": "枞阳县第2镇某建筑工地", "emergency": "施工中坠落受伤，无力支付急救费用"}
PAPERWORK = {"recipient": "汪建国", "reason": "务工受伤急难救助", "amount": "500.00",
             "handler_signatures": ["章红", "疏建平"], "sealed": True}
MEETING = {"meeting_held_on": "2026-10-13", "meeting_participants": ["镇党委", "镇民政办", "镇财政所", "镇纪委"]}


@pytest.fixture
def zy(app, world):
    from plugins.zongyang.plugin import ZongyangPlugin

    info = world.county("zy", plugin="zongyang", townships=3, villages=2)
    plugin = app.extensions["jiuzhu.plugins"].get("zongyang")
    assert isinstance(plugin, ZongyangPlugin)
    settings(app, "zy-admin", {"dibao_standard": "800", "advance_relief_ceiling": "1000"}, plugin)
    return info


def relief_in(app, zy, township_index=1, emergency="务工中坠落受伤，无力支付急救费用，须立即救助") -> int:
    plugin = app.extensions["jiuzhu.plugins"].get("zongyang")
    on = D(2026, 10, 9)
    with acting(app, "zy-t1-staff") as user:
        h = household_of_four(db.session, user, seq=next(_seq), region="340722")
        return plugin.file_application(db.session, user, h, {
            "categories": ["temporary_relief"], "channel": "window", "applied_on": on.isoformat(),
            "authorization_signed_on": on.isoformat(), "commitment_signed_on": on.isoformat(),
            "provided": ["application_form", "authorization", "commitment"], "via_platform": ["id_and_register"],
            "emergency_reason": emergency, "emergency_township_id": zy["towns"][township_index]}).id


def test_emergency_township_handles_and_pays_the_household_s_township_only_sees(app, zy, client_for):
    """“由急难发生地审核并发放临时救助金”: a household of 第1镇 in an emergency in 第2镇: every township step is
    第2镇's — acceptance, the small advance, its paperwork, the check of the emergency, the decision — and
    第2镇 pays the stages; 第1镇 sees the case, acts on none of it and cannot pay."""
    t1, t2, _t3 = zy["towns"]
    case_id = relief_in(app, zy)
    with acting(app, "zy-county"):
        case = db.session.get(Case, case_id)
        assert (case.township_id, case.other_township_id, case.other_township_role) == (t1, t2, "emergency")
    assert set(owners(app, "zy-county", case_id).values()) == {t2}
    assert worklist(app, "zy-t1-staff") == []
    assert sorted(k for _c, k in worklist(app, "zy-t2-staff")) == ["acceptance", "advance_relief"]
    refused(app, "zy-t1-staff", case_id, "advance_relief", "paid", D(2026, 10, 9), ADVANCE,
            match="急难发生地乡镇（街道）办理")
    do(app, "zy-t2-staff", case_id, "advance_relief", "paid", D(2026, 10, 9), ADVANCE)
    do(app, "zy-t2-staff", case_id, "acceptance", "accept", D(2026, 10, 9))
    do(app, "zy-t2-staff", case_id, "advance_paperwork", "completed", D(2026, 10, 12), PAPERWORK)
    do(app, "zy-t2-staff", case_id, "home_investigation", "done", D(2026, 10, 10),
       {"investigators": ["章红", "疏建平"], "visited_on": "2026-10-10", "findings": "住院治疗", "doubt": False})
    form = {**MEETING, "total_amount": "3500", "reason": "务工受伤急难救助（跟进救助）",
            "stages": [{"amount": "1500", "planned_on": "2026-10-13"}, {"amount": "1500", "planned_on": "2026-11-13"}]}
    refused(app, "zy-t1-leader", case_id, "relief_decision", "approve", D(2026, 10, 13), form)
    do(app, "zy-t2-leader", case_id, "relief_decision", "approve", D(2026, 10, 13), form)
    with acting(app, "zy-t2-staff"):
        first = next(g for g in pay.relief_grants(db.session, case_id) if g.kind == ReliefKind.staged).payments[0].id
    with acting(app, "zy-t1-staff") as user, pytest.raises(PermissionDenied, match="发放临时救助金"):
        pay.pay_relief(db.session, user, first, on=D(2026, 10, 14))
    with acting(app, "zy-t2-staff") as user:
        pay.pay_relief(db.session, user, first, on=D(2026, 10, 14), voucher_no="枞临〔2026〕302")
    # the household's township sees the case (its household's relief), with no form to act on
    page = client_for("zy-t1-staff").get(f"/admin/casework/{case_id}").get_data(as_text=True)
    assert "急难发生地乡镇（街道）" in page and 'name="outcome"' not in page
    for username in ("zy-t3-staff", "zy-t2-village"):
        assert client_for(username).get(f"/admin/casework/{case_id}").status_code == 404


def test_emergency_township_is_validated_and_only_for_temporary_relief(app, zy, world):
    other = world.county("zo", plugin="zongyang", townships=1, villages=1)
    for bad, message in ((other["towns"][0], "请从本县（区）的乡镇（街道）中选择。"),
                         (zy["villages"][1][0], "请从本县（区）的乡镇（街道）中选择。"),
                         (99999999, "请从本县（区）的乡镇（街道）中选择。")):
        with pytest.raises(ValidationError) as err, acting(app, "zy-t1-staff") as user:
            h = household_of_four(db.session, user, seq=next(_seq), region="340722")
            engine.open_case(db.session, user, household=h, categories=["temporary_relief"], channel="window",
                             applied_on=D(2026, 10, 9), emergency_township_id=bad)
        assert err.value.field_errors["emergency_township_id"] == [message]
    with pytest.raises(ValidationError) as err, acting(app, "zy-t1-staff") as user:
        h = household_of_four(db.session, user, seq=next(_seq), region="340722")
        engine.open_case(db.session, user, household=h, categories=["dibao"], channel="window",
                         applied_on=D(2026, 10, 9), emergency_township_id=zy["towns"][1])
    assert "emergency_township_id" in err.value.field_errors
    with acting(app, "zy-county"):
        assert db.session.scalars(select(Case)).all() == []
    # the emergency in the household's own township: nothing to share
    case_id = relief_in(app, zy, township_index=0)
    with acting(app, "zy-county"):
        assert db.session.get(Case, case_id).other_township_id is None


# -- the API ---------------------------------------------------------------------------------------------

@pytest.mark.usefixtures("api_redis")
def test_api_files_a_separated_household_and_each_township_token_acts_on_its_own_steps(app, jdz):
    """``registered_unit_id`` on POST /applications: a unit that is not a village of the county is refused
    (422, the field named, nothing written); a good one shares the case. Each township's token sees the
    case, is offered its own steps only and is refused the other's (403 ``other_township``); a third
    township's and another county's tokens do not find it."""
    from jiuzhu.auth.roles import Role
    from tests.api_helpers import application, auth, make_token

    t1 = make_token(app, jdz, role=Role.township_staff, unit_id=jdz["towns"][0], name="第1镇终端")
    t2 = make_token(app, jdz, role=Role.township_staff, unit_id=jdz["towns"][1], name="第2镇终端")
    t3 = make_token(app, jdz, role=Role.township_staff, unit_id=jdz["towns"][2], name="第3镇终端")
    client = app.test_client()
    body = application(jdz["villages"][0][0], channel="window", applied_on="2026-09-30",
                       authorization_signed_on="2026-09-30", commitment_signed_on="2026-09-30")
    for bad in (jdz["towns"][1], 99999999):
        r = client.post("/api/v1/applications", json={**body, "registered_unit_id": bad}, headers=auth(t1, f"k{bad}"))
        assert r.status_code == 422 and "registered_unit_id" in r.get_json()["error"]["fields"], r.get_json()
    with acting(app, "jdz-county"):
        assert db.session.scalars(select(Case)).all() == [] and db.session.scalars(select(Household)).all() == []
    r = client.post("/api/v1/applications", json={**body, "registered_unit_id": jdz["villages"][1][0]},
                    headers=auth(t1, "good"))
    assert r.status_code == 201, r.get_json()
    case_id = r.get_json()["id"]
    accept = r.get_json()["timeline"][0]
    assert client.post(f"/api/v1/cases/{case_id}/steps/{accept['id']}/actions", headers=auth(t1, "a1"),
                       json={"action": "accept"}).status_code == 200
    seen = client.get(f"/api/v1/cases/{case_id}", headers=auth(t2)).get_json()
    offered = {s["key"]: s["actions"] for s in seen["timeline"] if s["status"] == "open"}
    assert offered == {"home_investigation": [], "check_request": ["requested"], "publicity": []}
    mine = {s["key"]: s["actions"] for s in client.get(f"/api/v1/cases/{case_id}", headers=auth(t1)).get_json()[
        "timeline"] if s["status"] == "open"}
    assert mine["check_request"] == [] and mine["home_investigation"] == ["done"]
    check = next(s for s in seen["timeline"] if s["key"] == "check_request")
    r = client.post(f"/api/v1/cases/{case_id}/steps/{check['id']}/actions", headers=auth(t1, "c1"),
                    json={"action": "requested", "data": {"requested_by": "程敏"}})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "other_township"
    assert client.get(f"/api/v1/cases/{case_id}", headers=auth(t3)).status_code == 404
    assert case_id not in [c["id"] for c in client.get("/api/v1/cases", headers=auth(t3)).get_json()["items"]]
    assert case_id in [c["id"] for c in client.get("/api/v1/cases", headers=auth(t2)).get_json()["items"]]


# -- the database's own guards -----------------------------------------------------------------------------

def test_the_database_refuses_a_second_township_of_another_county_a_village_or_the_case_s_own(
        app, jdz, owner_engine):
    """Beside the ORM's scoping: the composite key (tenant_id, other_township_id) reaches only the case's
    county; a trigger wants a township; a check wants a role with it and no sharing with itself."""
    import sqlalchemy.exc
    from sqlalchemy import text

    case_id = separated_case(app, jdz, registered_village=jdz["villages"][0][1])
    with acting(app, "oth-county"):
        from jiuzhu.tenancy.models import OrgUnit

        foreign = db.session.scalars(select(OrgUnit.id).where(OrgUnit.level == "township")).first()
    attempts = [(foreign, "registered"), (jdz["villages"][1][0], "registered"), (jdz["towns"][0], "registered"),
                (jdz["towns"][1], None), (jdz["towns"][1], "elsewhere")]
    for other, role in attempts:
        with pytest.raises(sqlalchemy.exc.IntegrityError), owner_engine.begin() as conn:
            conn.execute(text("UPDATE cases SET other_township_id = :o, other_township_role = :r WHERE id = :c"),
                         {"o": other, "r": role, "c": case_id})
    with owner_engine.begin() as conn:  # a township of its county, with its role: accepted
        conn.execute(text("UPDATE cases SET other_township_id = :o, other_township_role = 'registered' "
                          "WHERE id = :c"), {"o": jdz["towns"][1], "c": case_id})


def test_the_scope_s_loader_options_stay_cached_with_the_shared_criteria(app, jdz):
    from jiuzhu.tenancy.scoping import _tenant_options

    with acting(app, "jdz-t2-staff") as user:
        scope = user.scope
        assert _tenant_options(scope) is _tenant_options(scope)
