"""A request that only read ends its transaction with COMMIT, so PostgreSQL keeps its plans.

psycopg prepares a statement on the server once a connection has run it five times, and PostgreSQL
then plans it once instead of at every execution (after five executions it keeps a generic plan when
that is no worse). But psycopg forgets, and deallocates, every prepared statement of a connection at
each ROLLBACK — and every request ended in one (the session is closed, which rolls back) — so no
statement was ever prepared, and each was planned anew at every request: for the case page's one
statement, 5–10 ms of planning against 1–2 ms of work.

A transaction that wrote nothing ends the same whether committed or rolled back (locks are released
either way; sequences and session settings are not transactional). What the application sent on the
connection tells whether it may have written: an INSERT, UPDATE, DELETE, MERGE, COPY or TRUNCATE, a
``WITH`` that writes, or a call of a function of ours that PostgreSQL does not know to be read-only
(``jiuzhu_*`` declared ``VOLATILE``: PostgreSQL refuses a write inside a ``STABLE`` or ``IMMUTABLE``
function, so only those are trusted), or ``pg_notify`` (the one thing a commit would deliver that a
rollback would not) — names spelt in lower or upper case, as SQLAlchemy and our SQL write them.
A statement it does not recognise as a read counts as a write. At the end of a request
whose transaction sent none of these, with no pending ORM changes, the session commits; every other
request ends as before, in a rollback. Nothing is asked of the database to decide (no statement more).
"""

from __future__ import annotations

import logging
import re

from flask import current_app
from sqlalchemy import event

from jiuzhu.disclosure.generation import live_info, written_tables
from jiuzhu.extensions import db

log = logging.getLogger(__name__)

#: keys of the connection's ``info``: the transaction may have written; the functions it called
_WROTE, _CALLED = "jiuzhu.plans.wrote", "jiuzhu.plans.called"
_CALL = re.compile(r"\b(jiuzhu_\w+|pg_notify)\s*\(", re.IGNORECASE)
_WORDS = ("jiuzhu_", "JIUZHU_", "notify", "NOTIFY")
#: our functions PostgreSQL holds to reading (it refuses a write inside a non-volatile function)
READ_ONLY_FUNCTIONS = """SELECT p.proname FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
                         WHERE n.nspname = 'public' AND p.proname LIKE 'jiuzhu%%' AND p.provolatile <> 'v'"""


def watch(engine) -> None:
    """Note on each connection of ``engine`` what its open transaction sent that may write."""
    if engine.dialect.name != "postgresql":
        return

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        info = conn.info
        if info.get(_WROTE):
            return
        if written_tables(statement) != []:
            info[_WROTE] = True
            return
        # a plain search first (a page's statement is tens of kilobytes; a case-insensitive regular
        # expression over it took a millisecond), for the names as written in lower or upper case
        if any(word in statement for word in _WORDS):
            info.setdefault(_CALLED, set()).update(name.lower() for name in _CALL.findall(statement))

    def forget(conn, *args):
        info = live_info(conn)  # (None for a connection the server cut: nothing of it commits)
        if info is not None:
            info.pop(_WROTE, None)
            info.pop(_CALLED, None)

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    for name in ("begin", "commit", "rollback"):
        event.listen(engine, name, forget)


def _read_only_functions(connection) -> frozenset[str]:
    known = current_app.extensions.get("jiuzhu.read_only_functions")
    if known is None:
        known = frozenset(connection.exec_driver_sql(READ_ONLY_FUNCTIONS).scalars())
        current_app.extensions["jiuzhu.read_only_functions"] = known
    return known


def end_read_only_transaction(exc: BaseException | None = None) -> None:
    """Teardown of a request: commit the session's transaction if it sent nothing that may write
    (PostgreSQL), so the connection keeps its prepared statements; otherwise leave it to be rolled
    back when the session is removed."""
    if exc is not None:
        return
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    try:
        connection = session.connection()
        if connection.dialect.name != "postgresql":
            return
        info = connection.info
        if info.get(_WROTE) or (info.get(_CALLED, set()) - _read_only_functions(connection)):
            return
        # nothing expired: what the rest of the teardown reads of the request's objects (the user)
        # is what it read before, not a new transaction's refresh (which would end in a rollback)
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire
    except Exception:  # a connection cut meanwhile: the session's removal rolls back and discards it
        log.warning("could not end a read-only transaction with a commit", exc_info=True)
