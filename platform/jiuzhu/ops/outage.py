"""When PostgreSQL is unreachable: 503 with ``Retry-After``, never a 500, and back by itself.

A request that meets a database it cannot reach — connection refused, the server shutting down or
starting up, a connection cut mid-transaction, no connection to be had from the pool in time —
gets 503: the Chinese error page, or the API's JSON error shape. Nothing was saved (the
transaction never committed, or the client retries an idempotent write with its key). The pool
checks a connection before each use (``pool_pre_ping``), so the first request after PostgreSQL is
back gets a fresh one: no restart needed.

Error pages are rendered without the database: the session's failed transaction is rolled back
first, and the page's template context (unread messages, the user) is not loaded from it.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, g, render_template, request

log = logging.getLogger(__name__)

#: seconds a client is asked to wait before retrying
RETRY_AFTER = 5

#: SQLSTATE classes of a server that is going away or cannot take us: connection exceptions (08),
#: operator intervention — shutdown, crash, starting up (57, but not 57014 query_canceled),
#: insufficient resources — too many connections, disk full (53)
_UNAVAILABLE_CLASSES = ("08", "57", "53")

UNAVAILABLE_PAGE = ("服务暂不可用", "数据库暂时无法连接，所做的修改未保存。请稍候几秒再试；如持续出现，请联系管理员。")


def database_unavailable(exc: BaseException) -> bool:
    """Is ``exc`` the database being unreachable (rather than a bug or bad data)?"""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection within the pool timeout
        return True
    orig = exc
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
    try:
        import psycopg
    except ImportError:  # pragma: no cover — the demo on SQLite without psycopg
        return False
    if isinstance(orig, psycopg.InterfaceError):  # "the connection is closed"
        return True
    if isinstance(orig, psycopg.OperationalError):
        state = getattr(orig, "sqlstate", None)
        if state is None:  # refused, reset, timed out: no server said anything
            return True
        return state[:2] in _UNAVAILABLE_CLASSES and state != "57014"
    return False


def forget_failed_transaction() -> None:
    """Roll the request's session back so that nothing more runs in a failed transaction; a dead
    connection that cannot even roll back is invalidated and left to the pool to replace."""
    from jiuzhu.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001
        log.debug("rollback failed: invalidating the connection", exc_info=True)
        _invalidate(db.session())


def close_session_safely(exc: BaseException | None = None) -> None:
    """teardown: close the request's session before Flask-SQLAlchemy removes it. Closing rolls back,
    and rolling back on a connection the server has just cut (a shutdown) raises — out of the
    teardown, past every error handler, as a 500 from the WSGI server. Here it is caught and the
    connection invalidated instead; the pool replaces it."""
    from jiuzhu.extensions import db

    try:
        db.session.close()
    except Exception:  # noqa: BLE001
        log.debug("closing the session failed: invalidating its connection", exc_info=True)
        _invalidate(db.session())


def _invalidate(session) -> None:
    try:
        session.invalidate()  # closes without a rollback; the pool opens a new connection next time
    except Exception:  # noqa: BLE001
        log.debug("invalidating the session failed", exc_info=True)


def error_page(code: int, title: str, message: str, headers: dict[str, str] | None = None):
    """The Chinese error page, rendered without touching the database."""
    from jiuzhu.extensions import login_manager

    forget_failed_transaction()
    g.jiuzhu_error_page = True  # the template context skips what it would read from the database
    if "_login_user" not in g:  # the user was never loaded: do not try now
        g._login_user = login_manager.anonymous_user()
    body = render_template("jiuzhu/error.html", code=code, title=title, message=message)
    return body, code, headers or {}


def unavailable_response():
    """503 for the current request: the API's JSON shape under /api/, else the Chinese page."""
    headers = {"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}
    if request.path.startswith("/api/"):
        from jiuzhu.api.errors import ApiError

        forget_failed_transaction()
        return ApiError("service_unavailable", headers=headers).response()
    return error_page(503, *UNAVAILABLE_PAGE, headers=headers)


def init_outage_handlers(app: Flask) -> None:
    from sqlalchemy import exc as sa_exc

    def on_database_error(exc):
        if not database_unavailable(exc):
            raise exc  # a bug or bad data: Flask logs it and answers 500 like any other exception
        _log_throttled(exc)
        g.jiuzhu_error_reason = "database_unavailable"
        return unavailable_response()

    # registered after Flask-SQLAlchemy's own teardown, so it runs before it
    app.teardown_appcontext(close_session_safely)
    app.register_error_handler(sa_exc.DBAPIError, on_database_error)
    app.register_error_handler(sa_exc.TimeoutError, on_database_error)
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return
    app.register_error_handler(psycopg.OperationalError, on_database_error)
    app.register_error_handler(psycopg.InterfaceError, on_database_error)


_last_warning = [0.0]


def _log_throttled(exc: BaseException) -> None:
    """A warning at most every 10 s per process (an outage fails every request; each one's 503 is
    in its request line anyway), the rest at DEBUG."""
    now = time.monotonic()
    level = logging.WARNING if now - _last_warning[0] >= 10 else logging.DEBUG
    if level == logging.WARNING:
        _last_warning[0] = now
    log.log(level, "database unavailable, answering 503: %s", _describe(exc))


def _describe(exc: BaseException) -> str:
    """The exception's class and the first line of the driver's message (no SQL, no parameters)."""
    from sqlalchemy import exc as sa_exc

    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    first = (str(orig).strip().splitlines() or [""])[0][:200]
    return f"{type(orig).__name__}: {first}"
