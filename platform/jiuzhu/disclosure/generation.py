"""The publicity generation: what a kept public page is checked against, moved by every committed write.

A public page (:mod:`jiuzhu.disclosure.public`) is kept in Redis together with the two
*generations* it was rendered under — its county's and a global one — and served only while both
are still current. A generation is a random token in the instance's Redis namespace, replaced after
every committed transaction that wrote to the database through the application's engine:

* Writes are seen at the engine, not in the ORM: every INSERT, UPDATE, DELETE, MERGE, COPY or
  TRUNCATE statement on a connection of the application's engine (ORM flushes, Core DML and raw
  ``text()`` alike; a ``WITH`` statement counts when it holds one of those) is recorded on the
  connection together with the county whose row-level security setting (``app.tenant_id``, set
  per transaction by ``tenancy.scoping`` and by the few places that open a connection of their own)
  is current on that connection. Row-level security lets a transaction write that county's rows
  only, so that county's generation is the one to move.
* A write in the platform's scope (a tenant, a plugin change), or with no setting at all (the
  SQLite demo; a role that bypasses row-level security), moves the global generation, which every
  page is kept under: when unsure, every county's pages go. So does a write to the platform's list
  of counties (:data:`PLATFORM_TABLES`) in whatever scope.
* The tokens are replaced only *after* the commit (when the connection goes back to the pool, or
  begins its next transaction): a page is kept with the generations read before its list is read,
  so a page rendered from rows older than a commit is never kept with a generation that follows
  that commit. A rolled-back transaction moves nothing.
* Tables that cannot change a publicity list and are written on every page view or sweep are left
  out (:data:`UNRELATED_TABLES`): the PIPL access log, the inbox and reminder outbox, login
  bookkeeping, the audit chain, API bookkeeping.
* A token, not a counter: a generation lost from Redis (eviction, a restart) comes back as a new
  random token and never as a value an old page was stored under.
* Redis errors never break a write: a failed replacement is logged (without personal data) and
  retried with the process's next move or page read; the pages' time to live (:data:`PAGE_TTL_SECONDS` in
  ``public``) bounds how long a page can be stale — also for writes that do not pass through the
  application (psql, migrations, another instance's tools).
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time

from flask import Flask
from sqlalchemy import event

log = logging.getLogger(__name__)

#: written on every page view, login or sweep, and never read by a publicity list
UNRELATED_TABLES = frozenset({
    "personal_data_access",  # the PIPL access log: every page that shows a person
    "notifications", "deliveries", "reminders", "supervision_items",  # inbox, outbox, their sends
    "users", "login_attempts",  # login bookkeeping (last login, failed attempts, sessions)
    "audit_events", "audit_heads", "platform_events",  # the audit chains
    "api_idempotency", "api_tokens",  # API bookkeeping (last use of a token)
})

#: how long a generation is kept without a write (a day; far longer than a page is kept): one that
#: expired comes back as a new token, so at worst a page is rendered again — and an instance that
#: stopped (a benchmark, a staging copy) leaves nothing behind in a shared Redis for good
GENERATION_TTL_SECONDS = 86400

#: the subject of a write in the platform's scope, or of one whose county is not known
GLOBAL = "all"
#: rows of the platform, not of one county, that pages show (a county's name, code, plugin, whether active)
PLATFORM_TABLES = frozenset({"tenants"})

_WRITE_RE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|MERGE\s+INTO|COPY|TRUNCATE(?:\s+TABLE)?)\s+'
                       r'(?:ONLY\s+)?"?(?:\w+"?\."?)?(\w+)', re.IGNORECASE)
#: a data-modifying statement inside a WITH (never the FOR UPDATE of a locking read, nor ON CONFLICT DO UPDATE)
_INNER_WRITE_RE = re.compile(r'\b(?:INSERT\s+INTO|(?<!FOR )(?<!DO )UPDATE|DELETE\s+FROM)\s+"?(?:\w+"?\."?)?(\w+)',
                             re.IGNORECASE)
_READ_WORDS = ("SELECT", "SHOW", "SET ", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "VALUES",
               "EXPLAIN", "PRAGMA", "LOCK")
_RLS_SETTING = "set_config('app.tenant_id'"

#: keys of the connection's ``info``: the county whose setting is current, the subjects written in
#: the open transaction, and those of committed transactions not yet announced
_SETTING, _WRITTEN, _COMMITTED = "jiuzhu.publicity.setting", "jiuzhu.publicity.written", "jiuzhu.publicity.committed"


def written_tables(statement: str) -> list[str] | None:
    """The tables a statement writes ([] for a read); None when it may write but names no table."""
    head = statement.lstrip()[:12].upper()
    if head.startswith("WITH"):
        return _INNER_WRITE_RE.findall(statement)
    if head.startswith(_READ_WORDS):
        return []
    match = _WRITE_RE.match(statement)
    return [match.group(1)] if match else None


def _subject(setting: str | None) -> str:
    """The county of a signed ``app.tenant_id`` (``<id>:<hmac>``), else :data:`GLOBAL`. The
    signature is not checked here: a forged setting writes nothing under row-level security."""
    subject = (setting or "").partition(":")[0]
    return subject if subject.isdigit() else GLOBAL


def _setting_of(parameters) -> str | None:
    if isinstance(parameters, dict):
        values = list(parameters.values())
    elif isinstance(parameters, (list, tuple)):
        values = list(parameters)
    else:
        return None
    return next((v for v in values if isinstance(v, str)), None)


class Generations:
    """The generations of one app's instance in its Redis (one client per process)."""

    def __init__(self, app: Flask):
        self.app = app
        self._lock = threading.Lock()
        self._unannounced: set[str] = set()
        self._last_warning = 0.0

    def client(self):
        from jiuzhu.instance import shared_redis

        return shared_redis(self.app)

    def key(self, subject: str | int) -> str:
        from jiuzhu.instance import identity

        return identity(self.app).key("publicity-generation", subject)

    def read(self, tenant_id: int, key: str | None = None) -> tuple[bytes, bytes | None]:
        """The county's and the global generation (``b"<county>:<global>"``; a missing one is set
        first, to a new token) and what is kept under ``key``, in one round trip; raises what the
        client raises (the caller then renders without the cache)."""
        if self._unannounced:  # Redis is back: this process's missed moves first, before any page is read
            self.move(set())
        county, everyone = self.key(tenant_id), self.key(GLOBAL)
        pipe = self.client().pipeline(transaction=False)
        pipe.set(county, secrets.token_hex(8), nx=True, ex=GENERATION_TTL_SECONDS)
        pipe.set(everyone, secrets.token_hex(8), nx=True, ex=GENERATION_TTL_SECONDS)
        pipe.mget(county, everyone)
        if key is not None:
            pipe.get(key)
        results = pipe.execute()
        mine, theirs = results[2]
        if mine is None or theirs is None:  # evicted between the commands: as if Redis were away
            from redis.exceptions import RedisError

            raise RedisError("publicity generation missing")
        return mine + b":" + theirs, results[3] if key is not None else None

    def move(self, subjects: set[str]) -> None:
        """Give each subject (a county id, or :data:`GLOBAL`) a new generation; never raises."""
        with self._lock:
            subjects = subjects | self._unannounced
            self._unannounced = set()
        if not subjects:
            return
        try:
            pipe = self.client().pipeline(transaction=False)
            for subject in subjects:
                pipe.set(self.key(subject), secrets.token_hex(8), ex=GENERATION_TTL_SECONDS)
            pipe.execute()
        except Exception as exc:  # noqa: BLE001 — RedisError, OSError: a write must never fail for a cache
            with self._lock:
                self._unannounced |= subjects
            now = time.monotonic()
            if now - self._last_warning > 60:
                self._last_warning = now
                log.warning("publicity pages' generation not moved, Redis unavailable (%s); retried with the "
                            "next write, pages expire on their own", type(exc).__name__)


