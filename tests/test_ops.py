"""Operating Jiuzhu: /healthz and /readyz, /metrics behind its token, request ids and log lines,
the reverse proxy's headers, and what a visitor sees while the database is unreachable."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re

import pytest
from sqlalchemy import text

from jiuzhu.clock import CHINA_TZ, china_now, china_today
from jiuzhu.extensions import db
from jiuzhu.ops.logs import ContextFilter, JsonFormatter
from tests import services
from tests.api_helpers import api_redis, application, auth, make_token  # noqa: F401
from tests.bulk import seed_due_reminders
from tests.conftest import APP_ROLE, PASSWORD, login, make_app
from tests.test_workflow_baseline import new_case

TOKEN = "metrics-secret-0123456789"


@pytest.fixture
def county(world):
    return world.county("ops", plugin="baseline", townships=1, villages=1)


@pytest.fixture
def captured_log():
    """Every record of every logger, as the JSON lines production writes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    root.removeHandler(handler)
    root.setLevel(old_level)


def dead_database_app(database_urls, **overrides):
    """The same instance, but its PostgreSQL is unreachable: nothing listens on the port."""
    url = f"postgresql+psycopg://{APP_ROLE}:x@127.0.0.1:{services.free_port()}/nowhere"
    return make_app(database_urls, SQLALCHEMY_DATABASE_URI=url, **overrides)


# -- health -------------------------------------------------------------------------------------

def test_healthz_answers_without_touching_anything(database_urls):
    dead = dead_database_app(database_urls, JIUZHU_REDIS_URL=f"redis://127.0.0.1:{services.free_port()}/0")
    resp = dead.test_client().get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}


def test_readyz_checks_database_role_migrations_redis_and_calendar(app, owner_engine):
    resp = app.test_client().get("/readyz")
    body = resp.get_json()
    assert resp.status_code == 200, body
    checks = body["checks"]
    assert checks["database"]["ok"] and checks["database"]["role"] == APP_ROLE
    assert checks["migrations"]["ok"] and checks["migrations"]["current"] == checks["migrations"]["head"]
    assert checks["redis"]["reachable"] is True
    year = china_today().year
    with owner_engine.connect() as conn:
        published = set(conn.execute(text("SELECT year FROM calendar_years")).scalars())
    missing = [y for y in (year, year + 1) if y not in published]
    assert checks["calendar"]["missing"] == missing
    assert body["status"] == ("warn" if missing else "ok")
    assert bool([w for w in body["warnings"] if "放假安排尚未录入" in w]) == bool(missing)


def test_readyz_warns_until_next_year_is_entered(app, owner_engine, forget_entered_years):
    year = china_today().year
    with owner_engine.begin() as conn:
        for y in (year, year + 1):
            conn.execute(text("INSERT INTO calendar_years (year, source, entered_at, entered_by) "
                              "VALUES (:y, 'operator', now(), 'ops') ON CONFLICT DO NOTHING"), {"y": y})
    body = app.test_client().get("/readyz").get_json()
    assert body["checks"]["calendar"]["missing"] == [] and body["status"] == "ok", body


def test_readyz_fails_when_the_schema_is_behind_the_code(app, owner_engine):
    with owner_engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0014'"))
    try:
        resp = app.test_client().get("/readyz")
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    body = resp.get_json()
    assert resp.status_code == 503 and body["failed"] == ["migrations"]
    assert body["checks"]["migrations"]["current"] == ["0014"] and "db upgrade" in body["checks"]["migrations"]["error"]


def test_readyz_only_warns_when_the_schema_is_ahead_of_the_code(app, owner_engine):
    """During an upgrade the schema is migrated first, then the processes restart: the old ones stay
    in rotation meanwhile."""
    with owner_engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_next_release'"))
    try:
        resp = app.test_client().get("/readyz")
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    body = resp.get_json()
    assert resp.status_code == 200 and body["status"] == "warn"
    assert "重启" in body["checks"]["migrations"]["warning"]


