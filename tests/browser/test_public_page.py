"""The public publicity page in Chromium, with nobody logged in: the masked names are shown, a
minor's name and ID numbers are not; it fits a laptop and a phone; it prints."""

from __future__ import annotations

import datetime as dt

import pytest

from jiuzhu.clock import china_today
from jiuzhu.extensions import db
from tests.browser.conftest import ARTIFACTS, no_horizontal_overflow, shot
from tests.factories import approved_directly, household_of_four
from tests.test_public_pages import unit_id

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [(1366, 768), (390, 844)])
def test_public_page_shows_only_what_the_rules_allow(app, world, browser, live_url, viewport):
    code = f"bpub{viewport[0]}"
    info = world.county(code, plugin="jingdezhen", townships=1, villages=2)
    approved_directly(app, f"{code}-t1-staff", f"{code}-county", china_today() - dt.timedelta(days=5),
                      lambda user: household_of_four(db.session, user, seq=1, region="360222"), amount="1930.00")
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN")
    try:
        page = context.new_page()
        for name in (f"{code}第1镇", f"{code}第1镇第1村"):
            page.goto(f"{live_url}/public/{code}/{unit_id(app, info['id'], name)}/")
            body = page.inner_text("body")
            assert "汪*国、李*英、汪*" in body and "1930.00 元" in body
            assert "汪建国" not in body and "汪小雨" not in body and "汪*雨" not in body
            assert "3602221968" not in body  # no ID number
            assert page.locator("[data-testid=row]").count() == 1
            assert no_horizontal_overflow(page)
            shot(page, f"public-{name}-{viewport[0]}")
        if viewport[0] > 1000:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.emulate_media(media="print")
            assert page.locator(".actions").is_hidden()  # no buttons on the printed sheet
            page.pdf(path=str(ARTIFACTS / f"public-{code}-printed.pdf"), format="A4")
    finally:
        context.close()
