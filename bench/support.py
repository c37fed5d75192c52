"""What every benchmark here shares: a fresh PostgreSQL database of its own, the environment the
app reads, and the median of repeated timings."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

APP_PASSWORD = "jiuzhu-bench"


def app_role(database: str) -> str:
    """A benchmark database's own application role, ``<database>_app``: a real instance's role (and
    its password) is never touched, and two benchmarks started at once never race to create or
    alter the same role."""
    return f"{database}_app"


def bench_server():
    """The PostgreSQL server the benchmarks use (JIUZHU_BENCH_PG, default the local one)."""
    return make_url(os.environ.get("JIUZHU_BENCH_PG",
                                   "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres"))


def instance_name(database: str) -> str:
    """A benchmark database's instance name: the namespace of its Redis keys and RQ queue."""
    return f"bench-{database.replace('_', '-')}"[:40]


def bench_database(name: str, *, keep: bool, secure_cookies: bool = True):
    """Point the app at database ``name`` on JIUZHU_BENCH_PG (default the local server), as the
    non-owner application role; (re)create it unless ``keep``. Returns the owner's engine."""
    server = bench_server()
    owner_url = server.set(database=name)
    role = app_role(name)
    app_url = owner_url.set(username=role, password=APP_PASSWORD)
    os.environ.update({"JIUZHU_DATABASE_URL": app_url.render_as_string(hide_password=False),
                       "JIUZHU_DATABASE_ADMIN_URL": owner_url.render_as_string(hide_password=False),
                       "JIUZHU_DB_APP_ROLE": role, "JIUZHU_DB_APP_PASSWORD": APP_PASSWORD,
                       "JIUZHU_SECRET_KEY": "bench", "JIUZHU_INSTANCE": instance_name(name),
                       "JIUZHU_PASSWORD_HASHING": "fast"})
    if not secure_cookies:
        os.environ["JIUZHU_SECURE_COOKIES"] = "0"
    if not os.environ.get("JIUZHU_KEYS"):
        os.environ["JIUZHU_KEYS_FILE"] = bench_keys(name, fresh=not keep)
    if not keep:
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    return create_engine(owner_url)


def bench_keys(name: str, *, fresh: bool) -> str:
    """The benchmark database's own key file (a --keep run must read what the seeding encrypted)."""
    import tempfile

    from jiuzhu.crypto.keys import generate_document, write_key_file

    path = Path(tempfile.gettempdir()) / f"{name}-keys.json"
    if fresh or not path.exists():
        write_key_file(path, generate_document(), replace=True)
    return str(path)


def encrypted(table_column: str, value, tenant_id: int):
    """The stored form of ``value`` in an encrypted column of ``tenant_id`` (inside an app context),
    for seeding with bare SQL. One envelope reused for many rows is fine for timing, nothing else."""
    from jiuzhu.db import Base

    table, column = table_column.split(".")
    return Base.metadata.tables[table].c[column].type.encrypt(value, tenant_id)


def median_ms(fn, repeat: int) -> float:
    """The median wall time of ``fn`` in milliseconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bench_county(app, code: str, name: str, *, with_staff: bool = False) -> tuple[int, int, int]:
    """A county under the baseline rules with one township and one village (and, ``with_staff``, the
    township's staff and leader, ``<code>-township_staff`` …), through the service layer. Returns the
    ids of the county, the township and the village."""
    from jiuzhu.auth.roles import Role
    from jiuzhu.auth.services import create_user
    from jiuzhu.extensions import db
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.services import add_org_unit, county_root, create_tenant

    with use_scope(Scope.platform()):
        tenant = create_tenant(db.session, app.extensions["jiuzhu.plugins"], code=code, name=name,
                               plugin_key="baseline")
        db.session.commit()
        tid = tenant.id
    with use_scope(Scope(tid)):
        town = add_org_unit(db.session, parent=county_root(db.session), name="某镇")
        village = add_org_unit(db.session, parent=town, name="某村")
        if with_staff:
            for role in (Role.township_staff, Role.township_leader):
                create_user(db.session, username=f"{code}-{role.value}", full_name="经办", role=role,
                            password="Bench-pass-1", org_unit=town)
        db.session.commit()
        return tid, town.id, village.id