def test_readyz_fails_when_connected_as_a_role_that_bypasses_row_level_security(database_urls, app):
    owner = make_app(database_urls, SQLALCHEMY_DATABASE_URI=database_urls["owner"])  # the postgres superuser
    resp = owner.test_client().get("/readyz")
    assert resp.status_code == 503
    assert "行级安全" in resp.get_json()["checks"]["database"]["error"]


def test_readyz_fails_without_the_database_and_only_warns_without_redis(database_urls, app):
    dead = dead_database_app(database_urls)
    resp = dead.test_client().get("/readyz")
    assert resp.status_code == 503 and "database" in resp.get_json()["failed"]

    app.config["JIUZHU_REDIS_URL"], own = f"redis://127.0.0.1:{services.free_port()}/0", app.config["JIUZHU_REDIS_URL"]
    try:
        resp = app.test_client().get("/readyz")
    finally:
        app.config["JIUZHU_REDIS_URL"] = own
    body = resp.get_json()
    assert resp.status_code == 200 and body["status"] == "warn" and body["checks"]["redis"]["reachable"] is False
    assert any("Redis" in w for w in body["warnings"])


# -- metrics ------------------------------------------------------------------------------------

@pytest.fixture
def metrics_token(app):
    app.config["JIUZHU_METRICS_TOKEN"] = TOKEN
    yield TOKEN
    app.config["JIUZHU_METRICS_TOKEN"] = None


def scrape(app, token=TOKEN):
    resp = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return resp.get_data(as_text=True)


def sample(exposition: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in exposition.splitlines():
        if line.startswith("#"):
            continue
        metric, _, value = line.rpartition(" ")
        base, _, raw = metric.partition("{")
        got = ",".join(sorted(p for p in raw.rstrip("}").split(",") if p and not p.startswith("pid=")))
        if base == name and got == wanted:
            return float(value)
    raise AssertionError(f"no sample {name}{{{wanted}}}")


def test_metrics_are_not_public(app):
    assert app.test_client().get("/metrics").status_code == 404  # no token configured: no endpoint
    app.config["JIUZHU_METRICS_TOKEN"] = TOKEN
    try:
        client = app.test_client()
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong-secret-0123456789"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    finally:
        app.config["JIUZHU_METRICS_TOKEN"] = None


def test_a_short_metrics_token_is_refused_at_start_up():
    from jiuzhu.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="JIUZHU_METRICS_TOKEN"):
        load_config({"JIUZHU_DATABASE_URL": "sqlite://", "JIUZHU_SECRET_KEY": "k", "JIUZHU_METRICS_TOKEN": "short"})


def test_request_latency_and_status_are_counted_by_endpoint(app, metrics_token):
    before = scrape(app)
    try:
        base = sample(before, "jiuzhu_http_requests_total", endpoint="auth.login", method="GET", status="200")
    except AssertionError:
        base = 0.0
    client = app.test_client()
    for _ in range(3):
        assert client.get("/login").status_code == 200
    after = scrape(app)
    assert sample(after, "jiuzhu_http_requests_total", endpoint="auth.login", method="GET", status="200") == base + 3
    assert sample(after, "jiuzhu_http_request_duration_seconds_count", endpoint="auth.login", method="GET") >= 3


