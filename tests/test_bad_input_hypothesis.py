"""Hypothesis over the fields people and integrations type: any text (NUL, control characters,
thousands of characters, any script), any number (NaN, infinities, huge, negative, exponents), any
date string — in the intake screen, the API application and a step's action. Never a 500."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiuzhu.cases.idcard import make_id_number
from tests.api_helpers import api_redis, application, auth, make_token  # noqa: F401
from tests.conftest import csrf_token

pytestmark = pytest.mark.usefixtures("api_redis")

NASTY_TEXT = st.one_of(
    st.text(max_size=50),
    st.text(min_size=200, max_size=6000),
    st.sampled_from(["\x00", "a\x00b", "\u202e", "=cmd|' /C calc'!A0", "' OR 1=1 --", "<script>alert(1)</script>",
                     "𠀀" * 100, "\ud7ff", "NaN", "", " ", "\t\n"]),
)
NASTY_NUMBER = st.one_of(
    st.sampled_from(["NaN", "nan", "Infinity", "-Infinity", "1e400", "-1", "0", "12345678901234", "1e-400",
                     "9" * 40, "1,000", "１２３", "3.14159265358979", "0x10", ""]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)
NASTY_DATE = st.one_of(
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01", "yesterday", "", "2026-10-09",
                     "2026/10/09", "20261009", "-2026-10-09"]),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(str),
)
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_seq = itertools.count(100)
_tokens: dict[int, str] = {}


@pytest.fixture
def county(world):
    _tokens.clear()  # the tables are emptied after each test: a new county, a new token
    return world.county("hy", plugin="baseline", townships=1, villages=1)


def _person() -> str:
    return make_id_number("341021", dt.date(1970, 1, 1) + dt.timedelta(days=next(_seq)), 11)


@SETTINGS
@given(field=st.sampled_from(["address", "phone", "m0.name", "m0.wage", "m0.business", "m0.disability", "m0.relation",
                              "m0.health", "applied_on", "authorization_signed_on", "channel", "categories",
                              "village_id", "s0.name", "s0.income", "registered_place"]),
       value=st.one_of(NASTY_TEXT, NASTY_NUMBER, NASTY_DATE))
def test_intake_never_answers_500(app, county, client_for, field, value):
    client = client_for("hy-t1-staff")
    page = client.get("/admin/casework/new").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "village_id": str(county["villages"][0][0]), "address": "幸福路 1 号",
            "applied_on": "2026-10-09", "authorization_signed_on": "2026-10-09", "commitment_signed_on": "2026-10-09",
            "categories": "dibao", "channel": "window", "m0.name": "张三", "m0.id_number": _person(),
            "m0.relation": "head", "m0.coresident": "y"}
    data[field] = value
    resp = client.post("/admin/casework/new", data=data)
    assert resp.status_code < 500, (field, value, resp.get_data(as_text=True)[:300])


@SETTINGS
@given(path=st.sampled_from([("address",), ("phone",), ("registered_place",), ("channel",), ("applied_on",),
                             ("members", 0, "name"), ("members", 0, "incomes", "wage"), ("members", 0, "relation"),
                             ("members", 0, "disability_grade"), ("supporters",), ("categories", 0),
                             ("village_id",), ("properties",)]),
       value=st.one_of(NASTY_TEXT, NASTY_NUMBER, NASTY_DATE, st.integers(), st.floats(), st.none(), st.booleans(),
                       st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                                           max_size=3)))
def test_the_api_application_never_answers_500(app, county, path, value):
    token = _tokens.get(county["id"]) or _tokens.setdefault(county["id"], make_token(app, county, username="hy-t1-staff"))
    body = application(county["villages"][0][0], seq=next(_seq))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    resp = app.test_client().post("/api/v1/applications", json=body, headers=auth(token, f"hy-{next(_seq)}"))
    assert resp.status_code < 500, (path, value, resp.get_data(as_text=True)[:300])


@SETTINGS
@given(outcome=st.sampled_from(["accept", "refuse", "incomplete", "nonsense", ""]),
       data=st.dictionaries(st.sampled_from(["accepted_on", "reason", "missing", "investigated_on", "investigators",
                                             "doubt", "result", "monthly_amount", "x" * 100]),
                            st.one_of(NASTY_TEXT, NASTY_NUMBER, NASTY_DATE, st.integers(), st.floats(), st.none(),
                                      st.lists(NASTY_TEXT, max_size=3)), max_size=4),
       reason=st.one_of(st.none(), NASTY_TEXT))
def test_a_step_action_through_the_api_never_answers_500(app, county, outcome, data, reason):
    from sqlalchemy import select

    from jiuzhu.extensions import db
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.workflow.models import Step, StepStatus

    token = _tokens.get(county["id"]) or _tokens.setdefault(county["id"], make_token(app, county, username="hy-t1-staff"))
    client = app.test_client()
    created = client.post("/api/v1/applications", json=application(county["villages"][0][0], seq=next(_seq)),
                          headers=auth(token, f"hy-{next(_seq)}"))
    assert created.status_code == 201, created.get_data(as_text=True)[:300]
    case_id = created.json["id"]
    with app.app_context(), use_scope(Scope(county["id"])):
        step_id = db.session.scalar(select(Step.id).where(Step.case_id == case_id, Step.status == StepStatus.open))
        db.session.remove()
    resp = client.post(f"/api/v1/cases/{case_id}/steps/{step_id}/actions",
                       json={"outcome": outcome, "data": data, "reason": reason}, headers=auth(token, f"hy-{next(_seq)}"))
    assert resp.status_code < 500, (outcome, data, resp.get_data(as_text=True)[:300])
