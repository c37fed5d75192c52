"""Running Jiuzhu for real: request ids and log lines, metrics, health endpoints, the reverse
proxy's headers, and 503 instead of 500 while the database is away.

:func:`init_ops` is called by ``create_app`` before any other request hook, so that every request
— one refused by a later hook included — is timed, counted and logged once.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request

log = logging.getLogger("jiuzhu.request")

#: an incoming X-Request-Id is kept if it looks like one (a proxy's or a client's), else replaced
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
#: endpoints polled every few seconds: logged at DEBUG only
QUIET_ENDPOINTS = {"ops.healthz", "ops.readyz", "ops.metrics"}


def init_ops(app: Flask) -> None:
    from jiuzhu.ops.health import bp
    from jiuzhu.ops.logs import configure_logging
    from jiuzhu.ops.outage import init_outage_handlers

    configure_logging(app)
    trusted = int(app.config.get("JIUZHU_TRUSTED_PROXIES") or 0)
    if trusted > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted)
    # first of all before_request hooks (CSRF's included), so that a request refused by one is timed too
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_finish)
    init_outage_handlers(app)
    app.register_blueprint(bp)


def _begin() -> None:
    g.request_started = time.perf_counter()
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if REQUEST_ID_RE.match(given) else uuid.uuid4().hex


def _finish(response):
    from jiuzhu.audit.context import current_actor
    from jiuzhu.ops.metrics import metrics

    request_id = g.setdefault("request_id", uuid.uuid4().hex)
    response.headers["X-Request-Id"] = request_id
    started = g.get("request_started")
    duration = time.perf_counter() - started if started is not None else 0.0
    endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
    status = response.status_code
    m = metrics()
    m.request_seconds.labels(endpoint=endpoint, method=request.method).observe(duration)
    m.requests.labels(endpoint=endpoint, method=request.method, status=str(status)).inc()
    reason = g.get("jiuzhu_error_reason") or ("exception" if status >= 500 and status != 503 else None)
    if reason:
        m.errors.labels(endpoint=endpoint, reason=reason).inc()
    principal = g.get("principal")
    extra = {"method": request.method, "endpoint": endpoint, "path": request.path, "status": status,
             "duration_ms": round(duration * 1000, 1), "user_id": current_actor().id,
             "token_id": principal.token_id if principal is not None else None,
             "remote_addr": request.remote_addr}
    level = logging.DEBUG if endpoint in QUIET_ENDPOINTS else logging.INFO
    log.log(level, "%s %s %s %.0fms", request.method, endpoint, status, duration * 1000, extra=extra)
    return response
