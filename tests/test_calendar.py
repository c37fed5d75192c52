"""China's working-day calendar: deadlines in working days, provisional years, entering a year, the
cache, and agreement with chinesecalendar — all through the database the migrations seeded."""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Iterator
from contextlib import contextmanager

import chinese_calendar
import pytest
from sqlalchemy import func, select

from jiuzhu.calendar import (
    Deadline,
    HolidayPeriod,
    MakeUpWorkday,
    OutOfCalendarRange,
    WorkdayIndex,
    add_calendar_days,
    add_workdays,
    current_index,
    enter_year,
    invalidate,
    is_workday,
    next_workday,
    schedule_entered,
    workdays_before,
    workdays_between,
)
from jiuzhu.calendar.cache import CalendarCache, calendar_cache
from jiuzhu.calendar.models import CalendarException, CalendarSource, CalendarYear
from jiuzhu.calendar.seed import chinesecalendar_days, index_from_chinesecalendar
from jiuzhu.errors import ValidationError
from jiuzhu.extensions import db
from tests.conftest import make_app

D = dt.date

pytestmark = pytest.mark.usefixtures("forget_entered_years")

#: an illustrative 2027 schedule shaped like the State Council's (not the official one)
HOLIDAYS_2027 = [
    HolidayPeriod(D(2027, 1, 1), D(2027, 1, 3), "元旦"),
    HolidayPeriod(D(2027, 2, 6), D(2027, 2, 14), "春节"),
    HolidayPeriod(D(2027, 4, 3), D(2027, 4, 5), "清明节"),
    HolidayPeriod(D(2027, 5, 1), D(2027, 5, 5), "劳动节"),
    HolidayPeriod(D(2027, 6, 9), D(2027, 6, 9), "端午节"),
    HolidayPeriod(D(2027, 9, 15), D(2027, 9, 15), "中秋节"),
    HolidayPeriod(D(2027, 10, 1), D(2027, 10, 7), "国庆节"),
]
WORKDAYS_2027 = [
    MakeUpWorkday(D(2027, 2, 20), "春节调休"),
    MakeUpWorkday(D(2027, 4, 25), "劳动节调休"),
    MakeUpWorkday(D(2027, 5, 8), "劳动节调休"),
    MakeUpWorkday(D(2027, 9, 26), "国庆节调休"),
    MakeUpWorkday(D(2027, 10, 9), "国庆节调休"),
]


@pytest.fixture
def cal(app) -> Iterator[None]:
    """An app context with a freshly loaded index."""
    with app.app_context():
        invalidate()
        yield
        db.session.remove()


@contextmanager
def received(signal) -> Iterator[list[tuple]]:
    calls: list[tuple] = []

    def receiver(sender, **kwargs):
        calls.append((sender, kwargs))

    signal.connect(receiver)
    try:
        yield calls
    finally:
        signal.disconnect(receiver)


def table_counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(CalendarYear)),
            db.session.scalar(select(func.count()).select_from(CalendarException)))


#: chinesecalendar's answer for a day, asked once per day (the loops below ask it for the same days
#: thousands of times)
reference_is_workday = functools.lru_cache(maxsize=None)(chinese_calendar.is_workday)


def naive_add_workdays(start: dt.date, n: int) -> dt.date:
    """The definition, one day at a time over chinesecalendar."""
    day = start
    if n == 0:
        while not reference_is_workday(day):
            day += dt.timedelta(days=1)
        return day
    while n:
        day += dt.timedelta(days=1)
        if reference_is_workday(day):
            n -= 1
    return day


# -- the domain's worked examples -------------------------------------------------------------------

def test_accepted_2026_09_30_plus_7_workdays_is_2026_10_15(cal):
    # 10-01..10-07 National Day off; 10-08 Thu, 10-09 Fri, 10-10 the make-up Saturday, 10-12..10-15.
    assert add_workdays(D(2026, 9, 30), 7) == Deadline(D(2026, 10, 15), provisional=False)


