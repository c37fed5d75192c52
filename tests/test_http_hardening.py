"""Security headers on every kind of response, and exports that never carry a live formula."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgUnit

FORMULA = '=HYPERLINK("http://evil.example/x","点此")&"'


@pytest.fixture
def county(world):
    return world.county("hh", plugin="baseline", townships=1, villages=1)


def _csp(resp) -> dict[str, str]:
    policy = resp.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
            for part in (p.strip() for p in policy.split(";"))}


def test_pages_carry_a_nonce_csp_and_are_never_cached(app, county, client_for):
    clients = {"admin": client_for("hh-admin"), "staff": client_for("hh-t1-staff"), None: app.test_client()}
    for who, path in ((None, "/login"), ("admin", "/admin/"), ("staff", "/admin/casework/"),
                      ("admin", "/admin/orgunit/"), ("staff", "/admin/casework/new"), ("staff", "/admin/casework/cases"), (None, "/public/hh/"),
                      (None, f"/public/hh/{county['villages'][0][0]}/")):
        resp = clients[who].get(path)
        assert resp.status_code == 200, path
        csp = _csp(resp)
        assert "'unsafe-inline'" not in csp["script-src"] and "'nonce-" in csp["script-src"], path
        assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "camera=()" in resp.headers["Permissions-Policy"]
        assert resp.headers["Cache-Control"] == "no-store", path
        assert "Strict-Transport-Security" not in resp.headers  # plain HTTP here
        # every inline script on the page carries this response's nonce, and no handler attributes
        html = resp.get_data(as_text=True)
        nonce = re.search(r"'nonce-([^']+)'", csp["script-src"]).group(1)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or f'nonce="{nonce}"' in tag, (path, tag)
        assert not re.search(r"\son(click|change|submit|load)=", html), path


def test_the_nonce_differs_per_response(app):
    client = app.test_client()
    assert _csp(client.get("/login"))["script-src"] != _csp(client.get("/login"))["script-src"]


def test_exports_and_pdfs_are_not_cached_but_static_files_may_be(app, county, client_for):
    client = client_for("hh-admin")
    assert client.get("/admin/orgunit/export/csv/").headers["Cache-Control"] == "no-store"
    static = client.get("/admin/static/vendor/jquery.min.js?v=3.5.1")
    assert static.status_code == 200 and static.headers.get("Cache-Control") != "no-store"


def test_hsts_over_https(app):
    resp = app.test_client().get("/login", base_url="https://jiuzhu.example")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_org_unit_names_are_exported_as_text_never_as_formulas(app, county, client_for):
    with app.app_context(), use_scope(Scope(county["id"])):
        db.session.get(OrgUnit, county["villages"][0][0]).name = FORMULA
        db.session.get(OrgUnit, county["towns"][0]).name = "+1+cmd|' /C calc'!A0"
        db.session.commit()
        db.session.remove()
    client = client_for("hh-admin")
    wb = load_workbook(io.BytesIO(client.get("/admin/orgunit/export/xlsx/").data))
    cells = [c for row in wb.active.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(c.value == "'" + FORMULA for c in cells)
    assert not any(c.data_type == "f" for row in wb.active.iter_rows() for c in row)
    assert all(not c.value.startswith(("=", "+", "-", "@")) for c in cells)
    rows = list(csv.reader(io.StringIO(client.get("/admin/orgunit/export/csv/").get_data(as_text=True))))
    values = [v for row in rows for v in row]
    assert "'" + FORMULA in values and not any(v.startswith(("=", "+", "-", "@")) for v in values)


def test_user_names_are_exported_as_text(app, county, client_for):
    from jiuzhu.auth.models import User

    with app.app_context(), use_scope(Scope(county["id"])):
        db.session.get(User, county["users"]["hh-t1-staff"]).full_name = "@SUM(1+1)*cmd|' /C calc'!A0"
        db.session.commit()
        db.session.remove()
    client = client_for("hh-admin")
    for kind in ("csv", "xlsx"):
        resp = client.get(f"/admin/user/export/{kind}/")
        assert resp.status_code == 200
        if kind == "csv":
            values = [v for row in csv.reader(io.StringIO(resp.get_data(as_text=True))) for v in row]
        else:
            values = [c.value for row in load_workbook(io.BytesIO(resp.data)).active.iter_rows() for c in row]
        assert "'@SUM(1+1)*cmd|' /C calc'!A0" in values
