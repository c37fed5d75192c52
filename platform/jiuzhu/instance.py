"""One instance, one namespace: every Redis key and RQ queue carries the instance's name, and every
job carries the instance and the identity of its database, so that a job never runs elsewhere.

Several instances may share one Redis — a demo beside a production instance, staging beside
production, two checkouts' test suites. They must never take each other's jobs nor read each
other's keys:

* ``JIUZHU_INSTANCE`` names the instance. Unset, the name is derived from the database it uses
  (``db-`` and a digest of the database's address), so two instances on two databases differ
  even when nobody named them, and a web process and its workers, reading the same settings, agree.
* The RQ queue is ``jiuzhu.<instance>``; other keys are ``jiuzhu:<instance>:…`` (:meth:`key`).
* Each job's ``meta`` carries the instance name and the database identity (:func:`enqueue`); a job
  function wrapped in :func:`instance_job` refuses, with one clear log line and a failed job, to
  run in a worker of any other instance or against any other database — before it touches anything.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
META_INSTANCE = "jiuzhu_instance"
META_DATABASE = "jiuzhu_database"


class ForeignJobError(RuntimeError):
    """A job of another instance, or meant for another database, reached this worker."""


def database_identity(url: str) -> str:
    """A short, stable digest of where the database lives (driver family, host, port, name), never
    of who connects or with which password: the web (application role) and the migrations (owner)
    of one instance share it."""
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        from pathlib import Path

        where = str(Path(u.database).resolve()) if u.database and u.database != ":memory:" else ":memory:"
    else:
        where = f"{(u.host or '').lower()}:{u.port or ''}/{u.database or ''}"
    return hashlib.sha256(f"{backend}|{where}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class InstanceIdentity:
    name: str
    database: str

    @property
    def queue_name(self) -> str:
        return f"jiuzhu.{self.name}"

    def key(self, *parts: object) -> str:
        """A Redis key in this instance's namespace."""
        return ":".join(["jiuzhu", self.name, *(str(p) for p in parts)])

    @property
    def meta(self) -> dict[str, str]:
        return {META_INSTANCE: self.name, META_DATABASE: self.database}

    def owns(self, meta: Mapping[str, Any] | None) -> bool:
        meta = meta or {}
        return meta.get(META_INSTANCE) == self.name and meta.get(META_DATABASE) == self.database


def identity_from_config(config: Mapping[str, Any]) -> InstanceIdentity:
    database = database_identity(config["SQLALCHEMY_DATABASE_URI"])
    name = config.get("JIUZHU_INSTANCE") or f"db-{database[:10]}"
    if not NAME_RE.match(name):
        raise ValueError(f"JIUZHU_INSTANCE {name!r}: lower-case letters, digits, '-' and '_', at most 40")
    return InstanceIdentity(name=name, database=database)


def identity(app: Flask | None = None) -> InstanceIdentity:
    app = app or current_app._get_current_object()
    cached = app.extensions.get("jiuzhu.instance")
    wanted = (app.config.get("JIUZHU_INSTANCE"), app.config["SQLALCHEMY_DATABASE_URI"])
    if cached is None or cached[0] != wanted:
        cached = (wanted, identity_from_config(app.config))
        app.extensions["jiuzhu.instance"] = cached
    return cached[1]


# -- Redis and RQ -------------------------------------------------------------------------------

def redis_connection(app: Flask | None = None, *, fast: bool = False):
    """A client for the instance's Redis; ``fast`` for a request that must not wait on it."""
    from redis import Redis

    app = app or current_app._get_current_object()
    timeouts = (0.5, 0.5) if fast else (2, 5)
    return Redis.from_url(app.config["JIUZHU_REDIS_URL"], socket_connect_timeout=timeouts[0],
                          socket_timeout=timeouts[1], health_check_interval=30)


_shared_lock = threading.Lock()


