"""The audit trail: automatic and explicit events, one hash chain per tenant, append-only in the
database, tamper detection, concurrent appends and tenant isolation — on real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from jiuzhu import create_app
from jiuzhu.audit import BreakKind, check_chain, record, verify
from jiuzhu.audit.canonical import canonical, jsonable
from jiuzhu.audit.capture import REDACTED, AppendOnlyError
from jiuzhu.audit.chain import GENESIS, event_hash
from jiuzhu.audit.context import SYSTEM, Actor, actor_for, current_actor, use_actor
from jiuzhu.audit.models import AuditEvent, AuditHead
from jiuzhu.auth.models import User
from jiuzhu.auth.roles import Role
from jiuzhu.auth.services import create_user, set_password
from jiuzhu.crypto.types import keyring
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import NoScopeError, Scope, ScopeError, use_scope
from jiuzhu.tenancy.models import OrgLevel, OrgUnit
from jiuzhu.tenancy.services import add_org_unit, county_root, create_tenant
from tests.conftest import PASSWORD, TEST_KEYS, csrf_token, signed_tenant

CLERK = Actor(id=None, name="汪某（xt-staff）", role="township_staff")


@pytest.fixture
def county(world):
    return world.county("aa")


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args):
        result = runner.invoke(args=list(args))
        with app.app_context():
            db.session.remove()
        return result

    return run


@contextmanager
def in_county(app, tenant, actor: Actor | None = None):
    """An app context in the tenant's scope (and as ``actor``); the session is removed afterwards."""
    with app.app_context(), use_scope(Scope(tenant["id"])), use_actor(actor):
        try:
            yield db.session
        finally:
            db.session.remove()


def chain(app, tenant) -> list[AuditEvent]:
    with in_county(app, tenant) as session:
        return session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()


def events_of(app, tenant, entity_type: str, entity_id) -> list[AuditEvent]:
    return [e for e in chain(app, tenant) if e.entity_type == entity_type and e.entity_id == str(entity_id)]


def breaks(app, tenant):
    with in_county(app, tenant) as session:
        return [(b.kind, b.seq) for b in verify(session, tenant["id"])]


# -- the canonical form and the hash --------------------------------------------------------------

def test_canonical_json_is_sorted_compact_and_keeps_chinese():
    assert canonical({"b": 1, "a": "歙县", "c": [True, None, 1.5]}) == '{"a":"歙县","b":1,"c":[true,null,1.5]}'
    assert canonical({"z": {"y": 1, "x": 2}}) == '{"z":{"x":2,"y":1}}'


def test_canonical_json_renders_times_decimals_and_enums_one_way():
    shanghai = dt.timezone(dt.timedelta(hours=8))
    at = dt.datetime(2026, 1, 2, 8, 30, tzinfo=shanghai)
    assert canonical(at) == '"2026-01-02T00:30:00.000000Z"'
    assert canonical(at) == canonical(at.astimezone(dt.UTC))  # one instant, one text
    assert canonical(dt.date(2026, 2, 3)) == '"2026-02-03"'
    assert canonical(Decimal("1E+2")) == '"100"' and canonical(Decimal("1.10")) == '"1.10"'
    assert canonical(OrgLevel.village) == '"village"' and canonical(Role.county_admin) == '"county_admin"'
    assert canonical((1, 2)) == "[1,2]" and canonical({3, 1, 2}) == "[1,2,3]"
    assert canonical(float("nan")) == '"nan"'


def test_canonical_json_survives_a_round_trip_through_storage():
    value = {"at": dt.datetime(2026, 5, 1, 12, 0, 0, 7, tzinfo=dt.UTC), "amount": Decimal("812.50"),
             "level": OrgLevel.township, "n": 10**18, "x": 0.1, "name": "溪头镇", "ok": False, "none": None}
    stored = json.loads(json.dumps(jsonable(value)))
    assert canonical(stored) == canonical(value)
    assert jsonable(jsonable(value)) == jsonable(value)


def test_canonical_json_refuses_what_it_cannot_render_faithfully():
    with pytest.raises(TypeError):
        canonical({"x": object()})


