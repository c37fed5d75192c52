"""One instance, one namespace: two instances on one Redis never take each other's jobs, a job that
reaches the wrong worker is refused before it does anything, and every key lives under the
instance's prefix."""

from __future__ import annotations

import logging
import re

import pytest
from redis import Redis
from rq import SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from jiuzhu.cases.models import Case
from jiuzhu.extensions import db
from jiuzhu.instance import (
    META_DATABASE,
    META_INSTANCE,
    database_identity,
    identity,
    identity_from_config,
    queue,
    redis_connection,
)
from jiuzhu.reports.rollimport import RollImport, run_import_job
from jiuzhu.tenancy.context import Scope, use_scope
from tests.conftest import make_app
from tests.test_roll_import import good_rows, upload, workbook


@pytest.fixture
def county(world):
    return world.county("ri", plugin="baseline", townships=2, villages=1)  # the roll tests' places


@pytest.fixture
def other_app(database_urls):
    """A second instance on the same Redis (and, to prove the refusal, the same database)."""
    return make_app(database_urls, JIUZHU_INSTANCE="other-instance")


def work(app):
    with app.app_context():
        SimpleWorker([identity(app).queue_name], connection=redis_connection(app)).work(burst=True)


def import_state(app, county, import_id):
    with app.app_context(), use_scope(Scope(county["id"])):
        status = db.session.get(RollImport, import_id).status.value
        cases = db.session.scalar(select(func.count()).select_from(Case))
        db.session.remove()
    return status, cases


def test_each_instance_has_its_own_queue_and_takes_only_its_own_jobs(app, other_app, county, client_for):
    assert identity(app).queue_name != identity(other_app).queue_name
    resp = upload(client_for("ri-county"), workbook(good_rows(4)))
    import_id = int(re.search(r"/rolls/(\d+)", resp.headers["Location"]).group(1))
    work(other_app)  # the other instance's worker, on the same Redis: nothing for it
    assert import_state(app, county, import_id) == ("queued", 0)
    with app.app_context():
        assert queue(app).count == 1
    work(app)
    assert import_state(app, county, import_id) == ("done", 4)


def test_a_job_on_the_wrong_instance_is_refused_before_it_does_anything(app, other_app, county, client_for,
                                                                        caplog):
    client_for("ri-county")  # (the county exists; the import is created below by hand)
    with app.app_context(), use_scope(Scope(county["id"])):
        imp = RollImport(filename="x.xlsx", content=workbook(good_rows(3)))
        db.session.add(imp)
        db.session.commit()
        import_id = imp.id
        db.session.remove()
    # stamped for this instance, but put on the other instance's queue (a misrouted or moved job)
    with app.app_context():
        job = queue(other_app).enqueue(run_import_job, import_id, county["id"], meta=identity(app).meta)
    with caplog.at_level(logging.ERROR, logger="jiuzhu.instance"):
        work(other_app)
    assert import_state(app, county, import_id) == ("queued", 0)
    with other_app.app_context():
        failed = FailedJobRegistry(queue=queue(other_app)).get_job_ids()
        assert job.id in failed
        exc = Job.fetch(job.id, connection=redis_connection(other_app)).latest_result().exc_string
    assert "ForeignJobError" in exc and "refused, nothing done" in exc
    assert any("refused, nothing done" in r.getMessage() and identity(app).name in r.getMessage()
               for r in caplog.records)


def test_a_job_of_the_same_name_but_another_database_is_refused(app, county):
    with app.app_context(), use_scope(Scope(county["id"])):
        imp = RollImport(filename="x.xlsx", content=workbook(good_rows(2)))
        db.session.add(imp)
        db.session.commit()
        import_id = imp.id
        db.session.remove()
    stamp = {META_INSTANCE: identity(app).name, META_DATABASE: "0000000000000000"}
    with app.app_context():
        queue(app).enqueue(run_import_job, import_id, county["id"], meta=stamp)
    work(app)
    assert import_state(app, county, import_id) == ("queued", 0)


def test_unstamped_jobs_are_refused(app, county):
    with app.app_context():
        job = queue(app).enqueue(run_import_job, 1, county["id"])
    work(app)
    with app.app_context():
        assert job.id in FailedJobRegistry(queue=queue(app)).get_job_ids()


