"""The county admin edits the plugin's settings on a form generated from its schema."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import Tenant
from tests.conftest import csrf_token


@pytest.fixture
def county(world):
    return world.county("st", plugin="baseline", townships=1, villages=1)


def settings_of(app, county):
    with app.app_context(), use_scope(Scope(county["id"])):  # the settings are the county's own rows
        tenant = db.session.scalar(select(Tenant).where(Tenant.id == county["id"]))
        value = dict(tenant.plugin_settings)
        db.session.remove()
    return value


def test_admin_sets_the_local_standard_and_shorter_limits(app, county, client_for):
    admin = client_for("st-admin")
    page = admin.get("/admin/settings/").get_data(as_text=True)
    assert "城乡低保标准（元/人·月）" in page and "办理时限（工作日）" in page and "允许 1–30" in page
    resp = admin.post("/admin/settings/", data={"csrf_token": csrf_token(page), "dibao_standard": "850",
                                                "limit_workdays": "20", "reminder_days_before": "5，2"},
                      follow_redirects=True)
    assert "设置已保存" in resp.get_data(as_text=True)
    assert settings_of(app, county) == {"dibao_standard": "850.00", "limit_workdays": 20,
                                        "reminder_days_before": [5, 2], "remind_on_non_workdays": False}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("limit_workdays", "31", "办理时限须在 1 至 30 之间"),
    ("extended_limit_workdays", "60", "延长后的办理时限须在 1 至 45 之间"),
    ("publicity_days", "3", "公示天数须在 7 至 30 之间"),
    ("dibao_standard", "-5", "低保标准须大于 0"),
    ("dibao_standard", "abc", "须为数字"),
    ("limit_workdays", "十五", "须为整数"),
])
def test_values_beyond_the_legal_bounds_are_refused_with_a_message(app, county, client_for, field, value, message):
    admin = client_for("st-admin")
    page = admin.get("/admin/settings/").get_data(as_text=True)
    resp = admin.post("/admin/settings/", data={"csrf_token": csrf_token(page), field: value})
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True) and "设置未保存" in resp.get_data(as_text=True)
    assert settings_of(app, county) == {}


def test_only_the_county_admin_may_open_the_settings(app, county, client_for):
    for username in ("st-county", "st-t1-staff", "st-t1-village"):
        assert client_for(username).get("/admin/settings/").status_code == 403
