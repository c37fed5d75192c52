"""Entering a year's holiday schedule (the operator, once the State Council publishes it), and
reading a year back for display. :func:`enter_year` validates everything first and writes nothing
when input is refused; the caller commits."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select

from jiuzhu.calendar.cache import mark_changed
from jiuzhu.calendar.index import FIRST_DAY, LAST_DAY, WEEKDAY_NAMES
from jiuzhu.calendar.models import CalendarException, CalendarSource, CalendarYear
from jiuzhu.calendar.signals import schedule_entered
from jiuzhu.db import utcnow
from jiuzhu.errors import ValidationError

NAME_MAX = 60
NOTE_MAX = 200
ENTERED_BY_MAX = 64


@dataclass(frozen=True)
class HolidayPeriod:
    """Days off (休) from ``first`` to ``last`` inclusive, e.g. 国庆节 10-01 to 10-07."""

    first: dt.date
    last: dt.date
    name: str
    #: the line of the file it was read from, for messages
    line: int | None = None

    @property
    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class MakeUpWorkday:
    """A weekend day worked to make up for a holiday (调休上班, 班)."""

    day: dt.date
    name: str
    line: int | None = None


def _where(line: int | None) -> str:
    return f"第 {line} 行：" if line else ""


_LINE_RE = re.compile(r"^第 (\d+) 行：")


def by_line(messages: Iterable[str]) -> list[str]:
    """Messages about the whole entry first, then those about a file's rows in row order."""
    def key(message: str) -> int:
        m = _LINE_RE.match(message)
        return int(m.group(1)) if m else 0

    return sorted(messages, key=key)


def _weekday(day: dt.date) -> str:
    return WEEKDAY_NAMES[day.weekday()]


def _as_holiday(item) -> HolidayPeriod:
    """A HolidayPeriod, or a tuple ``(day, name)`` / ``(first, last, name)``."""
    if isinstance(item, HolidayPeriod):
        return item
    if isinstance(item, tuple) and len(item) == 2:
        return HolidayPeriod(item[0], item[0], item[1])
    if isinstance(item, tuple) and len(item) == 3:
        return HolidayPeriod(*item)
    raise TypeError(f"a holiday is a HolidayPeriod, (day, name) or (first, last, name), not {item!r}")


def _as_workday(item) -> MakeUpWorkday:
    """A MakeUpWorkday, or a tuple ``(day, name)``."""
    if isinstance(item, MakeUpWorkday):
        return item
    if isinstance(item, tuple) and len(item) == 2:
        return MakeUpWorkday(*item)
    raise TypeError(f"a make-up working day is a MakeUpWorkday or (day, name), not {item!r}")


def schedule_span(year: int) -> tuple[dt.date, dt.date]:
    """The days a year's schedule may set: the year, and the previous December for 元旦."""
    return max(dt.date(year - 1, 12, 1), FIRST_DAY), dt.date(year, 12, 31)


def _check(session, year: int, holidays: list[HolidayPeriod], workdays: list[MakeUpWorkday], *,
           entered_by: str, note: str | None, replace: bool
           ) -> tuple[list[str], CalendarYear | None, dict[dt.date, tuple[bool, str, int | None]]]:
    """Every problem with an entry (messages), the existing year row, and the days to write."""
    errors: list[str] = []
    if not isinstance(year, int) or not FIRST_DAY.year <= year <= LAST_DAY.year:
        return [f"年份 {year} 超出工作日历支持的范围（{FIRST_DAY.year}–{LAST_DAY.year} 年）。"], None, {}
    existing = session.get(CalendarYear, year)
    if existing is not None and not replace:
        errors.append(f"{year} 年的放假安排已经发布（{existing.source.label}，录入人 {existing.entered_by}，"
                      f"{existing.entered_at:%Y-%m-%d}）；如需更正，请以替换方式（--replace）重新录入。")
    if not entered_by:
        errors.append("须注明录入人。")
    elif len(entered_by) > ENTERED_BY_MAX:
        errors.append(f"录入人不能超过 {ENTERED_BY_MAX} 个字符。")
    if note and len(note) > NOTE_MAX:
        errors.append(f"备注（文件号）不能超过 {NOTE_MAX} 个字符。")
    if not holidays:
        errors.append(f"没有列出任何休假日：{year} 年的放假安排至少应有元旦、春节等休假日。")

    span_first, span_last = schedule_span(year)
    outside = f"不在 {year} 年内（元旦安排可含 {year - 1} 年 12 月的日期）。"
    planned: dict[dt.date, tuple[bool, str, int | None]] = {}

    def check_name(name: str, line: int | None, day: dt.date) -> str:
        name = (name or "").strip()
        if not name:
            errors.append(f"{_where(line)}{day.isoformat()} 缺少名称（如 国庆节、春节调休）。")
        elif len(name) > NAME_MAX:
            errors.append(f"{_where(line)}名称“{name[:20]}…”过长（最多 {NAME_MAX} 个字）。")
        return name

    def plan(day: dt.date, is_workday: bool, name: str, line: int | None) -> None:
        if day in planned:
            prev_workday, _prev_name, prev_line = planned[day]
            where = f"（另见第 {prev_line} 行）" if prev_line else ""
            if prev_workday == is_workday:
                errors.append(f"{_where(line)}{day.isoformat()} 重复列为{'调休上班日' if is_workday else '休假日'}{where}。")
            else:
                errors.append(f"{_where(line)}{day.isoformat()} 同时列为休假日和调休上班日{where}：一天只能是其中之一。")
            return
        planned[day] = (is_workday, name, line)

    for h in holidays:
        if not all(isinstance(d, dt.date) and not isinstance(d, dt.datetime) for d in (h.first, h.last)):
            errors.append(f"{_where(h.line)}休假日期无效：{h.first!r}。")
            continue
        if h.last < h.first:
            errors.append(f"{_where(h.line)}休假区间 {h.first.isoformat()}~{h.last.isoformat()} 的结束日期早于开始日期。")
            continue
        name = check_name(h.name, h.line, h.first)
        bad = [d for d in (h.first, h.last) if not span_first <= d <= span_last]
        if bad:
            errors.append(f"{_where(h.line)}休假日 {bad[0].isoformat()} {outside}")
            continue
        for day in h.days:
            plan(day, False, name, h.line)
    for w in workdays:
        if not isinstance(w.day, dt.date) or isinstance(w.day, dt.datetime):
            errors.append(f"{_where(w.line)}调休上班日期无效：{w.day!r}。")
            continue
        name = check_name(w.name, w.line, w.day)
        if not span_first <= w.day <= span_last:
            errors.append(f"{_where(w.line)}调休上班日 {w.day.isoformat()} {outside}")
            continue
        if w.day.weekday() < 5:
            errors.append(f"{_where(w.line)}调休上班日 {w.day.isoformat()} 是{_weekday(w.day)}，不是周末："
                          "调休上班日只能是星期六或星期日。")
        plan(w.day, True, name, w.line)

    if planned:
        taken = session.execute(
            select(CalendarException.day, CalendarException.year, CalendarException.name)
            .where(CalendarException.day.in_(sorted(planned)), CalendarException.year != year)).all()
        for day, other_year, other_name in taken:
            errors.append(f"{day.isoformat()} 已由 {other_year} 年的放假安排设定（{other_name}），不能再列入 {year} 年。")
    return by_line(errors), existing, planned


