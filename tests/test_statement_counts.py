"""Statements per page: the case list (案件查询), the worklist (我的待办) and the case page issue a
fixed number of SQL statements whatever the number of rows, steps or materials (no N+1)."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from jiuzhu.extensions import db
from tests.test_workflow_baseline import do, new_case

D = dt.date


@contextmanager
def counted(app):
    """Every statement the application sends to the database inside the block."""
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def statements(app, client, url: str) -> list[str]:
    client.get(url)  # warm: a first request may fill per-process caches (plugins, calendar)
    with counted(app) as seen:
        resp = client.get(url)
    assert resp.status_code == 200, resp.status_code
    return seen


def brief(seen: list[str]) -> str:
    return f"{len(seen)} statements:\n" + "\n".join(" ".join(s.split())[:160] for s in seen)


@pytest.fixture
def county(world):
    return world.county("base", plugin="baseline", townships=2, villages=1)


@pytest.mark.parametrize("username", ["base-t1-staff", "base-county", "base-t1-village"])
def test_the_case_list_costs_the_same_for_two_cases_and_for_seven(app, county, client_for, username):
    client = client_for(username)
    for _ in range(2):
        new_case(app, on=D(2026, 9, 30))
    few = statements(app, client, "/admin/casework/cases")
    for _ in range(5):
        new_case(app, on=D(2026, 9, 30))
    page = client.get("/admin/casework/cases").get_data(as_text=True)
    assert page.count("汪建国户") == 7 or page.count("汪建国") >= 7
    many = statements(app, client, "/admin/casework/cases")
    assert len(many) == len(few), brief(many)
    # the RLS setting, the user (with unit, county and unread count), the page (households named by
    # their head in it)
    assert len(many) <= 3, brief(many)


@pytest.mark.parametrize("username", ["base-t1-staff", "base-county"])
def test_the_worklist_costs_the_same_for_two_cases_and_for_seven(app, county, client_for, owner_engine, username):
    client = client_for(username)
    ids = [new_case(app, on=D(2026, 9, 30)) for _ in range(2)]
    if username == "base-county":  # the county's own step: the economic check, once accepted
        for case_id in ids:
            do(app, "base-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    few = statements(app, client, "/admin/casework/")
    more = [new_case(app, on=D(2026, 9, 30)) for _ in range(5)]
    if username == "base-county":
        for case_id in more:
            do(app, "base-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    page = client.get("/admin/casework/").get_data(as_text=True)
    assert all(f"/admin/casework/{i}" in page for i in ids + more)
    assert page.count("汪建国户") == 7  # each row names its household by its head
    many = statements(app, client, "/admin/casework/")
    assert len(many) == len(few), brief(many)
    # the RLS setting, the user (with unit, county, the county's settings and unread count), the page
    # (households named by their head in it); the village filter is kept by the org tree's version
    assert len(many) <= 3, brief(many)


def test_the_case_page_costs_the_same_at_its_first_step_and_far_along(app, county, client_for):
    client = client_for("base-t1-staff")
    case_id = new_case(app, on=D(2026, 9, 30))
    early = statements(app, client, f"/admin/casework/{case_id}")
    do(app, "base-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    from tests.test_workflow_baseline import CHECK_PASS, INVESTIGATION

    do(app, "base-county", case_id, "economic_check", "reported", D(2026, 10, 12), CHECK_PASS)
    do(app, "base-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 9), INVESTIGATION)
    late = statements(app, client, f"/admin/casework/{case_id}")
    assert len(late) == len(early), brief(late)
    # the RLS setting, the user; the case with everything its page shows (one statement); the access
    # log of personal data (PIPL), in a transaction of its own, in one statement; the duplicate-benefit
    # registry in one (a function call over blind indexes, whatever the household's size)
    assert len(late) <= 5, brief(late)
    assert sum("jiuzhu_registry_lookup" in s for s in late) == 1


def test_a_decided_and_paid_case_page_with_its_household_assessed_costs_five_statements(app, county, client_for):
    """The page of an approved case, its months paid, in a county whose 低保 standard is set (so the
    household's incomes and legal supporters are assessed on the page): no more statements than a
    case at its first step, and everything shown."""
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.models import Tenant
    from tests.conftest import csrf_token
    from tests.test_workflow_baseline import run_to_publicity

    with app.app_context(), use_scope(Scope(county["id"])):
        db.session.get(Tenant, county["id"]).plugin_settings = {"dibao_standard": "900"}
        db.session.commit()
        db.session.remove()
    client = client_for("base-county")
    first = new_case(app, on=D(2026, 9, 30))
    early = statements(app, client, f"/admin/casework/{first}")
    case_id = new_case(app, on=D(2026, 9, 30))
    run_to_publicity(app, case_id)
    do(app, "base-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 20), {"channels": ["村务公开栏"]})
    do(app, "base-county", case_id, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "1260.00"})
    page = client.get(f"/admin/casework/{case_id}").get_data(as_text=True)
    month = next(m for m in ("2026-11", "2026-12") if f'data-testid="pay-{m}"' in page)
    year, mon = month.split("-")
    assert client.post(f"/admin/casework/{case_id}/pay/{year}-{int(mon)}", data={"csrf_token": csrf_token(page)},
                       follow_redirects=True).status_code == 200
    late = statements(app, client, f"/admin/casework/{case_id}")
    assert len(late) == len(early) <= 5, brief(late)
    page = client.get(f"/admin/casework/{case_id}").get_data(as_text=True)
    # the assessment counted the wage, the pension and the daughter's support (1,200 + 150 + 100)
    assert "1450" in page or "1,450" in page, page
    assert "已发放（" in page and "1260.00" in page
    assert "共同生活 4 人" in page  # the members


def test_lists_of_cases_neither_read_nor_decrypt_the_reasons_they_never_show(app, county, client_for):
    """The worklist, the case list and the API's case list read each case without its reasons
    (extension, emergency, decision, referral: personal data, encrypted) — opened on the case's own
    page, not fifty rows at a time."""
    from tests.api_helpers import auth, make_token

    new_case(app, on=D(2026, 9, 30))
    reasons = ("cases.extension_reason", "cases.emergency_reason", "cases.decision_reason", "cases.referral")
    client = client_for("base-t1-staff")
    secret = make_token(app, county, username="base-t1-staff")
    api = app.test_client()
    for url, fetch in (("/admin/casework/", client.get), ("/admin/casework/cases", client.get),
                       ("/api/v1/cases", lambda u: api.get(u, headers=auth(secret)))):
        fetch(url)
        with counted(app) as seen:
            assert fetch(url).status_code == 200
        listing = [s for s in seen if "FROM cases" in s or "JOIN cases" in s]
        assert listing, brief(seen)
        assert not any(r in s for s in listing for r in reasons), (url, brief(listing))
        assert any("cases.priority_reason" in s for s in listing) or url.startswith("/api/")


def test_an_ordinary_page_neither_reads_nor_decrypts_the_users_secrets(app, county, client_for, owner_engine,
                                                                       monkeypatch):
    """Every request loads the logged-in user; it leaves out what no ordinary page reads — the
    password hash and history, the second factor's secret and recovery codes, the phone (encrypted)
    — so they are not decrypted at every click. The county admin here has all of them."""
    from sqlalchemy import select, text

    from jiuzhu.crypto import types

    client = client_for("base-admin")  # a county admin binds an authenticator at the first login
    from jiuzhu.auth.models import User
    from jiuzhu.tenancy.context import Scope, use_scope

    with app.app_context(), use_scope(Scope(county["id"])):
        db.session.scalars(select(User).where(User.username == "base-admin")).one().phone = "13800000000"
        db.session.commit()
        db.session.remove()
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT totp_secret IS NOT NULL AND phone IS NOT NULL FROM users "
                                 "WHERE username = 'base-admin'")).scalar()
    decrypted: list[str] = []
    decrypt = types._Encrypted.decrypt

    def spy(self, stored, tenant_id):
        decrypted.append(self.context)
        return decrypt(self, stored, tenant_id)

    monkeypatch.setattr(types._Encrypted, "decrypt", spy)
    for url in ("/admin/", "/admin/casework/cases", "/admin/dashboard/"):
        client.get(url)
        decrypted.clear()
        with counted(app) as seen:
            assert client.get(url).status_code == 200, url
        user_reads = [s for s in seen if "FROM users" in s]
        assert user_reads, brief(seen)
        for column in ("password_hash", "password_history", "totp_secret", "recovery_codes", "users.phone"):
            assert not any(column in s for s in user_reads), (url, column, brief(user_reads))
        assert not any(c.startswith("users.") for c in decrypted), (url, decrypted)