def test_county_gauges_count_each_county_in_its_own_scope(app, world, owner_engine, metrics_token):
    a = world.county("ma", plugin="baseline", townships=1, villages=1)
    world.county("mb", plugin="baseline", townships=1, villages=1)
    for _ in range(3):
        new_case(app, username="ma-t1-staff", on=china_today())
    new_case(app, username="mb-t1-staff", on=china_today())
    late = china_today() - dt.timedelta(days=3)
    with owner_engine.begin() as conn:  # two of the county's open steps are past their due date
        conn.execute(text("UPDATE case_steps SET due_on = :late WHERE id IN (SELECT id FROM case_steps "
                          "WHERE tenant_id = :t ORDER BY id LIMIT 2)"), {"late": late, "t": a["id"]})
    seed_due_reminders(owner_engine, a, 5, late)
    body = scrape(app)
    with owner_engine.connect() as conn:
        truth = {code: conn.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE due_on < :today) FROM case_steps s JOIN tenants t "
            "ON t.id = s.tenant_id WHERE t.code = :code AND s.status = 'open'"),
            {"code": code, "today": china_today()}).one() for code in ("ma", "mb")}
    for code in ("ma", "mb"):
        assert sample(body, "jiuzhu_open_steps", county=code) == truth[code][0]
        assert sample(body, "jiuzhu_overdue_steps", county=code) == truth[code][1]
    assert truth == {"ma": (3, 2), "mb": (1, 0)}  # (the seeded reminders' cases have no steps)
    lag = sample(body, "jiuzhu_reminder_lag_seconds", county="ma")
    expected = (china_now() - dt.datetime.combine(late, dt.time(), CHINA_TZ)).total_seconds()
    assert abs(lag - expected) < 120
    assert sample(body, "jiuzhu_reminder_lag_seconds", county="mb") == 0
    assert sample(body, "jiuzhu_database_up") == 1


def test_queue_depth_and_failed_jobs_of_this_instance(app, metrics_token):
    from rq import SimpleWorker

    from jiuzhu.instance import enqueue, identity, redis_connection

    name = identity(app).queue_name
    with app.app_context():
        enqueue(app, "builtins.int", "not a number")  # fails when run
        enqueue(app, "builtins.int", "7")
    body = scrape(app)
    assert sample(body, "jiuzhu_redis_up") == 1
    assert sample(body, "jiuzhu_rq_queue_depth", queue=name) == 2
    assert sample(body, "jiuzhu_rq_failed_jobs", queue=name) == 0
    with app.app_context():
        SimpleWorker([name], connection=redis_connection(app)).work(burst=True)
    body = scrape(app)
    assert sample(body, "jiuzhu_rq_queue_depth", queue=name) == 0
    assert sample(body, "jiuzhu_rq_failed_jobs", queue=name) == 1


def test_metrics_say_which_service_is_down_instead_of_failing(database_urls):
    dead = dead_database_app(database_urls, JIUZHU_REDIS_URL=f"redis://127.0.0.1:{services.free_port()}/0",
                             JIUZHU_METRICS_TOKEN=TOKEN)
    body = scrape(dead)
    assert sample(body, "jiuzhu_database_up") == 0 and sample(body, "jiuzhu_redis_up") == 0


# -- the database unreachable ----------------------------------------------------------------------

@pytest.mark.usefixtures("api_redis")
def test_pages_and_api_answer_503_with_retry_after_while_the_database_is_unreachable(
        app, database_urls, county, client_for):
    secret = make_token(app, county, role="township_staff", unit_id=county["towns"][0])
    session_cookie = client_for("ops-t1-staff").get_cookie("session").value
    dead = dead_database_app(database_urls)
    client = dead.test_client()
    client.set_cookie("session", session_cookie)

    page = client.get("/admin/casework/")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "服务暂不可用" in page.get_data(as_text=True) and "数据库暂时无法连接" in page.get_data(as_text=True)

    api = client.post("/api/v1/applications", json=application(county["villages"][0][0]),
                      headers=auth(secret, "outage-1"))
    assert api.status_code == 503 and api.headers["Retry-After"] == "5"
    error = api.get_json()["error"]
    assert error["code"] == "service_unavailable" and error["message_zh"] and error["message_en"]

    fresh = dead.test_client()
    form = fresh.get("/login")  # the login form itself needs no database
    assert form.status_code == 200
    resp = login(fresh, "ops-t1-staff", PASSWORD)
    assert resp.status_code == 503 and "服务暂不可用" in resp.get_data(as_text=True)