def test_make_up_saturday_2026_10_10_counts(cal):
    assert is_workday(D(2026, 10, 10))
    assert add_workdays(D(2026, 9, 30), 3) == Deadline(D(2026, 10, 10), False)


def test_accepted_2026_02_10_plus_15_workdays_is_2026_03_09_over_spring_festival(cal):
    # 02-14 and 02-28 are make-up Saturdays; 02-15..02-23 Spring Festival off.
    assert add_workdays(D(2026, 2, 10), 15) == Deadline(D(2026, 3, 9), provisional=False)


def test_the_start_day_is_never_counted(cal):
    assert add_workdays(D(2026, 3, 6), 1).due == D(2026, 3, 9)  # Friday → Monday
    assert add_workdays(D(2026, 3, 7), 1).due == D(2026, 3, 9)  # Saturday → Monday
    assert add_workdays(D(2026, 10, 1), 1).due == D(2026, 10, 8)  # a holiday → first day back
    assert add_workdays(D(2026, 3, 9), 1).due == D(2026, 3, 10)


def test_a_deadline_always_lands_on_a_working_day(cal):
    rng = random.Random(7)
    for _ in range(500):
        start = D(2004, 1, 1) + dt.timedelta(days=rng.randrange(8000))
        due = add_workdays(start, rng.randrange(0, 50)).due
        assert is_workday(due) and chinese_calendar.is_workday(due), (start, due)


def test_zero_workdays_is_the_start_if_a_working_day_else_the_next_one(cal):
    assert add_workdays(D(2026, 9, 30), 0).due == D(2026, 9, 30)  # a Wednesday
    assert add_workdays(D(2026, 10, 10), 0).due == D(2026, 10, 10)  # a make-up Saturday
    assert add_workdays(D(2026, 3, 7), 0).due == D(2026, 3, 9)  # Saturday → Monday
    assert add_workdays(D(2026, 10, 1), 0).due == D(2026, 10, 8)  # National Day → first day back


def test_workdays_between_counts_after_a_up_to_b_and_is_negative_backwards(cal):
    assert workdays_between(D(2026, 9, 30), D(2026, 10, 15)) == 7
    assert workdays_between(D(2026, 10, 15), D(2026, 9, 30)) == -7
    assert workdays_between(D(2026, 10, 1), D(2026, 10, 7)) == 0
    assert workdays_between(D(2026, 9, 30), D(2026, 9, 30)) == 0


def test_next_workday_is_strictly_after(cal):
    assert next_workday(D(2026, 9, 30)) == D(2026, 10, 8)
    assert next_workday(D(2026, 10, 9)) == D(2026, 10, 10)
    assert next_workday(D(2026, 10, 8)) == D(2026, 10, 9)


def test_workdays_before_inverts_add_workdays(cal):
    assert workdays_before(D(2026, 10, 15), 7) == D(2026, 9, 30)
    assert workdays_before(D(2026, 10, 8), 1) == D(2026, 9, 30)  # back over National Day
    assert workdays_before(D(2026, 10, 4), 1) == D(2026, 9, 30)  # from a holiday
    assert workdays_before(D(2026, 10, 4), 0) == D(2026, 10, 4)
    rng = random.Random(3)
    for _ in range(500):
        due = add_workdays(D(2004, 2, 1) + dt.timedelta(days=rng.randrange(8000)), 0).due
        n = rng.randrange(0, 40)
        assert add_workdays(workdays_before(due, n), n).due == due, (due, n)
    with pytest.raises(OutOfCalendarRange):
        workdays_before(D(2004, 1, 5), 3)


def test_calendar_days_are_plain_and_never_provisional(cal):
    assert add_calendar_days(D(2026, 9, 30), 7) == Deadline(D(2026, 10, 7), False)
    assert add_calendar_days(D(2026, 12, 28), 10) == Deadline(D(2027, 1, 7), False)


