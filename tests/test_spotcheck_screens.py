"""The county's spot-check screens: draw a sample under the plugin's rule, record each result; bad
input is refused with a Chinese message and writes nothing; townships, villages and other counties
reach nothing."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from sqlalchemy import func, select

from jiuzhu.clock import china_today
from jiuzhu.extensions import db
from jiuzhu.spotchecks.models import SpotCheckDraw, SpotCheckItem
from jiuzhu.tenancy.context import Scope, use_scope
from tests.conftest import csrf_token
from tests.factories import approved_directly, household_of_four

_seq = itertools.count(1)


@pytest.fixture
def county(world):
    info = world.county("jsc", plugin="jingdezhen", townships=2, villages=1)
    world.county("osc", plugin="jingdezhen", townships=1, villages=1)
    return info


def approve_six(app) -> list[int]:
    today = china_today()
    return [approved_directly(app, "jsc-t1-staff", "jsc-county", today - dt.timedelta(days=d),
                              lambda user: household_of_four(db.session, user, seq=next(_seq), region="360222"))
            for d in (3, 4, 5, 6, 7, 8)]


def count(app, tenant_id, model) -> int:
    with app.app_context(), use_scope(Scope(tenant_id)):
        n = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
        return n


def draw(client, **form):
    page = client.get("/admin/spotchecks/").get_data(as_text=True)
    return client.post("/admin/spotchecks/draw", data={"csrf_token": csrf_token(page), **form}, follow_redirects=True)


def test_county_draws_a_reproducible_sample_and_records_each_result(app, county, client_for):
    cases = approve_six(app)
    staff = client_for("jsc-county")
    page = staff.get("/admin/spotchecks/").get_data(as_text=True)
    assert "抽查比例不低于 50%" in page and "实地抽查比例不低于 30%" in page and "景民字〔2024〕40号" in page
    assert 'value="50"' in page and 'value="90"' in page  # the rule's minimum and window prefilled
    html = draw(staff, seed="2026-11-20 福彩3D 517", window_days="90", sample_share="50", on_site_share="30") \
        .get_data(as_text=True)
    assert "已抽取：新增家庭 6 户，抽查 3 户（随机种子 2026-11-20 福彩3D 517）" in html
    assert 'data-testid="sampled">3<' in html and 'data-testid="on-site">2<' in html  # ⌈30% × 6 new⌉
    sampled = [int(c) for c in re.findall(r'/admin/casework/(\d+)"', html)]
    assert len(sampled) == 3 and set(sampled) <= set(cases)
    item_id = int(re.search(r'id="item-(\d+)"', html).group(1))
    draw_id = int(re.search(r"/admin/spotchecks/(\d+)/items/", html).group(1))
    url = f"/admin/spotchecks/{draw_id}/items/{item_id}"
    refused = staff.post(url, data={"csrf_token": csrf_token(html), "result": "irregular", "checker": "王强、李娜",
                                    "checked_on": china_today().isoformat()}, follow_redirects=True)
    assert "发现问题的，须写明发现的问题。" in refused.get_data(as_text=True)
    done = staff.post(url, data={"csrf_token": csrf_token(html), "result": "conforms", "checker": "王强、李娜",
                                 "checked_on": china_today().isoformat()}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "已记录抽查结果。" in text and f"情况属实、符合条件（{china_today()}，王强、李娜）" in text
    listing = staff.get("/admin/spotchecks/").get_data(as_text=True)
    assert "2026-11-20 福彩3D 517" in listing and ">符合<" in listing


def test_a_share_below_the_rule_is_refused_and_nothing_is_written(app, county, client_for):
    approve_six(app)
    staff = client_for("jsc-county")
    html = draw(staff, seed="x", window_days="90", sample_share="40", on_site_share="30").get_data(as_text=True)
    assert "抽查比例不能低于本地规则规定的 50%。" in html
    html = draw(staff, seed="x", window_days="abc").get_data(as_text=True)
    assert "抽查范围须为确认决定作出后 1 至 90 天内的新增家庭。" in html
    assert count(app, county["id"], SpotCheckDraw) == 0 and count(app, county["id"], SpotCheckItem) == 0


def test_townships_villages_and_other_counties_reach_no_spot_check(app, county, client_for):
    approve_six(app)
    html = draw(client_for("jsc-county"), seed="s", window_days="90").get_data(as_text=True)
    draw_id = int(re.search(r"/admin/spotchecks/(\d+)/items/(\d+)", html).group(1))
    item_id = int(re.search(r"/admin/spotchecks/(\d+)/items/(\d+)", html).group(2))
    for username in ("jsc-t1-staff", "jsc-t1-leader", "jsc-t1-village"):
        client = client_for(username)
        assert client.get("/admin/spotchecks/").status_code == 403
        assert client.get(f"/admin/spotchecks/{draw_id}").status_code == 403
        token = csrf_token(client.get("/admin/").get_data(as_text=True))
        assert client.post("/admin/spotchecks/draw", data={"csrf_token": token, "seed": "t"}).status_code == 403
        assert client.post(f"/admin/spotchecks/{draw_id}/items/{item_id}",
                           data={"csrf_token": token, "result": "conforms", "checker": "x"}).status_code == 403
    other = client_for("osc-county")
    assert other.get(f"/admin/spotchecks/{draw_id}").status_code == 404
    token = csrf_token(other.get("/admin/spotchecks/").get_data(as_text=True))
    assert other.post(f"/admin/spotchecks/{draw_id}/items/{item_id}",
                      data={"csrf_token": token, "result": "conforms", "checker": "x"}).status_code == 404
    assert "尚未抽取" in other.get("/admin/spotchecks/").get_data(as_text=True)
    with app.app_context(), use_scope(Scope(county["id"])):
        assert db.session.get(SpotCheckItem, item_id).result.value == "pending"
        db.session.remove()


def test_county_is_warned_of_new_households_past_90_days_undrawn_until_a_draw_takes_them(app, county, client_for):
    """景民字〔2024〕40号 “对新增的最低生活保障家庭…90 天内按照不低于 50% 的比例开展抽查”: coverage over the
    period is complete — the county's dashboard and spot-check screen say so when it is not."""
    today = china_today()
    late = approved_directly(app, "jsc-t1-staff", "jsc-county", today - dt.timedelta(days=100),
                             lambda user: household_of_four(db.session, user, seq=next(_seq), region="360222"))
    approve_six(app)
    staff = client_for("jsc-county")
    oldest = (today - dt.timedelta(days=100)).isoformat()
    for url in ("/admin/dashboard/", "/admin/spotchecks/"):
        page = staff.get(url).get_data(as_text=True)
        assert 'data-testid="spotcheck-gap-missing"' in page
        assert f"1 户新增最低生活保障家庭确认已超过 90 天仍未纳入任何抽查（最早于 {oldest} 确认）" in page
    # a township leader's dashboard shows no spot-check file; another county sees no warning of this one
    assert "spotcheck-gap" not in client_for("jsc-t1-leader").get("/admin/dashboard/").get_data(as_text=True)
    assert "spotcheck-gap" not in client_for("osc-county").get("/admin/dashboard/").get_data(as_text=True)
    html = draw(staff, seed="s", window_days="90", sample_share="50", on_site_share="30").get_data(as_text=True)
    assert "已抽取：新增家庭 7 户，抽查 4 户" in html and f">{oldest} — {today.isoformat()}</dd>" in html
    with app.app_context(), use_scope(Scope(county["id"])):
        assert late in db.session.scalars(select(SpotCheckDraw)).one().population
        db.session.remove()
    assert "spotcheck-gap" not in staff.get("/admin/dashboard/").get_data(as_text=True)
    assert "spotcheck-gap" not in staff.get("/admin/spotchecks/").get_data(as_text=True)
