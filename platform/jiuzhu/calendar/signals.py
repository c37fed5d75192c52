"""Signals of the working-day calendar.

Receivers run synchronously, inside the transaction of the code that sent the signal, so what they
write commits or rolls back with it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

schedule_entered = _signals.signal("calendar-schedule-entered", doc="""
Sent when a year's holiday schedule has been entered (or replaced), after its rows are flushed and
before the caller commits. The sender is the year (an ``int``); keyword arguments: ``session``, the
session that holds the new rows, and ``replaced`` (``True`` when an earlier schedule of that year
was replaced). The calendar cache is already invalidated, so ``add_workdays`` called by a receiver
(with that session, through ``db.session``) sees the new year: the case engine recomputes open
deadlines here, in the same transaction.
""")