def schedule_problems(session, year: int, holidays: Iterable[HolidayPeriod | tuple],
                      workdays: Iterable[MakeUpWorkday | tuple], *, entered_by: str = "-",
                      note: str | None = None, replace: bool = False) -> list[str]:
    """What :func:`enter_year` would refuse, without writing (to report every problem of a file at once)."""
    return _check(session, year, [_as_holiday(h) for h in holidays], [_as_workday(w) for w in workdays],
                  entered_by=(entered_by or "").strip(), note=(note or "").strip() or None, replace=replace)[0]


def enter_year(session, year: int, holidays: Iterable[HolidayPeriod | tuple],
               workdays: Iterable[MakeUpWorkday | tuple], *, entered_by: str, note: str | None = None,
               replace: bool = False) -> CalendarYear:
    """Publish ``year``'s schedule: its holidays and its make-up working days.

    Refused, with one message per problem and nothing written: a year already published (unless
    ``replace``), a date outside the year (the previous December is allowed for a New Year
    arrangement), a make-up working day that is not on a weekend, a day listed twice or as both
    holiday and working day, a day another year's schedule already set, a missing name. A holiday
    on a weekend is fine (notices list whole periods). On success the cache is invalidated and
    :data:`~jiuzhu.calendar.signals.schedule_entered` is sent, inside the caller's transaction.
    """
    entered_by = (entered_by or "").strip()
    note = (note or "").strip() or None
    errors, existing, planned = _check(session, year, [_as_holiday(h) for h in holidays],
                                       [_as_workday(w) for w in workdays],
                                       entered_by=entered_by, note=note, replace=replace)
    if errors:
        raise ValidationError(*errors)

    replaced = existing is not None
    if replaced:
        session.execute(delete(CalendarException).where(CalendarException.year == year))
        existing.source, existing.entered_at = CalendarSource.operator, utcnow()
        existing.entered_by, existing.note = entered_by, note
        entry = existing
    else:
        entry = CalendarYear(year=year, source=CalendarSource.operator, entered_at=utcnow(),
                             entered_by=entered_by, note=note)
        session.add(entry)
    session.flush()
    session.add_all(CalendarException(day=day, is_workday=is_workday, name=name, year=year)
                    for day, (is_workday, name, _line) in sorted(planned.items()))
    session.flush()
    mark_changed(session)
    schedule_entered.send(year, session=session, replaced=replaced)
    return entry


@dataclass(frozen=True)
class YearSchedule:
    """A year as the operator reads it: its entry (None when unpublished) and its days."""

    year: int
    entry: CalendarYear | None
    holidays: list[HolidayPeriod]
    workdays: list[MakeUpWorkday]


def year_schedule(session, year: int) -> YearSchedule:
    """``year``'s schedule, holidays grouped into periods of consecutive days with the same name."""
    rows = session.scalars(select(CalendarException).where(CalendarException.year == year)
                           .order_by(CalendarException.day)).all()
    periods: list[HolidayPeriod] = []
    for row in rows:
        if row.is_workday:
            continue
        last = periods[-1] if periods else None
        if last and last.name == row.name and last.last + dt.timedelta(days=1) == row.day:
            periods[-1] = HolidayPeriod(last.first, row.day, row.name)
        else:
            periods.append(HolidayPeriod(row.day, row.day, row.name))
    return YearSchedule(year, session.get(CalendarYear, year), periods,
                        [MakeUpWorkday(r.day, r.name) for r in rows if r.is_workday])
