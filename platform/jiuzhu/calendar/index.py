"""The in-memory working-day index: O(1) answers to "which day is N working days after D".

Built once from the calendar's exceptions (holidays and make-up working days) and the set of
published years, it holds, for every day from :data:`FIRST_DAY` to :data:`LAST_DAY`, the number of
working days up to and including that day, and the inverse: the date of the k-th working day. Adding
working days is then two array lookups, whatever N is. Plain data, no database and no Flask: the
cache in :mod:`jiuzhu.calendar.cache` builds it, tests and the benchmark can build it directly.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import accumulate, compress

from jiuzhu.errors import ValidationError

#: the first day the index covers (chinesecalendar's data starts on this day)
FIRST_DAY = dt.date(2004, 1, 1)
#: the last day the index covers; days after the last published year are weekends-only
LAST_DAY = dt.date(2100, 12, 31)

WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


@dataclass(frozen=True)
class Deadline:
    """A due date, and whether it may still move.

    ``provisional`` is true when a year from the start's year to the due date's year has no
    published holiday schedule yet: the date was computed on weekends only, and will be recomputed
    when the operator enters that year.
    """

    due: dt.date
    provisional: bool


class OutOfCalendarRange(ValidationError):
    """A date, or a result, outside the days the working-day calendar covers."""

    code = "out_of_calendar_range"


def _plain_date(day: dt.date, what: str) -> dt.date:
    # A datetime is a date too, but its date part may be a UTC date rather than the China date.
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(f"{what} must be a datetime.date (a China date), not {type(day).__name__}")
    return day


class WorkdayIndex:
    """Cumulative working-day counts over a fixed span of days, and their inverse.

    ``exceptions`` maps a day to ``True`` (a make-up working day on a weekend) or ``False`` (a
    holiday); every other day is a working day exactly when it falls Monday to Friday. Years not in
    ``published_years`` are therefore weekends-only, and results that touch them are provisional.
    """

    def __init__(self, exceptions: Mapping[dt.date, bool], published_years: Iterable[int], *,
                 first_day: dt.date = FIRST_DAY, last_day: dt.date = LAST_DAY):
        if last_day < first_day:
            raise ValueError("last_day is before first_day")
        self.first_day = first_day
        self.last_day = last_day
        self.published_years = frozenset(published_years)
        self._first_ordinal = first_day.toordinal()
        size = last_day.toordinal() - self._first_ordinal + 1
        # Mon–Fri on, Sat–Sun off, starting on first_day's weekday; then the exceptions.
        week = bytes(1 if (first_day.weekday() + i) % 7 < 5 else 0 for i in range(7))
        flags = bytearray((week * (size // 7 + 1))[:size])
        for day, is_workday in exceptions.items():
            offset = day.toordinal() - self._first_ordinal
            if 0 <= offset < size:
                flags[offset] = 1 if is_workday else 0
        self._flags = bytes(flags)
        #: _count[i] = working days from first_day up to and including first_day + i
        self._count = array("i", accumulate(flags))
        #: _nth[k] = offset of the (k+1)-th working day from first_day
        self._nth = array("i", compress(range(size), flags))
        # provisional check in O(1): the first unpublished year at or after each year
        years = range(first_day.year, last_day.year + 1)
        nxt, first_unpublished = last_day.year + 1, []
        for year in reversed(years):
            if year not in self.published_years:
                nxt = year
            first_unpublished.append(nxt)
        self._first_unpublished = array("i", reversed(first_unpublished))

    # -- lookups ---------------------------------------------------------------------------------

    def _offset(self, day: dt.date, what: str = "day") -> int:
        offset = _plain_date(day, what).toordinal() - self._first_ordinal
        if not 0 <= offset < len(self._flags):
            raise OutOfCalendarRange(
                f"日期 {day.isoformat()} 超出工作日历的范围（{self.first_day.isoformat()} 至 "
                f"{self.last_day.isoformat()}）。")
        return offset

    def _date(self, offset: int) -> dt.date:
        return dt.date.fromordinal(self._first_ordinal + offset)

    def _nth_workday(self, k: int, start: dt.date, n: int) -> dt.date:
        """The date of the working day with 0-based rank ``k`` (beyond the span: refused)."""
        if k >= len(self._nth):
            raise OutOfCalendarRange(
                f"从 {start.isoformat()} 起 {n} 个工作日超出工作日历的范围（至 {self.last_day.isoformat()}）。")
        return self._date(self._nth[k])

    def is_workday(self, day: dt.date) -> bool:
        return bool(self._flags[self._offset(day)])

    def is_published(self, year: int) -> bool:
        return year in self.published_years

    def is_provisional(self, start: dt.date, due: dt.date) -> bool:
        """Whether any year from ``start``'s to ``due``'s (either order) is unpublished."""
        low, high = sorted((start.year, due.year))
        return self._first_unpublished[low - self.first_day.year] <= high

    def add_workdays(self, start: dt.date, n: int) -> Deadline:
        """The n-th working day after ``start``; ``start`` itself never counts.

        ``n = 0`` means ``start`` if it is a working day, else the next working day (a deadline
        always lands on a working day).
        """
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}")
        offset = self._offset(start, "start")
        done = self._count[offset]  # working days up to and including start
        if n == 0:
            due = start if self._flags[offset] else self._nth_workday(done, start, n)
        else:
            due = self._nth_workday(done + n - 1, start, n)
        return Deadline(due, self.is_provisional(start, due))

    def workdays_before(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day before ``day`` (``day`` itself never counts; ``n = 0`` gives ``day``).

        For a working day ``day`` this inverts :meth:`add_workdays`: ``add_workdays(result, n).due == day``
        (reminders: "3 working days before the deadline").
        """
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}")
        offset = self._offset(day, "day")
        if n == 0:
            return day
        before = self._count[offset] - self._flags[offset]  # working days strictly before day
        if before - n < 0:
            raise OutOfCalendarRange(
                f"{day.isoformat()} 之前 {n} 个工作日超出工作日历的范围（自 {self.first_day.isoformat()} 起）。")
        return self._date(self._nth[before - n])

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        return self.add_workdays(day, 1).due

    def workdays_between(self, a: dt.date, b: dt.date) -> int:
        """Working days after ``a`` up to and including ``b``; negative (the same count, from ``b``
        to ``a``) when ``b`` is before ``a``. ``workdays_between(today, due)`` is the working days left."""
        return self._count[self._offset(b, "b")] - self._count[self._offset(a, "a")]

    def __repr__(self) -> str:
        years = sorted(self.published_years)
        span = f"{years[0]}–{years[-1]}" if years else "none"
        return (f"<WorkdayIndex {self.first_day}..{self.last_day}, {len(self._nth)} working days, "
                f"{len(years)} published years ({span})>")


def add_calendar_days(start: dt.date, n: int) -> Deadline:
    """``start`` plus ``n`` calendar days (some plugin deadlines count calendar days); never provisional."""
    return Deadline(_plain_date(start, "start") + dt.timedelta(days=n), False)
