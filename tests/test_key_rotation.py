"""Keys outside the database and their rotation, online: ``flask keys status|rotate|retire``.

A county is seeded through the services; a second application over the same database holds the old
keys plus a new active one (what every process has after ``python -m jiuzhu.crypto add-key`` and a
restart); a third holds only the new key — if it reads everything, nothing was left behind."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import select, text

from jiuzhu import create_app
from jiuzhu.audit import check_chain
from jiuzhu.auth.models import User
from jiuzhu.auth.roles import Role
from jiuzhu.auth.services import create_user
from jiuzhu.cases.households import Household, Member
from jiuzhu.cases.idcard import make_id_number
from jiuzhu.cases.models import Case
from jiuzhu.cases.services import MemberInput, household_of_person, register_household
from jiuzhu.config import ConfigError
from jiuzhu.crypto.cipher import DecryptionError, associated_data, decrypt_text, encrypt_text
from jiuzhu.crypto.keys import add_key, load_keyring, parse_keyring, remove_key, write_key_file
from jiuzhu.crypto.types import EncryptedBytes, EncryptedColumnError, encrypted_columns, keyring
from jiuzhu.db import Base
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.workflow import engine
from tests.conftest import PASSWORD, TEST_KEYS, make_app
from tests.factories import acting, household_of_four, village_of

HOUSEHOLDS = 12
SCAN = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def keys_with(*purposes: str) -> dict:
    """The run's key document with a new active key for each purpose."""
    document = json.loads(TEST_KEYS)
    for purpose in purposes:
        add_key(document, purpose)
    return document


def without(document: dict, *key_ids: str) -> dict:
    """The same keys, some old ones removed (retired)."""
    document = json.loads(json.dumps(document))
    for key_id in key_ids:
        remove_key(document, key_id)
    return document


@pytest.fixture
def apps(database_urls):
    made = []

    def make(document: dict | None = None, **config):
        app = make_app(database_urls, **({"JIUZHU_KEYS": json.dumps(document)} if document else {}), **config)
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def county(world, app):
    c = world.county("kr", townships=1, villages=1)
    for seq in range(1, HOUSEHOLDS + 1):
        with acting(app, "kr-t1-staff") as user:
            household = household_of_four(db.session, user, seq=seq)
            case = engine.open_case(db.session, user, household=household, categories=["dibao"], channel="window",
                                    applied_on=dt.date(2026, 3, 2))
            case.decision_reason = f"第 {seq} 户：父亲重病，家庭人均收入低于标准"
            if seq == 1:  # a scanned ID card: binary envelopes rotate too
                from jiuzhu.cases.files import attach_file

                db.session.flush()
                attach_file(db.session, user, case.id, case.materials[0].key, filename="身份证.png", data=SCAN)
    with app.app_context(), use_scope(Scope.platform()):  # a platform row too: the operator's phone
        create_user(db.session, username="ops", full_name="运维", role=Role.platform_operator, password=PASSWORD,
                    phone="13600000000")
        db.session.commit()
        db.session.remove()
    return c


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    with app.app_context():
        db.session.remove()
    return result


def values_under(owner_engine, key_id: str) -> int:
    """As the database owner: how many stored values of every encrypted column name ``key_id``."""
    total = 0
    with owner_engine.connect() as conn:
        for table, column in encrypted_columns(Base.metadata):
            if isinstance(column.type, EncryptedBytes):
                where = f"substring(\"{column.name}\" from 1 for {len(key_id) + 4}) = :b"
                params = {"b": f"E1.{key_id}.".encode()}
            else:
                where, params = f'"{column.name}" LIKE :p', {"p": f"E1.{key_id}.%"}
            total += conn.execute(text(f"SELECT count(*) FROM {table.name} WHERE {where}"), params).scalar()
    return total


def chain_ok(app, tenant_id) -> bool:
    with app.app_context(), use_scope(Scope(tenant_id)):
        report = check_chain(db.session, tenant_id)
        db.session.remove()
    return report.ok and report.events > 0


@contextmanager
def county_scope(app, county):
    with app.app_context(), use_scope(Scope(county["id"])):
        try:
            yield db.session
        finally:
            db.session.remove()


# -- the keys themselves ----------------------------------------------------------------------------------

