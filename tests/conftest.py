"""Test fixtures: a real PostgreSQL database migrated with the real migrations, the application
connected as the non-owner application role, a Redis server of the run's own, and factories that go
through the service layer.

The run owns everything it uses: this checkout's database (one per xdist worker), its own
application role, a redis-server it starts on a free port, and an instance name of its own — a
demo, another checkout's suite or a production-like instance on the same host never share them.

Each test cleans up after itself by emptying, as the owner, every table it wrote to (real commits,
no transaction tricks; see ``empty_tables``) and the run's Redis.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from jiuzhu import create_app
from jiuzhu.auth.roles import Role
from jiuzhu.auth.services import create_user
from jiuzhu.crypto.keys import generate_document
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.services import add_org_unit, county_root, create_tenant
from tests import services

PG_SERVER = os.environ.get("JIUZHU_TEST_PG", "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres")
APP_ROLE = services.test_app_role() + services.worker_suffix()
APP_PASSWORD = "jiuzhu-app-test"
PASSWORD = "Test-pass-2026"
SECRET_KEY = "test-secret-key"
#: this run's instance name: the namespace of its queue and Redis keys
INSTANCE = services.test_instance()
#: this run's keys (field, blind-index, audit), generated afresh for every run
TEST_KEYS = json.dumps(generate_document())


@pytest.fixture(scope="session")
def run_redis(tmp_path_factory) -> Iterator[services.RedisServer]:
    """The run's own redis-server (one per xdist worker), stopped at the end."""
    server = services.RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def every_app_on_the_runs_redis(run_redis) -> Iterator[None]:
    """An app a test builds without saying which Redis (the SQLite demo's, a CLI run in a
    subprocess) takes the run's own, not the default one on the host: that one may be another
    instance's, and the apps' writes move publicity generations there."""
    before = os.environ.get("JIUZHU_REDIS_URL")
    os.environ["JIUZHU_REDIS_URL"] = run_redis.url
    yield
    if before is None:
        os.environ.pop("JIUZHU_REDIS_URL", None)
    else:
        os.environ["JIUZHU_REDIS_URL"] = before


@pytest.fixture(scope="session")
def database_urls(run_redis, tmp_path_factory) -> Iterator[dict[str, str]]:
    server = make_url(PG_SERVER)
    name = services.test_db_name()
    admin_engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin_engine.dispose()
    owner_url = server.set(database=name)
    app_url = server.set(database=name, username=APP_ROLE, password=APP_PASSWORD)
    yield {"owner": owner_url.render_as_string(hide_password=False),
           "app": app_url.render_as_string(hide_password=False),
           "redis": run_redis.url,
           # the audit anchors of this run (emptied after each test, like the database)
           "anchors": str(tmp_path_factory.mktemp("anchors"))}
    # the run's database and its worker's role go with it: nothing of a run is left on the shared
    # server (the role is this worker's own, and was granted nothing outside the run's databases)
    admin_engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{APP_ROLE}"'))
    admin_engine.dispose()


def make_app(database_urls, **overrides):
    config = {
        "SQLALCHEMY_DATABASE_URI": database_urls["app"],
        "JIUZHU_DATABASE_ADMIN_URL": database_urls["owner"],
        "JIUZHU_DB_APP_ROLE": APP_ROLE,
        "JIUZHU_DB_APP_PASSWORD": APP_PASSWORD,
        "JIUZHU_REDIS_URL": database_urls["redis"],
        "JIUZHU_INSTANCE": INSTANCE,
        "SECRET_KEY": SECRET_KEY,
        "JIUZHU_PASSWORD_HASHING": "fast",
        "JIUZHU_SECURE_COOKIES": False,
        "JIUZHU_KEYS": TEST_KEYS,
        "JIUZHU_AUDIT_ANCHOR_DIR": database_urls.get("anchors"),
        "TESTING": True,
    }
    config.update(overrides)
    return create_app(config)


@contextmanager
def scratch_database(database_urls, suffix: str, **overrides):
    """A database of its own beside the run's (``<run's name>_<suffix>``, empty, not migrated) and an
    app on it as the run's application role; yields the app and the owner's engine, and drops the
    database at the end whatever happened."""
    name = f"{services.test_db_name()}_{suffix}"
    server = make_url(PG_SERVER)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    owner = server.set(database=name)
    app = make_app({**database_urls, "owner": owner.render_as_string(hide_password=False),
                    "app": make_url(database_urls["app"]).set(database=name).render_as_string(hide_password=False)},
                   **overrides)
    engine = create_engine(owner)
    try:
        yield app, engine
    finally:
        engine.dispose()
        with app.app_context():
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def app(database_urls):
    from flask_migrate import upgrade

    app = make_app(database_urls)
    with app.app_context():
        upgrade()
        db.session.remove()
    return app


