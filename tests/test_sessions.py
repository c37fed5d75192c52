"""Sessions that end when they should (logout, a second login, a password change, idleness, the
absolute limit), passwords under the county's policy, dormant accounts, and a login that tells
nothing by its timing and never locks an office out."""

from __future__ import annotations

import datetime as dt
import re

import argon2
import pytest
from sqlalchemy import select

from jiuzhu.auth.models import User
from jiuzhu.auth.policy import forget_cached, save_policy
from jiuzhu.auth.sessions import LOGIN_AT, SEEN_AT
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from tests.conftest import PASSWORD, csrf_token, login


@pytest.fixture
def county(world):
    forget_cached()
    yield world.county("ss", plugin="baseline", townships=1, villages=1)
    forget_cached()


def logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def flashed(client) -> str:
    return client.get("/login").get_data(as_text=True)


def change_user(app, county, username, **values):
    with app.app_context(), use_scope(Scope(county["id"])):
        user = db.session.get(User, county["users"][username])
        for k, v in values.items():
            setattr(user, k, v)
        db.session.commit()
        db.session.remove()


def test_a_cookie_copied_before_logout_is_dead_after_it(app, county, client_for):
    client = client_for("ss-t1-staff")
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert logged_in(copy)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/admin/").get_data(as_text=True))})
    assert not logged_in(copy)
    assert "您已退出登录" in flashed(copy)


def test_a_second_login_ends_the_first_with_a_notice(app, county, client_for):
    first = client_for("ss-t1-staff")
    assert logged_in(first)
    second = client_for("ss-t1-staff")
    assert logged_in(second)
    assert not logged_in(first)
    assert "已在其他地方登录" in flashed(first)
    assert logged_in(second)


def test_two_logins_at_the_same_moment_get_two_generations(app, county):
    """Both read the account before either writes: each still gets a generation of its own (the
    database raises the counter), so the later login ends the earlier — read and raised in Python,
    both got the same one and two sessions of one account lived on."""
    from jiuzhu.auth import sessions

    uid = county["users"]["ss-t1-staff"]
    with app.app_context(), use_scope(Scope(county["id"])):
        first, second = db.session.session_factory(), db.session.session_factory()
        try:
            a, b = first.get(User, uid), second.get(User, uid)
            assert a.session_generation == b.session_generation  # both read the same
            for user in (a, b):
                sessions.end_sessions(user, sessions.EndReason.new_login)
            first.flush()
            first.commit()
            generation_a = a.session_generation
            second.flush()  # waited for nothing: the first committed
            second.commit()
            assert b.session_generation == generation_a + 1
        finally:
            first.close()
            second.close()


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app, county, client_for):
    other = client_for("ss-t1-leader")
    # (logging in again ended `other`; log it in by copying the cookie of the session we keep)
    this = app.test_client()
    assert login(this, "ss-t1-leader").status_code == 302
    copy = app.test_client()
    copy.set_cookie("session", this.get_cookie("session").value)
    page = this.get("/account/password").get_data(as_text=True)
    resp = this.post("/account/password", data={"csrf_token": csrf_token(page), "current": PASSWORD,
                                                "new": "Fresh-start-2027", "confirm": "Fresh-start-2027"})
    assert resp.status_code == 302
    assert logged_in(this)
    assert not logged_in(copy) and "密码已修改" in flashed(copy)
    assert not logged_in(other)
    assert login(app.test_client(), "ss-t1-leader", "Fresh-start-2027").status_code == 302


@pytest.mark.parametrize(("new", "message"), [
    ("aaaaaaaaa1", "至少三类"),
    ("Aaaaaaaaa1", "重复的字符过多"),
    ("Password12!", "常见的弱密码"),
    ("Ss-t1-staff-2027", "不能包含用户名"),
    (PASSWORD, "最近"),
    ("Short-1", "至少需要 10 个字符"),
])
def test_weak_or_reused_passwords_are_refused_beside_the_field(app, county, client_for, new, message):
    client = client_for("ss-t1-staff")
    page = client.get("/account/password").get_data(as_text=True)
    resp = client.post("/account/password", data={"csrf_token": csrf_token(page), "current": PASSWORD,
                                                  "new": new, "confirm": new})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    error = re.search(r'data-testid="error-new">([^<]+)<', html)
    assert error and message in error.group(1), html[-2000:]
    assert login(app.test_client(), "ss-t1-staff", PASSWORD).status_code == 302  # unchanged