def test_the_hash_format_is_pinned():
    """Changing the format would break every chain already stored: this test must never change.

    HMAC-SM3 (SM3 of GB/T 32905 in RFC 2104's construction) under the audit key, over the canonical
    JSON followed by the previous hash; checked against an HMAC built by hand from the bare hash."""
    fields = {"tenant_id": 1, "seq": 1, "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "actor_id": None,
              "actor_name": "系统", "actor_role": "system", "entity_type": "case", "entity_id": "7",
              "action": "insert", "before": None, "after": {"状态": "受理"}, "reason": None, "case_id": 7}
    text_ = ('{"action":"insert","actor_id":null,"actor_name":"系统","actor_role":"system",'
             '"after":{"状态":"受理"},"at":"2026-01-01T00:00:00.000000Z","before":null,"case_id":7,'
             '"entity_id":"7","entity_type":"case","reason":null,"seq":1,"tenant_id":1}')
    key = bytes(range(32))  # an obviously-test key
    assert event_hash(fields, GENESIS, key) == _hmac_sm3_by_hand(key, (text_ + GENESIS).encode("utf-8"))
    assert event_hash(fields, GENESIS, key) == "c76a4c80e035727028bd0b363d4336802ba54a34b56119e4548711f868ca05fa"
    assert event_hash(fields, GENESIS, bytes(32)) != event_hash(fields, GENESIS, key)  # no key, no hash
    assert event_hash(fields, GENESIS, key) != hashlib.sha256((text_ + GENESIS).encode("utf-8")).hexdigest()


def _hmac_sm3_by_hand(key: bytes, message: bytes) -> str:
    """RFC 2104 over SM3 (64-byte blocks), from the bare hash: the pinned value does not rest only on
    the HMAC code it checks."""
    from cryptography.hazmat.primitives import hashes

    def sm3(data: bytes) -> bytes:
        h = hashes.Hash(hashes.SM3())
        h.update(data)
        return h.finalize()

    block = key.ljust(64, b"\0")
    inner = sm3(bytes(b ^ 0x36 for b in block) + message)
    return sm3(bytes(b ^ 0x5C for b in block) + inner).hex()


# -- the actor -----------------------------------------------------------------------------------

def test_with_no_one_acting_the_actor_is_the_system():
    assert current_actor() is SYSTEM
    with use_actor(CLERK):
        assert current_actor() == CLERK
    assert current_actor() is SYSTEM


def test_a_users_actor_is_a_snapshot_of_name_and_role(app, county):
    with in_county(app, county) as session:
        user = session.get(User, county["users"]["aa-t1-staff"])
        user.full_name = "汪某"
        assert actor_for(user) == Actor(user.id, "汪某（aa-t1-staff）", "township_staff")
        session.rollback()


# -- automatic capture through the service layer ---------------------------------------------------

def test_new_org_units_and_users_are_recorded_with_the_whole_row(app, county):
    with in_county(app, county, CLERK) as session:
        town = session.get(OrgUnit, county["towns"][0])
        unit = add_org_unit(session, parent=town, name="新村", division_code="341021107201")
        user = create_user(session, username="aa-new", full_name="新人", role=Role.village_assistant,
                           password=PASSWORD, org_unit=unit, phone="13800000000")
        session.commit()
        unit_id, user_id = unit.id, user.id
    [unit_event] = events_of(app, county, "org_unit", unit_id)
    assert unit_event.action == "insert" and unit_event.before is None
    assert unit_event.after == {"id": unit_id, "parent_id": county["towns"][0], "level": "village", "name": "新村",
                                "division_code": "341021107201", "active": True, "contact_phone": None}
    assert (unit_event.actor_id, unit_event.actor_name, unit_event.actor_role) == (None, CLERK.name, CLERK.role)
    [user_event] = events_of(app, county, "user", user_id)
    assert user_event.action == "insert" and user_event.seq == unit_event.seq + 1
    after = user_event.after
    assert after["username"] == "aa-new" and after["role"] == "village_assistant"
    assert after["org_unit_id"] == unit_id and after["active"] is True
    assert after["password_hash"] == REDACTED
    assert after["created_at"].endswith("Z")
    assert "tenant_id" not in after and "last_login_at" not in after
    assert after["email"] is None  # never assigned: the whole row still names it


