"""The keyed, anchored audit chain against the database owner: every rewrite is done as the owner
with raw SQL (the append-only trigger switched off first, as a real attacker would), and
``flask audit verify`` must say so — without the key through the keyed hashes, with the key through
the anchors written outside the database."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from sqlalchemy import select, text

from jiuzhu.audit import BreakKind, check_chain
from jiuzhu.audit.anchors import anchor_audit_heads, anchor_root, read_anchors
from jiuzhu.audit.chain import GENESIS, HASHED_FIELDS, event_hash
from jiuzhu.audit.context import Actor, use_actor
from jiuzhu.audit.models import AuditEvent
from jiuzhu.audit.services import record
from jiuzhu.crypto.types import keyring
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgUnit

CLERK = Actor(id=None, name="汪某（xt-staff）", role="township_staff")


@pytest.fixture
def county(world, app):
    c = world.county("aa")
    with in_county(app, c, CLERK) as session:  # a few events more, explicit and automatic
        for i in range(4):
            record(session, entity_type="case", entity_id=7, action="extend", reason=f"第 {i} 次延期", case_id=7)
            session.get(OrgUnit, c["towns"][0]).name = f"溪头镇{i}"
            session.commit()
    return c


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
def in_county(app, tenant, actor=None):
    with app.app_context(), use_scope(Scope(tenant["id"])), use_actor(actor):
        try:
            yield db.session
        finally:
            db.session.remove()


@contextmanager
def as_owner(owner_engine):
    """The database owner, append-only trigger off for this one transaction."""
    with owner_engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        yield conn
        conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


def plain_events(app, tenant) -> list[dict]:
    """What the owner would have to know to recompute hashes: every event in the clear (generous to
    the attacker — without the field key they could not even read the payloads)."""
    with in_county(app, tenant) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        return [{**{name: getattr(e, name) for name in HASHED_FIELDS},
                 "id": e.id, "prev_hash": e.prev_hash, "hash": e.hash} for e in events]


def rewrite(owner_engine, events: list[dict], start: int, key: bytes) -> None:
    """As the owner: recompute every hash from seq ``start`` on with ``key`` (relinking each event)
    and move the head to the new last hash."""
    prev = events[start - 2]["hash"] if start > 1 else GENESIS
    with as_owner(owner_engine) as conn:
        for event in events[start - 1:]:
            new = event_hash(event, prev, key)
            conn.execute(text("UPDATE audit_events SET actor_name = :n, prev_hash = :p, hash = :h WHERE id = :id"),
                         {"n": event["actor_name"], "p": prev, "h": new, "id": event["id"]})
            event["hash"], prev = new, new
        conn.execute(text("UPDATE audit_heads SET seq = :s, hash = :h WHERE tenant_id = :t"),
                     {"s": events[-1]["seq"], "h": prev, "t": events[-1]["tenant_id"]})


def audit_key(app) -> tuple[str, bytes]:
    with app.app_context():
        return keyring().audit.active()


def kinds(app, tenant, anchors=()):
    with in_county(app, tenant) as session:
        return [(b.kind, b.seq) for b in check_chain(session, tenant["id"], anchors=anchors).breaks]


def anchors_of(app, tenant):
    with app.app_context():
        good, bad = read_anchors(anchor_root(app), tenant["id"], tenant["code"])
    assert not bad
    return good


# -- without the key: the keyed hashes ------------------------------------------------------------------

def test_a_middle_event_edited_and_rehashed_without_the_key_is_found(app, county, owner_engine, cli):
    events = plain_events(app, county)
    middle = len(events) // 2
    events[middle - 1]["actor_name"] = "县民政局局长"  # who did it, rewritten
    rewrite(owner_engine, events, middle, bytes(32))  # the project's own code, any key but ours
    found = kinds(app, county)
    assert found[0] == (BreakKind.content_altered, middle)
    assert {k for k, _ in found} == {BreakKind.content_altered}  # links and head were made to fit
    r = cli("audit", "verify", "--tenant", "aa")
    assert r.exit_code == 1 and "链完整" not in r.output
    assert f"第 {middle} 条：内容被改动——记录内容与其密钥哈希不符" in r.output


def test_the_old_unkeyed_sha256_no_longer_fits(app, county, owner_engine):
    """Rewritten the way the first release's hashes were made (plain SHA-256): found at once."""
    import hashlib

    from jiuzhu.audit.canonical import canonical

    events = plain_events(app, county)
    prev = GENESIS
    with as_owner(owner_engine) as conn:
        for event in events:
            content = canonical({name: event[name] for name in HASHED_FIELDS})
            new = hashlib.sha256((content + prev).encode()).hexdigest()
            conn.execute(text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :id"),
                         {"p": prev, "h": new, "id": event["id"]})
            prev = new
        conn.execute(text("UPDATE audit_heads SET hash = :h"), {"h": prev})
    assert {k for k, _ in kinds(app, county)} == {BreakKind.content_altered}
    assert len(kinds(app, county)) == len(events)


