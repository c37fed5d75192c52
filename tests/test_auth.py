"""Logging in and out: Chinese pages, CSRF, secure cookies, throttling, roles and menus."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, csrf_token, login


@pytest.fixture
def county(world):
    return world.county("aa")


def test_login_page_is_chinese_and_has_csrf(app):
    page = app.test_client().get("/login").get_data(as_text=True)
    assert "用户名" in page and "密码" in page and "登录" in page
    assert csrf_token(page)


def test_login_lands_on_a_chinese_home_for_the_role(app, county):
    client = app.test_client()
    resp = login(client, "aa-t1-staff", follow=True)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "乡镇（街道）经办人员" in html and "aa第1镇" in html
    assert "首页" in html and "退出" in html


def test_wrong_password_is_refused_with_a_chinese_message(app, county):
    resp = login(app.test_client(), "aa-admin", "wrong-password-1", follow=True)
    assert "用户名或密码错误" in resp.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(app, county):
    resp = app.test_client().post("/login", data={"username": "aa-admin", "password": PASSWORD})
    assert resp.status_code == 400


def test_session_cookie_is_httponly_and_samesite(app, county):
    resp = login(app.test_client(), "aa-admin")
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_is_secure_by_default(database_urls):
    from tests.conftest import make_app

    app = make_app(database_urls, JIUZHU_SECURE_COOKIES=True, SESSION_COOKIE_SECURE=True)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    from jiuzhu.config import load_config

    cfg = load_config({"JIUZHU_DATABASE_URL": "sqlite://", "JIUZHU_SECRET_KEY": "k"})
    assert cfg["SESSION_COOKIE_SECURE"] is True and cfg["REMEMBER_COOKIE_SECURE"] is True


def test_repeated_failures_lock_the_account_with_a_clear_message(app, county):
    client = app.test_client()
    for _ in range(app.config["JIUZHU_LOGIN_MAX_FAILURES"]):
        login(client, "aa-admin", "wrong-password-1")
    # Even the right password is refused while locked.
    resp = login(client, "aa-admin", PASSWORD)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 429
    assert "登录失败次数过多" in html and "该账户已被暂时锁定" in html and "分钟后再试" in html
    # Another account from the same source is not locked yet.
    assert login(client, "aa-county").status_code == 302


def test_repeated_failures_from_one_source_lock_the_source(app, county):
    client = app.test_client()
    limit = app.config["JIUZHU_LOGIN_MAX_FAILURES_PER_SOURCE"]
    for i in range(limit):
        login(client, f"nobody{i}", "wrong-password-1")
    resp = login(client, "aa-admin", PASSWORD)
    assert resp.status_code == 429
    assert "您所在的网络地址已被暂时锁定" in resp.get_data(as_text=True)


def test_inactive_user_cannot_log_in(app, county, client_for):
    admin = client_for("aa-admin")
    page = admin.get(f"/admin/user/edit/?id={county['users']['aa-county']}").get_data(as_text=True)
    resp = admin.post(f"/admin/user/edit/?id={county['users']['aa-county']}", data={
        "csrf_token": csrf_token(page), "full_name": "aa-county", "role": "county_staff",
        "org_unit": str(county["root"]), "active": "", "password": ""})
    assert resp.status_code == 302
    assert "用户名或密码错误" in login(app.test_client(), "aa-county", follow=True).get_data(as_text=True)


def test_logout_needs_post_and_ends_the_session(app, county, client_for):
    client = client_for("aa-admin")
    home = client.get("/admin/").get_data(as_text=True)
    assert client.get("/logout").status_code == 405
    resp = client.post("/logout", data={"csrf_token": csrf_token(home)})
    assert resp.status_code == 302
    assert client.get("/admin/").status_code == 302  # back to the login page


def test_anonymous_admin_redirects_to_login(app):
    resp = app.test_client().get("/admin/user/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


MENUS = {
    "operator": ({"县（区）"}, {"用户", "组织机构"}),
    "aa-admin": ({"组织机构", "用户"}, {"县（区）"}),
    "aa-county": ({"组织机构"}, {"用户", "县（区）"}),
    "aa-t1-staff": ({"组织机构"}, {"用户", "县（区）"}),
    "aa-t1-village": ({"组织机构"}, {"用户", "县（区）"}),
}


@pytest.mark.parametrize("username", list(MENUS))
def test_menus_follow_the_role(app, world, county, client_for, username):
    world.operator()
    html = client_for(username).get("/admin/").get_data(as_text=True)
    shown, hidden = MENUS[username]
    for name in shown:
        assert f">{name}</a>" in html, name
    for name in hidden:
        assert f">{name}</a>" not in html, name


@pytest.mark.parametrize(("username", "url"), [
    ("aa-county", "/admin/user/"),
    ("aa-t1-staff", "/admin/user/"),
    ("aa-t1-village", "/admin/tenant/"),
    ("aa-admin", "/admin/tenant/"),
])
def test_views_outside_the_role_are_forbidden(app, county, client_for, username, url):
    assert client_for(username).get(url).status_code == 403


def test_read_only_roles_cannot_create_org_units(app, county, client_for):
    client = client_for("aa-county")
    assert client.get("/admin/orgunit/").status_code == 200
    assert client.get("/admin/orgunit/new/").status_code == 302  # Flask-Admin redirects when can_create is off
