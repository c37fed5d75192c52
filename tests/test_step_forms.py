"""Step forms as staff expect: a refused form comes back as it was typed, every problem at once, each
beside its field — and nothing of it is written. Dates must make sense for the case (not after the day
of recording, not before the application) and a reported income is never negative."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import text

from jiuzhu.clock import china_today
from tests.conftest import csrf_token
from tests.test_workflow_baseline import do, new_case

D = dt.date


@pytest.fixture
def county(world):
    return world.county("sf", plugin="baseline", townships=1, villages=1)


def step_id(owner_engine, case_id, key):
    with owner_engine.connect() as conn:
        return conn.execute(text("SELECT id FROM case_steps WHERE case_id = :c AND key = :k AND status = 'open'"),
                            {"c": case_id, "k": key}).scalar()


def steps_done(owner_engine, case_id) -> int:
    with owner_engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM case_steps WHERE case_id = :c AND status = 'done'"),
                            {"c": case_id}).scalar()


def errors_of(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-testid="error-([\w.]+)">([^<]+)<', html))


def submit(client, case_id, sid, outcome, fields):
    page = client.get(f"/admin/casework/{case_id}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "outcome": outcome, "version": "1"}
    data.update({f"o.{outcome}.{k}": v for k, v in fields.items()})
    return client.post(f"/admin/casework/{case_id}/act/{sid}", data=data)


def test_a_refused_investigation_keeps_what_was_typed_and_says_each_problem_beside_its_field(
        app, county, client_for, owner_engine):
    applied = china_today() - dt.timedelta(days=20)
    case_id = new_case(app, username="sf-t1-staff", on=applied)
    do(app, "sf-t1-staff", case_id, "acceptance", "accept", applied)
    sid = step_id(owner_engine, case_id, "home_investigation")
    before = steps_done(owner_engine, case_id)
    future = (china_today() + dt.timedelta(days=3)).isoformat()

    resp = submit(client_for("sf-t1-staff"), case_id, sid, "done",
                  {"investigators": "汪敏", "visited_on": future, "findings": "家中两位老人，无劳动能力。",
                   "doubt": "false", "neighbour_visits": "2"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    errors = errors_of(html)
    assert "不少于 2 名调查人员" in errors["o.done.investigators"]
    assert "不能晚于办理当日" in errors["o.done.visited_on"]
    # typed values are kept, in the form they were typed in
    assert f'value="{future}"' in html and "家中两位老人，无劳动能力。</textarea>" in html
    assert 'value="false" checked' in html and 'value="2"' in html
    assert steps_done(owner_engine, case_id) == before

    before_application = (applied - dt.timedelta(days=1)).isoformat()
    resp = submit(client_for("sf-t1-staff"), case_id, sid, "done",
                  {"investigators": "汪敏\n胡军", "visited_on": before_application, "findings": "x", "doubt": "false"})
    assert "不能早于申请日期" in errors_of(resp.get_data(as_text=True))["o.done.visited_on"]
    assert steps_done(owner_engine, case_id) == before

    resp = submit(client_for("sf-t1-staff"), case_id, sid, "done",
                  {"investigators": "汪敏\n胡军", "visited_on": china_today().isoformat(), "findings": "x",
                   "doubt": "false"})
    assert resp.status_code == 302
    assert steps_done(owner_engine, case_id) == before + 1


def test_a_negative_income_in_the_check_report_is_refused(app, county, client_for, owner_engine):
    applied = china_today() - dt.timedelta(days=20)
    case_id = new_case(app, username="sf-t1-staff", on=applied)
    do(app, "sf-t1-staff", case_id, "acceptance", "accept", applied)
    sid = step_id(owner_engine, case_id, "economic_check")
    resp = submit(client_for("sf-county"), case_id, sid, "reported",
                  {"report_no": "HD-1", "result": "pass", "per_capita_income": "-120"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "人均月收入须在 0" in errors_of(html)["o.reported.per_capita_income"]
    assert 'value="HD-1"' in html and 'value="pass" selected' in html
    assert step_id(owner_engine, case_id, "economic_check") == sid  # still open


def test_the_appraisal_asks_for_its_result_not_a_check_result(app, county, client_for, owner_engine):
    applied = china_today() - dt.timedelta(days=20)
    case_id = new_case(app, username="sf-t1-staff", on=applied)
    do(app, "sf-t1-staff", case_id, "acceptance", "accept", applied)
    do(app, "sf-county", case_id, "economic_check", "reported", applied,
       {"report_no": "HD-2", "result": "pass", "per_capita_income": "0"})
    do(app, "sf-t1-staff", case_id, "home_investigation", "done", applied,
       {"investigators": ["汪敏", "胡军"], "visited_on": applied.isoformat(), "findings": "有疑义", "doubt": True})
    html = client_for("sf-t1-staff").get(f"/admin/casework/{case_id}").get_data(as_text=True)
    card = html[html.index('data-testid="step-appraisal"'):]
    card = card[:card.index("</form>")]
    assert "评议结果" in card and "核对结果" not in card