def test_a_forged_event_appended_without_the_key_is_found(app, county, owner_engine, cli):
    events = plain_events(app, county)
    last = events[-1]
    forged = {**last, "seq": last["seq"] + 1, "action": "revoke", "entity_type": "case", "entity_id": "7",
              "before": None, "after": None, "reason": None}
    new_hash = event_hash(forged, last["hash"], bytes(32))
    with as_owner(owner_engine) as conn:
        conn.execute(text(
            "INSERT INTO audit_events (tenant_id, seq, at, actor_id, actor_name, actor_role, entity_type, entity_id, "
            "action, case_id, prev_hash, hash, key_id) VALUES (:t, :s, :at, NULL, :n, :r, 'case', '7', 'revoke', 7, "
            ":p, :h, :k)"),
            {"t": county["id"], "s": forged["seq"], "at": last["at"], "n": last["actor_name"], "r": last["actor_role"],
             "p": last["hash"], "h": new_hash, "k": audit_key(app)[0]})
        conn.execute(text("UPDATE audit_heads SET seq = :s, hash = :h WHERE tenant_id = :t"),
                     {"s": forged["seq"], "h": new_hash, "t": county["id"]})
    assert kinds(app, county) == [(BreakKind.content_altered, forged["seq"])]
    r = cli("audit", "verify")
    assert r.exit_code == 1 and f"第 {forged['seq']} 条：内容被改动" in r.output


def test_a_payload_ciphertext_swapped_between_events_is_found(app, county, owner_engine):
    """The owner cannot read the encrypted reasons, but could move them around: the keyed hash
    covers the plain payload, so the event no longer fits."""
    with in_county(app, county) as session:
        a, b = session.scalars(select(AuditEvent.seq).where(AuditEvent.reason.is_not(None))
                               .order_by(AuditEvent.seq).limit(2)).all()
    with as_owner(owner_engine) as conn:
        rows = {r.seq: r.reason for r in conn.execute(text(
            "SELECT seq, reason FROM audit_events WHERE tenant_id = :t AND seq IN (:a, :b)"),
            {"t": county["id"], "a": a, "b": b})}
        for seq, other in ((a, b), (b, a)):
            conn.execute(text("UPDATE audit_events SET reason = :r WHERE tenant_id = :t AND seq = :s"),
                         {"r": rows[other], "t": county["id"], "s": seq})
    assert kinds(app, county) == [(BreakKind.content_altered, a), (BreakKind.content_altered, b)]


# -- with the key: the anchors ----------------------------------------------------------------------------

