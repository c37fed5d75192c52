"""In Debian's Chromium: a county admin logs in with the second factor (binding it first, then with a
code); an idle session is sent to login; a second login ends the first; and every look at a person —
a household opened, a full ID number shown, the case file downloaded — lands in the access log the
county admin reads."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from jiuzhu.cases.models import Case
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from tests.browser.conftest import second_factor_in_browser, shot
from tests.conftest import PASSWORD, totp_code
from tests.test_workflow_baseline import new_case

pytestmark = pytest.mark.browser


def _login_form(page, live_url, username):
    page.goto(live_url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_a_county_admin_logs_in_with_the_second_factor(app, world, browser, live_url):
    world.county("sfa", plugin="baseline", townships=1, villages=1)
    first = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()
    _login_form(first, live_url, "sfa-admin")
    first.wait_for_url("**/login/enroll")
    assert first.locator("[data-testid=qr] svg").count() == 1  # the QR code, drawn on the server
    shot(first, "mfa-01-enroll")
    second_factor_in_browser(first, "sfa-admin")  # scans, types the code, saves the recovery codes
    first.wait_for_url("**/admin/**")
    assert "sfa-admin" in first.inner_text("[data-testid=current-user]") or "县级管理员" in first.content()
    again = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN").new_page()
    _login_form(again, live_url, "sfa-admin")
    again.wait_for_url("**/login/second-factor")
    again.fill("[data-testid=code]", "000000")
    again.click("button[type=submit]")
    assert "动态口令不正确" in again.inner_text("[data-testid=error-code]")
    shot(again, "mfa-02-wrong-code-phone")
    again.fill("[data-testid=code]", totp_code("sfa-admin"))
    again.click("button[type=submit]")
    again.wait_for_url("**/admin/**")
    first.reload()  # the new login ended the first session
    first.wait_for_url("**/login**")
    assert "已在其他地方登录" in first.content()


def test_an_idle_session_is_sent_to_login(app, world, page_for, live_url):
    world.county("idl", plugin="baseline", townships=1, villages=1)
    page = page_for("idl-t1-staff")
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(cookie["value"])
    data["_jz_seen"] = int(time.time()) - 16 * 60  # as if the clerk left the desk sixteen minutes ago
    page.context.add_cookies([{**cookie, "value": serializer.dumps(data)}])
    page.goto(live_url + "/admin/casework/")
    page.wait_for_url("**/login**")
    assert "长时间未操作，已自动退出" in page.content()
    shot(page, "idle-sent-to-login")


def test_the_access_log_records_what_a_clerk_looked_at_and_the_admin_sees_it(app, world, page_for, live_url):
    world.county("base", plugin="baseline", townships=1, villages=1)
    case_id = new_case(app, on=dt.date(2026, 9, 30))
    with app.app_context(), use_scope(Scope(world.tenants["base"]["id"])):
        household_id = db.session.scalar(select(Case.household_id).where(Case.id == case_id))
        db.session.remove()
    clerk = page_for("base-t1-staff")
    clerk.goto(live_url + f"/admin/casework/household/{household_id}")
    clerk.locator("[data-testid^=reveal-member_id_number] button").first.click()
    assert clerk.locator("[data-testid=full-id]").count() == 1
    pdf = clerk.request.get(live_url + f"/admin/casework/{case_id}/file.pdf")  # with the page's own cookies
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    admin = page_for("base-admin")
    admin.goto(live_url + "/admin/access_log/")
    table = admin.inner_text("table.model-list")
    for kind in ("查看家庭档案", "查看完整身份证号码", "下载一户一档"):
        assert kind in table, kind
    assert "base-t1-staff" in table
    shot(admin, "access-log")
