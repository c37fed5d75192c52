"""Tenant isolation through every admin path, and township/village scoping inside a tenant.

For every tenant-owned model with a screen, a county admin of tenant A tries tenant B's row
through list, detail, edit, delete, bulk action, export, relation dropdowns and ajax loaders: B's
row never shows, every direct access is a 404, and B's data is unchanged.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from jiuzhu.api.models import ApiToken
from jiuzhu.api.tokens import create_token
from jiuzhu.auth.models import User
from jiuzhu.extensions import db
from jiuzhu.privacy.models import AccessKind, PersonalDataAccess
from jiuzhu.reminders.models import ChannelKind, Notification, NotificationChannel, Subject, SupervisionItem
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgUnit
from tests.conftest import csrf_token


def add_reminder_rows(app, county):
    """A notification for the county admin, a supervision item and a channel, in the county's scope."""
    code = county["code"]
    with app.app_context(), use_scope(Scope(county["id"])):
        note = Notification(user_id=county["users"][f"{code}-admin"], title=f"{code}通知", body="正文")
        item = SupervisionItem(township_id=county["towns"][0], subject=Subject.case, subject_id=1,
                               title=f"{code}督办事项", due_on=dt.date(2026, 11, 17), flagged_on=dt.date(2026, 11, 18))
        channel = NotificationChannel(kind=ChannelKind.webhook, enabled=True, config={"url": "http://127.0.0.1:9/x"},
                                      last_error=f"{code}网关错误")
        access = PersonalDataAccess(user_name=f"{code}访问人", user_role="county_staff",
                                    kind=AccessKind.view_household, subject_type="household", subject_id=1)
        db.session.add_all([note, item, channel, access])
        token = create_token(db.session, None, name=f"{code}令牌", role="county_staff").token
        db.session.commit()
        county["rows"] = {"inbox": note.id, "supervision": item.id, "channel": channel.id, "apitoken": token.id,
                          "access_log": access.id}
        db.session.remove()
    return county


@pytest.fixture
def ab(app, world):
    return (add_reminder_rows(app, world.county("north")), add_reminder_rows(app, world.county("south")))


# view endpoint → (B's row id, a text only B's row shows, edit form data — None for read-only screens)
MODELS = {
    "orgunit": (lambda b: b["towns"][0], "south第1镇",
                lambda b: {"name": "篡改", "division_code": "", "active": "y"}),
    "user": (lambda b: b["users"]["south-t1-staff"], "south-t1-staff",
             lambda b: {"full_name": "篡改", "role": "county_admin", "org_unit": str(b["root"]), "active": "y"}),
    "inbox": (lambda b: b["rows"]["inbox"], "south通知", None),
    "supervision": (lambda b: b["rows"]["supervision"], "south督办事项", None),
    "channel": (lambda b: b["rows"]["channel"], "south网关错误",
                lambda b: {"kind": "webhook", "enabled": "y", "url": "http://evil.example/"}),
    "apitoken": (lambda b: b["rows"]["apitoken"], "south令牌", None),
    "access_log": (lambda b: b["rows"]["access_log"], "south访问人", None),
}
EXPORTABLE = ["orgunit", "user", "supervision", "access_log"]


def snapshot(app, tenant):
    """Everything tenant B has, read in B's own scope."""
    with app.app_context(), use_scope(Scope(tenant["id"])):
        units = sorted((u.id, u.name, u.active) for u in db.session.scalars(select(OrgUnit)))
        users = sorted((u.id, u.full_name, u.role.value, u.active) for u in db.session.scalars(select(User)))
        notes = sorted((n.id, n.title, n.read_at) for n in db.session.scalars(select(Notification)))
        items = sorted((i.id, i.title, i.resolved_on) for i in db.session.scalars(select(SupervisionItem)))
        channels = sorted((c.id, c.enabled, str(c.config)) for c in db.session.scalars(select(NotificationChannel)))
        tokens = sorted((t.id, t.name, t.revoked_at) for t in db.session.scalars(select(ApiToken)))
        db.session.remove()
    return units, users, notes, items, channels, tokens


