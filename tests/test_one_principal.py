"""A request has exactly one principal: the API answers to its bearer token alone and ignores the
session cookie; a public page is the same whoever is logged in. Nothing a logged-in user of one
county loaded may serve a request made for another county."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.api_helpers import api_redis, application, auth, make_token  # noqa: F401

pytestmark = pytest.mark.usefixtures("api_redis")


@pytest.fixture
def two(world):
    return world.county("alpha", plugin="baseline"), world.county("beta", plugin="baseline")


def households_pointing_at(owner_engine, tenant_id, unit_ids):
    with owner_engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM households WHERE tenant_id = :t AND (village_id = ANY(:u) OR township_id = ANY(:u))"),
            {"t": tenant_id, "u": list(unit_ids)}).scalar()


def test_a_beta_token_with_an_alpha_cookie_cannot_write_into_alpha_places(app, two, client_for, owner_engine):
    alpha, beta = two
    token = make_token(app, beta, username="beta-t1-staff")
    client = client_for("alpha-t1-village")  # alpha's village assistant: cookie loaded alpha's village
    assert client.get("/admin/").status_code in (200, 302)
    alpha_village = alpha["villages"][0][0]
    resp = client.post("/api/v1/applications", json=application(alpha_village), headers=auth(token, "k-1"))
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert "village_id" in resp.json["error"]["fields"]
    all_alpha_units = [alpha["root"], *alpha["towns"], *[v for vs in alpha["villages"] for v in vs]]
    assert households_pointing_at(owner_engine, beta["id"], all_alpha_units) == 0
    # the same request without the cookie, for beta's own village, works: the token is the principal
    ok = client.post("/api/v1/applications", json=application(beta["villages"][0][0]), headers=auth(token, "k-2"))
    assert ok.status_code == 201, ok.get_data(as_text=True)


def test_the_api_ignores_a_session_cookie(app, two, client_for):
    client = client_for("alpha-county")
    resp = client.get("/api/v1/cases")
    assert resp.status_code == 401  # a cookie is not a principal for the API


def test_a_public_page_of_another_county_is_404_for_a_logged_in_user_as_for_anyone(app, two, client_for):
    alpha, beta = two
    alpha_village = alpha["villages"][0][0]
    anonymous = app.test_client()
    logged_in = client_for("alpha-t1-village")
    logged_in.get("/admin/")
    for path in (f"/public/beta/{alpha_village}/", f"/public/beta/{alpha_village}/sheet.pdf",
                 f"/public/beta/{alpha['towns'][0]}/"):
        assert anonymous.get(path).status_code == 404
        assert logged_in.get(path).status_code == 404, path
    assert logged_in.get(f"/public/beta/{beta['villages'][0][0]}/").status_code == 200