def test_the_county_root_is_the_first_event_of_a_new_tenant(app, county):
    first = chain(app, county)[0]
    assert (first.seq, first.prev_hash, first.entity_type, first.action) == (1, GENESIS, "org_unit", "insert")
    assert first.after == {"id": county["root"], "parent_id": None, "level": "county", "name": "aa县",
                           "division_code": None, "active": True, "contact_phone": None}


def test_no_event_ever_holds_a_password_hash(app, county, client_for):
    client_for("aa-admin")  # a login, too
    with in_county(app, county) as session:
        user = session.get(User, county["users"]["aa-county"])
        set_password(db.session, user, "Changed-pass-2026")
        session.commit()
    dumped = json.dumps([[e.before, e.after] for e in chain(app, county)], ensure_ascii=False)
    assert "argon2" not in dumped and "$" not in dumped
    assert REDACTED in dumped


def test_an_update_records_only_the_changed_fields_with_their_old_values(app, county):
    uid = county["users"]["aa-t1-staff"]
    with in_county(app, county, CLERK) as session:
        user = session.get(User, uid)
        other_town = session.get(OrgUnit, county["towns"][1])
        session.commit()  # expires the user: the old values must still be found
        user.full_name = "汪某"
        user.phone = "13900000000"
        user.role = Role.township_staff  # unchanged: not recorded
        user.org_unit = other_town
        set_password(db.session, user, "Another-pass-2026")
        session.commit()
    event = events_of(app, county, "user", uid)[-1]
    assert event.action == "update"
    assert event.before == {"full_name": "aa-t1-staff", "phone": None, "org_unit_id": county["towns"][0],
                            "password_hash": REDACTED}
    assert event.after == {"full_name": "汪某", "phone": "13900000000", "org_unit_id": county["towns"][1],
                           "password_hash": REDACTED}


def test_a_delete_records_the_whole_row_and_a_no_op_records_nothing(app, county):
    uid = county["users"]["aa-t1-village"]
    with in_county(app, county) as session:
        user = session.get(User, uid)
        session.commit()
        user.full_name = user.full_name  # no change
        session.commit()
        n = len(chain(app, county))
        session.delete(user)  # user is expired: the row is loaded before it goes
        session.commit()
    events = chain(app, county)
    assert len(events) == n + 1
    event = events[-1]
    assert (event.entity_type, event.entity_id, event.action, event.after) == ("user", str(uid), "delete", None)
    assert event.before["username"] == "aa-t1-village" and event.before["password_hash"] == REDACTED


def test_logging_in_is_not_an_audit_event(app, county, client_for):
    n = len(chain(app, county))
    client_for("aa-t1-staff")
    assert len(chain(app, county)) == n


def test_platform_rows_have_no_chain(app, world):
    world.operator()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditHead.__table__)) == 0


# -- through the admin screens ---------------------------------------------------------------------

