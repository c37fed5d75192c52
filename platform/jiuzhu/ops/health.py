"""``/healthz``, ``/readyz`` and ``/metrics``: what a load balancer, an orchestrator and Prometheus ask.

* ``/healthz`` — the process answers. No I/O at all: a liveness probe must not fail because a
  dependency did (restarting the web would not bring PostgreSQL back).
* ``/readyz`` — this process can serve: PostgreSQL reachable as the application role (not a
  superuser, not a role that bypasses row-level security) whose signature of the tenant PostgreSQL
  accepts (the RLS key matches JIUZHU_SECRET_KEY), the schema at the migrations' head (not
  behind it). 503 if not. Warnings, not failures (200): Redis unreachable — the web keeps serving
  without it and reminders wait in the outbox, so taking every web process out of rotation would
  turn a degraded service into an outage; the working-day calendar not yet entered for this or next
  year; the schema already upgraded for a newer release than this process runs.
* ``/metrics`` — Prometheus text format, only with ``Authorization: Bearer <JIUZHU_METRICS_TOKEN>``;
  with no token configured it does not exist (404).

None needs a login, none shows personal data, none reads the session cookie.
"""

from __future__ import annotations

import hmac
import time
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import text

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    checks = {"database": _database(), "redis": _redis(), "calendar": _calendar()}
    checks["migrations"] = _migrations() if checks["database"]["ok"] else {"ok": False, "error": "数据库不可用，未检查"}
    warnings = [c["warning"] for c in checks.values() if c.get("warning")]
    failed = [name for name, c in checks.items() if not c["ok"]]
    body = {"status": "fail" if failed else ("warn" if warnings else "ok"), "failed": failed, "warnings": warnings,
            "checks": checks}
    response = jsonify(body)
    response.status_code = 503 if failed else 200
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def metrics():
    from jiuzhu.ops.metrics import exposition

    token = current_app.config.get("JIUZHU_METRICS_TOKEN")
    if not token:
        abort(404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return Response("metrics need the bearer token (JIUZHU_METRICS_TOKEN)\n", 401,
                        {"WWW-Authenticate": 'Bearer realm="jiuzhu-metrics"', "Content-Type": "text/plain"})
    body, content_type = exposition(current_app._get_current_object())
    return Response(body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"})


# -- the checks --------------------------------------------------------------------------------

def _ms(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)


def _error(exc: BaseException) -> str:
    from sqlalchemy.exc import DBAPIError

    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return f"{type(orig).__name__}: {(str(orig).strip().splitlines() or [''])[0][:200]}"


def _database() -> dict:
    from jiuzhu.extensions import db

    start = time.perf_counter()
    try:
        with db.engine.connect() as conn:
            if conn.dialect.name != "postgresql":
                conn.execute(text("SELECT 1"))
                return {"ok": True, "ms": _ms(start), "role": None}
            role, superuser, bypass = conn.execute(text(
                "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "ms": _ms(start), "error": _error(exc)}
    result = {"ok": True, "ms": _ms(start), "role": role}
    wanted = current_app.config.get("JIUZHU_DB_APP_ROLE")
    if superuser or bypass:
        result.update(ok=False, error=f"以 {role} 连接：该角色可绕过行级安全，应以应用角色 {wanted} 连接")
    elif wanted and role != wanted:
        result.update(ok=False, error=f"以 {role} 连接，而不是应用角色 {wanted}（JIUZHU_DB_APP_ROLE）")
    elif not _rls_key_matches():
        result.update(ok=False, error="行级安全签名密钥与 JIUZHU_SECRET_KEY 不符：应用将看不到任何数据。"
                                      "请以数据库所有者运行 flask --app wsgi tenants rls-key")
    return result


def _rls_key_matches() -> bool:
    from jiuzhu.extensions import db
    from jiuzhu.tenancy.rls import rls_key_matches

    try:
        return rls_key_matches(db.session)
    except Exception:  # noqa: BLE001 — before migration 0018 there is no signed tenant yet
        return True
    finally:
        db.session.remove()


def migration_script(app):
    """The shipped migrations (read once per process)."""
    script = app.extensions.get("jiuzhu.migration_script")
    if script is None:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(Path(app.extensions["migrate"].directory)))
        script = ScriptDirectory.from_config(config)
        app.extensions["jiuzhu.migration_script"] = script
    return script


def _migrations() -> dict:
    """At the head of this code's migrations: ready. Behind it: not ready (this code would meet
    tables it expects and does not find). Ahead of it — a revision this code does not know, because
    the schema was upgraded for the next release before these processes were restarted — ready
    with a warning: the upgrade adds, so old code keeps working until it is restarted."""
    from jiuzhu.extensions import db

    try:
        script = migration_script(current_app._get_current_object())
        heads = tuple(sorted(script.get_heads()))
    except Exception as exc:  # noqa: BLE001 — no migrations shipped with this install
        return {"ok": False, "error": f"找不到迁移脚本：{_error(exc)}"}
    try:
        with db.engine.connect() as conn:
            current = tuple(sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()))
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "head": list(heads),
                "error": f"无法读取数据库的迁移版本（请运行 flask db upgrade）：{_error(exc)}"}
    result = {"ok": True, "current": list(current), "head": list(heads)}
    if current == heads:
        return result
    known = {rev.revision for rev in script.walk_revisions()}
    if current and not set(current) <= known:
        result["warning"] = "数据库已升级到比本进程更新的版本：请重启 web、工作进程和定时任务以运行新版本"
    else:
        result.update(ok=False, error="数据库结构不是最新版本：请先运行 flask --app wsgi db upgrade")
    return result


def _redis() -> dict:
    from jiuzhu.instance import redis_connection

    start = time.perf_counter()
    try:
        redis_connection(current_app._get_current_object(), fast=True).ping()
    except Exception as exc:  # noqa: BLE001
        return {"ok": True, "ms": _ms(start), "reachable": False, "error": _error(exc),
                "warning": "Redis 无法连接：办件不受影响，提醒和导入任务在 Redis 恢复后继续"}
    return {"ok": True, "ms": _ms(start), "reachable": True}


def _calendar() -> dict:
    from sqlalchemy import select

    from jiuzhu.calendar.models import CalendarYear
    from jiuzhu.clock import china_today
    from jiuzhu.extensions import db

    year = china_today().year
    wanted = [year, year + 1]
    try:
        with db.engine.connect() as conn:
            published = set(conn.execute(select(CalendarYear.year).where(CalendarYear.year.in_(wanted))).scalars())
    except Exception as exc:  # noqa: BLE001 — the database check reports the outage
        return {"ok": True, "error": _error(exc)}
    missing = [y for y in wanted if y not in published]
    result = {"ok": True, "published": sorted(published), "missing": missing}
    if missing:
        years = "、".join(str(y) for y in missing)
        result["warning"] = (f"{years} 年的放假安排尚未录入：到期日按周末推算并标为暂定"
                             f"（flask --app wsgi calendar enter）")
    return result
