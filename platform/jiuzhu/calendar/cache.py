"""The working-day index of one Flask app: loaded lazily from the database, kept fresh.

One :class:`CalendarCache` per app (``app.extensions["jiuzhu.calendar"]``), shared by the threads of
a process, in requests and in RQ jobs alike (both run in an app context). Freshness:

* in this process, entering a year invalidates the cache at once, and again when the transaction
  ends (committed or rolled back), so an index built from rows that were rolled back never stays;
* other processes compare a cheap version — the number of published years and the latest
  ``entered_at`` — at most once per :data:`CHECK_INTERVAL` seconds, and reload when it changed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, func, select

from jiuzhu.calendar.index import WorkdayIndex
from jiuzhu.calendar.models import CalendarException, CalendarYear
from jiuzhu.tenancy.scoping import ScopedSession

EXTENSION_KEY = "jiuzhu.calendar"
#: seconds between two version checks; another process's entry is noticed within this time
CHECK_INTERVAL = 60.0
_CHANGED_KEY = "jiuzhu.calendar.changed"


def read_version(session) -> tuple:
    """What changes whenever a year is entered, replaced or removed."""
    return tuple(session.execute(select(func.count(), func.max(CalendarYear.entered_at))).one())


def load_index(session) -> WorkdayIndex:
    years = session.scalars(select(CalendarYear.year)).all()
    exceptions = dict(session.execute(select(CalendarException.day, CalendarException.is_workday)).all())
    return WorkdayIndex(exceptions, years)


class CalendarCache:
    """Holds one :class:`WorkdayIndex`; ``clock`` is injectable so that tests need not sleep."""

    def __init__(self, check_interval: float = CHECK_INTERVAL, clock: Callable[[], float] = time.monotonic):
        self.check_interval = check_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._index: WorkdayIndex | None = None
        self._version: tuple | None = None
        self._checked_at = 0.0

    def index(self, session) -> WorkdayIndex:
        """The index, loaded with ``session`` if missing or if the database's version moved on."""
        index, now = self._index, self._clock()
        if index is not None and now - self._checked_at < self.check_interval:
            return index
        with self._lock:
            if self._index is not None and now - self._checked_at < self.check_interval:
                return self._index  # another thread just checked
            version = read_version(session)
            if self._index is None or version != self._version:
                self._index, self._version = load_index(session), version
            self._checked_at = now
            return self._index

    def invalidate(self) -> None:
        with self._lock:
            self._index = self._version = None


def init_calendar(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = CalendarCache()


def calendar_cache(app: Flask | None = None) -> CalendarCache:
    app = app or current_app
    try:
        return app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError("the working-day calendar is not set up on this app (create_app does it)") from None


def current_index() -> WorkdayIndex:
    """The current app's index (loaded through ``db.session`` when needed)."""
    from jiuzhu.extensions import db

    if not has_app_context():
        raise RuntimeError("the working-day calendar is read from the database: call it inside an app context")
    return calendar_cache().index(db.session)


def invalidate(app: Flask | None = None) -> None:
    """Drop the current app's index; the next lookup reloads it (tests, and after an entry)."""
    if app is not None or has_app_context():
        calendar_cache(app).invalidate()


def mark_changed(session) -> None:
    """Called after calendar rows were written in ``session``: drop the index now and again when the
    transaction ends, whether it commits or rolls back."""
    session.info[_CHANGED_KEY] = True
    invalidate()


@event.listens_for(ScopedSession, "after_transaction_end")
def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is None and session.info.pop(_CHANGED_KEY, False):
        invalidate()
