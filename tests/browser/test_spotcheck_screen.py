"""A county user draws a spot-check sample on screen and records a result; on a laptop and a phone."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from jiuzhu.clock import china_today
from jiuzhu.extensions import db
from tests.browser.conftest import no_horizontal_overflow, shot
from tests.factories import approved_directly, household_of_four

pytestmark = pytest.mark.browser
_seq = itertools.count(1)


@pytest.mark.parametrize("viewport", [(1366, 768), (375, 740)])
def test_county_draws_a_spot_check_sample_and_records_a_result(app, world, page_for, live_url, viewport):
    code = f"bsc{viewport[0]}"
    world.county(code, plugin="jingdezhen", townships=2, villages=1)
    for days in (2, 3, 4, 5, 6, 7, 8, 9):
        approved_directly(app, f"{code}-t1-staff", f"{code}-county", china_today() - dt.timedelta(days=days),
                          lambda user: household_of_four(db.session, user, seq=next(_seq), region="360222"))
    page = page_for(f"{code}-county", viewport=viewport)
    page.goto(live_url + "/admin/spotchecks/")
    assert "抽查比例不低于 50%" in page.inner_text("body")
    page.fill("#seed", "2026年第320期 福彩3D")
    page.click("[data-testid=draw]")
    page.wait_for_url("**/admin/spotchecks/*")
    assert "新增家庭 8 户，抽查 4 户" in page.inner_text(".alert-success")
    # 景德镇: on site at least 30 % of the 8 new households (3), within the sample of 4
    assert page.inner_text("[data-testid=sampled]") == "4" and page.inner_text("[data-testid=on-site]") == "3"
    assert page.locator("[data-testid=item]").count() == 4
    assert no_horizontal_overflow(page)
    shot(page, f"spotcheck-drawn-{viewport[0]}")
    form = page.locator("[data-testid=record-form]").first
    form.locator("select[name=result]").select_option("irregular")
    form.locator("input[name=checker]").fill("县民政局 王强、李娜")
    form.locator("input[name=finding]").fill("家中新购小汽车一辆，未申报。")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "已记录抽查结果。" in page.inner_text("body")
    assert "发现问题" in page.inner_text("[data-testid=items]") and "未申报" in page.inner_text("[data-testid=items]")
    assert page.locator("[data-testid=record-form]").count() == 3
    shot(page, f"spotcheck-recorded-{viewport[0]}")
