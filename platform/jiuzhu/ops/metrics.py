"""Prometheus metrics (``prometheus-client``), safe under gunicorn's several worker processes.

Two kinds:

* **Observed** as things happen — request latency and count by endpoint, errors, PDF rendering and
  roll-import durations. With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn, workers) each process
  writes its values to its own file in that directory and ``/metrics`` adds them up
  (``MultiProcessCollector``); without it (the demo, tests) they live in the process.
* **Computed at scrape time** from PostgreSQL and Redis by :class:`ScrapeCollector` — RQ queue
  depth, failed jobs and workers of this instance's queue, and per county the open and overdue
  steps and the reminder lag. Each county is read inside its own scope (the ORM adds its tenant and
  row-level security checks it), through partial indexes on open steps and pending reminders.

Files are named ``<type>_<host>-<pid>.db``: processes of several containers that share one
directory never write the same file.
"""

from __future__ import annotations

import glob
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

from flask import Flask

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_metrics: SimpleNamespace | None = None
_metrics_lock = threading.Lock()  # gunicorn's threads meet here on a worker's first requests


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def process_identifier(pid: int | None = None) -> str:
    host = socket.gethostname().replace("_", "-").replace("/", "-") or "host"
    return f"{host}-{os.getpid() if pid is None else pid}"


def metrics() -> SimpleNamespace:
    """This process's metric objects, created on first use (after the environment is settled)."""
    global _metrics
    if _metrics is not None:
        return _metrics
    with _metrics_lock:
        if _metrics is None:
            _metrics = _create()
    return _metrics


def _create() -> SimpleNamespace:
    from prometheus_client import Counter, Histogram, values

    path = multiprocess_dir()
    if path:
        os.makedirs(path, exist_ok=True)
        values.ValueClass = values.MultiProcessValue(process_identifier)
    else:
        values.ValueClass = values.MutexValue
    return SimpleNamespace(
        request_seconds=Histogram(
            "jiuzhu_http_request_duration_seconds", "Time to answer a request, by endpoint.",
            ["endpoint", "method"]),
        requests=Counter(
            "jiuzhu_http_requests", "Requests answered, by endpoint and status.",
            ["endpoint", "method", "status"]),
        errors=Counter(
            "jiuzhu_http_errors", "Requests that failed: database_unavailable (503) or exception (500).",
            ["endpoint", "reason"]),
        pdf_seconds=Histogram(
            "jiuzhu_pdf_render_duration_seconds", "Time to render a PDF document, by template.",
            ["document"], buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)),
        import_seconds=Histogram(
            "jiuzhu_roll_import_duration_seconds", "Time an RQ job took to import a beneficiary roll.",
            ["status"], buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)),
    )


@contextmanager
def timed(histogram, **labels) -> Iterator[dict]:
    """Observe the block's duration; the block may add labels (``status``) through the dict."""
    start = time.perf_counter()
    extra: dict = {}
    try:
        yield extra
    finally:
        histogram.labels(**{**labels, **extra}).observe(time.perf_counter() - start)


def remove_dead_process_files(path: str) -> int:
    """Delete the files of processes of this host that no longer run (a restart leaves them); the
    files of live processes, and of other hosts sharing the directory, stay. Returns how many went."""
    host_prefix = process_identifier(0)[:-1]  # "<host>-"
    removed = 0
    for f in glob.glob(os.path.join(path, "*.db")):
        ident = os.path.basename(f)[:-3].rsplit("_", 1)[-1]
        if not ident.startswith(host_prefix):
            continue
        try:
            pid = int(ident[len(host_prefix):])
        except ValueError:
            continue
        try:
            os.kill(pid, 0)
            continue  # still running
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # someone else's live process
        os.remove(f)
        removed += 1
    return removed


def mark_process_dead(pid: int) -> None:
    """gunicorn's ``child_exit``: forget a dead worker's live gauges (counters stay counted)."""
    path = multiprocess_dir()
    if path:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(process_identifier(pid), path)


# -- exposition ---------------------------------------------------------------------------------