def test_production_refuses_to_start_without_keys(database_urls, tmp_path):
    with pytest.raises(ConfigError, match="No encryption keys: set JIUZHU_KEYS_FILE"):
        make_app(database_urls, JIUZHU_KEYS=None)
    path = tmp_path / "keys.json"
    write_key_file(path, json.loads(TEST_KEYS), replace=False)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(ConfigError, match="Both JIUZHU_KEYS and JIUZHU_KEYS_FILE are set"):
        make_app(database_urls, JIUZHU_KEYS_FILE=str(path))
    os.chmod(path, 0o666)
    with pytest.raises(ConfigError, match="may be written by group or others"):
        make_app(database_urls, JIUZHU_KEYS=None, JIUZHU_KEYS_FILE=str(path))
    with pytest.raises(ConfigError, match="does not exist"):
        make_app(database_urls, JIUZHU_KEYS=None, JIUZHU_KEYS_FILE=str(tmp_path / "missing.json"))


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["field"].update(active="nope"), "the active field key 'nope' is not among its keys"),
    (lambda d: d["audit"]["keys"].update(a1="c2hvcnQ="), "audit key 'a1' must be 32 bytes"),
    (lambda d: d["blind_index"]["keys"].update({"f1": d["blind_index"]["keys"]["b1"]}), "is used twice"),
    (lambda d: d.pop("format"), "format"),
])
def test_a_bad_key_document_is_refused_naming_the_problem_never_a_key(change, message):
    document = json.loads(TEST_KEYS)
    change(document)
    with pytest.raises(ConfigError) as refused:
        parse_keyring(document, "JIUZHU_KEYS")
    assert message in str(refused.value)
    assert not any(k in str(refused.value) for p in ("field", "audit") for k in document[p]["keys"].values())


def test_ciphertexts_are_bound_to_their_column_county_and_key():
    keys = load_keyring({"JIUZHU_KEYS": TEST_KEYS}).field
    token = encrypt_text(keys, b"34102119680312001X", associated_data("household_members.id_number", 1))
    assert decrypt_text(keys, token, associated_data("household_members.id_number", 1)) == b"34102119680312001X"
    assert token != encrypt_text(keys, b"34102119680312001X", associated_data("household_members.id_number", 1))
    for aad in (associated_data("legal_supporters.id_number", 1), associated_data("household_members.id_number", 2)):
        with pytest.raises(DecryptionError, match="authentication failed"):
            decrypt_text(keys, token, aad)  # copied into another column, or another county's row
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(DecryptionError):
        decrypt_text(keys, tampered, associated_data("household_members.id_number", 1))
    with pytest.raises(DecryptionError, match="not an encrypted value"):
        decrypt_text(keys, "34102119680312001X", associated_data("household_members.id_number", 1))
    other = parse_keyring(without(keys_with("field"), "f1"), "x").field
    with pytest.raises(DecryptionError, match="key 'f1', which is not configured"):
        decrypt_text(other, token, associated_data("household_members.id_number", 1))


def test_an_encrypted_column_cannot_be_searched_in_sql(app, county):
    with county_scope(app, county) as session, pytest.raises(EncryptedColumnError, match="use its blind index"):
        session.scalars(select(Member).where(Member.id_number == "34102119680312001X")).all()


# -- rotation ---------------------------------------------------------------------------------------------

def test_rotation_moves_every_value_to_the_new_key(app, apps, county, owner_engine):
    document = keys_with("field")
    new = apps(document)
    before = values_under(owner_engine, "f1")
    assert before > 20 * HOUSEHOLDS and values_under(owner_engine, "f2") == 0
    status = cli(new, "keys", "status")
    assert "household_members.id_number：f1 " in status.output and "请运行 flask --app wsgi keys rotate" in status.output
    r = cli(new, "keys", "rotate", "--batch", "7")
    assert r.exit_code == 0, r.output
    # every value once, plus what was written meanwhile: the rotation's own audit event
    assert f"已将 {before} 个加密值转到当前密钥 f2" in r.output
    assert values_under(owner_engine, "f1") == 0
    status = cli(new, "keys", "status").output
    assert "全部加密字段和盲索引都在当前密钥下" in status and "case_material_files.data：f2（当前） 1" in status
    # an application without the old key reads everything, the audit trail included
    only_new = apps(without(document, "f1"))
    assert chain_ok(only_new, county["id"])
    with county_scope(only_new, county) as session:
        assert household_of_person(session, make_id_number("341021", dt.date(1968, 3, 12), 13)) is not None
        reasons = session.scalars(select(Case.decision_reason).order_by(Case.id)).all()
        assert reasons[0] == "第 1 户：父亲重病，家庭人均收入低于标准" and len(reasons) == HOUSEHOLDS
    with only_new.app_context(), use_scope(Scope.platform()):
        assert db.session.scalar(select(User.phone).where(User.username == "ops")) == "13600000000"
        db.session.remove()
    with county_scope(only_new, county) as session:
        from jiuzhu.cases.models import MaterialFile

        assert session.scalars(select(MaterialFile)).one().data == SCAN
    assert cli(only_new, "audit", "verify").exit_code == 0


