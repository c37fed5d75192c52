"""Schemathesis against the served OpenAPI document, in-process (WSGI), with a valid token of a seeded
county: no 5xx, and every response — its status, content type and body — matches the document."""

from __future__ import annotations

import copy
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from jiuzhu.api.openapi import document
from jiuzhu.auth.roles import Role
from tests.api_helpers import api_redis, application, auth, make_token  # noqa: F401

pytestmark = pytest.mark.usefixtures("api_redis")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def seeded(app, world):
    """A county with a case, a warning and a township token; the rate limit out of the way."""
    old = app.config["JIUZHU_API_RATE_PER_MINUTE"]
    app.config["JIUZHU_API_RATE_PER_MINUTE"] = 1_000_000
    county = world.county("st", plugin="shexian", townships=1, villages=2)
    secret = make_token(app, county, role=Role.township_staff, unit_id=county["towns"][0], name="schemathesis")
    client = app.test_client()
    r = client.post("/api/v1/applications", json=application(county["villages"][0][0]), headers=auth(secret, "seed-1"))
    assert r.status_code == 201, r.get_json()
    yield secret
    app.config["JIUZHU_API_RATE_PER_MINUTE"] = old


def test_the_served_document_is_the_one_tested(app):
    assert app.test_client().get("/api/v1/openapi.json").get_json() == document()


# the document is built without an app or a database, so it can be loaded when the tests are collected;
# each operation's test then runs against the session's app, whose /api/v1/openapi.json serves the same
schema = schemathesis.openapi.from_dict(copy.deepcopy(document()))


#: examples per operation: a CI-sized run in the suite; JIUZHU_TEST_FULL=1 for the longer one
EXAMPLES = 100 if os.environ.get("JIUZHU_TEST_FULL") == "1" else 10


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_response_matches_the_document(case, app, seeded):
    case.call_and_validate(app=app, base_url="http://localhost/api/v1", headers=auth(seeded), checks=CHECKS)