def test_bad_arguments_are_refused(cal):
    with pytest.raises(ValueError):
        add_workdays(D(2026, 9, 30), -1)
    with pytest.raises(TypeError):
        add_workdays(dt.datetime(2026, 9, 30, 12, 0), 3)
    with pytest.raises(OutOfCalendarRange, match="超出工作日历的范围"):
        add_workdays(D(2003, 12, 31), 3)
    with pytest.raises(OutOfCalendarRange, match="超出工作日历的范围"):
        add_workdays(D(2100, 12, 20), 30)


def test_the_index_answers_without_a_loop():
    """A tiny span: cumulative counts and their inverse, nothing else."""
    # 2030-01-07 is a Monday; Wednesday a holiday, Saturday a make-up day.
    index = WorkdayIndex({D(2030, 1, 9): False, D(2030, 1, 12): True}, [2030],
                         first_day=D(2030, 1, 7), last_day=D(2030, 1, 20))
    assert [index.add_workdays(D(2030, 1, 7), n).due.day for n in range(7)] == [7, 8, 10, 11, 12, 14, 15]
    assert index.workdays_between(D(2030, 1, 7), D(2030, 1, 13)) == 4
    with pytest.raises(OutOfCalendarRange):
        index.add_workdays(D(2030, 1, 14), 10)


# -- provisional years and entering a year ------------------------------------------------------------

def test_a_deadline_in_2027_is_provisional_until_2027_is_entered(app, cal):
    # Before: 2027 unpublished, weekends only: 12-29, 12-30, 12-31, 2027-01-01 (a Friday), 01-04.
    assert add_workdays(D(2026, 12, 28), 5) == Deadline(D(2027, 1, 4), provisional=True)
    assert add_workdays(D(2026, 12, 1), 10).provisional is False  # stays inside 2026
    seen_inside = []

    def recompute(year, **kwargs):  # what the case engine does with the signal
        seen_inside.append(add_workdays(D(2026, 12, 28), 5))

    with received(schedule_entered) as calls, schedule_entered.connected_to(recompute):
        enter_year(db.session, 2027, HOLIDAYS_2027, WORKDAYS_2027, entered_by="ops",
                   note="国办发明电〔2026〕xx号（示例）")
        db.session.commit()
    # After: New Year's Day 2027 is off, so the fifth working day moves to Tuesday 01-05.
    assert add_workdays(D(2026, 12, 28), 5) == Deadline(D(2027, 1, 5), provisional=False)
    assert [(sender, kw["replaced"]) for sender, kw in calls] == [(2027, False)]
    assert calls[0][1]["session"] is db.session
    # A receiver (the case engine recomputing deadlines) already sees the new year, in the same transaction.
    assert seen_inside == [Deadline(D(2027, 1, 5), provisional=False)]
    assert is_workday(D(2027, 2, 20)) and not is_workday(D(2027, 10, 4))
    entry = db.session.get(CalendarYear, 2027)
    assert (entry.source, entry.entered_by, entry.note) == (CalendarSource.operator, "ops", "国办发明电〔2026〕xx号（示例）")


def test_provisional_while_any_year_in_between_is_unpublished(cal):
    enter_year(db.session, 2028, [HolidayPeriod(D(2028, 1, 1), D(2028, 1, 3), "元旦")], [], entered_by="ops")
    db.session.commit()
    # From 2026 into 2028 across an unpublished 2027: provisional; inside 2028 alone: not.
    deadline = add_workdays(D(2026, 12, 1), 300)
    assert deadline.due.year == 2028 and deadline.provisional
    assert add_workdays(D(2028, 3, 1), 10).provisional is False


def test_replacing_a_year_rewrites_its_days(cal):
    enter_year(db.session, 2027, HOLIDAYS_2027, WORKDAYS_2027, entered_by="ops")
    db.session.commit()
    with received(schedule_entered) as calls:
        enter_year(db.session, 2027, [HolidayPeriod(D(2027, 1, 1), D(2027, 1, 1), "元旦")], [],
                   entered_by="ops2", note="更正", replace=True)
        db.session.commit()
    assert [(sender, kw["replaced"]) for sender, kw in calls] == [(2027, True)]
    days = db.session.scalars(select(CalendarException.day).where(CalendarException.year == 2027)).all()
    assert days == [D(2027, 1, 1)]
    assert is_workday(D(2027, 2, 8)) and not is_workday(D(2027, 2, 20))
    assert db.session.get(CalendarYear, 2027).entered_by == "ops2"


