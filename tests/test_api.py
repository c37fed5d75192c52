"""The integration API: retried submissions, tenant and org isolation, the village rule, refused
bodies that write nothing, tokens (revocation, last use, the audit trail), rate limits, warnings."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from jiuzhu.api.models import ApiToken, IdempotentRequest
from jiuzhu.audit.models import AuditEvent
from jiuzhu.auth.roles import Role
from jiuzhu.cases.households import Household
from jiuzhu.cases.idcard import make_id_number
from jiuzhu.cases.models import Case
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.warnings.models import WarningTicket
from tests.api_helpers import api_redis, application, auth, make_token  # noqa: F401

pytestmark = pytest.mark.usefixtures("api_redis")


def count(app, tenant_id: int, model) -> int:
    with app.app_context(), use_scope(Scope(tenant_id)):
        n = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return n


@pytest.fixture
def two(world):
    a = world.county("aa", plugin="shexian", townships=2, villages=2)
    b = world.county("bb", plugin="jingdezhen", townships=1, villages=1)
    return a, b


def submit(client, secret, body, key):
    return client.post("/api/v1/applications", json=body, headers=auth(secret, key))


def test_a_retried_submission_with_the_same_key_creates_one_case(app, two):
    a, _ = two
    secret = make_token(app, a, role=Role.township_staff, unit_id=a["towns"][0], name="省政务服务平台")
    client = app.test_client()
    body = application(a["villages"][0][0])
    first = submit(client, secret, body, "prov-0001")
    assert first.status_code == 201, first.get_json()
    again = submit(client, secret, body, "prov-0001")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert count(app, a["id"], Case) == 1 and count(app, a["id"], Household) == 1
    case = first.get_json()
    assert case["channel"] == "online" and case["status"] == "pending_acceptance"
    assert [s["key"] for s in case["timeline"]] == ["acceptance"]

    other = submit(client, secret, application(a["villages"][0][0], seq=2), "prov-0001")
    assert other.status_code == 409
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert count(app, a["id"], Case) == 1

    assert submit(client, secret, body, None).status_code == 400  # no key: refused, nothing written
    assert count(app, a["id"], Case) == 1


def test_parallel_retries_with_one_key_create_one_case(app, two):
    """Two deliveries of the same submission at the same moment: one writes, the other gets its answer."""
    import threading

    a, _ = two
    secret = make_token(app, a, role=Role.township_staff, unit_id=a["towns"][0])
    body = application(a["villages"][0][0])
    barrier = threading.Barrier(2)
    results = []

    def deliver():
        client = app.test_client()
        barrier.wait()
        r = submit(client, secret, body, "prov-parallel")
        results.append((r.status_code, r.get_json()))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [code for code, _ in results] == [201, 201], results
    assert results[0][1]["id"] == results[1][1]["id"]
    assert count(app, a["id"], Case) == 1 and count(app, a["id"], Household) == 1


def test_a_token_of_one_county_reaches_nothing_of_another(app, two):
    a, b = two
    a_secret = make_token(app, a, role=Role.county_staff)
    b_secret = make_token(app, b, role=Role.county_staff)
    client = app.test_client()
    a_case = submit(client, a_secret, application(a["villages"][0][0]), "a-1").get_json()
    b_case = submit(client, b_secret, application(b["villages"][0][0], seq=3, tags=[]), "b-1")
    assert b_case.status_code == 201, b_case.get_json()
    b_case = b_case.get_json()
    b_ticket = client.post("/api/v1/warnings", headers=auth(b_secret, "bw-1"), json={
        "township_id": b["towns"][0], "id_number": "11010519491231002X", "source_ref": "JDZ-1", "summary": "收入骤降",
        "received_on": "2026-03-02"}).get_json()

    assert client.get(f"/api/v1/cases/{b_case['id']}", headers=auth(a_secret)).status_code == 404
    assert client.get(f"/api/v1/warnings/{b_ticket['id']}", headers=auth(a_secret)).status_code == 404
    listed = client.get("/api/v1/cases", headers=auth(a_secret)).get_json()
    assert [c["id"] for c in listed["items"]] == [a_case["id"]]
    step = b_case["timeline"][0]["id"]
    r = client.post(f"/api/v1/cases/{b_case['id']}/steps/{step}/actions", headers=auth(a_secret, "x-1"),
                    json={"action": "accept"})
    assert r.status_code == 404
    r = client.post(f"/api/v1/cases/{b_case['id']}/materials", headers=auth(a_secret, "x-2"),
                    json={"key": "application_form"})
    assert r.status_code == 404
    # B's village and township are not A's to file into
    r = submit(client, a_secret, application(b["villages"][0][0], seq=4), "x-3")
    assert r.status_code == 422 and "village_id" in r.get_json()["error"]["fields"]
    r = client.post("/api/v1/warnings", headers=auth(a_secret, "x-4"), json={
        "township_id": b["towns"][0], "id_number": "11010519491231002X", "source_ref": "X-1", "summary": "x"})
    assert r.status_code == 422 and "township_id" in r.get_json()["error"]["fields"]
    # the publicity list of A shows nothing of B (B's case is not in publicity anyway: none of B's places)
    places = client.get("/api/v1/publicity", headers=auth(a_secret)).get_json()["places"]
    assert all(p["unit_id"] not in (b["towns"] + b["villages"][0]) for p in places)
    assert count(app, b["id"], Case) == 1 and count(app, a["id"], Case) == 1
    assert count(app, a["id"], WarningTicket) == 0


def test_a_village_token_cannot_decide_and_sees_only_its_village(app, two):
    a, _ = two
    town = make_token(app, a, role=Role.township_staff, unit_id=a["towns"][0])
    village = make_token(app, a, role=Role.village_assistant, unit_id=a["villages"][0][0], name="村协理员终端")
    client = app.test_client()
    own = submit(client, village, application(a["villages"][0][0]), "v-1")
    assert own.status_code == 201, own.get_json()
    assert own.get_json()["channel"] == "village_proxy"
    other = submit(client, town, application(a["villages"][0][1], seq=2), "t-1").get_json()

    case = client.get(f"/api/v1/cases/{own.get_json()['id']}", headers=auth(village)).get_json()
    step = case["timeline"][0]
    assert step["key"] == "acceptance" and step["actions"] == []  # nothing to decide is offered
    r = client.post(f"/api/v1/cases/{case['id']}/steps/{step['id']}/actions", headers=auth(village, "v-2"),
                    json={"action": "accept"})
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "village_rule"
    r = client.post(f"/api/v1/cases/{case['id']}/steps/{step['id']}/actions", headers=auth(village, "v-3"),
                    json={"action": "refuse", "reason": "不符合"})
    assert r.status_code == 403
    assert client.get(f"/api/v1/cases/{case['id']}", headers=auth(village)).get_json()["status"] == "pending_acceptance"

    assert client.get(f"/api/v1/cases/{other['id']}", headers=auth(village)).status_code == 404
    r = client.post("/api/v1/warnings", headers=auth(village, "v-4"), json={
        "township_id": a["towns"][0], "id_number": "11010519491231002X", "source_ref": "V-1", "summary": "x"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "township_acts"
    # another township's token sees none of this township's cases, and this one none of its
    town2 = make_token(app, a, role=Role.township_staff, unit_id=a["towns"][1])
    far = submit(client, town2, application(a["villages"][1][0], seq=5), "t2-1").get_json()
    assert client.get(f"/api/v1/cases/{far['id']}", headers=auth(town)).status_code == 404
    assert client.get(f"/api/v1/cases/{case['id']}", headers=auth(town2)).status_code == 404
    assert [c["id"] for c in client.get("/api/v1/cases", headers=auth(town2)).get_json()["items"]] == [far["id"]]
    assert [c["id"] for c in client.get("/api/v1/cases", headers=auth(village)).get_json()["items"]] == [case["id"]]
    # the township token may accept the village's application
    town_view = client.get(f"/api/v1/cases/{case['id']}", headers=auth(town)).get_json()
    assert "accept" in town_view["timeline"][0]["actions"]
    r = client.post(f"/api/v1/cases/{case['id']}/steps/{step['id']}/actions", headers=auth(town, "t-2"),
                    json={"action": "accept"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "in_review"
    # the step's own form is the engine's: missing answers come back by field, and nothing moves
    visit = next(s for s in r.get_json()["timeline"] if s["status"] == "open" and "done" in s["actions"])
    r = client.post(f"/api/v1/cases/{case['id']}/steps/{visit['id']}/actions", headers=auth(town, "t-3"),
                    json={"action": "done", "data": {}})
    assert r.status_code == 422 and r.get_json()["error"]["fields"], r.get_json()
    again = client.get(f"/api/v1/cases/{case['id']}", headers=auth(town)).get_json()
    assert next(s for s in again["timeline"] if s["id"] == visit["id"])["status"] == "open"


def test_malformed_and_oversized_bodies_get_4xx_with_field_messages_and_write_nothing(app, two):
    a, _ = two
    secret = make_token(app, a, role=Role.township_staff, unit_id=a["towns"][0])
    client = app.test_client()
    r = client.post("/api/v1/applications", data="{not json", content_type="application/json",
                    headers=auth(secret, "m-1"))
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed_json"
    r = client.post("/api/v1/applications", json=[1, 2], headers=auth(secret, "m-2"))
    assert r.status_code == 400
    r = client.post("/api/v1/applications", data="a=1", headers=auth(secret, "m-3"))
    assert r.status_code == 415
    body = application(a["villages"][0][0])
    body["members"][0]["id_number"] = "123"
    del body["address"]
    body["surprise"] = 1
    r = submit(client, secret, body, "m-4")
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "validation_error" and error["message_zh"] and error["message_en"]
    assert set(error["fields"]) >= {"address", "members.0.id_number", "surprise"}
    assert error["fields"]["address"] == ["此项必填。"] and error["fields"]["surprise"] == ["没有这个字段。"]
    # valid in shape, refused by the service layer (an invalid check digit): still by message, nothing written
    body = application(a["villages"][0][0])
    body["members"][0]["id_number"] = body["members"][0]["id_number"][:-1] + ("0" if body["members"][0]["id_number"][-1] != "0" else "1")
    r = submit(client, secret, body, "m-5")
    assert r.status_code == 422 and "校验位" in r.get_json()["error"]["fields"]["members.0.id_number"][0]
    big = application(a["villages"][0][0], address="村" * 10)
    big["registered_place"] = "x" * (1024 * 1024)
    r = submit(client, secret, big, "m-6")
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "payload_too_large"
    assert count(app, a["id"], Case) == 0 and count(app, a["id"], Household) == 0
    assert count(app, a["id"], IdempotentRequest) == 0


def test_tokens_are_hashed_revocable_record_their_use_and_sign_the_audit_trail(app, two, owner_engine):
    a, _ = two
    secret = make_token(app, a, role=Role.township_staff, unit_id=a["towns"][0], name="省政务服务平台")
    with owner_engine.connect() as conn:
        stored = conn.execute(text("SELECT secret_hash, last_used_at FROM api_tokens")).one()
    assert secret not in stored[0] and stored[1] is None
    client = app.test_client()
    assert client.get("/api/v1/cases", headers=auth(secret)).status_code == 200
    assert client.get("/api/v1/cases", headers=auth(secret + "x")).status_code == 401
    assert client.get("/api/v1/cases").status_code == 401
    submit(client, secret, application(a["villages"][0][0]), "k-1")
    with app.app_context(), use_scope(Scope(a["id"])):
        token = db.session.scalar(select(ApiToken))
        assert token.last_used_at is not None
        actors = set(db.session.scalars(select(AuditEvent.actor_name).where(AuditEvent.action == "open")))
        assert any("省政务服务平台" in name for name in actors), actors
        from jiuzhu.api.tokens import revoke_token
        from jiuzhu.auth.models import User

        revoke_token(db.session, db.session.get(User, a["users"]["aa-admin"]), token.id)
        db.session.commit()
        db.session.remove()
    assert client.get("/api/v1/cases", headers=auth(secret)).status_code == 401


def test_a_logged_in_session_is_not_an_api_credential(app, two, client_for):
    client = client_for("aa-t1-staff")
    r = client.get("/api/v1/cases")
    assert r.status_code == 401


def test_rate_limit_per_token_answers_429_with_retry_after(app, two):
    a, _ = two
    app.config["JIUZHU_API_RATE_PER_MINUTE"] = 3
    one = make_token(app, a, role=Role.county_staff)
    other = make_token(app, a, role=Role.county_staff)
    client = app.test_client()
    codes = [client.get("/api/v1/cases", headers=auth(one)).status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200]
    if codes[3] != 429:  # the 4 requests straddled a minute boundary: one more is over in the new window
        codes.append(client.get("/api/v1/cases", headers=auth(one)).status_code)
    last = client.get("/api/v1/cases", headers=auth(one))
    assert last.status_code == 429
    assert 1 <= int(last.headers["Retry-After"]) <= 60
    assert last.get_json()["error"]["code"] == "rate_limited"
    assert client.get("/api/v1/cases", headers=auth(other)).status_code == 200


@pytest.mark.parametrize("plugin,workdays", [("shexian", 5), ("jingdezhen", 20)])
def test_warning_tickets_follow_the_plugin_deadline_and_get_reminders(app, world, plugin, workdays):
    from jiuzhu.calendar import add_workdays
    from jiuzhu.reminders.models import Reminder

    c = world.county("ww", plugin=plugin, townships=1, villages=1)
    secret = make_token(app, c, role=Role.county_staff, name="低收入人口监测平台")
    client = app.test_client()
    body = {"township_id": c["towns"][0], "id_number": "11010519491231002X", "source_ref": "YJ-2026-1",
            "summary": "大额医疗支出", "received_on": "2026-03-02"}
    r = client.post("/api/v1/warnings", json=body, headers=auth(secret, "w-1"))
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        expected = add_workdays(dt.date(2026, 3, 2), workdays).due
    assert r.get_json()["due_on"] == expected.isoformat()
    assert r.get_json()["due_on"] == {5: "2026-03-09", 20: "2026-03-30"}[workdays]
    assert client.post("/api/v1/warnings", json=body, headers=auth(secret, "w-1")).status_code == 201
    assert count(app, c["id"], WarningTicket) == 1
    with app.app_context(), use_scope(Scope(c["id"])):
        kinds = db.session.scalars(select(Reminder.kind).where(Reminder.subject == "warning")).all()
        db.session.remove()
    assert "due" in kinds and "overdue" in kinds


def test_warning_reminders_reach_the_township_and_stop_once_decided(app, world, owner_engine):
    from jiuzhu.reminders.dispatch import dispatch_due
    from jiuzhu.reminders.models import Notification, Reminder

    c = world.county("wr", plugin="jingdezhen", townships=2, villages=1)
    secret = make_token(app, c, role=Role.county_staff, name="低收入人口监测平台")
    client = app.test_client()
    tickets = []
    for i, ref in enumerate(("YJ-A", "YJ-B")):
        r = client.post("/api/v1/warnings", headers=auth(secret, ref), json={
            "township_id": c["towns"][0], "id_number": make_id_number("360203", dt.date(1960, 1, 1), 11 + i),
            "source_ref": ref, "summary": "收入骤降", "received_on": "2026-03-02"})
        assert r.status_code == 201, r.get_json()
        tickets.append(r.get_json())
    with owner_engine.begin() as conn:  # the township decided ticket B (its own screens do this)
        conn.execute(text("UPDATE warning_tickets SET status = 'decided' WHERE id = :i"), {"i": tickets[1]["id"]})
    staff, other_town = c["users"]["wr-t1-staff"], c["users"]["wr-t2-staff"]
    with app.app_context(), use_scope(Scope(c["id"])):
        dispatch_due(db.session, dt.date.fromisoformat(tickets[0]["due_on"]))
        titles = db.session.scalars(select(Notification.title).where(Notification.user_id == staff)).all()
        elsewhere = db.session.scalars(select(Notification.title).where(Notification.user_id == other_town)).all()
        states = dict(db.session.execute(select(Reminder.subject_id, Reminder.status)
                                         .where(Reminder.kind == "due")).all())
        db.session.remove()
    assert any("YJ-A" in t for t in titles) and not any("YJ-B" in t for t in titles)
    assert elsewhere == []
    assert states[tickets[1]["id"]] == "cancelled"


def test_the_publicity_list_of_a_token_shows_its_own_county_only(app, world):
    from jiuzhu.auth.models import User
    from jiuzhu.demo_cases import advance
    from jiuzhu.workflow import engine

    a = world.county("pa", plugin="shexian", townships=1, villages=1)
    b = world.county("pb", plugin="shexian", townships=1, villages=1)
    a_secret, b_secret = make_token(app, a, role=Role.county_staff), make_token(app, b, role=Role.county_staff)
    client = app.test_client()
    r = submit(client, b_secret, application(b["villages"][0][0]), "pb-1")
    assert r.status_code == 201, r.get_json()
    with app.app_context(), use_scope(Scope(b["id"])):
        case = db.session.get(Case, r.get_json()["id"])
        people = {level: db.session.get(User, b["users"][name]) for level, name in
                  (("township", "pb-t1-staff"), ("county", "pb-county"), ("village", "pb-t1-village"))}
        advance(db.session, case, people.__getitem__, dt.date(2026, 3, 5), stop_at="publicity")
        db.session.commit()
        assert any(s.key == "publicity" for s in engine.load_view(db.session, case).open_steps)
        db.session.remove()
    shown_b = client.get("/api/v1/publicity", headers=auth(b_secret)).get_json()
    shown_a = client.get("/api/v1/publicity", headers=auth(a_secret)).get_json()
    assert "汪*国" in str(shown_b["places"]) and "汪建国" not in str(shown_b["places"])
    assert "汪*国" not in str(shown_a["places"])