def test_admin_screen_changes_are_recorded_as_the_logged_in_user(app, county, client_for):
    admin_id, staff_id = county["users"]["aa-admin"], county["users"]["aa-t1-staff"]
    client = client_for("aa-admin")
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    resp = client.post(f"/admin/user/edit/?id={staff_id}", data={
        "csrf_token": token, "full_name": "汪某", "role": "township_staff", "org_unit": str(county["towns"][0]),
        "phone": "", "email": "", "active": "y", "password": "Another-pass-2026"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    resp = client.post("/admin/orgunit/new/", data={
        "csrf_token": token, "parent": str(county["towns"][0]), "name": "后台新村", "division_code": ""})
    assert resp.status_code == 302
    resp = client.post("/admin/user/delete/", data={"id": str(county["users"]["aa-t2-village"]),
                                                    "csrf_token": token})
    assert resp.status_code == 302

    update, insert, delete = chain(app, county)[-3:]
    for event in (update, insert, delete):
        assert (event.actor_id, event.actor_name, event.actor_role) == (admin_id, "aa-admin（aa-admin）",
                                                                        "county_admin")
    assert (update.entity_type, update.entity_id, update.action) == ("user", str(staff_id), "update")
    # an admin's reset is recorded, and obliges the user to choose their own password
    assert update.before == {"full_name": "aa-t1-staff", "password_hash": REDACTED, "must_change_password": False}
    assert update.after == {"full_name": "汪某", "password_hash": REDACTED, "must_change_password": True}
    assert (insert.entity_type, insert.action, insert.after["name"]) == ("org_unit", "insert", "后台新村")
    assert (delete.entity_type, delete.action, delete.before["username"]) == ("user", "delete", "aa-t2-village")
    assert breaks(app, county) == []


# -- explicit events --------------------------------------------------------------------------------

def test_record_appends_a_semantic_event_with_its_reason(app, county):
    with in_county(app, county, CLERK) as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
        event = record(session, entity_type="case", entity_id=42, action="extend",
                       before={"deadline": dt.date(2026, 3, 2)}, after={"deadline": dt.date(2026, 3, 16)},
                       reason="入户调查需补充材料，经乡镇负责人同意延长", case_id=42)
        session.commit()
        assert (event.seq, event.prev_hash) == (last.seq + 1, last.hash)
        assert event.entity_id == "42" and event.before == {"deadline": "2026-03-02"}
        assert event.actor_name == CLERK.name and event.at.tzinfo is not None
        timeline = session.scalars(select(AuditEvent).where(AuditEvent.case_id == 42)).all()
        assert timeline == [event]
        head = session.scalars(select(AuditHead)).one()
        assert (head.seq, head.hash) == (event.seq, event.hash)
    assert breaks(app, county) == []


def test_record_comes_after_the_pending_changes_it_follows(app, county):
    with in_county(app, county) as session:
        town = session.get(OrgUnit, county["towns"][0])
        town.name = "溪头镇"
        seq = record(session, entity_type="org_unit", entity_id=town.id, action="rename", reason="区划调整").seq
        session.commit()
    update, renamed = chain(app, county)[-2:]
    assert (update.action, update.after, renamed.seq) == ("update", {"name": "溪头镇"}, seq)
    assert update.seq == renamed.seq - 1


def test_a_rollback_leaves_no_event(app, county):
    before = [(e.seq, e.hash) for e in chain(app, county)]
    with in_county(app, county) as session:
        record(session, entity_type="case", entity_id=1, action="transition", reason="作废")
        session.get(OrgUnit, county["towns"][0]).name = "不会保存"
        session.flush()
        session.rollback()
    assert [(e.seq, e.hash) for e in chain(app, county)] == before
    assert breaks(app, county) == []


def test_record_needs_a_tenant(app, county):
    with app.app_context():
        with pytest.raises(NoScopeError):
            record(db.session, entity_type="case", entity_id=1, action="x")
        with use_scope(Scope.platform()), pytest.raises(NoScopeError):
            record(db.session, entity_type="case", entity_id=1, action="x")
        db.session.remove()


def test_events_cannot_be_changed_through_the_orm(app, county):
    with in_county(app, county) as session:
        event = session.scalars(select(AuditEvent).limit(1)).one()
        event.reason = "改一改"
        with pytest.raises(AppendOnlyError):
            session.flush()
        session.rollback()
        session.delete(session.scalars(select(AuditEvent).limit(1)).one())
        with pytest.raises(AppendOnlyError):
            session.flush()
        session.rollback()


# -- verification and tampering ----------------------------------------------------------------------

def test_an_untouched_chain_verifies(app, county, world, cli):
    world.county("bb", townships=1, villages=1)
    with in_county(app, county) as session:
        report = check_chain(session, county["id"])
        n = session.scalar(select(func.count()).select_from(AuditEvent))
    assert report.ok and report.events == n == report.last_seq > 0
    r = cli("audit", "verify")
    assert r.exit_code == 0, r.output
    assert f"aa县：共 {n} 条，链完整" in r.output and "bb县：共" in r.output
    r = cli("audit", "verify", "--tenant", "bb")
    assert r.exit_code == 0 and "aa县" not in r.output and "链完整" in r.output
    r = cli("audit", "verify", "--tenant", "nowhere")
    assert r.exit_code == 1 and "没有代码为“nowhere”的县（区）" in r.output


@contextmanager
def tampering(owner_engine):
    """As the owner, with the append-only trigger off for this one transaction only."""
    with owner_engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        yield conn
        conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


def test_altered_content_is_reported_with_its_seq(app, county, owner_engine, cli):
    with tampering(owner_engine) as conn:
        conn.execute(text("UPDATE audit_events SET after = :a WHERE tenant_id = :t AND seq = 3"),
                     {"a": '{"name": "篡改"}', "t": county["id"]})
    assert breaks(app, county) == [(BreakKind.content_altered, 3)]
    r = cli("audit", "verify")
    assert r.exit_code == 1
    assert "发现 1 处问题" in r.output and "第 3 条：内容被改动" in r.output


def test_a_rewritten_hash_breaks_the_next_link(app, county, owner_engine):
    """A forger who even holds the audit key and recomputes the altered event's hash still breaks the
    link of the next one (without the key the hash cannot be made to fit at all: test_audit_keyed.py)."""
    with in_county(app, county) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.seq == 3)).one()
        forged = {**{c: getattr(event, c) for c in ("tenant_id", "seq", "at", "actor_id", "actor_name", "actor_role",
                                                    "entity_type", "entity_id", "action", "before", "reason",
                                                    "case_id")}, "after": {"name": "篡改"}}
        new_hash = event_hash(forged, event.prev_hash, keyring().audit.get(event.key_id))
        ciphertext = AuditEvent.__table__.c.after.type.encrypt({"name": "篡改"}, county["id"])
    with tampering(owner_engine) as conn:
        conn.execute(text("UPDATE audit_events SET after = :a, hash = :h WHERE tenant_id = :t AND seq = 3"),
                     {"a": ciphertext, "h": new_hash, "t": county["id"]})
    assert breaks(app, county) == [(BreakKind.broken_link, 4)]


