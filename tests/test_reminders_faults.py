"""Reminders under faults, with real RQ workers and cron processes against a Redis of our own:
a worker killed mid-batch, a worker killed between its claim and its commit while another finds the
county taken, Redis stopped and restarted, two workers and two cron processes at once.
Every due reminder reaches every recipient's inbox exactly once, counted."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import Tenant
from jiuzhu.workflow import engine
from tests.bulk import seed_due_reminders
from tests.conftest import INSTANCE, PASSWORD, SECRET_KEY, TEST_KEYS  # noqa: F401  (the fixtures' users)
from tests.factories import acting
from tests.services import RedisServer
from tests.test_workflow_baseline import do, new_case

ROOT = Path(__file__).resolve().parent.parent
DUE = dt.date(2026, 11, 20)
RECIPIENTS = 2  # the township's staff and leader


@pytest.fixture
def redis_server(tmp_path):
    """A Redis of this test's own, which it stops and starts (never the run's or the host's)."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def county(app, world):
    county = world.county("ft", plugin="baseline", townships=1, villages=1)
    with app.app_context(), use_scope(Scope(county["id"])):
        tenant = db.session.get(Tenant, county["id"])
        tenant.plugin_settings = {"remind_on_non_workdays": True}  # the test may run on a weekend
        db.session.commit()
        db.session.remove()
    return county


class Processes:
    def __init__(self, database_urls, redis_url):
        self.env = {**os.environ, "JIUZHU_DATABASE_URL": database_urls["app"], "JIUZHU_SECRET_KEY": SECRET_KEY,
                    "JIUZHU_REDIS_URL": redis_url, "JIUZHU_INSTANCE": INSTANCE, "JIUZHU_REMINDER_BATCH": "25",
                    "JIUZHU_REMINDER_SWEEP_SECONDS": "1", "PYTHONUNBUFFERED": "1", "TZ": "Asia/Shanghai",
                    "JIUZHU_KEYS": TEST_KEYS}
        self.procs: list[subprocess.Popen] = []

    def start(self, *args) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "reminders", *args], cwd=ROOT,
                                env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            p.wait(10)


@pytest.fixture
def processes(database_urls, redis_server):
    procs = Processes(database_urls, redis_server.url)
    yield procs
    procs.stop_all()


def counts(owner_engine, tenant_id):
    with owner_engine.connect() as conn:
        return conn.execute(text("""
            SELECT (SELECT count(*) FROM reminders WHERE tenant_id = :t AND status = 'sent'),
                   (SELECT count(*) FROM reminders WHERE tenant_id = :t AND status = 'pending'),
                   (SELECT count(*) FROM notifications WHERE tenant_id = :t),
                   (SELECT count(*) FROM (SELECT reminder_id, user_id FROM notifications WHERE tenant_id = :t
                                          GROUP BY 1, 2 HAVING count(*) > 1) d)"""), {"t": tenant_id}).one()


