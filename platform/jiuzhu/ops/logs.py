"""Logs: one line per event, JSON (production) or plain text (the demo), with who and where.

Every record gets the context it was logged in — a request's id, tenant, user id and endpoint, or
a job's id and tenant — from :class:`ContextFilter`, so a line logged deep in a service carries
them without being passed anything. What a line may contain is deliberately little: ids, codes,
names of endpoints and exception classes. Personal data (names, ID numbers, phones, addresses,
health, income) is never put into a log message, and the database engine hides statement
parameters (``hide_parameters``), so an exception's text cannot carry them either.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask import Flask, g, has_request_context

#: fields of the job a worker is running (``job_id``, ``tenant``), set by :func:`job_context`
_job: ContextVar[dict[str, Any] | None] = ContextVar("jiuzhu_log_job", default=None)

#: record attributes the formatters print, in this order, when present
FIELDS = ("request_id", "job_id", "tenant", "user_id", "token_id", "method", "endpoint", "path", "status",
          "duration_ms", "remote_addr")


@contextmanager
def job_context(**fields: Any) -> Iterator[None]:
    token = _job.set({k: v for k, v in fields.items() if v is not None})
    try:
        yield
    finally:
        _job.reset(token)


def _tenant() -> int | None:
    from jiuzhu.tenancy.context import current_scope

    scope = current_scope()
    return scope.tenant_id if scope is not None else None


class ContextFilter(logging.Filter):
    """Adds the request's or job's context to every record that passes the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields: dict[str, Any] = {}
        job = _job.get()
        if job:
            fields.update(job)
        if has_request_context():
            fields["request_id"] = g.get("request_id")
        tenant = _tenant()
        if tenant is not None:
            fields.setdefault("tenant", tenant)
        for key, value in fields.items():
            if value is not None and not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", <context fields>, "exc"}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``2026-10-09 10:00:00 INFO jiuzhu.request GET casework.index_view 200 12ms [request_id=…]``."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(f"{k}={getattr(record, k)}" for k in FIELDS
                         if getattr(record, k, None) is not None and k not in ("method", "path"))
        return f"{line} [{extra}]" if extra else line


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a test runner swaps it per test)."""

    _jiuzhu = True

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):  # StreamHandler.__init__ assigns it
        pass


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def configure_logging(app: Flask) -> None:
    """One handler on the root logger (stderr, for journald or the container runtime), in the
    configured format, with the context filter. Calling it again (another app in the same
    process) reconfigures that handler instead of adding a second one."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_jiuzhu", False)), None)
    if handler is None:
        handler = StderrHandler()
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
    handler.setFormatter(formatter(app.config.get("JIUZHU_LOG_FORMAT") or "json"))
    root.setLevel((app.config.get("JIUZHU_LOG_LEVEL") or "info").upper())
    # WeasyPrint tells each step of every PDF at info (eight lines a document): only when debugging
    logging.getLogger("weasyprint.progress").setLevel(logging.NOTSET if root.level <= logging.DEBUG
                                                      else logging.WARNING)
