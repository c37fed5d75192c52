"""The demo shows a whole life: in the demo as a newcomer runs it (SQLite, seeded, its own clock), a
freshly entered case is taken on screen through every step its county's plugin declares — moving the
演示时钟 on when a publicity period has to run — to its decision and the first benefit paid, in every
county; under 歙县 as a consented classified review (一次申请、分类审核认定). Screenshots of each case
page at 1366×768 and at 375 px are kept under test-artifacts/screens/."""

from __future__ import annotations

import re

import pytest

from tests.browser.clerk import work_case
from tests.browser.conftest import no_horizontal_overflow, shot
from tests.browser.test_township_flow import PLUGIN_ROUTES, intake
from tests.test_demo import credentials, demo_server  # noqa: F401 — the demo, as scripts/demo runs it

pytestmark = pytest.mark.browser

#: (plugin, county code in the demo, region of its ID numbers, consented classified review)
COUNTIES = [("shexian", "shexian", "341021", True), ("ningxia", "yongning", "640121", False),
            ("jingdezhen", "fuliang", "360222", False), ("zongyang", "zongyang", "340722", False),
            ("dangtu", "dangtu", "340521", False)]


def login(browser, base: str, username: str, password: str, viewport=(1366, 768)):
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20000)
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")
    return page


def clock_on(page, base: str, days: str = "7") -> None:
    """演示时钟: move the demo's date on (any signed-in user may, in the demo only)."""
    page.goto(base + "/admin/demo-clock/")
    page.click(f"button[name=days][value='{days}']")
    page.wait_for_load_state()


def demo_today(page, base: str) -> str:
    """The demo's date, as its clock page shows it (what a user of the demo types as today)."""
    page.goto(base + "/admin/demo-clock/")
    return re.search(r"\d{4}-\d{2}-\d{2}", page.inner_text("[data-testid=demo-today]")).group(0)


@pytest.mark.parametrize("plugin,code,region,consent", COUNTIES, ids=[c[0] for c in COUNTIES])
def test_a_fresh_case_reaches_decision_and_payment_in_the_demo(demo_server, browser, plugin,  # noqa: F811
                                                                code, region, consent):
    port, output, _ = demo_server
    base = f"http://127.0.0.1:{port}"
    password, _users = credentials(output)
    staff = login(browser, base, f"{code}-t1-staff", password)
    staff.goto(base + "/admin/casework/new")
    first_village = staff.locator("#village_id option[value]:not([value=''])").first.inner_text().strip()
    case_id = intake(staff, base, first_village, seq=200 + [c[0] for c in COUNTIES].index(plugin), region=region,
                     consent=consent)
    assert "待受理" in staff.inner_text("[data-testid=case-status]")
    county = login(browser, base, f"{code}-county", password)
    leader = login(browser, base, f"{code}-t1-leader", password)
    trail = work_case([staff, county, leader], f"{base}/admin/casework/{case_id}", PLUGIN_ROUTES[plugin],
                      wait=lambda page: clock_on(page, base), today=lambda page: demo_today(page, base),
                      done=lambda page: "已确认" in page.inner_text("[data-testid=case-status]"))
    assert trail[0] == "acceptance:accept" and any(t.endswith(":approve") for t in trail), trail

    # the county pays the first month (the benefit starts with the month after the decision)
    county.goto(f"{base}/admin/casework/{case_id}")
    if county.locator("[data-testid^='pay-2']").count() == 0:
        clock_on(county, base, "30")
        county.goto(f"{base}/admin/casework/{case_id}")
    pay = county.locator("[data-testid^='pay-2']").last  # the earliest month due (listed newest first)
    pay.click()
    county.wait_for_load_state()
    months = county.inner_text("[data-testid=payments]")
    assert "已发放" in months, months
    shot(county, f"demo-{plugin}-decided-and-paid-1366")
    phone = login(browser, base, f"{code}-t1-staff", password, viewport=(375, 740))
    phone.goto(f"{base}/admin/casework/{case_id}")
    shot(phone, f"demo-{plugin}-decided-and-paid-375")
    assert no_horizontal_overflow(phone), "the case page scrolls sideways on a phone"
    assert re.search(r"已确认", phone.inner_text("[data-testid=case-status]"))

