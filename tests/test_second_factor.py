"""The second factor (动态口令, TOTP): required for county admins and the operator, for the roles a
county names, and for anyone who turns it on; bound at the first login that needs it; a code used
once is spent; recovery codes work once; wrong codes lock the account like wrong passwords."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import text

from jiuzhu.auth.policy import forget_cached, save_policy
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from tests.conftest import PASSWORD, SECRET_RE, TOTP_SECRETS, csrf_token, login, totp_code


@pytest.fixture
def county(world):
    forget_cached()
    yield world.county("mf", plugin="baseline", townships=1, villages=1)
    forget_cached()


def password_step(client, username):
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page)})


def post_code(client, path, code):
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data={"code": code, "csrf_token": csrf_token(page)})


def logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_a_county_admin_binds_an_authenticator_at_the_first_login_and_keeps_the_codes(app, county):
    client = app.test_client()
    resp = password_step(client, "mf-admin")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login/enroll")
    assert not logged_in(client)  # the password alone opens nothing
    page = client.get("/login/enroll").get_data(as_text=True)
    assert "<svg" in page and "绑定动态口令" in page
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    wrong = post_code(client, "/login/enroll", "000000")
    assert "动态口令不正确" in wrong.get_data(as_text=True) and not logged_in(client)
    resp = post_code(client, "/login/enroll", pyotp.TOTP(secret).now())
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/recovery-codes")
    codes_page = client.get("/account/recovery-codes").get_data(as_text=True)
    codes = re.findall(r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", codes_page)
    assert len(codes) == 10 and "只显示这一次" in codes_page
    assert client.get("/account/recovery-codes").status_code == 302  # never shown again
    assert logged_in(client)


def test_later_logins_need_a_fresh_code_and_a_code_is_never_accepted_twice(app, county):
    login(app.test_client(), "mf-admin")  # binds
    secret = TOTP_SECRETS["mf-admin"]
    used = pyotp.TOTP(secret).at(time.time())  # (the binding may have used this step already)
    client = app.test_client()
    assert password_step(client, "mf-admin").headers["Location"].endswith("/login/second-factor")
    assert "动态口令" in client.get("/login/second-factor").get_data(as_text=True)
    resp = post_code(client, "/login/second-factor", "123456")
    assert "动态口令不正确" in resp.get_data(as_text=True) and not logged_in(client)
    code = totp_code("mf-admin")
    assert post_code(client, "/login/second-factor", code).status_code == 302 and logged_in(client)
    replay = app.test_client()
    password_step(replay, "mf-admin")
    resp = post_code(replay, "/login/second-factor", code)
    assert "已使用过" in resp.get_data(as_text=True) and not logged_in(replay)
    assert used  # (a code was computed)


def test_a_recovery_code_replaces_the_phone_once(app, county):
    client = app.test_client()
    password_step(client, "mf-admin")
    page = client.get("/login/enroll").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    post_code(client, "/login/enroll", pyotp.TOTP(secret).now())
    code = re.findall(r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", client.get("/account/recovery-codes").get_data(as_text=True))[0]
    lost_phone = app.test_client()
    password_step(lost_phone, "mf-admin")
    resp = post_code(lost_phone, "/login/second-factor", code.upper().replace("-", " "))  # typed loosely
    assert resp.status_code == 302 and logged_in(lost_phone)
    again = app.test_client()
    password_step(again, "mf-admin")
    assert "动态口令不正确" in post_code(again, "/login/second-factor", code).get_data(as_text=True)


def test_wrong_codes_lock_the_account_like_wrong_passwords(app, county):
    login(app.test_client(), "mf-admin")
    client = app.test_client()
    password_step(client, "mf-admin")
    for _ in range(app.config["JIUZHU_LOGIN_MAX_FAILURES"]):
        post_code(client, "/login/second-factor", "999999")
    resp = post_code(client, "/login/second-factor", totp_code("mf-admin"))
    assert resp.status_code == 429 and "已被暂时锁定" in resp.get_data(as_text=True)
    # and a right password does not reset the count of wrong codes
    assert password_step(app.test_client(), "mf-admin").status_code == 429


def test_a_held_login_expires_after_five_minutes(app, county):
    login(app.test_client(), "mf-admin")
    client = app.test_client()
    password_step(client, "mf-admin")
    page = client.get("/login/second-factor").get_data(as_text=True)
    with client.session_transaction() as s:  # five minutes and a second later
        s["_jz_mfa"] = {**s["_jz_mfa"], "at": s["_jz_mfa"]["at"] - 301}
    resp = client.post("/login/second-factor", data={"code": totp_code("mf-admin"), "csrf_token": csrf_token(page)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert not logged_in(client)


def test_the_county_requires_it_for_township_staff_and_staff_may_turn_it_on_themselves(app, county):
    assert login(app.test_client(), "mf-t1-leader").headers["Location"].endswith("/admin/")  # not required
    leader = app.test_client()
    login(leader, "mf-t1-leader")
    resp = leader.get("/account/second-factor")
    secret = SECRET_RE.search(resp.get_data(as_text=True)).group(1).replace(" ", "")
    page = resp.get_data(as_text=True)
    resp = leader.post("/account/second-factor", data={"code": pyotp.TOTP(secret).now(),
                                                       "csrf_token": csrf_token(page)})
    assert resp.headers["Location"].endswith("/account/recovery-codes")
    TOTP_SECRETS["mf-t1-leader"] = secret
    assert password_step(app.test_client(), "mf-t1-leader").headers["Location"].endswith("/login/second-factor")
    with app.app_context(), use_scope(Scope(county["id"])):
        save_policy(db.session, county["id"], {"idle_minutes": 15, "absolute_hours": 10, "password_min_length": 10,
                                               "password_history": 5, "password_max_age_days": 90,
                                               "disable_unused_days": 90, "access_alert_per_hour": 100,
                                               "mfa_roles": ["township_staff"]})
        db.session.commit()
        db.session.remove()
    assert password_step(app.test_client(), "mf-t1-staff").headers["Location"].endswith("/login/enroll")


def test_an_admin_cannot_turn_it_off_and_resets_a_lost_phone_for_a_user(app, county, client_for):
    admin = client_for("mf-admin")
    page = admin.get("/account/second-factor").get_data(as_text=True)
    assert "本县要求您的角色使用动态口令" in page and "停用动态口令" not in page
    resp = admin.post("/account/second-factor", data={"code": totp_code("mf-admin"), "action": "off",
                                                      "csrf_token": csrf_token(page)})
    assert "不能停用" in resp.get_data(as_text=True)
    # a county staff member binds one, loses the phone; the admin resets it; they bind again
    login(app.test_client(), "mf-county")
    staff = app.test_client()
    login(staff, "mf-county")
    staff_page = staff.get("/account/second-factor").get_data(as_text=True)
    secret = SECRET_RE.search(staff_page).group(1).replace(" ", "")
    staff.post("/account/second-factor", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(staff_page)})
    uid = county["users"]["mf-county"]
    page = admin.get(f"/admin/user/edit/?id={uid}").get_data(as_text=True)
    assert "重置动态口令" in page
    resp = admin.post(f"/admin/user/edit/?id={uid}", data={
        "csrf_token": csrf_token(page), "full_name": "mf-county", "role": "county_staff",
        "org_unit": str(county["root"]), "active": "y", "password": "", "reset_second_factor": "y"})
    assert resp.status_code == 302
    assert not logged_in(staff)  # the reset ends the user's sessions
    assert password_step(app.test_client(), "mf-county").headers["Location"].endswith("/admin/")  # no factor now
    assert "未启用" in admin.get("/admin/user/").get_data(as_text=True)


def test_the_platform_operator_needs_it_too(app, world):
    world.operator("mf-operator")
    assert password_step(app.test_client(), "mf-operator").headers["Location"].endswith("/login/enroll")


def test_the_secret_is_not_stored_in_clear(app, county, owner_engine):
    login(app.test_client(), "mf-admin")
    secret = TOTP_SECRETS["mf-admin"]
    with owner_engine.connect() as conn:
        row = conn.execute(text("SELECT totp_secret::text, recovery_codes::text FROM users WHERE username = 'mf-admin'")).one()
    assert secret not in row[0] and row[0].startswith("E1.")
    assert "-" not in row[1].replace('", "', "")  # digests, not the codes