@pytest.fixture
def admin_a(ab, client_for):
    return client_for("north-admin")


@pytest.mark.parametrize("view", list(MODELS))
def test_list_hides_other_tenant(app, ab, admin_a, view):
    a, b = ab
    _, marker, _ = MODELS[view]
    html = admin_a.get(f"/admin/{view}/").get_data(as_text=True)
    assert marker.replace("south", "north") in html  # A's own row is there
    assert marker not in html and "south" not in html


@pytest.mark.parametrize("view", list(MODELS))
def test_search_hides_other_tenant(app, ab, admin_a, view):
    html = admin_a.get(f"/admin/{view}/?search=south").get_data(as_text=True)
    assert "south第" not in html and "south-" not in html


DETAILED = ["orgunit", "user", "inbox", "supervision", "apitoken"]


@pytest.mark.parametrize("view", DETAILED)
def test_detail_page_of_other_tenant_is_404(app, ab, admin_a, view):
    row = MODELS[view][0](ab[1])
    assert admin_a.get(f"/admin/{view}/details/?id={row}").status_code == 404


@pytest.mark.parametrize("view", list(MODELS))
def test_edit_page_of_other_tenant_is_refused(app, ab, admin_a, view):
    row_id, _, data = MODELS[view]
    status = admin_a.get(f"/admin/{view}/edit/?id={row_id(ab[1])}").status_code
    # an editable screen says 404; a read-only one has no edit page at all (redirect to the list)
    assert status == (404 if data else 302)


@pytest.mark.parametrize("view", list(MODELS))
def test_edit_post_to_other_tenant_is_refused_and_changes_nothing(app, ab, admin_a, view):
    b = ab[1]
    before = snapshot(app, b)
    row_id, _, data = MODELS[view]
    token = csrf_token(admin_a.get("/admin/").get_data(as_text=True))
    payload = data(b) if data else {"title": "篡改"}
    resp = admin_a.post(f"/admin/{view}/edit/?id={row_id(b)}", data={**payload, "csrf_token": token})
    assert resp.status_code == (404 if data else 302)
    assert snapshot(app, b) == before


@pytest.mark.parametrize("view", list(MODELS))
def test_delete_of_other_tenant_is_404_and_changes_nothing(app, ab, admin_a, view):
    b = ab[1]
    before = snapshot(app, b)
    token = csrf_token(admin_a.get("/admin/").get_data(as_text=True))
    resp = admin_a.post(f"/admin/{view}/delete/", data={"id": str(MODELS[view][0](b)), "csrf_token": token})
    assert resp.status_code == (404 if MODELS[view][2] else 302)
    assert snapshot(app, b) == before


@pytest.mark.parametrize("view", list(MODELS))
def test_bulk_delete_skips_other_tenant_rows(app, ab, admin_a, view):
    a, b = ab
    before = snapshot(app, b)
    token = csrf_token(admin_a.get(f"/admin/{view}/").get_data(as_text=True))
    ids = [MODELS[view][0](b)]
    if view == "user":
        ids.append(b["users"]["south-admin"])
    action = {"inbox": "mark_read", "apitoken": "revoke"}.get(view, "delete")
    resp = admin_a.post(f"/admin/{view}/action/", data={
        "action": action, "rowid": [str(i) for i in ids], "csrf_token": token})
    assert resp.status_code == 302
    assert snapshot(app, b) == before


@pytest.mark.parametrize("view", EXPORTABLE)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_holds_only_own_tenant(app, ab, admin_a, view, fmt):
    resp = admin_a.get(f"/admin/{view}/export/{fmt}/")
    assert resp.status_code == 200
    body = resp.data
    if fmt == "xlsx":
        import io

        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(body))
        text = "\n".join(str(c) for row in wb.active.iter_rows(values_only=True) for c in row)
    else:
        text = body.decode("utf-8")
    assert "north" in text and "south" not in text