@pytest.fixture(scope="session")
def owner_engine(database_urls):
    engine = create_engine(database_urls["owner"])
    yield engine
    engine.dispose()


@pytest.fixture
def app_engine(database_urls):
    """An engine as the application's role: raw SQL under row-level security."""
    engine = create_engine(database_urls["app"])
    yield engine
    engine.dispose()


#: the seeded working-day calendar survives between tests (tests that enter years use ``forget_entered_years``)
CALENDAR_TABLES = {"calendar_years", "calendar_exceptions"}
#: the instance's own tables, which no test owns a row of: the key that signs the tenant for RLS
INSTANCE_TABLES = {"jiuzhu_rls_key"}


@pytest.fixture(autouse=True)
def _clean_database(request):
    engine = request.getfixturevalue("owner_engine") if "app" in request.fixturenames else None
    yield
    if engine is None:
        return
    request.getfixturevalue("run_redis").flush()
    anchors = request.getfixturevalue("database_urls")["anchors"]
    for entry in os.scandir(anchors):
        if entry.is_dir():
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
    keep = set(getattr(request.module, "KEEP_TABLES", ())) | CALENDAR_TABLES | INSTANCE_TABLES
    with engine.begin() as conn:
        empty_tables(conn, keep)


def empty_tables(conn, keep: set[str]) -> None:
    """Every table but ``keep`` emptied and its identities restarted, as ``TRUNCATE … RESTART
    IDENTITY CASCADE`` of them all would, but only the tables a test wrote to are touched: a TRUNCATE
    recreates the files of every table and index (about a fifth of a second a test); one statement
    finds the few tables with rows, which are then deleted from with triggers and foreign-key checks
    off (every row goes, in any order), and the sequences used since are restarted."""
    tables = conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
    )).scalars().all()
    wipe = [t for t in tables if t not in keep]
    if not wipe:
        return
    used = conn.execute(text(" UNION ALL ".join(
        f"""SELECT '{t}' WHERE EXISTS (SELECT FROM "{t}")""" for t in wipe))).scalars().all()
    if used:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in used:
            conn.execute(text(f'DELETE FROM "{table}"'))
    # the sequences used since their last restart, but those of the tables kept
    sequences = conn.execute(text("""
        SELECT s.sequencename FROM pg_sequences s
        LEFT JOIN pg_depend d ON d.objid = format('%I.%I', s.schemaname, s.sequencename)::regclass
             AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        LEFT JOIN pg_class t ON t.oid = d.refobjid
        WHERE s.schemaname = 'public' AND s.last_value IS NOT NULL AND (t.relname IS NULL OR t.relname <> ALL(:keep))
    """), {"keep": list(keep)}).scalars().all()
    for sequence in sequences:
        conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))


@pytest.fixture
def forget_entered_years(app, owner_engine):
    """For tests that enter years: afterwards the calendar is the seeded 2004–2026 again."""
    from jiuzhu.calendar import invalidate

    yield
    with owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM calendar_years WHERE year NOT BETWEEN 2004 AND 2026"))
    invalidate(app)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


# -- factories -----------------------------------------------------------------------------------