def test_every_key_the_run_writes_is_in_its_namespace(app, county, client_for):
    """Rate-limit counters, the queue and its jobs: nothing outside ``jiuzhu:<instance>:`` or rq's
    keys for this instance's queue and jobs."""
    from tests.api_helpers import make_token

    token = make_token(app, county, username="ri-t1-staff")
    client = app.test_client()
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    upload(client_for("ri-county"), workbook(good_rows(2)))
    ident = identity(app)
    conn = Redis.from_url(app.config["JIUZHU_REDIS_URL"])
    keys = [k.decode() for k in conn.scan_iter()]
    assert any(k.startswith(f"jiuzhu:{ident.name}:api:rate:") for k in keys)
    job_ids = {k.split(":", 2)[2] for k in keys if k.startswith("rq:job:")}
    for key in keys:
        assert (key.startswith(f"jiuzhu:{ident.name}:") or ident.queue_name in key
                or any(jid in key for jid in job_ids) or key in {"rq:queues"}), key
    for jid in job_ids:
        assert identity(app).owns(Job.fetch(jid, connection=conn).meta)


def test_an_app_a_test_builds_without_a_redis_url_writes_to_the_runs_own(run_redis, tmp_path):
    """The SQLite demo a test builds (no Redis named) moves its publicity generation in the run's own
    Redis after a write — not in the host's default one, which may be another instance's."""
    from flask_migrate import upgrade

    from jiuzhu import create_app
    from jiuzhu.tenancy.services import create_tenant
    from tests.conftest import TEST_KEYS

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.db'}", "SECRET_KEY": "x",
                      "JIUZHU_PASSWORD_HASHING": "fast", "JIUZHU_KEYS": TEST_KEYS})
    assert app.config["JIUZHU_REDIS_URL"] == run_redis.url
    with app.app_context():
        upgrade()
        with use_scope(Scope.platform()):
            create_tenant(db.session, app.extensions["jiuzhu.plugins"], code="rds", name="本县", plugin_key="baseline")
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    keys = [k.decode() for k in Redis.from_url(run_redis.url).scan_iter(identity(app).key("*"))]
    assert identity(app).key("publicity-generation", "all") in keys


def test_the_default_name_comes_from_the_database_and_web_and_owner_agree():
    app_url = "postgresql+psycopg://jiuzhu_app:secret@db.example:5432/jiuzhu"
    owner_url = "postgresql+psycopg://owner:other@db.example:5432/jiuzhu"
    staging = "postgresql+psycopg://jiuzhu_app:secret@db.example:5432/jiuzhu_staging"
    assert database_identity(app_url) == database_identity(owner_url) != database_identity(staging)
    a = identity_from_config({"SQLALCHEMY_DATABASE_URI": app_url})
    b = identity_from_config({"SQLALCHEMY_DATABASE_URI": staging})
    assert a.name.startswith("db-") and a.name != b.name and a.queue_name != b.queue_name
    named = identity_from_config({"SQLALCHEMY_DATABASE_URI": app_url, "JIUZHU_INSTANCE": "anhui-prod"})
    assert named.queue_name == "jiuzhu.anhui-prod" and named.key("api", "rate", 1) == "jiuzhu:anhui-prod:api:rate:1"
    with pytest.raises(ValueError, match="JIUZHU_INSTANCE"):
        identity_from_config({"SQLALCHEMY_DATABASE_URI": app_url, "JIUZHU_INSTANCE": "Bad Name!"})


def test_rq_cron_puts_the_sweep_on_this_instance_queue_with_its_stamp(app, county):
    from rq.cron import CronScheduler

    from jiuzhu.reminders.jobs import register_cron_jobs

    with app.app_context():
        scheduler = CronScheduler(connection=redis_connection(app))
        register_cron_jobs(scheduler.register, identity(app), 300)
        scheduler.enqueue_jobs()
        jobs = queue(app).get_jobs()
    assert sorted(j.func_name for j in jobs) == ["jiuzhu.audit.anchors.anchor_audit_heads",
                                                 "jiuzhu.reminders.jobs.disable_dormant_accounts",
                                                 "jiuzhu.reminders.jobs.purge_access_log",
                                                 "jiuzhu.reminders.jobs.purge_api_requests",
                                                 "jiuzhu.reminders.jobs.sweep"]
    assert all(identity(app).owns(j.meta) for j in jobs)
    work(app)  # the sweep enqueues this county's reminders, stamped, and they run
    with app.app_context():
        assert not FailedJobRegistry(queue=queue(app)).get_job_ids()