def test_relation_dropdowns_offer_only_own_tenant(app, ab, admin_a):
    for url in ("/admin/user/new/", "/admin/orgunit/new/",
                f"/admin/user/edit/?id={ab[0]['users']['north-t1-staff']}"):
        html = admin_a.get(url).get_data(as_text=True)
        assert "north第1镇" in html, url
        assert "south" not in html, url


def test_ajax_loader_offers_only_own_tenant(app, ab, admin_a):
    for query in ("south", "第1镇", ""):
        resp = admin_a.get(f"/admin/user/ajax/lookup/?name=org_unit&query={query}")
        assert resp.status_code == 200
        names = [label for _, label in json.loads(resp.data)]
        assert all("south" not in n for n in names), names
    assert json.loads(admin_a.get("/admin/user/ajax/lookup/?name=org_unit&query=north").data)


def test_user_form_cannot_assign_a_unit_of_another_tenant(app, ab, admin_a):
    a, b = ab
    before = snapshot(app, b)
    page = admin_a.get("/admin/user/new/").get_data(as_text=True)
    resp = admin_a.post("/admin/user/new/", data={
        "csrf_token": csrf_token(page), "username": "sneaky", "full_name": "x", "role": "township_staff",
        "org_unit": str(b["towns"][0]), "password": "Long-enough-1", "active": "y"})
    assert resp.status_code == 200  # the form comes back with an error
    assert "请选择所属单位" in resp.get_data(as_text=True)  # B's unit is no choice at all for A
    assert snapshot(app, b) == before
    with app.app_context(), use_scope(Scope(a["id"])):
        assert db.session.scalar(select(User).where(User.username == "sneaky")) is None


# -- township and village scoping inside one tenant ---------------------------------------------

def test_township_user_sees_only_its_township(app, ab, client_for):
    a = ab[0]
    client = client_for("north-t1-staff")
    html = client.get("/admin/orgunit/").get_data(as_text=True)
    assert "north第1镇" in html and "north第1镇第2村" in html
    assert "north第2镇" not in html
    assert client.get(f"/admin/orgunit/details/?id={a['towns'][1]}").status_code == 404
    assert client.get(f"/admin/orgunit/details/?id={a['villages'][1][0]}").status_code == 404
    assert client.get(f"/admin/orgunit/details/?id={a['villages'][0][0]}").status_code == 200
    export = client.get("/admin/orgunit/export/csv/").data.decode()
    assert "north第1镇" in export and "north第2镇" not in export
    assert "north第2镇" not in client.get("/admin/orgunit/?search=第2镇").get_data(as_text=True)


def test_village_user_sees_only_its_village(app, ab, client_for):
    a = ab[0]
    client = client_for("north-t1-village")
    html = client.get("/admin/orgunit/").get_data(as_text=True)
    assert "north第1镇第1村" in html
    assert "north第1镇第2村" not in html and "north第2镇" not in html
    assert client.get(f"/admin/orgunit/details/?id={a['villages'][0][1]}").status_code == 404
    assert client.get(f"/admin/orgunit/details/?id={a['towns'][0]}").status_code == 404


def test_read_only_roles_cannot_edit_or_delete(app, ab, client_for):
    a = ab[0]
    before = snapshot(app, a)
    client = client_for("north-t1-staff")
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    unit = a["villages"][0][0]
    client.post(f"/admin/orgunit/edit/?id={unit}", data={"name": "改名", "csrf_token": token})
    client.post("/admin/orgunit/delete/", data={"id": str(unit), "csrf_token": token})
    client.post("/admin/orgunit/action/", data={"action": "delete", "rowid": [str(unit)], "csrf_token": token})
    assert snapshot(app, a) == before


def test_every_tenant_owned_model_with_a_screen_is_in_this_matrix(app):
    """A new tenant-owned model with an admin view must be added to MODELS above."""
    from jiuzhu.tenancy.mixins import TenantScoped

    admin = app.extensions["admin"][0]
    screened = {v.endpoint for v in admin._views
                if getattr(v, "model", None) is not None and issubclass(v.model, TenantScoped)}
    assert screened == set(MODELS)