def wait_for(predicate, timeout=60.0, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def enqueue_reminders(app, redis_url, tenant_id):
    """What one cron tick does for one county (as the operator's `reminders sweep`), on this run's
    instance queue in the test's own Redis."""
    from jiuzhu.reminders.jobs import enqueue_tenant_reminders

    own = app.config["JIUZHU_REDIS_URL"]
    app.config["JIUZHU_REDIS_URL"] = redis_url
    try:
        enqueue_tenant_reminders(app, tenant_id)
    finally:
        app.config["JIUZHU_REDIS_URL"] = own


def test_worker_killed_mid_batch_delivers_everything_exactly_once(app, county, owner_engine, processes,
                                                                   redis_server):
    n = 600
    seed_due_reminders(owner_engine, county, n, DUE)
    enqueue_reminders(app, redis_server.url, county["id"])
    worker = processes.start("worker", "--burst")
    assert wait_for(lambda: counts(owner_engine, county["id"])[0] > 0), "worker never started sending"
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    sent, pending, notes, dupes = counts(owner_engine, county["id"])
    assert 0 < sent < n and pending == n - sent  # killed in the middle: the open batch was rolled back
    assert notes == sent * RECIPIENTS and dupes == 0
    enqueue_reminders(app, redis_server.url, county["id"])  # the next sweep
    processes.start("worker", "--burst").wait(120)
    assert counts(owner_engine, county["id"]) == (n, 0, n * RECIPIENTS, 0)


def test_redis_stopped_and_restarted_nothing_lost_nothing_doubled(app, county, owner_engine, processes,
                                                                 redis_server):
    n = 400
    seed_due_reminders(owner_engine, county, n, DUE)
    cron = processes.start("cron")
    worker = processes.start("worker")
    assert wait_for(lambda: counts(owner_engine, county["id"])[0] > 0, timeout=60)
    redis_server.stop()
    time.sleep(3)
    mid = counts(owner_engine, county["id"])
    redis_server.start()  # same port, empty: every queued job is gone
    # nobody restarts them: the worker and cron reconnect by themselves, with back-off
    assert cron.poll() is None and worker.poll() is None
    assert wait_for(lambda: counts(owner_engine, county["id"])[1] == 0, timeout=120), counts(owner_engine,
                                                                                             county["id"])
    time.sleep(2.5)  # further sweeps find nothing more to send
    assert mid[3] == 0
    assert counts(owner_engine, county["id"]) == (n, 0, n * RECIPIENTS, 0)


def test_two_workers_and_two_cron_processes_send_each_reminder_once(app, county, owner_engine, processes,
                                                                    redis_server):
    n = 600
    seed_due_reminders(owner_engine, county, n, DUE)
    for _ in range(2):
        processes.start("cron")
        processes.start("worker")
    assert wait_for(lambda: counts(owner_engine, county["id"])[1] == 0, timeout=120)
    time.sleep(2.5)
    assert counts(owner_engine, county["id"]) == (n, 0, n * RECIPIENTS, 0)


def test_with_redis_down_staff_still_work_and_reminders_go_out_once_it_is_back(app, county, owner_engine,
                                                                               redis_server, database_urls):
    from redis.exceptions import ConnectionError as RedisDown
    from rq import SimpleWorker

    from jiuzhu.instance import identity, redis_connection
    from jiuzhu.reminders.jobs import sweep

    redis_server.stop()
    own = app.config["JIUZHU_REDIS_URL"]
    app.config["JIUZHU_REDIS_URL"] = redis_server.url
    try:
        case_id = new_case(app, username="ft-t1-staff", on=dt.date(2026, 9, 30))
        do(app, "ft-t1-staff", case_id, "acceptance", "accept", dt.date(2026, 9, 30))  # works without Redis
        with acting(app, "ft-t1-staff") as user:
            engine.extend(db.session, user, case_id, "等待核对", on=dt.date(2026, 10, 9))
        with app.app_context(), pytest.raises(RedisDown):
            sweep()
        seed_due_reminders(owner_engine, county, 50, DUE)
        assert counts(owner_engine, county["id"])[2] == 0
        redis_server.start()
        with app.app_context():
            assert sweep() == 1
            SimpleWorker([identity(app).queue_name], connection=redis_connection(app)).work(burst=True)
        sent, pending, notes, dupes = counts(owner_engine, county["id"])
        assert (notes, dupes) == (50 * RECIPIENTS, 0) and sent == 50
    finally:
        app.config["JIUZHU_REDIS_URL"] = own


def _sweep_lock_held(owner_engine, tenant_id) -> bool:
    from jiuzhu.reminders.dispatch import SWEEP_LOCK

    with owner_engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :k AND objid = :t "
            "AND objsubid = 2 AND granted"), {"k": SWEEP_LOCK, "t": tenant_id}).scalar())


def _waiting_on_the_inbox(owner_engine) -> bool:
    with owner_engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE 'INSERT INTO notifications%'")).scalar())


def test_worker_killed_between_claim_and_commit_loses_nothing_and_sends_nothing_twice(app, county, owner_engine,
                                                                                       processes, redis_server):
    """A worker holds a claimed and marked batch — the county's sweep lock, its rows updated, not yet
    committed — when it is killed. Meanwhile a second worker finds the county taken and leaves it.
    Nothing is half-claimed afterwards: every row is pending again, nothing reached an inbox, and the
    next sweep sends each reminder once."""
    n = 60
    seed_due_reminders(owner_engine, county, n, DUE)
    blocker = owner_engine.connect()
    try:
        # the inbox is closed to writers: the worker claims and marks its first batch, then waits here
        blocker.execute(text("LOCK TABLE notifications IN SHARE ROW EXCLUSIVE MODE"))
        enqueue_reminders(app, redis_server.url, county["id"])
        worker = processes.start("worker", "--burst")
        assert wait_for(lambda: _waiting_on_the_inbox(owner_engine), timeout=60), "the worker never reached the inbox"
        assert _sweep_lock_held(owner_engine, county["id"])
        # a second sweep of the county while the first holds it: it leaves the county alone, at once
        enqueue_reminders(app, redis_server.url, county["id"])
        assert processes.start("worker", "--burst").wait(60) == 0
        assert counts(owner_engine, county["id"]) == (0, n, 0, 0)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        blocker.rollback()  # the killed worker's server process goes on, finds its client gone, rolls back
        blocker.close()
    assert wait_for(lambda: not _sweep_lock_held(owner_engine, county["id"]), timeout=30)
    assert counts(owner_engine, county["id"]) == (0, n, 0, 0)  # nothing lost in 'sending', nothing sent
    enqueue_reminders(app, redis_server.url, county["id"])  # the next sweep
    processes.start("worker", "--burst").wait(120)
    assert counts(owner_engine, county["id"]) == (n, 0, n * RECIPIENTS, 0)