def test_a_middle_event_rewritten_with_the_key_is_found_against_the_anchors(app, county, owner_engine, cli):
    r = cli("audit", "anchor")
    assert r.exit_code == 0 and "aa县：已锚定第" in r.output, r.output
    events = plain_events(app, county)
    middle = len(events) // 2
    events[middle - 1]["actor_name"] = "县民政局局长"
    rewrite(owner_engine, events, middle, audit_key(app)[1])  # the key was stolen
    assert kinds(app, county) == []  # the chain alone cannot tell
    anchored_seq = events[-1]["seq"]
    assert kinds(app, county, anchors_of(app, county)) == [(BreakKind.anchor_mismatch, anchored_seq)]
    r = cli("audit", "verify")
    assert r.exit_code == 1 and "链完整" not in r.output
    assert f"第 {anchored_seq} 条：与锚点不符" in r.output and "锚定后记录被改写" in r.output


def test_the_last_events_deleted_and_the_head_moved_back_are_found(app, county, owner_engine, cli):
    assert cli("audit", "anchor").exit_code == 0
    events = plain_events(app, county)
    keep = events[-3]
    with as_owner(owner_engine) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE tenant_id = :t AND seq > :s"),
                     {"t": county["id"], "s": keep["seq"]})
        conn.execute(text("UPDATE audit_heads SET seq = :s, hash = :h WHERE tenant_id = :t"),
                     {"s": keep["seq"], "h": keep["hash"], "t": county["id"]})
    assert kinds(app, county) == []  # a consistent, shorter chain
    r = cli("audit", "verify")
    assert r.exit_code == 1
    assert (f"第 {events[-1]['seq']} 条：与锚点不符" in r.output
            and f"现存最后一条是第 {keep['seq']} 条" in r.output), r.output


def test_emptied_tables_do_not_verify_as_an_intact_empty_chain(app, county, owner_engine, cli):
    assert cli("audit", "anchor").exit_code == 0
    last = plain_events(app, county)[-1]["seq"]
    with owner_engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_events, audit_heads"))
    r = cli("audit", "verify")
    assert r.exit_code == 1
    assert "aa县：共 0 条，发现 1 处问题" in r.output and "链完整" not in r.output
    assert f"第 {last} 条：与锚点不符" in r.output and "整条链被清空" in r.output


def test_a_forged_or_edited_anchor_file_is_not_trusted(app, county, cli):
    assert cli("audit", "anchor").exit_code == 0
    [anchor] = anchors_of(app, county)
    doc = json.loads(anchor.path.read_text(encoding="utf-8"))
    doc["seq"] = 1  # whoever can write the directory but lacks the key
    anchor.path.write_text(json.dumps(doc), encoding="utf-8")
    r = cli("audit", "verify")
    assert r.exit_code == 1 and "锚点：锚点文件不可信" in r.output and "签名无效" in r.output


def test_a_broken_chain_is_not_anchored(app, county, owner_engine, cli):
    """Anchoring first checks what happened since the last anchor: a forgery is never blessed."""
    assert cli("audit", "anchor").exit_code == 0
    with in_county(app, county, CLERK) as session:
        record(session, entity_type="case", entity_id=7, action="extend", reason="再次延期", case_id=7)
        session.commit()
    events = plain_events(app, county)
    events[-1]["actor_name"] = "他人"
    rewrite(owner_engine, events, len(events), bytes(32))
    r = cli("audit", "anchor")
    assert r.exit_code == 1 and "aa县：未锚定" in r.output and "内容被改动" in r.output
    assert len(anchors_of(app, county)) == 1


def test_the_daily_job_anchors_every_active_county(app, county, world):
    b = world.county("bb", townships=1, villages=1)
    with app.app_context():  # as a worker runs it: job_app() is this app
        result = anchor_audit_heads()
    assert set(result["anchored"]) == {"aa", "bb"} and result["refused"] == []
    for tenant in (county, b):
        [anchor] = anchors_of(app, tenant)
        assert anchor.seq == plain_events(app, tenant)[-1]["seq"]
        assert kinds(app, tenant, [anchor]) == []


def test_verify_says_how_many_anchors_agree(app, county, cli):
    assert cli("audit", "anchor").exit_code == 0
    r = cli("audit", "verify")
    assert r.exit_code == 0 and "链完整，与 1 个锚点相符" in r.output, r.output