def test_the_password_history_follows_the_county_policy(app, county, client_for):
    client = client_for("ss-t1-staff")
    for new in ("First-change-2027", "Second-change-2027"):
        page = client.get("/account/password").get_data(as_text=True)
        current = PASSWORD if new.startswith("First") else "First-change-2027"
        client.post("/account/password", data={"csrf_token": csrf_token(page), "current": current,
                                               "new": new, "confirm": new})
    page = client.get("/account/password").get_data(as_text=True)
    resp = client.post("/account/password", data={"csrf_token": csrf_token(page), "current": "Second-change-2027",
                                                  "new": PASSWORD, "confirm": PASSWORD})
    assert "最近" in resp.get_data(as_text=True)


def test_an_idle_session_is_sent_to_login_after_the_county_minutes(app, county, client_for):
    client = client_for("ss-t1-staff")
    with client.session_transaction() as s:
        s[SEEN_AT] -= 14 * 60
    assert logged_in(client)  # 14 minutes: still in (default 15)
    with client.session_transaction() as s:
        s[SEEN_AT] -= 16 * 60
    assert not logged_in(client)
    assert "长时间未操作" in flashed(client)


def test_the_county_sets_a_shorter_idle_timeout_and_the_absolute_limit(app, county, client_for):
    with app.app_context(), use_scope(Scope(county["id"])):
        save_policy(db.session, county["id"], {"idle_minutes": 5, "absolute_hours": 2, "password_min_length": 10,
                                               "password_history": 5, "password_max_age_days": 90,
                                               "disable_unused_days": 90, "access_alert_per_hour": 100,
                                               "mfa_roles": []})
        db.session.commit()
        db.session.remove()
    client = client_for("ss-t1-staff")
    with client.session_transaction() as s:
        s[SEEN_AT] -= 6 * 60
    assert not logged_in(client) and "长时间未操作" in flashed(client)
    client = client_for("ss-t1-staff")
    with client.session_transaction() as s:
        s[LOGIN_AT] -= 2 * 3600 + 60  # active all along, but logged in more than two hours ago
    assert not logged_in(client) and "登录时间已达上限" in flashed(client)


def test_an_admin_reset_obliges_the_user_to_choose_a_password_first(app, county, client_for):
    admin = client_for("ss-admin")
    uid = county["users"]["ss-t1-staff"]
    page = admin.get(f"/admin/user/edit/?id={uid}").get_data(as_text=True)
    admin.post(f"/admin/user/edit/?id={uid}", data={
        "csrf_token": csrf_token(page), "full_name": "ss-t1-staff", "role": "township_staff",
        "org_unit": str(county["towns"][0]), "active": "y", "password": "Temporary-pass-9"})
    client = app.test_client()
    assert login(client, "ss-t1-staff", "Temporary-pass-9").status_code == 302
    for path in ("/admin/", "/admin/casework/", "/admin/casework/new"):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/password"), path
    assert 'data-testid="forced"' in client.get("/account/password").get_data(as_text=True)
    page = client.get("/account/password").get_data(as_text=True)
    client.post("/account/password", data={"csrf_token": csrf_token(page), "current": "Temporary-pass-9",
                                           "new": "My-own-choice-7", "confirm": "My-own-choice-7"})
    assert client.get("/admin/casework/").status_code == 200


def test_an_expired_password_must_be_changed_at_login(app, county):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=91)
    change_user(app, county, "ss-t1-staff", password_changed_at=old)
    client = app.test_client()
    login(client, "ss-t1-staff")
    assert client.get("/admin/casework/").headers["Location"].endswith("/account/password")


def test_a_dormant_account_is_disabled_at_login_and_by_the_daily_job(app, county):
    from jiuzhu.reminders.jobs import disable_dormant_accounts

    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=120)
    change_user(app, county, "ss-t1-staff", last_login_at=long_ago, created_at=long_ago)
    change_user(app, county, "ss-t1-leader", last_login_at=long_ago, created_at=long_ago)
    resp = login(app.test_client(), "ss-t1-staff", follow=True)
    assert "连续 90 天未登录" in resp.get_data(as_text=True)
    with app.app_context():
        assert disable_dormant_accounts() == 1  # the leader; the staff member is disabled already
    with app.app_context(), use_scope(Scope(county["id"])):
        users = {u.username: u for u in db.session.scalars(select(User))}
        assert not users["ss-t1-staff"].active and users["ss-t1-staff"].disabled_reason == "unused"
        assert not users["ss-t1-leader"].active and users["ss-admin"].active
        db.session.remove()