def test_a_deleted_event_is_a_gap(app, county, owner_engine, cli):
    with tampering(owner_engine) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE tenant_id = :t AND seq IN (5, 6)"), {"t": county["id"]})
    assert breaks(app, county) == [(BreakKind.gap, 5)]
    r = cli("audit", "verify", "--tenant", "aa")
    assert r.exit_code == 1 and "第 5 条：记录缺失——第 5–6 条不存在" in r.output


def test_deleting_the_last_events_is_a_head_mismatch(app, county, owner_engine, cli):
    with tampering(owner_engine) as conn:
        last = conn.execute(text("SELECT max(seq) FROM audit_events WHERE tenant_id = :t"),
                            {"t": county["id"]}).scalar()
        conn.execute(text("DELETE FROM audit_events WHERE tenant_id = :t AND seq = :s"),
                     {"t": county["id"], "s": last})
    assert breaks(app, county) == [(BreakKind.head_mismatch, last)]
    r = cli("audit", "verify")
    assert r.exit_code == 1 and f"链头记为第 {last} 条，而最后一条记录是第 {last - 1} 条" in r.output


def test_the_trigger_refuses_even_the_owner(app, county, owner_engine):
    for sql in ("UPDATE audit_events SET reason = 'x'", "DELETE FROM audit_events"):
        with owner_engine.begin() as conn, pytest.raises(Exception, match="append-only"):
            conn.execute(text(sql))
    assert breaks(app, county) == []


# -- the database's walls ---------------------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "UPDATE audit_events SET reason = 'x'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
    "DELETE FROM audit_heads",
])
def test_the_application_role_cannot_rewrite_history(app_engine, county, sql):
    with app_engine.connect() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed_tenant(county["id"])})
        with pytest.raises(Exception, match="permission denied"):
            conn.execute(text(sql))
        conn.rollback()


def test_row_level_security_keeps_each_tenants_events_apart(app_engine, county, world):
    b = world.county("bb", townships=1, villages=1)
    with app_engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed_tenant(county["id"])})
        for table in ("audit_events", "audit_heads"):
            assert set(conn.execute(text(f"SELECT DISTINCT tenant_id FROM {table}")).scalars()) == {county["id"]}
    with app_engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar() == 0  # no tenant set
    with app_engine.connect() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed_tenant(county["id"])})
        with pytest.raises(Exception, match="row-level security"):
            conn.execute(text(
                "INSERT INTO audit_events (tenant_id, seq, at, actor_name, actor_role, entity_type, entity_id, "
                "action, prev_hash, hash) VALUES (:b, 999, now(), 'x', 'x', 'x', 'x', 'x', 'x', 'x')"),
                {"b": b["id"]})
        conn.rollback()