def test_a_new_year_arrangement_may_reach_into_the_previous_december(cal):
    # As the 2019 notice set 2018-12-29 (work) and 2018-12-30..2019-01-01 (off).
    assert db.session.get(CalendarException, D(2018, 12, 29)).year == 2019
    enter_year(db.session, 2027, [HolidayPeriod(D(2026, 12, 31), D(2027, 1, 2), "元旦"), *HOLIDAYS_2027[1:]],
               [MakeUpWorkday(D(2026, 12, 26), "元旦调休")], entered_by="ops")
    db.session.commit()
    assert not is_workday(D(2026, 12, 31)) and is_workday(D(2026, 12, 26))


def test_rolled_back_entry_leaves_no_trace_in_the_cache(cal):
    enter_year(db.session, 2027, HOLIDAYS_2027, WORKDAYS_2027, entered_by="ops")
    assert add_workdays(D(2026, 12, 28), 5).provisional is False  # seen inside the transaction
    db.session.rollback()
    assert add_workdays(D(2026, 12, 28), 5) == Deadline(D(2027, 1, 4), provisional=True)
    assert db.session.get(CalendarYear, 2027) is None


def holidays_with(*extra):
    return [*HOLIDAYS_2027, *extra]


@pytest.mark.parametrize(("year", "holidays", "workdays", "message"), [
    (2026, HOLIDAYS_2027, [], "2026 年的放假安排已经发布（chinesecalendar 软件包"),
    (2027, holidays_with(HolidayPeriod(D(2028, 1, 1), D(2028, 1, 1), "元旦")), [],
     "休假日 2028-01-01 不在 2027 年内"),
    (2027, HOLIDAYS_2027, [MakeUpWorkday(D(2026, 6, 6), "端午节调休")], "调休上班日 2026-06-06 不在 2027 年内"),
    (2027, HOLIDAYS_2027, [MakeUpWorkday(D(2027, 9, 29), "国庆节调休")],
     "调休上班日 2027-09-29 是星期三，不是周末：调休上班日只能是星期六或星期日"),
    (2027, HOLIDAYS_2027, [MakeUpWorkday(D(2027, 10, 2), "国庆节调休")],
     "2027-10-02 同时列为休假日和调休上班日"),
    (2027, holidays_with(HolidayPeriod(D(2027, 10, 7), D(2027, 10, 8), "国庆节")), [],
     "2027-10-07 重复列为休假日"),
    (2027, holidays_with(HolidayPeriod(D(2027, 3, 5), D(2027, 3, 1), "某节")), [],
     "休假区间 2027-03-05~2027-03-01 的结束日期早于开始日期"),
    (2027, holidays_with(HolidayPeriod(D(2027, 3, 1), D(2027, 3, 1), " ")), [], "2027-03-01 缺少名称"),
    (2027, [], WORKDAYS_2027, "没有列出任何休假日"),
    (2101, HOLIDAYS_2027, [], "年份 2101 超出工作日历支持的范围"),
])
def test_refused_entries_write_nothing_and_send_nothing(cal, year, holidays, workdays, message):
    before = table_counts()
    with received(schedule_entered) as calls, pytest.raises(ValidationError) as refused:
        enter_year(db.session, year, holidays, workdays, entered_by="ops")
    assert any(message in m for m in refused.value.messages), refused.value.messages
    db.session.rollback()
    assert table_counts() == before and calls == []
    assert add_workdays(D(2026, 12, 28), 5).provisional


def test_every_problem_is_reported_at_once(cal):
    with pytest.raises(ValidationError) as refused:
        enter_year(db.session, 2027, holidays_with(HolidayPeriod(D(2028, 1, 1), D(2028, 1, 1), "元旦")),
                   [MakeUpWorkday(D(2027, 9, 29), "x"), MakeUpWorkday(D(2027, 10, 2), "x")], entered_by="")
    assert len(refused.value.messages) == 4


