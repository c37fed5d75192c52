"""Tokens are created and revoked by the county admin — on the admin screen and by CLI — shown once,
stored hashed, and a revoked token opens nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from jiuzhu.api.models import ApiToken
from jiuzhu.auth.models import User
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from tests.api_helpers import api_redis, auth  # noqa: F401
from tests.conftest import csrf_token

pytestmark = pytest.mark.usefixtures("api_redis")


SECRET_RE = re.compile(r"<code>(jz_[A-Za-z0-9_-]+)</code>")


def post_form(client, url, data):
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=True)


def test_the_county_admin_creates_a_token_sees_the_secret_once_and_revokes_it(app, world, client_for):
    county = world.county("tk", townships=1, villages=1)
    admin = client_for("tk-admin")
    page = post_form(admin, "/admin/apitoken/new/", {"name": "省政务服务平台", "user": "", "role": "township_staff",
                                                     "org_unit": str(county["towns"][0])})
    html = page.get_data(as_text=True)
    found = SECRET_RE.search(html)
    assert found, html[:2000]
    secret = found.group(1)
    listing = admin.get("/admin/apitoken/").get_data(as_text=True)
    assert "省政务服务平台" in listing and secret not in listing  # shown once, never again
    client = app.test_client()
    assert client.get("/api/v1/cases", headers=auth(secret)).status_code == 200
    with app.app_context(), use_scope(Scope(county["id"])):
        token = db.session.scalar(select(ApiToken))
        service = db.session.get(User, token.user_id)
        assert token.secret_hash != secret and token.service_user and service.role.value == "township_staff"
        token_id = token.id
        db.session.remove()
    page = admin.get("/admin/apitoken/").get_data(as_text=True)
    admin.post("/admin/apitoken/action/", data={"action": "revoke", "rowid": [str(token_id)],
                                                 "csrf_token": csrf_token(page)})
    assert client.get("/api/v1/cases", headers=auth(secret)).status_code == 401


def test_only_the_county_admin_reaches_the_token_screen(app, world, client_for):
    world.county("tk", townships=1, villages=1)
    staff = client_for("tk-t1-staff")
    assert staff.get("/admin/apitoken/").status_code in (302, 403)
    assert staff.get("/admin/apitoken/new/").status_code in (302, 403)


def test_tokens_by_cli_create_list_revoke(app, world):
    world.county("tk", townships=1, villages=1)
    runner = app.test_cli_runner()
    made = runner.invoke(args=["tokens", "create", "--tenant", "tk", "--name", "监测平台", "--role", "county_staff"])
    assert made.exit_code == 0, made.output
    secret = made.output.strip().splitlines()[-1]
    assert secret.startswith("jz_")
    person = runner.invoke(args=["tokens", "create", "--tenant", "tk", "--name", "经办个人", "--user", "tk-t1-staff"])
    assert person.exit_code == 0, person.output
    refused = runner.invoke(args=["tokens", "create", "--tenant", "tk", "--name", "坏", "--role", "village_assistant",
                                  "--org", "tk第1镇"])
    assert refused.exit_code == 1 and "未做任何修改" in refused.output
    listed = runner.invoke(args=["tokens", "list", "--tenant", "tk"]).output
    assert "监测平台" in listed and "经办个人" in listed and "坏" not in listed and secret not in listed
    client = app.test_client()
    assert client.get("/api/v1/cases", headers=auth(secret)).status_code == 200
    token_id = listed.splitlines()[0].split("\t")[0]
    assert runner.invoke(args=["tokens", "revoke", "--tenant", "tk", token_id]).exit_code == 0
    assert client.get("/api/v1/cases", headers=auth(secret)).status_code == 401
    assert "已吊销" in runner.invoke(args=["tokens", "list", "--tenant", "tk"]).output


@pytest.mark.parametrize(("field", "message"), [("user", "所选用户无效"), ("org_unit", "所选单位无效")])
def test_an_invalid_user_or_unit_choice_is_refused_never_widened_to_the_county(app, world, client_for, field,
                                                                             message):
    """A made-up id or another county's user/unit in the form is an error beside the field — it
    does not quietly become a county-wide county-staff token."""
    county = world.county("tk", townships=1, villages=1)
    other = world.county("ot", townships=1, villages=1)
    admin = client_for("tk-admin")
    bad = str(other["users"]["ot-t1-staff"] if field == "user" else other["towns"][0])
    data = {"name": "越权集成", "user": "", "role": "county_staff", "org_unit": ""}
    data[field] = bad
    page = post_form(admin, "/admin/apitoken/new/", data).get_data(as_text=True)
    assert message in page
    for made_up in ("999999", "2147483648", "abc"):
        data[field] = made_up
        assert message in post_form(admin, "/admin/apitoken/new/", data).get_data(as_text=True)
    with app.app_context(), use_scope(Scope(county["id"])):
        assert db.session.scalar(select(ApiToken)) is None
        db.session.remove()
