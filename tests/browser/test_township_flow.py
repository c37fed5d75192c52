"""A township takes a case from intake to decision on screen; a village never sees a deciding control
and its forged request is refused; the screens fit a laptop and a phone."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from sqlalchemy import text

from jiuzhu.cases.idcard import make_id_number
from tests.browser.clerk import work_case
from tests.browser.conftest import no_horizontal_overflow, shot

pytestmark = pytest.mark.browser

PLUGIN_ROUTES = {
    "baseline": {"acceptance": "accept", "review_opinion": "propose_approve", "publicity": "no_objection",
                 "decision": "approve"},
    "ningxia": {"acceptance": "accept", "review_opinion": "propose_approve", "publicity": "no_objection",
                "decision": "approve"},
    "shexian": {"acceptance": "accept", "decision": "approve"},
    "zongyang": {"acceptance": "accept", "review_opinion": "propose_approve", "publicity": "no_objection",
                 "decision": "approve"},
    "dangtu": {"acceptance": "accept", "review_opinion": "propose_approve", "publicity": "no_objection",
               "decision": "approve"},
    "jingdezhen": {"acceptance": "accept", "publicity": "no_objection", "initial_opinion": "propose_approve",
                   "decision": "approve"},
}


def intake(page, live_url, village_name: str, *, seq: int, region: str = "341021", consent: bool = False):
    page.goto(live_url + "/admin/casework/new")
    page.select_option("#village_id", page.locator("#village_id option", has_text=village_name).first
                       .get_attribute("value"))
    page.fill("#address", "3组12号")
    page.fill("#applied_on", dt.date.today().isoformat())
    page.check("input[name=categories][value=dibao]")
    page.fill("input[name='m0.name']", "汪建国")
    page.fill("input[name='m0.id_number']", make_id_number(region, dt.date(1968, 3, 12), 100 + 2 * seq + 1))
    page.select_option("select[name='m0.health']", "serious")
    page.fill("input[name='m0.basic_pension']", "150")
    page.fill("input[name='m1.name']", "李秀英")
    page.fill("input[name='m1.id_number']", make_id_number(region, dt.date(1970, 7, 2), 100 + 2 * seq))
    page.check("input[name='m1.working']")
    page.fill("input[name='m1.wage']", "1200")
    page.fill("input[name='s0.name']", "汪丽")
    page.fill("input[name='s0.id_number']", make_id_number(region, dt.date(1992, 5, 5), 300 + 2 * seq))
    page.fill("input[name='s0.paid']", "100")
    for box in page.locator("input[name=provided][data-required='1']").all():
        if not box.locator("xpath=ancestor::tr//input[@name='via_platform']").count():
            box.check()
    for box in page.locator("input[name=via_platform]").all():
        box.check()
    page.fill("#authorization_signed_on", dt.date.today().isoformat())
    page.fill("#commitment_signed_on", dt.date.today().isoformat())
    if consent:  # 一次申请、分类审核认定 (where the county's rules offer it)
        page.check("input[name=consent]")
    page.click("[data-testid=submit-intake]")
    page.wait_for_url(re.compile(r".*/admin/casework/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


#: in the suite, the baseline's flow only: the demo's whole-life test (tests/browser/test_demo_whole_life.py)
#: already takes a case of every county's plugin to its decision in a browser; ``JIUZHU_TEST_FULL=1
#: scripts/test tests/browser`` runs this flow for every plugin as well
FLOW_PLUGINS = list(PLUGIN_ROUTES) if os.environ.get("JIUZHU_TEST_FULL") == "1" else ["baseline"]


@pytest.mark.parametrize("plugin", FLOW_PLUGINS)
def test_township_takes_a_case_from_intake_to_decision(plugin, app, world, page_for, live_url, owner_engine):
    code = f"b{plugin[:5]}"
    world.county(code, plugin=plugin, townships=1, villages=2)
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE tenant_settings SET plugin_settings = '{\"dibao_standard\": \"800\"}' "
                          "WHERE tenant_id = (SELECT id FROM tenants WHERE code = :c)"), {"c": code})
    staff = page_for(f"{code}-t1-staff")
    case_id = intake(staff, live_url, f"{code}第1镇第1村", seq=1)
    shot(staff, f"{plugin}-01-intake-done")
    assert "待受理" in staff.inner_text("[data-testid=case-status]")
    county = page_for(f"{code}-county")
    leader = page_for(f"{code}-t1-leader")
    trail = work_case([staff, county, leader], f"{live_url}/admin/casework/{case_id}", PLUGIN_ROUTES[plugin],
                      owner_engine, case_id)
    staff.goto(f"{live_url}/admin/casework/{case_id}")
    shot(staff, f"{plugin}-02-decided")
    assert trail[0] == "acceptance:accept"
    assert any(t.endswith(":approve") for t in trail), trail
    assert "已确认" in staff.inner_text("[data-testid=case-status]")
    timeline = staff.inner_text("[data-testid=timeline]")
    assert "受理" in timeline and ("入户调查" in timeline or "入户核查" in timeline)


def test_village_sees_no_deciding_control_and_a_forged_post_is_refused(app, world, page_for, live_url,
                                                                     owner_engine):
    world.county("bvil", plugin="baseline", townships=1, villages=2)
    village = page_for("bvil-t1-village")
    village.goto(live_url + "/admin/casework/new")
    assert "村（社区）代为申请" in village.content()
    case_id = intake(village, live_url, "bvil第1镇第1村", seq=2)
    village.goto(f"{live_url}/admin/casework/{case_id}")
    shot(village, "village-case-page")
    assert village.locator("button[name=outcome]").count() == 0
    assert village.locator("[data-testid=notify-missing]").count() == 0
    step_id = int(village.evaluate(
        """() => { const m = document.body.innerHTML.match(/step-acceptance/); return m ? 1 : 0 }""") or 0)
    assert step_id == 1  # the acceptance step is there, without buttons
    with owner_engine.connect() as conn:
        real_step = conn.execute(text("SELECT id FROM case_steps WHERE case_id = :c AND key = 'acceptance'"),
                                 {"c": case_id}).scalar()
        before = conn.execute(text("SELECT status, version FROM case_steps WHERE id = :s"), {"s": real_step}).one()
    token = village.locator("input[name=csrf_token]").first.get_attribute("value")
    response = village.request.post(f"{live_url}/admin/casework/{case_id}/act/{real_step}",
                                    form={"csrf_token": token, "outcome": "accept", "version": "1"})
    assert response.status == 403
    assert "村（社区）不能作出" in response.text()
    with owner_engine.connect() as conn:
        after = conn.execute(text("SELECT status, version FROM case_steps WHERE id = :s"), {"s": real_step}).one()
    assert tuple(after) == tuple(before)


@pytest.mark.parametrize("viewport", [(1366, 768), (375, 740)])
def test_worklist_and_case_page_fit_laptop_and_phone(app, world, page_for, live_url, viewport):
    world.county("bfit", plugin="baseline", townships=1, villages=1)
    staff = page_for("bfit-t1-staff", viewport=viewport)
    case_id = intake(staff, live_url, "bfit第1镇第1村", seq=3)
    for url, name in ((f"/admin/casework/{case_id}", "case"), ("/admin/casework/", "worklist"),
                      ("/admin/casework/new", "intake")):
        staff.goto(live_url + url)
        shot(staff, f"fit-{name}-{viewport[0]}")
        assert no_horizontal_overflow(staff), f"{name} overflows at {viewport}"
