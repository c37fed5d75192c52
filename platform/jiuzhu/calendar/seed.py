"""The years 2004–2026 from the ``chinesecalendar`` package, as rows for the calendar tables.

The migration seeds the database from here; the benchmark and tests build an index from it without
a database. chinesecalendar names holidays in English and has no data outside 2004–2026 (it raises
``NotImplementedError`` for 2027); a New Year arrangement that reaches into the previous December
(e.g. 2018-12-29 to 12-31, set by the 2019 notice) is attributed to the following year's schedule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib.metadata import version

from jiuzhu.calendar.index import WorkdayIndex

#: the years the package covers and the migration seeds
SEED_YEARS = range(2004, 2027)

#: chinesecalendar's English names → the names used in the State Council's notices
CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
NEW_YEARS_DAY = "New Year's Day"


@dataclass(frozen=True)
class SeedDay:
    day: dt.date
    is_workday: bool
    name: str
    #: the schedule (year) this day belongs to
    year: int


def _chinese(name: str) -> str:
    from chinese_calendar import Holiday

    return CHINESE_NAMES.get(name) or Holiday(name).chinese


def _schedule_year(day: dt.date, name: str) -> int:
    return day.year + 1 if day.month == 12 and name == NEW_YEARS_DAY else day.year


def chinesecalendar_days(years: range = SEED_YEARS) -> list[SeedDay]:
    """Every holiday and make-up working day of ``years``, in date order, with Chinese names."""
    import chinese_calendar

    rows = [SeedDay(day, False, _chinese(name), _schedule_year(day, name))
            for day, name in chinese_calendar.holidays.items()]
    rows += [SeedDay(day, True, _chinese(name) + "调休", _schedule_year(day, name))
             for day, name in chinese_calendar.workdays.items()]
    rows = sorted((r for r in rows if r.year in years), key=lambda r: r.day)
    missing = sorted(set(years) - {r.year for r in rows if not r.is_workday})
    if missing:
        raise RuntimeError(f"the installed chinesecalendar has no holidays for {missing}")
    return rows


def chinesecalendar_note() -> str:
    return f"chinesecalendar {version('chinesecalendar')}"


def index_from_chinesecalendar(years: range = SEED_YEARS) -> WorkdayIndex:
    """The index the seeded database yields, built without a database (benchmark, quick checks)."""
    return WorkdayIndex({r.day: r.is_workday for r in chinesecalendar_days(years)}, years)
