"""Migration 0015 on a database that already holds a county's data in clear, on PostgreSQL and on
SQLite: every personal value is encrypted in place, the blind index filled, the audit chain verified
with the old SHA-256 and then re-keyed — and a chain already broken stops the migration, unchanged."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from contextlib import contextmanager

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from jiuzhu import create_app
from jiuzhu.audit import check_chain
from jiuzhu.audit.canonical import canonical
from jiuzhu.audit.models import AuditEvent
from jiuzhu.auth.models import User
from jiuzhu.cases.households import Household, Member
from jiuzhu.cases.idcard import make_id_number
from jiuzhu.cases.services import household_of_person
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.warnings.models import WarningTicket
from jiuzhu.workflow.models import Step
from tests.conftest import TEST_KEYS, scratch_database

PERSON = make_id_number("341021", dt.date(1968, 3, 12), 13)
SUPPORTER = make_id_number("341021", dt.date(1992, 5, 5), 72)
PHONE = "13800001111"
AT = dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.UTC)
HASHED = ("tenant_id", "seq", "at", "actor_id", "actor_name", "actor_role", "entity_type", "entity_id", "action",
          "before", "after", "reason", "case_id")


@contextmanager
def postgres_at_0014(database_urls):
    with scratch_database(database_urls, "m15") as (app, engine):
        with app.app_context():
            upgrade(revision="0014")
            db.session.remove()
        yield app, engine


@contextmanager
def sqlite_at_0014(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.db'}", "SECRET_KEY": "x",
                      "JIUZHU_PASSWORD_HASHING": "fast", "JIUZHU_SECURE_COOKIES": False, "JIUZHU_KEYS": TEST_KEYS})
    with app.app_context():
        upgrade(revision="0014")
        db.session.remove()
        engine = db.engine
    yield app, engine


def legacy_hash(fields: dict, prev: str) -> str:
    """The first release's unkeyed hash."""
    return hashlib.sha256((canonical({k: fields[k] for k in HASHED}) + prev).encode()).hexdigest()


def seed_legacy(engine, *, broken: bool = False) -> None:
    """A county as the previous release left it: numbers and phones in clear, an unkeyed chain."""
    pg = engine.dialect.name == "postgresql"
    json_ = "CAST(:j AS json)" if pg else ":j"
    at = AT if pg else AT.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    with engine.begin() as c:
        c.execute(text("INSERT INTO tenants (id, code, name, plugin_key, plugin_settings, active, created_at) "
                       f"VALUES (1, 'sx', '歙县', 'shexian', {json_}, true, :at)"), {"j": "{}", "at": at})
        for uid, parent, level, name in ((1, None, "county", "歙县"), (2, 1, "township", "溪头镇"),
                                         (3, 2, "village", "汪满田村")):
            c.execute(text("INSERT INTO org_units (id, tenant_id, parent_id, level, name, active) "
                           "VALUES (:i, 1, :p, :l, :n, true)"), {"i": uid, "p": parent, "l": level, "n": name})
        c.execute(text("INSERT INTO users (id, tenant_id, username, full_name, role, org_unit_id, password_hash, phone, "
                       "active, created_at) VALUES (1, 1, 'sx-staff', '汪某', 'township_staff', 2, 'x', :p, true, :at)"),
                  {"p": PHONE, "at": at})
        c.execute(text("INSERT INTO households (id, tenant_id, township_id, village_id, address, phone, tags, created_at) "
                       f"VALUES (1, 1, 2, 3, '汪满田村 1 组', :p, {json_}, :at)"), {"p": PHONE, "j": "[]", "at": at})
        c.execute(text("INSERT INTO household_members (id, tenant_id, household_id, name, id_number, birth_date, sex, "
                       "relation, coresident, disability_grade, health, work_ability, working) VALUES "
                       "(1, 1, 1, '汪建国', :n, :b, 'male', 'head', true, 0, 'serious', 'partial', false)"),
                  {"n": PERSON, "b": dt.date(1968, 3, 12)})
        c.execute(text("INSERT INTO legal_supporters (id, tenant_id, household_id, name, id_number, duty, monthly_income, "
                       "monthly_support_paid) VALUES (1, 1, 1, '汪丽', :n, '赡养', 3000, 100)"), {"n": SUPPORTER})
        c.execute(text("INSERT INTO cases (id, tenant_id, township_id, village_id, household_id, kind, channel, categories, "
                       "status, plugin_key, consent_classification, applied_on, round, due_provisional, extended, "
                       "paused_workdays, priority, created_at, version, decision_reason) VALUES (1, 1, 2, 3, 1, "
                       f"'application', 'window', {json_}, 'investigating', 'shexian', true, :d, 1, false, false, 0, "
                       "false, :at, 1, '户主重病')"), {"j": '["dibao"]', "d": dt.date(2026, 3, 2), "at": at})
        c.execute(text("INSERT INTO case_steps (id, tenant_id, case_id, township_id, key, round, level, status, opened_on, "
                       f"opened_at, due_provisional, extended, data, version) VALUES (1, 1, 1, 2, 'home_investigation', "
                       f"1, 'township', 'done', :d, :at, false, false, {json_}, 1)"),
                  {"d": dt.date(2026, 3, 2), "at": at, "j": json.dumps({"findings": "户主重病住院"}, ensure_ascii=False)})
        c.execute(text("INSERT INTO warning_tickets (id, tenant_id, township_id, id_number, source_ref, summary, "
                       "received_on, due_on, due_provisional, due_rule, status, visitors, created_at) VALUES "
                       f"(1, 1, 2, :n, 'YJ-1', '大额医疗支出', :d, :d, false, '5 个工作日', 'received', {json_}, :at)"),
                  {"n": PERSON, "d": dt.date(2026, 3, 2), "j": "[]", "at": at})
        prev = "0" * 64
        payloads = [("org_unit", "1", "insert", None, {"name": "歙县", "level": "county"}, None),
                    ("household", "1", "insert", None, {"phone": PHONE, "address": "汪满田村 1 组"}, None),
                    ("household_member", "1", "insert", None, {"id_number": PERSON, "name": "汪建国"}, None),
                    ("household_member", "1", "update", {"id_number": PERSON}, {"id_number": PERSON}, "更正号码")]
        for seq, (etype, eid, action, before, after, reason) in enumerate(payloads, start=1):
            fields = {"tenant_id": 1, "seq": seq, "at": AT, "actor_id": None, "actor_name": "系统",
                      "actor_role": "system", "entity_type": etype, "entity_id": eid, "action": action,
                      "before": before, "after": after, "reason": reason, "case_id": None}
            digest = legacy_hash(fields, prev)
            if broken and seq == 3:
                after = {"id_number": PERSON, "name": "改过的名字"}  # edited after the fact
            c.execute(text("INSERT INTO audit_events (tenant_id, seq, at, actor_name, actor_role, entity_type, entity_id, "
                           f"action, before, after, reason, prev_hash, hash) VALUES (1, :s, :at, '系统', 'system', :t, "
                           f":e, :a, {json_.replace(':j', ':b')}, {json_.replace(':j', ':af')}, :r, :p, :h)"),
                      {"s": seq, "at": at, "t": etype, "e": eid, "a": action, "r": reason, "p": prev, "h": digest,
                       "b": None if before is None else json.dumps(before, ensure_ascii=False),
                       "af": json.dumps(after, ensure_ascii=False)})
            prev = digest
        c.execute(text("INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (1, 4, :h)"), {"h": prev})
        if pg:
            for table in ("tenants", "org_units", "users", "households", "household_members", "legal_supporters",
                          "cases", "case_steps", "warning_tickets"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)"))