def test_a_re_enabled_account_counts_its_days_again(app, county, client_for):
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=120)
    change_user(app, county, "ss-t1-staff", last_login_at=long_ago, created_at=long_ago, active=False,
                disabled_reason="unused")
    admin = client_for("ss-admin")
    uid = county["users"]["ss-t1-staff"]
    page = admin.get(f"/admin/user/edit/?id={uid}").get_data(as_text=True)
    admin.post(f"/admin/user/edit/?id={uid}", data={
        "csrf_token": csrf_token(page), "full_name": "ss-t1-staff", "role": "township_staff",
        "org_unit": str(county["towns"][0]), "active": "y", "password": ""})
    assert login(app.test_client(), "ss-t1-staff").status_code == 302


def test_the_last_login_time_and_place_are_shown_at_the_next_login(app, county):
    first = app.test_client()
    login(first, "ss-t1-staff")
    assert "这是您首次登录" in first.get("/admin/").get_data(as_text=True)
    second = app.test_client()
    login(second, "ss-t1-staff")
    html = second.get("/admin/").get_data(as_text=True)
    assert re.search(r"上次登录：\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}（北京时间），来自 127\.0\.0\.1", html)


def test_an_unknown_name_costs_the_same_verification_as_a_wrong_password(app, county, monkeypatch):
    """No enumeration by timing: both refusals run exactly one argon2 verification (the bench
    bench/login_timing.py prints the times themselves)."""
    calls = []
    real = argon2.PasswordHasher.verify

    def counting(self, hash_, password):
        calls.append(1)
        return real(self, hash_, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    login(app.test_client(), "ss-t1-staff", "Wrong-pass-2026")
    known = len(calls)
    calls.clear()
    login(app.test_client(), "no-such-person", "Wrong-pass-2026")
    assert known == len(calls) == 1


def test_failures_from_one_address_never_lock_out_people_who_work_there(app, county):
    # the office's usual people have logged in from this address before
    assert login(app.test_client(), "ss-t1-staff").status_code == 302
    client = app.test_client()
    for i in range(app.config["JIUZHU_LOGIN_MAX_FAILURES_PER_SOURCE"]):
        login(client, f"guess{i}", "Wrong-pass-2026")
    assert login(app.test_client(), "ss-t1-staff").status_code == 302  # still gets in
    resp = login(app.test_client(), "ss-t1-leader")  # never logged in from here: the address lock holds
    assert resp.status_code == 429


def test_the_security_policy_screen_refuses_values_beyond_its_bounds(app, county, client_for):
    admin = client_for("ss-admin")
    page = admin.get("/admin/security-policy/").get_data(as_text=True)
    assert "安全策略" in page and "无操作自动退出" in page
    resp = admin.post("/admin/security-policy/", data={
        "csrf_token": csrf_token(page), "idle_minutes": "120", "absolute_hours": "8", "password_min_length": "8",
        "password_history": "5", "password_max_age_days": "abc", "disable_unused_days": "90",
        "access_alert_per_hour": "100"})
    html = resp.get_data(as_text=True)
    assert "须在 5 至 30 之间" in html and "密码最短长度须在 10 至 64 之间" in html and "须为整数" in html
    assert 'value="120"' in html  # the typed value is kept
    resp = admin.post("/admin/security-policy/", data={
        "csrf_token": csrf_token(page), "idle_minutes": "10", "absolute_hours": "8", "password_min_length": "12",
        "password_history": "3", "password_max_age_days": "60", "disable_unused_days": "0",
        "access_alert_per_hour": "50",
        "mfa_roles": ["township_leader"]})
    assert resp.status_code == 302
    assert 'value="12"' in admin.get("/admin/security-policy/").get_data(as_text=True)
    staff = client_for("ss-t1-staff")
    assert staff.get("/admin/security-policy/").status_code == 403
    # the new minimum applies at once to the county's users (the cache was forgotten on save)
    page = staff.get("/account/password").get_data(as_text=True)
    resp = staff.post("/account/password", data={"csrf_token": csrf_token(page), "current": PASSWORD,
                                                 "new": "Eleven-ch-1", "confirm": "Eleven-ch-1"})
    assert "至少需要 12 个字符" in resp.get_data(as_text=True)