def test_a_day_set_by_another_year_is_refused(cal):
    enter_year(db.session, 2027, holidays_with(HolidayPeriod(D(2027, 12, 31), D(2027, 12, 31), "元旦")), [],
               entered_by="ops")
    db.session.commit()
    with pytest.raises(ValidationError, match="2027-12-31 已由 2027 年的放假安排设定（元旦）"):
        enter_year(db.session, 2028, [HolidayPeriod(D(2027, 12, 31), D(2028, 1, 1), "元旦")], [], entered_by="ops")


# -- the cache --------------------------------------------------------------------------------------

def test_another_process_notices_an_entered_year_within_the_check_interval(app, database_urls):
    other = make_app(database_urls)
    now = [1000.0]
    other.extensions["jiuzhu.calendar"] = CalendarCache(clock=lambda: now[0])
    with other.app_context():
        assert add_workdays(D(2026, 12, 28), 5).provisional
        db.session.remove()
    with app.app_context():  # "this" process enters 2027
        enter_year(db.session, 2027, HOLIDAYS_2027, WORKDAYS_2027, entered_by="ops")
        db.session.commit()
        db.session.remove()
    with other.app_context():
        now[0] += 59
        assert add_workdays(D(2026, 12, 28), 5).provisional  # not checked again yet
        now[0] += 1
        assert add_workdays(D(2026, 12, 28), 5) == Deadline(D(2027, 1, 5), False)
        db.session.remove()


def test_the_index_is_cached_on_the_app_and_reloaded_after_invalidate(app, cal):
    first = current_index()
    assert current_index() is first and calendar_cache(app) is app.extensions["jiuzhu.calendar"]
    invalidate()
    assert current_index() is not first


def test_calendar_needs_an_app_context():
    with pytest.raises(RuntimeError, match="app context"):
        add_workdays(D(2026, 9, 30), 7)


# -- agreement with chinesecalendar -----------------------------------------------------------------

def test_seeded_years_are_2004_to_2026_from_chinesecalendar(cal):
    years = db.session.scalars(select(CalendarYear).order_by(CalendarYear.year)).all()
    assert [y.year for y in years] == list(range(2004, 2027))
    assert {(y.source, y.entered_by) for y in years} == {(CalendarSource.chinesecalendar, "chinesecalendar")}
    rows = db.session.execute(select(CalendarException.day, CalendarException.is_workday,
                                     CalendarException.name, CalendarException.year)).all()
    assert sorted(rows) == [(d.day, d.is_workday, d.name, d.year) for d in chinesecalendar_days()]
    assert db.session.get(CalendarException, D(2026, 10, 1)).name == "国庆节"
    assert db.session.get(CalendarException, D(2026, 10, 10)).name == "国庆节调休"


def test_is_workday_equals_chinesecalendar_for_every_day_2004_to_2026(cal):
    day, mismatches = D(2004, 1, 1), []
    while day <= D(2026, 12, 31):
        if is_workday(day) != chinese_calendar.is_workday(day):
            mismatches.append(day)
        day += dt.timedelta(days=1)
    assert mismatches == []


def test_add_workdays_equals_a_day_by_day_loop_over_chinesecalendar(cal):
    rng = random.Random(20260930)
    span = (D(2026, 9, 1) - D(2004, 1, 1)).days  # so that 60 working days stay inside 2026
    for _ in range(3000):
        start = D(2004, 1, 1) + dt.timedelta(days=rng.randrange(span))
        n = rng.randrange(0, 61)
        assert add_workdays(start, n) == Deadline(naive_add_workdays(start, n), False), (start, n)
        due = naive_add_workdays(start, n)
        assert workdays_between(start, due) == (n or (0 if reference_is_workday(start) else 1))


def test_the_package_index_equals_the_database_index(cal):
    db_index, pkg_index = current_index(), index_from_chinesecalendar()
    assert db_index.published_years == pkg_index.published_years
    assert db_index._flags == pkg_index._flags