def check_migrated(app, engine) -> None:
    with engine.connect() as c:
        raw = c.execute(text("SELECT id_number, id_number_bidx FROM household_members")).one()
        dump = " ".join(str(v) for v in c.execute(text(
            "SELECT h.phone, u.phone, s.id_number, w.id_number, k.data, e.before, e.after "
            "FROM households h, users u, legal_supporters s, warning_tickets w, case_steps k, audit_events e")).all())
        key_ids = set(c.execute(text("SELECT key_id FROM audit_events")).scalars())
    assert raw.id_number.startswith("E1.f1.") and raw.id_number_bidx.startswith("b1.")
    assert PERSON not in dump and SUPPORTER not in dump and PHONE not in dump and "户主重病住院" not in dump
    assert key_ids == {"a1"}
    with app.app_context(), use_scope(Scope(1)):
        assert db.session.scalar(select(Member.id_number)) == PERSON
        assert household_of_person(db.session, PERSON).id == 1
        assert db.session.get(Household, 1).phone == PHONE
        assert db.session.get(User, 1).phone == PHONE
        assert db.session.get(WarningTicket, 1).id_number == PERSON
        assert db.session.get(Step, 1).data == {"findings": "户主重病住院"}
        report = check_chain(db.session, 1)
        assert report.ok and report.events == 4, [b.message for b in report.breaks]
        last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert (last.before, last.reason) == ({"id_number": PERSON}, "更正号码")
        db.session.remove()


def test_0015_encrypts_a_postgres_county_in_place_and_rekeys_its_chain(database_urls):
    with postgres_at_0014(database_urls) as (app, engine):
        seed_legacy(engine)
        with app.app_context():
            upgrade()
            db.session.remove()
        check_migrated(app, engine)


def test_0015_does_the_same_on_the_sqlite_demo(tmp_path):
    with sqlite_at_0014(tmp_path) as (app, engine):
        seed_legacy(engine)
        with app.app_context():
            upgrade()
            db.session.remove()
        check_migrated(app, engine)


def test_a_broken_legacy_chain_stops_the_migration_and_nothing_changes(database_urls, capfd):
    with postgres_at_0014(database_urls) as (app, engine):
        seed_legacy(engine, broken=True)
        with app.app_context(), pytest.raises(SystemExit):  # `flask db upgrade` exits 1 with the message
            upgrade()
        assert "the audit chain of county 'sx' is broken at event 3" in capfd.readouterr().err
        with engine.connect() as c:
            assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0014"
            assert c.execute(text("SELECT id_number FROM household_members")).scalar() == PERSON