def test_rotation_is_resumable_and_redoes_nothing(app, apps, county, owner_engine):
    new = apps(keys_with("field"))
    total = values_under(owner_engine, "f1")
    r = cli(new, "keys", "rotate", "--batch", "5", "--max-batches", "3")
    assert r.exit_code == 0 and "已按 --max-batches 停止" in r.output
    left = values_under(owner_engine, "f1")
    assert 0 < left < total
    first = total - left
    assert f"已将 {first} 个加密值" in r.output
    r = cli(new, "keys", "rotate")  # the restart picks up what is left, and only that
    assert r.exit_code == 0 and f"已将 {left} 个加密值" in r.output
    assert values_under(owner_engine, "f1") == 0
    assert chain_ok(new, county["id"])


def test_a_writer_loses_nothing_while_the_rotation_runs(app, apps, county, owner_engine):
    """A thread keeps changing a household's phone and a case's reasons (cases carry an optimistic
    lock) and registering new households while ``keys rotate`` runs in batches of 3."""
    document = keys_with("field")
    new = apps(document)
    with county_scope(new, county) as session:
        household_id = session.scalar(select(Household.id).order_by(Household.id))
        case_id = session.scalar(select(Case.id).order_by(Case.id))
    stop, rotating = threading.Event(), threading.Event()
    written: dict = {"phone": None, "reason": None, "people": [], "during": 0}
    errors: list[BaseException] = []

    def writer():
        try:
            i = 0
            while not stop.is_set():
                i += 1
                with acting(new, "kr-t1-staff") as user:
                    phone, reason = f"139{i:08d}", f"第 {i} 次补充：住院费用 {i} 万元"
                    db.session.get(Household, household_id).phone = phone
                    db.session.get(Case, case_id).decision_reason = reason
                    person = make_id_number("341021", dt.date(1980, 1, 1) + dt.timedelta(days=i), 11)
                    register_household(db.session, user, village=village_of(user), address=f"新户 {i}",
                                       members=[MemberInput(f"新户主{i}", person, "head")])
                written.update(phone=phone, reason=reason)
                written["people"].append(person)
                if rotating.is_set():
                    written["during"] += 1
                time.sleep(0.01)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    while not written["people"] and thread.is_alive():
        time.sleep(0.01)
    rotating.set()
    r = cli(new, "keys", "rotate", "--batch", "3")
    rotating.clear()
    time.sleep(0.1)
    stop.set()
    thread.join(timeout=60)
    assert not errors, errors
    assert r.exit_code == 0, r.output
    assert written["during"] >= 3, "the writer should have written while the rotation ran"
    assert cli(new, "keys", "rotate").exit_code == 0  # anything written under f1 before the restart
    assert values_under(owner_engine, "f1") == 0
    only_new = apps(without(document, "f1"))
    with county_scope(only_new, county) as session:
        assert session.get(Household, household_id).phone == written["phone"]
        assert session.get(Case, case_id).decision_reason == written["reason"]
        for person in written["people"]:
            found = household_of_person(session, person)
            assert found is not None and found.members[0].id_number == person
    assert chain_ok(only_new, county["id"])


def test_the_blind_index_key_rotates_and_lookups_work_throughout(app, apps, county, owner_engine):
    person = make_id_number("341021", dt.date(1968, 3, 12), 13)
    document = keys_with("blind_index")
    new = apps(document)
    with county_scope(new, county) as session:  # before the recompute: found under the old key
        assert household_of_person(session, person) is not None
    r = cli(new, "keys", "rotate", "--blind-index", "--batch", "10")
    assert r.exit_code == 0 and f"已将 {4 * HOUSEHOLDS} 个盲索引转到当前密钥 b2" in r.output, r.output
    with owner_engine.connect() as conn:
        prefixes = set(conn.execute(text("SELECT split_part(id_number_bidx, '.', 1) FROM household_members")).scalars())
        # the duplicate-benefit registry followed the members in the same transactions (its triggers)
        registered = conn.execute(text("SELECT split_part(person_bidx, '.', 1), count(*) FROM benefit_registry "
                                       "GROUP BY 1")).all()
    assert prefixes == {"b2"}
    assert registered == [("b2", 4 * HOUSEHOLDS)]
    only_new = apps(without(document, "b1"))
    with acting(only_new, "kr-t1-staff") as user:
        assert household_of_person(db.session, person) is not None
        with pytest.raises(Exception, match="已登记在本县其他家庭中"):  # the duplicate check still holds
            register_household(db.session, user, village=village_of(user), address="x",
                               members=[MemberInput("某人", person, "head")])