def test_a_tenant_never_sees_another_tenants_events_through_the_orm(app, county, world):
    b = world.county("bb", townships=1, villages=1)
    b_event_ids = [e.id for e in chain(app, b)]
    assert b_event_ids
    with in_county(app, county) as session:
        assert set(session.scalars(select(AuditEvent.tenant_id).distinct())) == {county["id"]}
        assert all(session.get(AuditEvent, i) is None for i in b_event_ids)
        assert [h.tenant_id for h in session.scalars(select(AuditHead))] == [county["id"]]
        with pytest.raises(ScopeError):
            verify(session, b["id"])
    with app.app_context(), pytest.raises(NoScopeError):
        db.session.scalars(select(AuditEvent)).all()


# -- concurrency ---------------------------------------------------------------------------------------

def test_concurrent_appends_of_one_tenant_make_one_linear_chain(app, county, owner_engine):
    """Two threads, each in its own session and connection, append 50 times each — half explicit
    events, half automatic ones — starting from no chain at all, so they also race to create the head."""
    with owner_engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_events, audit_heads"))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            with in_county(app, county, Actor(None, f"线程{n}", "system")) as session:
                barrier.wait()
                for i in range(50):
                    if i % 2:
                        record(session, entity_type="case", entity_id=n, action="note", after={"i": i})
                    else:
                        session.get(OrgUnit, county["towns"][n]).name = f"镇{n}-{i}"
                    session.commit()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    events = chain(app, county)
    assert [e.seq for e in events] == list(range(1, 101))
    assert all(e.prev_hash == p.hash for p, e in zip(events, events[1:], strict=False))
    assert {e.actor_name for e in events} == {"线程0", "线程1"}
    assert breaks(app, county) == []


def test_the_head_is_locked_before_the_row_writes_so_writers_do_not_deadlock(app, county):
    """A holds the head and town X and goes on to change town Y; B changes Y meanwhile. B must
    wait for the head before it writes Y — were the head taken after the row writes, B would hold
    Y while waiting for the head, and A would wait for Y: a deadlock."""
    x, y = county["towns"]
    a_holds_the_head = threading.Event()
    errors: list[BaseException] = []

    def writer_b() -> None:
        try:
            with in_county(app, county) as session:
                town = session.get(OrgUnit, y)
                a_holds_the_head.wait()
                town.name = "乙改"
                session.commit()
        except BaseException as exc:
            errors.append(exc)

    b = threading.Thread(target=writer_b)
    b.start()
    with in_county(app, county) as session:
        town_x, town_y = session.get(OrgUnit, x), session.get(OrgUnit, y)
        town_x.name = "甲改"
        session.flush()
        a_holds_the_head.set()
        time.sleep(0.5)  # B is now waiting for the head
        town_y.name = "甲改乙"
        session.commit()
    b.join(timeout=30)
    assert not errors, errors
    with in_county(app, county) as session:
        assert session.get(OrgUnit, y).name == "乙改"  # B went second
    assert breaks(app, county) == []


# -- SQLite, for the demo ----------------------------------------------------------------------------

def test_the_trail_works_on_sqlite(tmp_path):
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.db'}", "SECRET_KEY": "x",
                      "JIUZHU_PASSWORD_HASHING": "fast", "JIUZHU_SECURE_COOKIES": False, "JIUZHU_KEYS": TEST_KEYS})
    with app.app_context():
        upgrade()
        with use_scope(Scope.platform()):
            tenant = create_tenant(db.session, app.extensions["jiuzhu.plugins"], code="shexian", name="歙县",
                                   plugin_key="shexian")
            db.session.commit()
            tid = tenant.id
        with use_scope(Scope(tid)), use_actor(CLERK):
            town = add_org_unit(db.session, parent=county_root(db.session), name="溪头镇")
            user = create_user(db.session, username="xt-staff", full_name="汪某", role=Role.township_staff,
                               password=PASSWORD, org_unit=town)
            db.session.commit()
            user.phone = "13800000000"
            record(db.session, entity_type="case", entity_id=1, action="extend", reason="补充材料", case_id=1)
            db.session.commit()
            report = check_chain(db.session, tid)
            events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        db.session.remove()
        db.engine.dispose()
    assert report.ok and report.events == 5
    assert [e.action for e in events] == ["insert", "insert", "insert", "update", "extend"]
    assert events[-1].at.tzinfo is not None and events[3].after == {"phone": "13800000000"}
