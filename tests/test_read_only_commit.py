"""A request that only read ends its transaction with COMMIT, so the connection keeps the statements
psycopg prepared (a ROLLBACK makes psycopg deallocate them all, and every request ended in one);
a request that wrote, or may have written, still ends in a rollback (``jiuzhu.plans``)."""

from __future__ import annotations

import flask
import psycopg
import pytest
from sqlalchemy import event, select, text

from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import Tenant
from tests.conftest import make_app


@pytest.fixture
def probe(request, database_urls, world):  # (pytest's request)
    """An app of its own with pages that read, write without committing, or notify; the ends of
    its transactions (``ended``: "commit" or "rollback", in order). Parametrized indirectly: the
    app's settings."""
    county = world.county("rc", plugin="baseline", townships=1, villages=1)
    app = make_app(database_urls, **getattr(request, "param", {}))

    @app.get("/_probe/read")
    def read():
        with use_scope(Scope.platform()):
            codes = db.session.scalars(select(Tenant.code).order_by(Tenant.code)).all()
        with use_scope(Scope(county["id"])):  # a read-only function of ours (STABLE) is a read
            db.session.execute(text("SELECT jiuzhu_current_tenant()"))
        return {"codes": codes}

    @app.get("/_probe/write")
    def write():  # a handler that changes a row and never commits
        with use_scope(Scope.platform()):
            db.session.scalars(select(Tenant).where(Tenant.code == "rc")).one().name = "未提交的名称"
            db.session.flush()
        return "ok"

    @app.get("/_probe/notify")
    def notify():
        db.session.execute(text("SELECT pg_notify('jiuzhu_probe', 'sent')"))
        if "commit" in flask.request.args:
            db.session.commit()
        return "ok"

    ended: list[str] = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", lambda conn: ended.append("commit"))
    event.listen(engine, "rollback", lambda conn: ended.append("rollback"))
    yield app, ended
    engine.dispose()


def test_a_page_that_only_reads_commits_and_its_statements_stay_prepared(probe):
    app, ended = probe
    client = app.test_client()
    assert client.get("/_probe/read").json["codes"] == ["rc"]
    assert ended == ["commit"]
    for _ in range(12):  # psycopg prepares a statement once a connection has run it five times
        assert client.get("/_probe/read").status_code == 200
    assert "rollback" not in ended
    with app.app_context(), db.engine.connect() as conn:  # the requests' one pooled connection
        prepared = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
    assert any("FROM tenants" in s for s in prepared), prepared


@pytest.mark.parametrize("probe", [{"JIUZHU_DB_PREPARE_THRESHOLD": 0}], indirect=True)
def test_an_instance_behind_an_old_pgbouncer_prepares_nothing(probe):
    """``JIUZHU_DB_PREPARE_THRESHOLD=0``: no statement is ever prepared (PgBouncer in transaction
    pooling before 1.21 would hand a prepared statement's name to another server connection)."""
    app, ended = probe
    client = app.test_client()
    for _ in range(12):
        assert client.get("/_probe/read").status_code == 200
    assert set(ended) == {"commit"}
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar() == 0


def test_a_page_that_wrote_without_committing_leaves_nothing_behind(probe, owner_engine):
    app, ended = probe
    client = app.test_client()
    assert client.get("/_probe/write").status_code == 200
    assert ended == ["rollback"]
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM tenants WHERE code = 'rc'")).scalar() == "rc县"


def test_a_notification_of_a_request_that_did_not_commit_is_never_delivered(probe, database_urls):
    """NOTIFY is delivered at a commit only: the one thing a read's commit could do that its rollback
    would not. A page that sent one and did not commit still ends in a rollback."""
    app, ended = probe
    client = app.test_client()
    url = database_urls["owner"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute("LISTEN jiuzhu_probe")
        assert client.get("/_probe/notify").status_code == 200
        assert ended == ["rollback"]
        assert [n.payload for n in listener.notifies(timeout=1.0, stop_after=1)] == []
        assert client.get("/_probe/notify?commit=1").status_code == 200  # the listener does hear a commit
        assert [n.payload for n in listener.notifies(timeout=5.0, stop_after=1)] == ["sent"]


def test_only_functions_postgresql_holds_to_reading_count_as_reads(probe):
    from jiuzhu.plans import _read_only_functions

    app, _ = probe
    with app.app_context(), db.engine.connect() as conn:
        trusted = _read_only_functions(conn)
    assert {"jiuzhu_current_tenant", "jiuzhu_registry_lookup"} <= trusted
    assert not trusted & {"jiuzhu_record_look", "jiuzhu_login_record", "jiuzhu_purge_access_log"}
