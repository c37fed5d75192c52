"""PostgreSQL goes away under load and comes back: pages and the API answer 503 with Retry-After —
never 500 — and recover by themselves; every idempotent write retried through the outage is there
exactly once.

The test starts a PostgreSQL and a Redis of its own (a cluster in a temporary directory on a free
loopback port, a redis-server on another), migrates it, and stops and restarts only that cluster:
the shared server on 5432 and the run's Redis are never touched.
"""

from __future__ import annotations

import collections
import threading
import time

import pytest
from sqlalchemy import create_engine, select, text

from jiuzhu.auth.roles import Role
from jiuzhu.extensions import db
from tests.api_helpers import application, auth, make_token
from tests.conftest import PASSWORD, World, login, make_app
from tests.services import PostgresServer, RedisServer, checkout_tag

APP_ROLE = "jiuzhu_app_fault"
APP_PASSWORD = "fault-app-secret"
DATABASE = "jiuzhu_fault"

#: how long the load runs before, during and after the outage (seconds)
BEFORE, OUTAGE, AFTER = 1.5, 4.0, 3.0


@pytest.fixture
def own_services(tmp_path):
    postgres = PostgresServer().init().start()
    redis = RedisServer(tmp_path).start()
    try:
        engine = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
        engine.dispose()
        yield postgres, redis
    finally:
        redis.stop()
        postgres.destroy()


@pytest.fixture
def fault_app(own_services):
    from flask_migrate import upgrade

    postgres, redis = own_services
    urls = {"app": postgres.url(DATABASE, APP_ROLE, APP_PASSWORD), "owner": postgres.url(DATABASE),
            "redis": redis.url}
    app = make_app(urls, JIUZHU_DB_APP_ROLE=APP_ROLE, JIUZHU_DB_APP_PASSWORD=APP_PASSWORD,
                   JIUZHU_INSTANCE=f"fault-{checkout_tag()}", JIUZHU_API_RATE_PER_MINUTE=1_000_000,
                   JIUZHU_DB_CONNECT_TIMEOUT=2, TESTING=False)  # TESTING off: an exception is a 500, as in production
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


class Load:
    """Threads that view the worklist and submit applications, recording every answer."""

    def __init__(self, app, county, secret):
        self.app, self.county, self.secret = app, county, secret
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.statuses: collections.Counter = collections.Counter()
        self.page_log: list[tuple[float, int]] = []
        self.done: dict[str, int] = {}  # idempotency key → case id
        self.unfinished: list[str] = []
        self.retried: set[str] = set()  # keys that met a 503 and were retried
        self.errors: list[str] = []
        self.seq = iter(range(1, 400))

    def record(self, status: int) -> None:
        with self.lock:
            self.statuses[status] += 1

    def viewer(self, username: str) -> None:
        client = self.app.test_client()  # an account of its own: a login ends the account's other sessions
        assert login(client, username, PASSWORD).status_code == 302
        while not self.stop.is_set():
            status = client.get("/admin/casework/").status_code
            self.record(status)
            with self.lock:
                self.page_log.append((time.monotonic(), status))
            time.sleep(0.02)

    def writer(self, name: str) -> None:
        client = self.app.test_client()
        while not self.stop.is_set():
            with self.lock:
                seq = next(self.seq)
            key = f"{name}-{seq}"
            body = application(self.county["villages"][0][0], seq=seq)
            deadline = time.monotonic() + 30
            while True:  # the same key and body until it is accepted, as an integrating platform would
                resp = client.post("/api/v1/applications", json=body, headers=auth(self.secret, key))
                self.record(resp.status_code)
                if resp.status_code == 503:
                    assert resp.headers.get("Retry-After"), "503 without Retry-After"
                    self.retried.add(key)
                    if time.monotonic() > deadline:
                        self.unfinished.append(key)
                        break
                    time.sleep(0.2)
                    continue
                if resp.status_code == 201:
                    self.done[key] = resp.get_json()["id"]
                else:
                    self.errors.append(f"{key}: {resp.status_code} {resp.get_data(as_text=True)[:200]}")
                break

    def run(self, target, *args) -> threading.Thread:
        def guarded():
            try:
                target(*args)
            except Exception:  # noqa: BLE001 — a crashed thread is a finding, not a hang
                import traceback

                self.errors.append(f"{target.__name__} crashed: {traceback.format_exc()}")

        thread = threading.Thread(target=guarded, daemon=True)
        thread.start()
        return thread


def test_postgresql_stopped_and_restarted_under_load(fault_app, own_services):
    postgres, _ = own_services
    county = World(fault_app).county("fa", plugin="baseline", townships=1, villages=1)
    secret = make_token(fault_app, county, role=Role.township_staff, unit_id=county["towns"][0])
    load = Load(fault_app, county, secret)
    threads = [load.run(load.viewer, "fa-t1-staff"), load.run(load.viewer, "fa-t1-leader"),
               load.run(load.writer, "w1"),
               load.run(load.writer, "w2")]

    time.sleep(BEFORE)
    down = time.monotonic()
    postgres.stop("fast")
    time.sleep(OUTAGE)
    postgres.start()
    up = time.monotonic()
    time.sleep(AFTER)
    load.stop.set()
    for t in threads:
        t.join(60)

    print(f"\nPostgreSQL down {up - down:.1f} s; answers {dict(sorted(load.statuses.items()))}; "
          f"writes {len(load.done)}, {len(load.retried)} of them retried through the outage")
    assert load.errors == [] and load.unfinished == [], "\n".join(load.errors)
    assert load.statuses[500] == 0, load.statuses
    assert set(load.statuses) <= {200, 201, 503}, load.statuses
    assert load.statuses[503] > 0, "the load never met the outage"
    # recovery by itself: everything after the first second back is served
    late = [status for at, status in load.page_log if at > up + 1.0]
    assert late and set(late) == {200}, collections.Counter(late)
    # every write exactly once: one case, one household and one stored answer per key
    assert load.retried and load.retried <= set(load.done), "no write was carried through the outage"
    with create_engine(postgres.url(DATABASE)).connect() as conn:
        cases = conn.execute(text("SELECT id FROM cases")).scalars().all()
        households = conn.execute(text("SELECT count(*) FROM households")).scalar()
        stored_count = conn.execute(text("SELECT count(*) FROM api_idempotency")).scalar()
    from jiuzhu.api.models import IdempotentRequest
    from jiuzhu.extensions import db
    from jiuzhu.tenancy.context import Scope, use_scope

    with fault_app.app_context(), use_scope(Scope(county["id"])):  # the stored answers are encrypted
        stored = {r.key: r.body["id"] for r in db.session.scalars(select(IdempotentRequest))}
        db.session.remove()
    assert stored_count == len(stored)
    assert sorted(cases) == sorted(load.done.values())  # none lost, none doubled
    assert households == len(load.done)
    assert stored == load.done
