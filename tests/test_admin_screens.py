"""The operator creates counties; the county admin builds its org tree and users — on screen."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jiuzhu.auth.models import User
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgUnit, Tenant
from tests.conftest import csrf_token, login


@pytest.fixture
def operator(app, world, client_for):
    world.operator()
    return client_for("operator")


def post_form(client, url, data):
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=True)


def tenant_count(app):
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Tenant))
        db.session.remove()
    return n


def test_operator_creates_a_county_with_its_first_admin(app, operator):
    resp = post_form(operator, "/admin/tenant/new/", {
        "code": "shexian", "name": "歙县", "plugin_key": "shexian", "division_code": "341021", "active": "y",
        "admin_username": "sx-admin", "admin_full_name": "歙县管理员", "admin_password": "Strong-pass-1"})
    assert resp.status_code == 200
    assert "歙县" in operator.get("/admin/tenant/").get_data(as_text=True)
    client = app.test_client()
    html = login(client, "sx-admin", "Strong-pass-1", follow=True).get_data(as_text=True)
    assert "县级管理员" in html and "歙县（shexian）" in html


def test_operator_plugin_dropdown_lists_installed_plugins(app, operator):
    html = operator.get("/admin/tenant/new/").get_data(as_text=True)
    for key in ("shexian", "ningxia", "jingdezhen", "zongyang", "dangtu"):
        assert f'value="{key}"' in html


@pytest.mark.parametrize(("data", "message"), [
    ({"code": "x1", "name": "某县", "plugin_key": "atlantis"}, "不是有效的选择"),
    ({"code": "bad code", "name": "某县", "plugin_key": "shexian"}, "无效"),
    ({"code": "okay", "name": "某县", "plugin_key": "shexian", "admin_username": "a1", "admin_password": "x"},
     "用户名须为"),
    ({"code": "okay", "name": "某县", "plugin_key": "shexian", "admin_username": "admin9",
      "admin_password": "short"}, "密码至少需要"),
])
def test_bad_county_input_is_refused_and_writes_nothing(app, operator, data, message):
    resp = post_form(operator, "/admin/tenant/new/", {"active": "y", **data})
    assert message in resp.get_data(as_text=True)
    assert tenant_count(app) == 0


def test_county_admin_builds_the_org_tree_and_users(app, world, client_for):
    county = world.county("east", townships=1, villages=0)
    admin = client_for("east-admin")
    post_form(admin, "/admin/orgunit/new/", {"parent": str(county["root"]), "name": "新安镇",
                                             "division_code": "341021999"})
    with app.app_context(), use_scope(Scope(county["id"])):
        town = db.session.scalar(select(OrgUnit).where(OrgUnit.name == "新安镇"))
        town_id = town.id
        db.session.remove()
    post_form(admin, "/admin/orgunit/new/", {"parent": str(town_id), "name": "新安村"})
    resp = post_form(admin, "/admin/user/new/", {
        "username": "xa-staff", "full_name": "新安经办", "role": "township_staff", "org_unit": str(town_id),
        "password": "Strong-pass-1", "active": "y"})
    assert resp.status_code == 200
    html = login(app.test_client(), "xa-staff", "Strong-pass-1", follow=True).get_data(as_text=True)
    assert "乡镇（街道）经办人员" in html and "新安镇" in html


def test_role_must_fit_the_unit_level(app, world, client_for):
    county = world.county("east", townships=1, villages=1)
    admin = client_for("east-admin")
    resp = post_form(admin, "/admin/user/new/", {
        "username": "wrong-level", "full_name": "错层级", "role": "village_assistant",
        "org_unit": str(county["towns"][0]), "password": "Strong-pass-1", "active": "y"})
    assert "须隶属于村（社区）" in resp.get_data(as_text=True)
    with app.app_context(), use_scope(Scope(county["id"])):
        assert db.session.scalar(select(User).where(User.username == "wrong-level")) is None


def test_duplicate_village_name_is_refused_in_chinese(app, world, client_for):
    county = world.county("east", townships=1, villages=1)
    admin = client_for("east-admin")
    resp = post_form(admin, "/admin/orgunit/new/", {"parent": str(county["towns"][0]), "name": "east第1镇第1村"})
    assert "已有名为“east第1镇第1村”的单位" in resp.get_data(as_text=True)


def test_county_root_cannot_be_deleted(app, world, client_for):
    county = world.county("east", townships=0, villages=0)
    admin = client_for("east-admin")
    token = csrf_token(admin.get("/admin/orgunit/").get_data(as_text=True))
    resp = admin.post("/admin/orgunit/delete/", data={"id": str(county["root"]), "csrf_token": token},
                      follow_redirects=True)
    assert "县（区）本级单位不能删除" in resp.get_data(as_text=True)


def test_admin_cannot_lock_themselves_out(app, world, client_for):
    county = world.county("east", townships=0, villages=0)
    admin = client_for("east-admin")
    me = county["users"]["east-admin"]
    resp = post_form(admin, f"/admin/user/edit/?id={me}", {
        "full_name": "east-admin", "role": "county_staff", "org_unit": str(county["root"]), "active": "y"})
    assert "不能停用自己的账户" in resp.get_data(as_text=True)
