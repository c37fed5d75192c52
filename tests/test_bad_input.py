"""Hostile and absurd input never gets a 500: every class of the probe that found 38 of them —
NUL bytes, numbers beyond what a column holds, NaN and fourteen-digit money, over-long text,
unknown enum values, negative pages, crafted cursors, deep JSON, dates in year 1 or 9999 — is
answered with a 4xx and a clear message, and writes nothing."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from sqlalchemy import text

from jiuzhu.cases.idcard import make_id_number
from tests.api_helpers import api_redis, application, auth, make_token  # noqa: F401
from tests.conftest import csrf_token

pytestmark = pytest.mark.usefixtures("api_redis")

ID = make_id_number("341021", dt.date(1980, 1, 1), 11)
BIG = "2147483648"
HUGE = "1099511627776"


@pytest.fixture
def county(world):
    return world.county("bad", plugin="baseline", townships=1, villages=1)


def households(owner_engine) -> int:
    with owner_engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM households")).scalar()


def intake(client, county, **changes):
    page = client.get("/admin/casework/new").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "village_id": str(county["villages"][0][0]), "address": "幸福路 1 号",
            "phone": "13800000000", "applied_on": "2026-10-09", "authorization_signed_on": "2026-10-09",
            "commitment_signed_on": "2026-10-09", "categories": "dibao", "channel": "window",
            "m0.name": "张三", "m0.id_number": ID, "m0.relation": "head", "m0.coresident": "y",
            "m0.wage": "300"}
    data.update(changes)
    return client.post("/admin/casework/new", data=data)


GETS = [
    "/admin/orgunit/details/?id=abc",
    f"/admin/orgunit/details/?id={BIG}",
    f"/admin/orgunit/edit/?id={HUGE}",
    "/admin/user/details/?id=-1",
    "/admin/orgunit/?page=-1",
    "/admin/orgunit/?page=abc",
    "/admin/orgunit/?flt0_level_equals=nonsense",
    "/admin/orgunit/?flt0_0=nonsense",
    "/admin/user/?flt0_role_equals=emperor",
    "/admin/user/?flt1_active_equals=maybe",
    "/admin/orgunit/?sort=999",
    "/admin/orgunit/?search=%00",
    "/admin/casework/?after=" + base64.urlsafe_b64encode(b"notadate|abc").decode(),
    "/admin/casework/?after=" + base64.urlsafe_b64encode(b"2026-01-01|99999999999999").decode(),
    "/admin/casework/?after=%%%",
    f"/admin/casework/?village_id={HUGE}",
    "/admin/casework/?channel=nonsense&category=nonsense&step_key=%00",
    f"/admin/casework/cases?after={HUGE}",
    "/admin/casework/cases?status=nonsense",
    f"/admin/casework/{BIG}",
    f"/admin/casework/household/{HUGE}",
    f"/public/bad/{HUGE}/",
    f"/public/bad/{HUGE}/sheet.pdf",
    "/admin/inbox/?id=abc",
]


@pytest.mark.parametrize("path", GETS)
def test_crafted_urls_get_a_clear_refusal_never_a_500(app, county, client_for, path):
    who = "bad-admin" if path.startswith(("/admin/orgunit", "/admin/user", "/admin/inbox")) else "bad-t1-staff"
    resp = client_for(who).get(path)
    assert resp.status_code < 500, (path, resp.get_data(as_text=True)[:300])


@pytest.mark.parametrize(("changes", "message"), [
    ({"m0.wage": "NaN"}, "不是有效金额"),
    ({"m0.wage": "Infinity"}, "不是有效金额"),
    ({"m0.wage": "12345678901234"}, "过大"),
    ({"m0.wage": "-5"}, "不能为负数"),
    ({"m0.name": "张" * 300}, "姓名过长"),
    ({"address": "路" * 5000}, "家庭住址过长"),
    ({"phone": "1" * 200}, "联系电话过长"),
    ({"m0.disability": "abc"}, "残疾等级"),
    ({"applied_on": "0001-01-01"}, "不能早于"),
    ({"applied_on": "9999-12-31"}, "不能晚于今天"),
    ({"applied_on": "2027-03-01"}, "不能晚于今天"),
    ({"authorization_signed_on": "2026-02-30"}, "格式应为"),
    ({"village_id": HUGE}, "请选择该户所在的村"),
    ({"m0.relation": "emperor"}, "与户主关系"),
    ({"channel": "pigeon"}, "渠道"),
])
def test_intake_refuses_absurd_values_with_a_message_and_writes_nothing(app, county, client_for, owner_engine,
                                                                       changes, message):
    resp = intake(client_for("bad-t1-staff"), county, **changes)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400, html[:500]
    assert message in html
    assert households(owner_engine) == 0


def test_nul_bytes_anywhere_are_refused(app, county, client_for, owner_engine):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    resp = client.post("/login", data={"username": "bad\x00admin", "password": "x\x00", "csrf_token": csrf_token(page)})
    assert resp.status_code == 400 and "控制字符" in resp.get_data(as_text=True)
    resp = intake(client_for("bad-t1-staff"), county, **{"m0.name": "张\x00三"})
    assert resp.status_code == 400 and households(owner_engine) == 0
    token = make_token(app, county, username="bad-t1-staff")
    body = application(county["villages"][0][0])
    body["address"] = "幸福路\u0000"
    resp = app.test_client().post("/api/v1/applications", json=body, headers=auth(token, "nul-1"))
    assert resp.status_code == 422 and resp.json["error"]["code"] == "validation_error"
    assert households(owner_engine) == 0


@pytest.mark.parametrize("change", [
    {"members": [{"name": "张三", "id_number": ID, "relation": "head",
                  "incomes": {"wage": "NaN"}}]},
    {"members": [{"name": "张三", "id_number": ID, "relation": "head",
                  "incomes": {"wage": "12345678901234"}}]},
    {"members": [{"name": "张" * 500, "id_number": ID, "relation": "head"}]},
    {"address": "路" * 5000},
    {"phone": "1" * 500},
    {"channel": "pigeon"},
    {"applied_on": "0001-01-01"},
    {"applied_on": "9999-12-31"},
    {"village_id": int(HUGE)},
    {"categories": ["nonsense"]},
])
def test_api_refuses_absurd_values_with_422(app, county, owner_engine, change):
    token = make_token(app, county, username="bad-t1-staff")
    body = application(county["villages"][0][0])
    body.update(change)
    resp = app.test_client().post("/api/v1/applications", json=body, headers=auth(token, f"k-{hash(str(change))}"))
    assert resp.status_code in (400, 404, 409, 422), resp.get_data(as_text=True)[:500]
    assert households(owner_engine) == 0


def test_json_nested_absurdly_deep_is_malformed_not_a_crash(app, county):
    token = make_token(app, county, username="bad-t1-staff")
    deep = "[" * 100_000 + "]" * 100_000
    resp = app.test_client().post("/api/v1/applications", data=deep, content_type="application/json",
                                  headers=auth(token, "deep-1"))
    assert resp.status_code == 400 and resp.json["error"]["code"] == "malformed_json"
    resp = app.test_client().post("/api/v1/applications", data=json.dumps({"a": 1}), content_type="application/json",
                                  headers=auth(token, "deep-2"))
    assert resp.status_code == 422


@pytest.mark.parametrize("share", ["nan", "inf", "-inf", "1e400", "abc"])
def test_a_spot_check_share_that_is_not_a_number_is_refused(app, world, client_for, share):
    world.county("jdz", plugin="jingdezhen", townships=1, villages=1)  # a county whose rule has spot checks
    client = client_for("jdz-county")
    page = client.get("/admin/spotchecks/").get_data(as_text=True)
    resp = client.post("/admin/spotchecks/draw", data={
        "csrf_token": csrf_token(page), "sample_share": share, "on_site_share": "30", "window_days": "90"})
    assert resp.status_code == 302
    assert "不是有效比例" in client.get("/admin/spotchecks/").get_data(as_text=True)


def test_a_user_email_is_checked_not_crashed(app, county, client_for):
    admin = client_for("bad-admin")
    uid = county["users"]["bad-t1-staff"]
    page = admin.get(f"/admin/user/edit/?id={uid}").get_data(as_text=True)
    for email, ok in (("not-an-email", False), ("staff@county.example.cn", True)):
        resp = admin.post(f"/admin/user/edit/?id={uid}", data={
            "csrf_token": csrf_token(page), "full_name": "bad-t1-staff", "role": "township_staff",
            "org_unit": str(county["towns"][0]), "active": "y", "password": "", "email": email})
        assert resp.status_code == (302 if ok else 200), email
        if not ok:
            assert "电子邮箱格式不正确" in resp.get_data(as_text=True)


def test_a_worklist_category_with_like_wildcards_matches_no_category(app, world, client_for):
    """The worklist's 类别 filter compares the category as typed: ``%`` or ``_`` in a crafted URL are
    characters, not wildcards that would match every category."""
    import datetime as dt

    from tests.test_workflow_baseline import new_case

    world.county("base", plugin="baseline", townships=1, villages=1)
    case_id = new_case(app, on=dt.date(2026, 9, 30))  # 低保 (dibao)
    staff = client_for("base-t1-staff")

    def listed(category: str) -> bool:
        html = staff.get("/admin/casework/", query_string={"category": category}).get_data(as_text=True)
        return f'/admin/casework/{case_id}"' in html

    assert listed("dibao") and not listed("tekun")
    assert not listed("%") and not listed("dib_o") and not listed("%dibao%")