def test_the_500_page_renders_after_a_failed_transaction(database_urls, app, county):
    """A bug that leaves the transaction aborted: the error page still renders (it rolls back first
    and reads nothing from the database), in Chinese, and the SQL parameters are not in the log."""
    broken = make_app(database_urls, TESTING=False)

    def boom():
        db.session.execute(text("SELECT name FROM tenants WHERE code = :c AND no_such_column = 1"),
                           {"c": "secret-parameter-value"})
        return "unreachable"

    broken.add_url_rule("/boom", "boom", boom)
    client = broken.test_client()
    assert login(client, "ops-t1-staff", PASSWORD).status_code == 302
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        resp = client.get("/boom")
    finally:
        logging.getLogger().removeHandler(handler)
    assert resp.status_code == 500
    assert "系统错误" in resp.get_data(as_text=True)
    logged = stream.getvalue()
    assert "no_such_column" in logged  # the failure is logged …
    assert "secret-parameter-value" not in logged  # … without its parameters
    assert client.get("/admin/casework/").status_code == 200  # and the next request is fine


# -- request ids, log lines, the proxy ---------------------------------------------------------------

def test_request_ids_are_accepted_or_made_and_every_request_is_logged_once(app, county, client_for, captured_log):
    client = client_for("ops-t1-staff")
    given = "nginx-4f1c2e9a7b"
    resp = client.get("/admin/casework/", headers={"X-Request-Id": given})
    assert resp.status_code == 200 and resp.headers["X-Request-Id"] == given
    made = client.get("/admin/casework/", headers={"X-Request-Id": "bad id; DROP"}).headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    lines = [r for r in captured_log() if r["logger"] == "jiuzhu.request"]
    mine = [r for r in lines if r.get("request_id") == given]
    assert len(mine) == 1
    line = mine[0]
    assert line["endpoint"] == "casework.index" and line["status"] == 200 and line["method"] == "GET"
    assert line["tenant"] == county["id"] and line["user_id"] == county["users"]["ops-t1-staff"]
    assert line["duration_ms"] >= 0 and line["path"] == "/admin/casework/"
    assert [r for r in lines if r.get("request_id") == made]


def test_plain_text_logs_for_the_demo():
    from jiuzhu.ops.logs import TextFormatter

    record = logging.LogRecord("jiuzhu.request", logging.INFO, __file__, 1, "GET %s 200", ("casework.index",), None)
    record.request_id, record.tenant = "abc12345", 3
    line = TextFormatter().format(record)
    assert "INFO jiuzhu.request GET casework.index 200" in line and "request_id=abc12345" in line
    assert not line.startswith("{")


def test_forwarded_headers_are_trusted_only_from_a_configured_proxy(database_urls, app, county, owner_engine):
    """X-Forwarded-For decides the source address the login throttle counts — only when the app is
    told a proxy sets it; otherwise anyone could pick the address their failures are counted against."""
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "Referer": "https://localhost/login"}
    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        client = make_app(database_urls, JIUZHU_TRUSTED_PROXIES=proxies).test_client()
        page = client.get("/login", headers=forged)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
        resp = client.post("/login", headers=forged,
                           data={"username": "ops-t1-staff", "password": "Wrong-pass-2", "csrf_token": token})
        assert resp.status_code == 200 and "用户名或密码错误" in resp.get_data(as_text=True)
        with owner_engine.connect() as conn:
            source = conn.execute(text("SELECT source FROM login_attempts ORDER BY id DESC LIMIT 1")).scalar()
        assert source == expected, (proxies, source)


def test_readiness_fails_when_the_rls_key_does_not_match_the_secret(database_urls, app):
    """A changed JIUZHU_SECRET_KEY without `flask tenants rls-key`: the app would see no rows at all —
    /readyz says so instead of passing."""
    from tests.conftest import make_app

    rotated = make_app(database_urls, SECRET_KEY="rotated-without-telling-the-database")
    resp = rotated.test_client().get("/readyz")
    assert resp.status_code == 503 and "database" in resp.json["failed"]
    assert "tenants rls-key" in resp.json["checks"]["database"]["error"]
    assert app.test_client().get("/readyz").json["checks"]["database"]["ok"]