class World:
    """Tenants built for a test, with handles on their units and users."""

    def __init__(self, app):
        self.app = app
        self.tenants: dict[str, dict] = {}

    def county(self, code: str, plugin: str = "shexian", name: str | None = None, townships: int = 2,
               villages: int = 2) -> dict:
        """A tenant with ``townships`` townships of ``villages`` villages and a user per role."""
        registry = self.app.extensions["jiuzhu.plugins"]
        with self.app.app_context():
            with use_scope(Scope.platform()):
                tenant = create_tenant(db.session, registry, code=code, name=name or f"{code}县", plugin_key=plugin)
                db.session.commit()
                tid = tenant.id
            info: dict = {"id": tid, "code": code, "towns": [], "villages": [], "users": {}}
            with use_scope(Scope(tid)):
                root = county_root(db.session)
                info["root"] = root.id
                users = [(f"{code}-admin", Role.county_admin, root), (f"{code}-county", Role.county_staff, root)]
                for i in range(townships):
                    town = add_org_unit(db.session, parent=root, name=f"{code}第{i + 1}镇")
                    info["towns"].append(town.id)
                    vs = [add_org_unit(db.session, parent=town, name=f"{code}第{i + 1}镇第{j + 1}村")
                          for j in range(villages)]
                    info["villages"].append([v.id for v in vs])
                    users += [(f"{code}-t{i + 1}-staff", Role.township_staff, town),
                              (f"{code}-t{i + 1}-leader", Role.township_leader, town)]
                    if vs:
                        users.append((f"{code}-t{i + 1}-village", Role.village_assistant, vs[0]))
                for username, role, unit in users:
                    u = create_user(db.session, username=username, full_name=username, role=role,
                                    password=PASSWORD, org_unit=unit)
                    info["users"][username] = u.id
                db.session.commit()
            db.session.remove()
        self.tenants[code] = info
        return info

    def operator(self, username: str = "operator") -> str:
        with self.app.app_context(), use_scope(Scope.platform()):
            create_user(db.session, username=username, full_name="运维", role=Role.platform_operator,
                        password=PASSWORD)
            db.session.commit()
            db.session.remove()
        return username


@pytest.fixture
def world(app) -> World:
    return World(app)


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no csrf_token in page"
    return m.group(1) or m.group(2)


#: the second factor of the users this run bound (username → TOTP secret), and the last step used
TOTP_SECRETS: dict[str, str] = {}
_LAST_STEP: dict[str, int] = {}
SECRET_RE = re.compile(r'data-testid="totp-secret">([^<]+)<')


def totp_code(username: str, secret: str | None = None) -> str:
    """A code the server has not seen yet: this step's, or the next one's (the server accepts one step
    either side and never the same step twice); waits for a fresh step only when both are used."""
    import time

    import pyotp

    from jiuzhu.demo import DEMO_TOTP_SECRET

    secret = secret or TOTP_SECRETS.get(username) or DEMO_TOTP_SECRET  # (the demo's accounts: its secret)
    now_step = int(time.time() // 30)
    step = max(now_step, _LAST_STEP.get(username, -1) + 1)
    if step > now_step + 1:
        time.sleep((step - 1) * 30 - time.time() + 0.05)
    _LAST_STEP[username] = step
    return pyotp.TOTP(secret).generate_otp(step)


def second_factor(client, username: str, resp):
    """Complete a login held for the second factor: bind an authenticator first if asked, then a code."""
    location = resp.headers.get("Location", "") if resp.status_code == 302 else ""
    if location.endswith("/login/enroll"):
        page = client.get("/login/enroll").get_data(as_text=True)
        TOTP_SECRETS[username] = SECRET_RE.search(page).group(1).replace(" ", "")
        _LAST_STEP.pop(username, None)
        return client.post("/login/enroll", data={"code": totp_code(username), "csrf_token": csrf_token(page)})
    if location.endswith("/login/second-factor"):
        page = client.get("/login/second-factor").get_data(as_text=True)
        return client.post("/login/second-factor", data={"code": totp_code(username),
                                                         "csrf_token": csrf_token(page)})
    return resp


def login(client, username: str, password: str = PASSWORD, follow: bool = False):
    """Log in as a person would, with the second factor where the county asks for one (admins always)."""
    page = client.get("/login")
    token = csrf_token(page.get_data(as_text=True))
    resp = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    resp = second_factor(client, username, resp)
    if follow and resp.status_code in (301, 302, 303):
        location = resp.headers["Location"]
        if location.endswith("/account/recovery-codes"):  # saved, as told, then on to the home page
            client.get(location)
            location = "/admin/"
        return client.get(location, follow_redirects=True)
    return resp


@pytest.fixture
def client_for(app):
    """``client_for(username)``: a test client logged in as that user."""

    def make(username: str, password: str = PASSWORD):
        client = app.test_client()
        resp = login(client, username, password)
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return client

    return make


def signed_tenant(tenant_id: int | None, *, platform: bool = False, secret: str = SECRET_KEY) -> str:
    """What the application hands PostgreSQL as ``app.tenant_id`` (for raw SQL as the app role)."""
    from jiuzhu.tenancy.rls import rls_key, signed_setting

    return signed_setting(rls_key(secret), tenant_id, platform=platform)
