"""Bad input on this release's new paths answers with a clear refusal, never a 500, and writes nothing:
the payment routes, a relief voucher, the 急难 reason through the API, an org unit's phone."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from tests.api_helpers import application, auth, make_token
from tests.conftest import csrf_token
from tests.test_workflow_baseline import do, new_case, run_to_publicity

D = dt.date


@pytest.fixture
def county(world):
    return world.county("base", plugin="baseline", townships=1, villages=1)


def count(owner_engine, table: str) -> int:
    with owner_engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def test_payment_routes_refuse_impossible_months_and_unknown_rows(app, county, client_for, owner_engine):
    case_id = new_case(app)
    run_to_publicity(app, case_id)
    do(app, "base-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 20))
    do(app, "base-county", case_id, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "900"})
    client = client_for("base-county")
    token = csrf_token(client.get(f"/admin/casework/{case_id}").get_data(as_text=True))
    for url in (f"/admin/casework/{case_id}/pay/2026-13", f"/admin/casework/{case_id}/pay/99999-1",
                f"/admin/casework/{case_id}/pay/2026-0", f"/admin/casework/{case_id}/relief/2147483647/pay",
                f"/admin/casework/{case_id}/relief/99999999999999999999/pay",
                "/admin/casework/2147483647/pay/2026-11"):
        assert client.post(url, data={"csrf_token": token, "voucher_no": "x" * 500}).status_code == 404, url
    assert count(owner_engine, "benefit_payments") == 0


def test_an_overlong_or_misplaced_emergency_reason_is_refused_by_the_api(app, world, owner_engine):
    info = world.county("zy", plugin="zongyang", townships=1, villages=1)
    secret = make_token(app, info, username="zy-t1-staff")
    before = count(owner_engine, "cases"), count(owner_engine, "households")
    client = app.test_client()
    body = {**application(info["villages"][0][0]), "categories": ["temporary_relief"], "emergency_reason": "急" * 501}
    resp = client.post("/api/v1/applications", json=body, headers=auth(secret, "k1"))
    assert resp.status_code in (400, 422) and "emergency_reason" in resp.get_json()["error"]["fields"]
    body = {**application(info["villages"][0][0], seq=2), "categories": ["dibao"], "emergency_reason": "突发重病"}
    resp = client.post("/api/v1/applications", json=body, headers=auth(secret, "k2"))
    assert resp.status_code in (400, 422)
    assert "急难程序只用于单独申请临时救助" in resp.get_json()["error"]["fields"]["emergency_reason"][0]
    assert (count(owner_engine, "cases"), count(owner_engine, "households")) == before  # nothing half-written


def test_an_org_units_phone_takes_digits_only(app, county, client_for, owner_engine):
    admin = client_for("base-admin")
    town = county["towns"][0]
    page = admin.get(f"/admin/orgunit/edit/?id={town}").get_data(as_text=True)
    for bad in ("=HYPERLINK(\"x\")", "0559" * 20, "电话\x00"):
        resp = admin.post(f"/admin/orgunit/edit/?id={town}", data={
            "csrf_token": csrf_token(page), "name": "base第1镇", "contact_phone": bad, "active": "y"})
        assert resp.status_code in (200, 400), bad
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT contact_phone FROM org_units WHERE id = :u"), {"u": town}).scalar() is None
