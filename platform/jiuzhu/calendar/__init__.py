"""China's working-day calendar (工作日): weekends and statutory holidays off, make-up weekends on.

"Within N working days from day D" counts from the day after D; a deadline lands on a working day.
The calendar is data in the database — seeded 2004–2026 from ``chinesecalendar``, each later year
entered by the platform operator when the State Council publishes it — and every lookup goes
through an in-memory index (O(1)) cached on the app. A deadline that reaches a year not yet
published is computed on weekends only and marked provisional.

The functions below need an app context (requests and RQ jobs have one).
"""

from __future__ import annotations

import datetime as dt

from jiuzhu.calendar.cache import current_index, invalidate
from jiuzhu.calendar.index import Deadline, OutOfCalendarRange, WorkdayIndex, add_calendar_days
from jiuzhu.calendar.services import HolidayPeriod, MakeUpWorkday, enter_year, year_schedule
from jiuzhu.calendar.signals import schedule_entered


def add_workdays(start: dt.date, n: int) -> Deadline:
    """The n-th working day after ``start`` (``start`` never counts).

    ``n = 0``: ``start`` if it is a working day, else the next working day.
    """
    return current_index().add_workdays(start, n)


def workdays_between(a: dt.date, b: dt.date) -> int:
    """Working days after ``a`` up to and including ``b``; negative when ``b`` is before ``a``
    (``workdays_between(today, due)`` is the working days left, below zero once overdue)."""
    return current_index().workdays_between(a, b)


def workdays_before(day: dt.date, n: int) -> dt.date:
    """The n-th working day before ``day`` (``day`` never counts); inverts :func:`add_workdays`
    for a working day: ``add_workdays(workdays_before(due, n), n).due == due``."""
    return current_index().workdays_before(day, n)


def is_workday(day: dt.date) -> bool:
    return current_index().is_workday(day)


def next_workday(day: dt.date) -> dt.date:
    """The first working day strictly after ``day``."""
    return current_index().next_workday(day)


__all__ = [
    "Deadline", "HolidayPeriod", "MakeUpWorkday", "OutOfCalendarRange", "WorkdayIndex",
    "add_calendar_days", "add_workdays", "current_index", "enter_year", "invalidate", "is_workday",
    "next_workday", "schedule_entered", "workdays_before", "workdays_between", "year_schedule",
]