def exposition(app: Flask) -> tuple[bytes, str]:
    """The text format Prometheus scrapes: observed metrics (all processes) and scrape-time ones."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    metrics()  # the families exist (at zero) even before the first request of this process
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(ScrapeCollector(app))
    path = multiprocess_dir()
    if path:
        from prometheus_client import multiprocess

        observed = CollectorRegistry()
        multiprocess.MultiProcessCollector(observed, path=path)
    else:
        observed = REGISTRY
    return generate_latest(observed) + generate_latest(scraped), CONTENT_TYPE_LATEST


class ScrapeCollector:
    """Gauges read from Redis and PostgreSQL when Prometheus asks."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        yield from self._queue()
        yield from self._counties()

    def _queue(self):
        from prometheus_client.core import GaugeMetricFamily
        from rq import Queue, Worker
        from rq.registry import FailedJobRegistry

        from jiuzhu.instance import identity, redis_connection

        name = identity(self.app).queue_name
        up = GaugeMetricFamily("jiuzhu_redis_up", "1 if Redis answered this scrape.")
        try:
            conn = redis_connection(self.app, fast=True)
            q = Queue(name, connection=conn)
            depth, failed = q.count, FailedJobRegistry(queue=q).count
            workers = Worker.count(queue=q)
        except Exception:  # noqa: BLE001 — any client error: Redis is down for this scrape
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for metric, help_text, value in (
                ("jiuzhu_rq_queue_depth", "Jobs waiting in this instance's RQ queue.", depth),
                ("jiuzhu_rq_failed_jobs", "Jobs in the failed-job registry of this instance's queue.", failed),
                ("jiuzhu_rq_workers", "RQ workers listening on this instance's queue.", workers)):
            family = GaugeMetricFamily(metric, help_text, labels=["queue"])
            family.add_metric([name], value)
            yield family

    def _counties(self):
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily("jiuzhu_database_up", "1 if PostgreSQL answered this scrape.")
        try:
            rows = county_figures(self.app)
        except Exception:  # noqa: BLE001 — unreachable, or anything else: say so, never fail the scrape
            from jiuzhu.extensions import db

            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        families = {
            "open": GaugeMetricFamily("jiuzhu_open_steps", "Open workflow steps of a county.", labels=["county"]),
            "overdue": GaugeMetricFamily("jiuzhu_overdue_steps", "Open steps past their due date, by county.",
                                         labels=["county"]),
            "lag": GaugeMetricFamily(
                "jiuzhu_reminder_lag_seconds",
                "Age of the county's oldest due, unsent reminder (since the start of its send day, China "
                "time); 0 when nothing due waits.", labels=["county"]),
        }
        for code, figures in rows.items():
            for key, family in families.items():
                family.add_metric([code], figures[key])
        yield from families.values()


def county_figures(app: Flask) -> dict[str, dict[str, float]]:
    """Per active county: open and overdue steps, reminder lag. One scope per county: every query
    goes through the tenancy rules like any other; no query reads two counties at once."""
    import datetime as dt

    from sqlalchemy import func, select

    from jiuzhu.clock import CHINA_TZ, china_now
    from jiuzhu.extensions import db
    from jiuzhu.reminders.models import Reminder, ReminderStatus
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.models import Tenant
    from jiuzhu.workflow.models import Step, StepStatus

    now = china_now()
    today = now.date()
    out: dict[str, dict[str, float]] = {}
    try:
        with use_scope(None):
            tenants = db.session.execute(select(Tenant.id, Tenant.code).where(Tenant.active.is_(True))
                                         .order_by(Tenant.id)).all()
        for tenant_id, code in tenants:
            with use_scope(Scope(tenant_id)):
                open_steps, overdue = db.session.execute(
                    select(func.count(), func.count().filter(Step.due_on < today)).select_from(Step)
                    .where(Step.status == StepStatus.open)).one()
                oldest = db.session.scalar(
                    select(func.min(Reminder.send_on)).where(Reminder.status == ReminderStatus.pending,
                                                             Reminder.send_on <= today))
            lag = 0.0
            if oldest is not None:
                since = dt.datetime.combine(oldest, dt.time(), CHINA_TZ)
                lag = max(0.0, (now - since).total_seconds())
            out[code] = {"open": open_steps, "overdue": overdue, "lag": lag}
    finally:
        db.session.rollback()
    return out