def shared_redis(app: Flask | None = None):
    """The app's one fast client (``redis_connection(fast=True)``) for work done on every request or
    job — rate limits, publicity generations and pages, the daily late-payment mark — rather than a
    new client, and a new connection, each time. Made under a lock: two threads making it at once
    would each build one, and the one dropped closes its connections under the other's feet (“I/O
    operation on closed file” on a worker's first requests). Made again if the Redis URL changed."""
    app = app or current_app._get_current_object()
    url = app.config["JIUZHU_REDIS_URL"]
    found = app.extensions.get("jiuzhu.redis.shared")
    if found is None or found[0] != url:
        with _shared_lock:
            found = app.extensions.get("jiuzhu.redis.shared")
            if found is None or found[0] != url:
                found = app.extensions["jiuzhu.redis.shared"] = (url, redis_connection(app, fast=True))
    return found[1]


def queue(app: Flask | None = None, connection=None):
    from rq import Queue

    app = app or current_app._get_current_object()
    return Queue(identity(app).queue_name, connection=connection or redis_connection(app))


def enqueue(app: Flask | None, func: Callable, *args, tenant_id: int | None = None, **options):
    """Put ``func(*args)`` on this instance's queue, stamped with the instance and its database."""
    app = app or current_app._get_current_object()
    meta = {**(options.pop("meta", None) or {}), **identity(app).meta}
    if tenant_id is not None:
        meta["tenant_id"] = tenant_id
    return queue(app).enqueue(func, *args, meta=meta, **options)


_worker_app: Flask | None = None


def job_app() -> Flask:
    """The Flask app of this worker process (created once from its environment), or the active one."""
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None:
        from jiuzhu import create_app

        _worker_app = create_app()
    return _worker_app


def instance_job(func: Callable) -> Callable:
    """A job function that runs only for its own instance and database.

    Called directly (inline, no RQ job), it simply runs. Run by a worker, it first compares the
    job's stamp with this process's instance: on a mismatch it logs one line and raises
    :class:`ForeignJobError` — the job fails, and nothing was read or written.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from rq import get_current_job

        from jiuzhu.ops.logs import job_context

        job = get_current_job()
        if job is None:
            return func(*args, **kwargs)
        with job_context(job_id=job.id, tenant=(job.meta or {}).get("tenant_id")):
            mine = identity(job_app())
            if not mine.owns(job.meta):
                meta = job.meta or {}
                message = (f"job {job.id} ({job.func_name}) belongs to instance {meta.get(META_INSTANCE)!r} "
                           f"with database {meta.get(META_DATABASE)!r}; this is instance {mine.name!r} with "
                           f"database {mine.database!r}: refused, nothing done")
                log.error(message)
                raise ForeignJobError(message)
            started = time.perf_counter()
            log.info("job %s started", func.__name__)
            try:
                result = func(*args, **kwargs)
            except Exception as exc:
                log.error("job %s failed after %.1f s: %s", func.__name__, time.perf_counter() - started,
                          type(exc).__name__)
                raise
            log.info("job %s done in %.1f s", func.__name__, time.perf_counter() - started)
            return result

    return wrapper


# -- long-running processes that survive a Redis restart -----------------------------------------

def run_with_reconnect(run: Callable[[], Any], *, what: str, max_delay: float = 30.0,
                       sleep: Callable[[float], None] = time.sleep, stop: Callable[[], bool] = lambda: False):
    """Run ``run()`` (an RQ worker's or the cron scheduler's loop) and, when Redis goes away under
    it, wait with exponential back-off (1 s, 2 s, … ``max_delay``) and start it again, instead of
    exiting. A clean return (burst mode, a stop signal) ends the loop."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    delay = 1.0
    while True:
        started = time.monotonic()
        try:
            return run()
        except (RedisConnectionError, RedisTimeoutError, ConnectionError) as exc:
            if stop():
                raise
            if time.monotonic() - started > 60:
                delay = 1.0  # it ran for a while: this is a new outage
            log.warning("%s lost Redis (%s); retrying in %.0f s", what, exc.__class__.__name__, delay)
            sleep(delay)
            delay = min(delay * 2, max_delay)
