"""A county's data out and back: ``flask tenants export`` → ``purge`` → ``import``.

Two counties are seeded through the services (households, cases, a scanned ID card). One is exported
to an encrypted archive, purged, and imported again by an application holding new active keys (the
"other instance": its field, blind-index and audit keys are not the ones the data was written
under). The round trip must give the same rows per table, the same file contents, a green
``audit verify``, data under the new keys, and the other county untouched throughout."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from sqlalchemy import select, text

from jiuzhu.audit import check_chain
from jiuzhu.cases.files import attach_file
from jiuzhu.cases.households import Member
from jiuzhu.cases.idcard import make_id_number
from jiuzhu.cases.models import Case
from jiuzhu.crypto.keys import add_key
from jiuzhu.crypto.types import index_candidates
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.transfer import MAGIC, PASSPHRASE_ENV, tenant_tables
from jiuzhu.workflow import engine
from tests.conftest import TEST_KEYS, make_app
from tests.factories import acting, household_of_four

PASSPHRASE = "county archive passphrase 2026"
SCAN = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def seed(app, world, code: str, households: int) -> dict:
    county = world.county(code, townships=1, villages=1)
    for seq in range(1, households + 1):
        with acting(app, f"{code}-t1-staff") as user:
            household = household_of_four(db.session, user, seq=seq)
            case = engine.open_case(db.session, user, household=household, categories=["dibao"], channel="window",
                                    applied_on=dt.date(2026, 3, 2))
            case.decision_reason = f"第 {seq} 户：父亲重病"
            if seq == 1:
                db.session.flush()
                attach_file(db.session, user, case.id, case.materials[0].key, filename="身份证.png", data=SCAN)
    return county


def counts(owner_engine, tenant_id: int) -> dict[str, int]:
    """As the owner (who sees through nothing but counts here): rows per table of one county."""
    with owner_engine.connect() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :s, false)"), {"s": _signed(tenant_id)})
        out = {t.name: conn.execute(text(f"SELECT count(*) FROM {t.name} WHERE tenant_id = :t"),
                                    {"t": tenant_id}).scalar() for t in tenant_tables()}
        # the dashboard's counters are not archived: the import rebuilds them, to the same totals
        for counter in ("case_counts", "open_step_counts"):
            out[f"{counter} (total)"] = conn.execute(text(f"SELECT coalesce(sum(n), 0) FROM {counter} "
                                                          "WHERE tenant_id = :t"), {"t": tenant_id}).scalar()
        # nor the pairs of the members' names: the import's members make them anew, the same ones
        out["member_name_grams (total)"] = conn.execute(text("SELECT count(*) FROM member_name_grams "
                                                             "WHERE tenant_id = :t"), {"t": tenant_id}).scalar()
        conn.execute(text("RESET app.tenant_id"))
    return out


def _signed(tenant_id):
    from tests.conftest import signed_tenant

    return signed_tenant(tenant_id)


def file_hashes(app, tenant_id: int) -> list[str]:
    from jiuzhu.cases.models import MaterialFile

    with app.app_context(), use_scope(Scope(tenant_id)):
        hashes = sorted(hashlib.sha256(f.data).hexdigest() for f in db.session.scalars(select(MaterialFile)))
        db.session.remove()
    return hashes


def chain(app, tenant_id: int):
    with app.app_context(), use_scope(Scope(tenant_id)):
        report = check_chain(db.session, tenant_id)
        db.session.remove()
    return report


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    with app.app_context():
        db.session.remove()
    return result


def tenant_id_of(app, code: str) -> int | None:
    from jiuzhu.tenancy.models import Tenant

    with app.app_context(), use_scope(Scope.platform()):
        tid = db.session.scalar(select(Tenant.id).where(Tenant.code == code))
        db.session.remove()
    return tid


@pytest.fixture
def counties(app, world, monkeypatch):
    from jiuzhu.reminders.jobs import send_tenant_reminders
    from tests.test_workflow_baseline import do

    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    tx = seed(app, world, "tx", 5)
    on = dt.date(2026, 3, 2)
    with acting(app, "tx-t1-staff") as user:  # a sixth case, complete and accepted: its deadlines
        accepted = engine.open_case(
            db.session, user, household=household_of_four(db.session, user, seq=6), categories=["dibao"],
            channel="window", applied_on=on, authorization_signed_on=on, commitment_signed_on=on,
            provided=["application_form", "authorization", "commitment"], via_platform=["id_and_register"]).id
    do(app, "tx-t1-staff", accepted, "acceptance", "accept", dt.date(2026, 3, 3))
    with app.app_context():  # its reminders sent, long overdue: the county's outbox and inbox rows
        assert send_tenant_reminders(tx["id"], today="2026-11-17")["sent"] > 0
        db.session.remove()
    return tx, seed(app, world, "keep", 2)


@pytest.fixture
def target(database_urls):
    """The importing instance's application: every key replaced by a new active one (old ones kept so
    that it still reads the county that stayed)."""
    document = json.loads(TEST_KEYS)
    for purpose in ("field", "blind_index", "audit"):
        add_key(document, purpose)
    app = make_app(database_urls, JIUZHU_KEYS=json.dumps(document))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_export_purge_import_round_trips_a_county_and_leaves_the_other_alone(app, target, counties, owner_engine,
                                                                             tmp_path):
    from tests.conftest import PASSWORD, login

    tx, keep = counties
    before = counts(owner_engine, tx["id"])
    kept = counts(owner_engine, keep["id"])
    files = file_hashes(app, tx["id"])
    keep_head = chain(app, keep["id"])
    assert before["cases"] == 6 and before["household_members"] == 24 and before["audit_events"] > 50
    # the tables whose tenant_id no key ties to ``tenants`` (0076) move like the others
    assert before["reminders"] > 0 and before["notifications"] > 0
    assert len(files) == 1 and files[0] == hashlib.sha256(SCAN).hexdigest()

    assert cli(app, "audit", "anchor").exit_code == 0  # the chains anchored outside the database, as every day
    archive = tmp_path / "tx.jzca"
    r = cli(app, "tenants", "export", "tx", str(archive))
    assert r.exit_code == 0, r.output
    assert "链完整" in r.output and "清单校验和" in r.output
    blob = archive.read_bytes()
    assert blob.startswith(MAGIC)
    # the archive holds personal data encrypted: no ID number nor name in the clear
    father = make_id_number("341021", dt.date(1968, 3, 12), 13)
    assert father.encode() not in blob and "汪建国".encode() not in blob
    assert oct(archive.stat().st_mode & 0o777) == "0o600"

    # purge: refused without an export, refused with a wrong passphrase, then done with the archive
    r = cli(app, "tenants", "purge", "tx")
    assert r.exit_code != 0 and "--force" in r.output
    r = app.test_cli_runner().invoke(args=["tenants", "purge", "tx", "--archive", str(archive)],
                                     env={PASSPHRASE_ENV: "a wrong passphrase!"})
    assert r.exit_code != 0 and "无法解密" in r.output
    assert counts(owner_engine, tx["id"]) == before
    with owner_engine.connect() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :s, false)"), {"s": _signed(tx["id"])})
        counters = sum(conn.execute(text(f"SELECT count(*) FROM {t} WHERE tenant_id = :t"), {"t": tx["id"]}).scalar()
                       for t in ("case_counts", "open_step_counts", "member_name_grams"))
        conn.execute(text("RESET app.tenant_id"))
    r = cli(app, "tenants", "purge", "tx", "--archive", str(archive))
    assert r.exit_code == 0, r.output
    rows = sum(v for k, v in before.items() if not k.endswith("(total)")) + counters
    assert f"共删除 {rows} 行" in r.output
    assert "其锚点已移至" in r.output  # they anchor a chain that is gone; the imported county's must verify
    assert tenant_id_of(app, "tx") is None
    assert sum(counts(owner_engine, tx["id"]).values()) == 0
    assert counts(owner_engine, keep["id"]) == kept
    after_purge = chain(app, keep["id"])
    assert after_purge.ok and (after_purge.last_seq, after_purge.last_hash) == (keep_head.last_seq, keep_head.last_hash)
    r = cli(app, "audit", "verify")
    assert r.exit_code == 0, r.output
    assert "平台记录（县区的导出、导入、清除）：共 2 条，链完整" in r.output

    # import into the instance with new keys
    r = cli(target, "tenants", "import", str(archive))
    assert r.exit_code == 0, r.output
    new_id = tenant_id_of(target, "tx")
    assert new_id is not None and new_id != tx["id"]
    restored = counts(owner_engine, new_id)
    # every table as it was; the chain one event longer (the import itself)
    assert {**restored, "audit_events": restored["audit_events"] - 1} == before
    assert file_hashes(target, new_id) == files
    assert counts(owner_engine, keep["id"]) == kept

    report = chain(target, new_id)
    assert report.ok and report.events == before["audit_events"] + 1
    r = cli(target, "audit", "verify")
    assert r.exit_code == 0, r.output
    assert f"tx县：共 {before['audit_events'] + 1} 条，链完整，与 1 个锚点相符" in r.output
    assert "keep县：共" in r.output and "平台记录（县区的导出、导入、清除）：共 3 条，链完整" in r.output

    # re-encrypted under the target's field key and county, indexes under its blind-index key, hashes
    # under its audit key
    with owner_engine.connect() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :s, false)"), {"s": _signed(new_id)})
        ids = conn.execute(text("SELECT id_number, id_number_bidx FROM household_members WHERE tenant_id = :t"),
                           {"t": new_id}).all()
        audit_keys = set(conn.execute(text("SELECT DISTINCT key_id FROM audit_events WHERE tenant_id = :t"),
                                      {"t": new_id}).scalars())
        conn.execute(text("RESET app.tenant_id"))
    assert ids and all(i.id_number.startswith("E1.f2.") and i.id_number_bidx.startswith("b2.") for i in ids)
    assert audit_keys == {"a2"}
    with target.app_context(), use_scope(Scope(new_id)):
        found = db.session.scalars(select(Member).where(Member.id_number_bidx.in_(
            index_candidates("id_number", father)))).all()
        assert [m.name for m in found] == ["汪建国"]
        reasons = sorted(c.decision_reason for c in db.session.scalars(select(Case)) if c.decision_reason)
        assert reasons == [f"第 {seq} 户：父亲重病" for seq in range(1, 6)]
        case_id = db.session.scalar(select(Case.id).order_by(Case.id))
        db.session.remove()

    # its people log in with their passwords and work their cases; the other county still cannot see them
    staff = target.test_client()
    assert login(staff, "tx-t1-staff", PASSWORD).status_code == 302
    page = staff.get(f"/admin/casework/{case_id}")
    assert page.status_code == 200 and "汪建国" in page.get_data(as_text=True)
    outsider = target.test_client()
    assert login(outsider, "keep-t1-staff", PASSWORD).status_code == 302
    assert outsider.get(f"/admin/casework/{case_id}").status_code == 404


def test_purge_refuses_an_archive_older_than_the_data(app, counties, owner_engine, tmp_path):
    tx, keep = counties
    archive = tmp_path / "tx.jzca"
    assert cli(app, "tenants", "export", "tx", str(archive)).exit_code == 0
    with acting(app, "tx-t1-staff") as user:  # a change after the export
        household_of_four(db.session, user, seq=9)
    before = counts(owner_engine, tx["id"])
    r = cli(app, "tenants", "purge", "tx", "--archive", str(archive))
    assert r.exit_code != 0 and "请重新导出" in r.output
    assert counts(owner_engine, tx["id"]) == before
    # an archive of another county is not an export of this one
    other = tmp_path / "keep.jzca"
    assert cli(app, "tenants", "export", "keep", str(other)).exit_code == 0
    r = cli(app, "tenants", "purge", "tx", "--archive", str(other))
    assert r.exit_code != 0 and "归档属于另一个县（区）" in r.output
    # --force purges without an archive, and says so in the platform log
    r = cli(app, "tenants", "purge", "tx", "--force")
    assert r.exit_code == 0 and "--force" in r.output
    assert sum(counts(owner_engine, tx["id"]).values()) == 0
    assert chain(app, keep["id"]).ok


def test_other_counties_keep_writing_while_one_is_purged(app, counties, owner_engine, tmp_path):
    """The purge takes no lock on the audit trail that another county's open write holds (every
    write appends an event): it used to switch the append-only trigger off, and waited for them —
    and every county's writes waited for it. The trigger's one exception for it stays narrow."""
    from sqlalchemy.engine import make_url

    tx, keep = counties
    archive = tmp_path / "tx.jzca"
    assert cli(app, "tenants", "export", "tx", str(archive)).exit_code == 0
    kept = counts(owner_engine, keep["id"])
    admin_url = app.config["JIUZHU_DATABASE_ADMIN_URL"]
    # the purge gives up after 3 s waiting for a lock, instead of waiting for the open write below
    app.config["JIUZHU_DATABASE_ADMIN_URL"] = make_url(admin_url).update_query_dict(
        {"options": "-c lock_timeout=3000"}).render_as_string(hide_password=False)
    writing = owner_engine.connect()
    try:
        open_write = writing.begin()
        writing.execute(text("SELECT set_config('app.tenant_id', :s, true)"), {"s": _signed(keep["id"])})
        # the lock an INSERT of an event holds until its transaction ends (another county's request)
        writing.execute(text("LOCK TABLE audit_events IN ROW EXCLUSIVE MODE"))
        r = cli(app, "tenants", "purge", "tx", "--archive", str(archive))
        assert r.exit_code == 0, r.output
        open_write.rollback()
    finally:
        writing.close()
        app.config["JIUZHU_DATABASE_ADMIN_URL"] = admin_url
    assert sum(counts(owner_engine, tx["id"]).values()) == 0
    assert counts(owner_engine, keep["id"]) == kept and chain(app, keep["id"]).ok
    # the exception is a purge's, of the county it names, as the owner: not another county's events
    with owner_engine.connect() as conn:
        conn.execute(text("SELECT set_config('jiuzhu.purge_tenant', :t, true)"), {"t": str(tx["id"])})
        with pytest.raises(Exception, match="append-only"):
            conn.execute(text("DELETE FROM audit_events WHERE tenant_id = :k"), {"k": keep["id"]})
        conn.rollback()
    assert counts(owner_engine, keep["id"]) == kept


def test_import_refuses_a_county_already_here_and_a_tampered_archive(app, counties, owner_engine, tmp_path):
    archive = tmp_path / "tx.jzca"
    assert cli(app, "tenants", "export", "tx", str(archive)).exit_code == 0
    r = cli(app, "tenants", "import", str(archive))
    assert r.exit_code != 0 and "已被使用" in r.output
    blob = bytearray(archive.read_bytes())
    blob[-40] ^= 1
    tampered = tmp_path / "tampered.jzca"
    tampered.write_bytes(bytes(blob))
    r = cli(app, "tenants", "import", str(tampered))
    assert r.exit_code != 0 and "已被改动" in r.output
    assert tenant_id_of(app, "tx") == counties[0]["id"]


def test_export_refuses_a_broken_chain_and_writes_nothing(app, counties, owner_engine, tmp_path):
    tx, _ = counties
    with owner_engine.begin() as conn:  # someone rewrote an event behind the application's back
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        conn.execute(text("UPDATE audit_events SET actor_name = '别人' WHERE tenant_id = :t AND seq = 2"),
                     {"t": tx["id"]})
        conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    archive = tmp_path / "tx.jzca"
    r = cli(app, "tenants", "export", "tx", str(archive))
    assert r.exit_code != 0 and "审计链校验未通过" in r.output and "第 2 条" in r.output
    assert not archive.exists()
    r = cli(app, "tenants", "purge", "tx", "--archive", str(archive))
    assert r.exit_code != 0  # and so nothing to purge with
    assert tenant_id_of(app, "tx") == tx["id"]
