"""A county out and back: ``tenants export`` and ``tenants import`` against plain COPY of the same rows.

    python bench/county_transfer.py [--cases 200]

Needs PostgreSQL (JIUZHU_BENCH_PG, default postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres).
It (re)creates the database ``jiuzhu_bench_transfer``, runs the migrations, and builds two counties
through the service layer: the one moved, with ``--cases`` households of four (each with a case, so
steps and audit events follow; five notifications a case by SQL, the inbox months of reminders leave)
and one scanned ID card, and a small one that stays.

It prints, for the moved county:
* export (decrypt every value, verify the audit chain, ZIP, SM4-GCM) against ``COPY (SELECT … WHERE
  tenant_id = …) TO STDOUT`` of the same tables as the owner — what a pg_dump of only these rows
  would at least cost (pg_dump itself cannot select one county's rows);
* the archive's size against the COPY text's;
* purge (one transaction), then import (fresh ids, re-encryption, blind indexes, re-keyed chain)
  against ``COPY … FROM STDIN`` of the COPY text into empty copies of the tables (no triggers,
  no foreign keys, no encryption: the floor).
Each is run once (the machine is shared); figures vary by machine and are not asserted anywhere.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from support import bench_database

PASSPHRASE = "bench archive passphrase"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--keep", action="store_true",
                        help="reuse the database a run left (the county it imported is moved again)")
    parser.add_argument("--statements", action="store_true",
                        help="print the statements the purge and the import spent the most time in")
    args = parser.parse_args()
    os.environ["JIUZHU_ARCHIVE_PASSPHRASE"] = PASSPHRASE
    from flask_migrate import upgrade

    from jiuzhu import create_app
    from jiuzhu.cases.files import attach_file
    from jiuzhu.clihelpers import tenant_by_code
    from jiuzhu.extensions import db
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.rls import rls_key, signed_setting
    from jiuzhu.tenancy.transfer import (
        export_tenant,
        import_tenant,
        purge_tenant,
        read_archive,
        tenant_tables,
    )
    from jiuzhu.workflow import engine
    from tests.conftest import World
    from tests.factories import acting, household_of_four

    owner = bench_database("jiuzhu_bench_transfer", keep=args.keep)
    app = create_app()
    with app.app_context():
        upgrade()
        db.session.remove()
    world = World(app)
    t0 = time.perf_counter()
    if args.keep:
        with app.app_context(), use_scope(Scope.platform()):
            moved = {"id": tenant_by_code("bt").id}
            db.session.remove()
    else:
        moved = world.county("bt", townships=2, villages=2)
        world.county("stays", townships=1, villages=1)
    for seq in range(1, 0 if args.keep else args.cases + 1):
        with acting(app, f"bt-t{1 + seq % 2}-staff") as user:
            # the factory's ID numbers have room for 464 households a region: a region per 400
            household = household_of_four(db.session, user, seq=(seq - 1) % 400 + 1,
                                          region=f"34{10 + (seq - 1) // 400:02d}21")
            case = engine.open_case(db.session, user, household=household, categories=["dibao"], channel="window",
                                    applied_on=dt.date(2026, 3, 2))
            if seq == 1:
                db.session.flush()
                attach_file(db.session, user, case.id, case.materials[0].key, filename="scan.png",
                            data=b"\x89PNG\r\n\x1a\n" + os.urandom(200_000))
    if not args.keep:
        # the county's inbox as the reminder sweep fills it over months: five notifications a case
        with owner.begin() as conn:
            conn.execute(text("""
                INSERT INTO notifications (tenant_id, user_id, case_id, title, body, created_at)
                SELECT c.tenant_id, (SELECT min(u.id) FROM users u WHERE u.tenant_id = c.tenant_id), c.id,
                       '办理提醒', '案件环节即将到期', now()
                  FROM cases c CROSS JOIN generate_series(1, 5) WHERE c.tenant_id = :t"""), {"t": moved["id"]})
        print(f"seeded county bt: {args.cases} households of four with a case each (and five notifications "
              f"a case), in {time.perf_counter() - t0:.1f} s")
    spent = statement_times(app) if args.statements else None

    key = rls_key(app.config["SECRET_KEY"])
    tables = [t.name for t in tenant_tables()]

    def copy_out(tid: int) -> dict[str, bytes]:
        out = {}
        with owner.connect() as conn:
            conn.execute(text("SELECT set_config('app.tenant_id', :s, false)"), {"s": signed_setting(key, tid)})
            raw = conn.connection.dbapi_connection
            with raw.cursor() as cur:
                for name in tables:
                    buf = bytearray()
                    with cur.copy(f"COPY (SELECT * FROM {name} WHERE tenant_id = {int(tid)}) TO STDOUT") as copy:
                        for chunk in copy:
                            buf += chunk
                    out[name] = bytes(buf)
            conn.rollback()
        return out

    def copy_in(data: dict[str, bytes]) -> None:
        with owner.connect() as conn:
            raw = conn.connection.dbapi_connection
            with raw.cursor() as cur:
                for name in tables:
                    cur.execute(f"CREATE TEMP TABLE bench_{name} (LIKE {name})")
                    with cur.copy(f"COPY bench_{name} FROM STDIN") as copy:
                        copy.write(data[name])
            conn.commit()

    workdir = Path(tempfile.mkdtemp(prefix="county-transfer-"))
    archive_path = workdir / "bt.jzca"
    with app.app_context():
        with use_scope(Scope.platform()):
            tenant = tenant_by_code("bt")
        t0 = time.perf_counter()
        result = export_tenant(db.session, tenant, archive_path, PASSPHRASE)
        export_s = time.perf_counter() - t0
        db.session.remove()
    rows = sum(t["rows"] for t in result.manifest["tables"].values())
    t0 = time.perf_counter()
    copied = copy_out(moved["id"])
    copy_out_s = time.perf_counter() - t0
    copy_bytes = sum(len(v) for v in copied.values())

    with app.app_context():
        archive = read_archive(archive_path, PASSPHRASE)
        with use_scope(Scope.platform()):
            tenant = tenant_by_code("bt")
        t0 = time.perf_counter()
        purged = purge_tenant(db.session, tenant, archive=archive, force=False)
        purge_s = time.perf_counter() - t0
        db.session.remove()
        if spent is not None:
            spent.report("purge")
        t0 = time.perf_counter()
        imported = import_tenant(db.session, archive_path, PASSPHRASE)
        import_s = time.perf_counter() - t0
        db.session.remove()
        if spent is not None:
            spent.report("import")
    t0 = time.perf_counter()
    copy_in(copied)
    copy_in_s = time.perf_counter() - t0
    from jiuzhu.tenancy.transfer import DERIVED

    # the counters (DERIVED) are not exported — the import's triggers count anew — but are purged
    purged_rows = sum(n for t, n in purged.rows.items() if t not in DERIVED)
    if imported.rows != rows or purged_rows != rows:
        per_table = {t: (result.manifest["tables"].get(t, {}).get("rows", 0), n) for t, n in purged.rows.items()
                     if t not in DERIVED}
        raise SystemExit(f"rows differ: exported {rows}, purged {purged_rows}, imported {imported.rows}; "
                         f"(exported, purged) where they differ: { {t: v for t, v in per_table.items() if v[0] != v[1]} }")

    print(f"county bt: {rows:,} rows in {len(tables)} tables, {len(result.manifest['files'])} file(s), "
          f"{result.manifest['audit']['events']:,} audit events")
    print(f"{'':28}{'ours':>12}{'COPY':>12}{'ratio':>9}")
    print(f"{'export (s)':28}{export_s:12.2f}{copy_out_s:12.2f}{export_s / copy_out_s:9.1f}")
    print(f"{'size (bytes)':28}{result.archive_bytes:12,}{copy_bytes:12,}{result.archive_bytes / copy_bytes:9.2f}")
    print(f"{'import (s)':28}{import_s:12.2f}{copy_in_s:12.2f}{import_s / copy_in_s:9.1f}")
    print(f"{'purge, one transaction (s)':28}{purge_s:12.2f}")
    print(f"per case: export {export_s / args.cases * 1000:.1f} ms, import {import_s / args.cases * 1000:.1f} ms, "
          f"archive {result.archive_bytes / args.cases / 1024:.1f} KiB")
    archive_path.unlink()
    workdir.rmdir()


class statement_times:
    """The time the app's engine spends in each kind of statement (its verb and table), reset at each
    report: where a purge or an import goes (the triggers' work counts to the statement firing them)."""

    def __init__(self, app):
        import collections
        import re

        from sqlalchemy import event

        from jiuzhu.extensions import db

        self.spent: collections.Counter = collections.Counter()
        self.count: collections.Counter = collections.Counter()
        words = re.compile(r"^\s*(?:WITH .*?\)\s*)?(SELECT|INSERT INTO|UPDATE|DELETE FROM)\s+(?:.*?\sFROM\s+)?(\w+)",
                           re.S | re.I)

        with app.app_context():
            engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["bench_t0"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            found = words.match(statement)
            kind = " ".join(found.groups()) if found else statement[:40]
            self.spent[kind] += time.perf_counter() - conn.info.pop("bench_t0")
            self.count[kind] += 1

    def report(self, what: str) -> None:
        total = sum(self.spent.values())
        print(f"{what}: {total:.2f} s in statements; the most:")
        for kind, s in self.spent.most_common(12):
            print(f"  {s:8.2f} s  {self.count[kind]:6} × {kind}")
        self.spent.clear()
        self.count.clear()


if __name__ == "__main__":
    main()