def generations(app: Flask) -> Generations:
    return app.extensions["jiuzhu.publicity.generations"]


def init_publicity_generation(app: Flask) -> None:
    """Watch the app's engine(s) for committed writes (see the module doc)."""
    from jiuzhu.extensions import db

    gens = app.extensions["jiuzhu.publicity.generations"] = Generations(app)
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        _watch(engine, gens)


def live_info(conn) -> dict | None:
    """The connection's ``info``, or None for a connection cut meanwhile (the server went away and
    SQLAlchemy invalidated it): asking a cut connection for it raises, which turned the rollback of a
    request that met an outage into a 500 instead of a 503. Nothing it wrote will commit, and the
    pool drops its ``info`` with it."""
    if conn.invalidated or conn.closed:
        return None
    try:
        return conn.info
    except Exception:  # noqa: BLE001 — an invalid transaction's connection: as above
        return None


def _watch(engine, gens: Generations) -> None:
    def after_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        info = conn.info
        if _RLS_SETTING in statement:
            info[_SETTING] = _subject(_setting_of(parameters))
            return
        tables = written_tables(statement)
        if tables == []:
            return
        names = {t.lower() for t in tables} if tables is not None else None
        if names is not None and names <= UNRELATED_TABLES:
            return
        written = info.setdefault(_WRITTEN, set())
        written.add(info.get(_SETTING, GLOBAL))
        if names is not None and names & PLATFORM_TABLES:
            written.add(GLOBAL)

    def commit(conn):
        info = live_info(conn)
        if info is None:
            return
        written = info.pop(_WRITTEN, None)
        info.pop(_SETTING, None)  # transaction-local: gone with the transaction
        if written:
            info.setdefault(_COMMITTED, set()).update(written)

    def rollback(conn):
        info = live_info(conn)
        if info is not None:
            info.pop(_WRITTEN, None)
            info.pop(_SETTING, None)

    def announce(info) -> None:
        committed = info.pop(_COMMITTED, None)
        if committed:
            gens.move(committed)

    def begin(conn):  # a committed transaction's writes are announced before the next one starts
        announce(conn.info)

    def checkin(dbapi_connection, record):  # … or when the connection goes back to the pool
        if record is None:
            return
        info = record.info
        info.pop(_SETTING, None)
        # writes neither committed nor rolled back through the connection (autocommit, a raw DBAPI
        # commit): announced as well — a generation moved for nothing costs one page render; but not
        # those of a connection cut meanwhile (no DBAPI connection any more): they never committed
        leftover = info.pop(_WRITTEN, None)
        if leftover and dbapi_connection is not None:
            info.setdefault(_COMMITTED, set()).update(leftover)
        announce(info)

    event.listen(engine, "after_cursor_execute", after_cursor_execute)
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    event.listen(engine, "begin", begin)
    event.listen(engine.pool, "checkin", checkin)
