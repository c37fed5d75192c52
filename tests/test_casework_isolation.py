"""Tenant, township and village isolation on every case screen: list, worklist, case page, household
page, and every POST (act, skip, extend, end, material, notice, review)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from tests.conftest import csrf_token
from tests.test_workflow_baseline import do, new_case

D = dt.date


@pytest.fixture
def two(world):
    return (world.county("north", plugin="baseline", townships=2, villages=1),
            world.county("south", plugin="baseline", townships=2, villages=1))


def state(owner_engine, case_id):
    with owner_engine.connect() as conn:
        return (conn.execute(text("SELECT status, version, extended FROM cases WHERE id = :c"), {"c": case_id}).one(),
                conn.execute(text("SELECT count(*), max(version) FROM case_steps WHERE case_id = :c"),
                             {"c": case_id}).one())


def posts(case_id, step_id):
    return [(f"/admin/casework/{case_id}/act/{step_id}", {"outcome": "accept", "version": "1"}),
            (f"/admin/casework/{case_id}/skip/{step_id}", {"reason": "x"}),
            (f"/admin/casework/{case_id}/extend", {"reason": "x"}),
            (f"/admin/casework/{case_id}/end/withdraw", {"reason": "x"}),
            (f"/admin/casework/{case_id}/material/income_statement", {}),
            (f"/admin/casework/{case_id}/notify", {}),
            (f"/admin/casework/{case_id}/review", {})]


@pytest.mark.parametrize("intruder", ["north-t1-staff", "north-county", "south-t2-staff", "south-t1-village"])
def test_a_case_is_out_of_reach_for_other_tenants_townships_and_villages(app, two, client_for, owner_engine,
                                                                         intruder):
    # the case lives in south, township 1, outside the intruding village
    case_id = new_case(app, username="south-t1-staff", on=D(2026, 9, 30))
    if intruder == "south-t1-village":
        with owner_engine.begin() as conn:  # move the household's case to the township itself (no village)
            conn.execute(text("UPDATE cases SET village_id = NULL WHERE id = :c"), {"c": case_id})
            conn.execute(text("UPDATE case_steps SET village_id = NULL WHERE case_id = :c"), {"c": case_id})
            conn.execute(text("UPDATE households SET village_id = NULL WHERE id = (SELECT household_id FROM cases "
                              "WHERE id = :c)"), {"c": case_id})
    with owner_engine.connect() as conn:
        step_id = conn.execute(text("SELECT id FROM case_steps WHERE case_id = :c"), {"c": case_id}).scalar()
        household_id = conn.execute(text("SELECT household_id FROM cases WHERE id = :c"), {"c": case_id}).scalar()
    before = state(owner_engine, case_id)
    client = client_for(intruder)
    assert client.get(f"/admin/casework/{case_id}").status_code == 404
    assert client.get(f"/admin/casework/household/{household_id}").status_code == 404
    assert f"案件 {case_id}<" not in client.get("/admin/casework/cases").get_data(as_text=True)
    assert "汪建国" not in client.get("/admin/casework/").get_data(as_text=True)
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    for url, data in posts(case_id, step_id):
        assert client.post(url, data={**data, "csrf_token": token}).status_code in (403, 404), url
    assert state(owner_engine, case_id) == before


def test_the_right_township_sees_and_works_it(app, two, client_for):
    case_id = new_case(app, username="south-t1-staff", on=D(2026, 9, 30))
    client = client_for("south-t1-staff")
    assert client.get(f"/admin/casework/{case_id}").status_code == 200
    assert "受理" in client.get("/admin/casework/").get_data(as_text=True)
    do(app, "south-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    assert "入户调查" in client_for("south-t1-leader").get("/admin/casework/").get_data(as_text=True)