def test_a_key_is_retired_only_when_nothing_uses_it(app, apps, county, tmp_path):
    path = tmp_path / "keys.json"
    write_key_file(path, keys_with("field"), replace=False)
    from_file = apps(JIUZHU_KEYS=None, JIUZHU_KEYS_FILE=str(path))
    r = cli(from_file, "keys", "retire", "f1")
    assert r.exit_code == 1 and "使用 f1" in r.output and "keys rotate" in r.output
    assert cli(from_file, "keys", "retire", "f2").exit_code == 1  # the active one, never
    assert cli(from_file, "keys", "retire", "a1").exit_code == 1  # audit events are verified with it
    assert cli(from_file, "keys", "rotate").exit_code == 0
    r = cli(from_file, "keys", "retire", "f1")
    assert r.exit_code == 0, r.output
    document = json.loads(path.read_text())
    assert set(document["field"]["keys"]) == {"f2"} and oct(path.stat().st_mode & 0o777) == "0o600"
    restarted = apps(JIUZHU_KEYS=None, JIUZHU_KEYS_FILE=str(path))
    assert chain_ok(restarted, county["id"])


def test_keys_are_generated_and_added_from_the_command_line(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "etc" / "keys.json"
    run = lambda *a: subprocess.run([sys.executable, "-m", "jiuzhu.crypto", *a], capture_output=True, text=True)  # noqa: E731
    assert run("generate", str(path)).returncode == 0
    assert run("generate", str(path)).returncode == 1  # never overwritten
    assert run("generate", str(path), "--if-missing").returncode == 0
    result = run("add-key", str(path), "field")
    assert result.returncode == 0 and "added field key f2, now active" in result.stdout
    keys = load_keyring({"JIUZHU_KEYS_FILE": str(path)})
    assert keys.field.active_id == "f2" and set(keys.field.keys) == {"f1", "f2"}
    assert keys.audit.active_id == "a1" and len(keys.audit.keys["a1"]) == 32


def test_the_sqlite_demo_encrypts_too(tmp_path):
    import sqlite3

    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.db'}", "SECRET_KEY": "x",
                      "JIUZHU_PASSWORD_HASHING": "fast", "JIUZHU_SECURE_COOKIES": False, "JIUZHU_KEYS": TEST_KEYS})
    with app.app_context():
        upgrade()
        from jiuzhu.tenancy.services import add_org_unit, county_root, create_tenant

        with use_scope(Scope.platform()):
            tenant = create_tenant(db.session, app.extensions["jiuzhu.plugins"], code="sx", name="歙县",
                                   plugin_key="shexian")
            db.session.commit()
            tid = tenant.id
        with use_scope(Scope(tid)):
            town = add_org_unit(db.session, parent=county_root(db.session), name="溪头镇")
            village = add_org_unit(db.session, parent=town, name="汪满田村")
            user = create_user(db.session, username="sx-staff", full_name="汪某", role=Role.township_staff,
                               password=PASSWORD, org_unit=town)
            person = make_id_number("341021", dt.date(1968, 3, 12), 13)
            register_household(db.session, user, village=village, address="x", phone="13800000000",
                               members=[MemberInput("汪建国", person, "head")])
            db.session.commit()
            assert household_of_person(db.session, person) is not None
            assert keyring().field.active_id == "f1"
        db.session.remove()
        db.engine.dispose()
    raw = sqlite3.connect(tmp_path / "demo.db")
    stored = raw.execute("SELECT id_number, id_number_bidx FROM household_members").fetchall()
    phone = raw.execute("SELECT phone FROM households").fetchone()[0]
    raw.close()
    assert stored[0][0].startswith("E1.f1.") and person not in stored[0][0] and stored[0][1].startswith("b1.")
    assert phone.startswith("E1.f1.")

    # and the demo rotates like production: status, rotate, blind indexes, audit verify
    document = keys_with("field", "blind_index")
    rotated = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.db'}", "SECRET_KEY": "x",
                          "JIUZHU_PASSWORD_HASHING": "fast", "JIUZHU_KEYS": json.dumps(document)})
    assert "households.phone：f1 1" in cli(rotated, "keys", "status").output
    assert cli(rotated, "keys", "rotate").exit_code == 0
    assert cli(rotated, "keys", "rotate", "--blind-index").exit_code == 0
    status = cli(rotated, "keys", "status").output
    assert "households.phone：f2（当前） 1" in status and "全部加密字段和盲索引都在当前密钥下" in status
    with rotated.app_context():
        db.engine.dispose()
    retired = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.db'}", "SECRET_KEY": "x",
                          "JIUZHU_PASSWORD_HASHING": "fast", "JIUZHU_KEYS": json.dumps(without(document, "f1", "b1"))})
    assert cli(retired, "audit", "verify").exit_code == 0
    with retired.app_context(), use_scope(Scope(tid)):
        assert household_of_person(db.session, person).phone == "13800000000"
        db.session.remove()
        db.engine.dispose()
