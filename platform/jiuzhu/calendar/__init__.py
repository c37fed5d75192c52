# TEMPORARY SHIM — replaced by the calendar branch
import datetime as dt
from dataclasses import dataclass

import chinese_calendar as cc


@dataclass(frozen=True)
class Deadline:
    due: dt.date
    provisional: bool

def _wd(d):
    try:
        return cc.is_workday(d)
    except NotImplementedError:
        return d.weekday() < 5

def add_workdays(start, n):
    d = start
    while n > 0:
        d += dt.timedelta(1)
        if _wd(d):
            n -= 1
    return Deadline(d, d.year > 2026)

def add_calendar_days(start, n):
    return Deadline(start + dt.timedelta(n), False)

def workdays_between(a, b):
    n = 0
    d = a
    while d < b:
        d += dt.timedelta(1)
        n += _wd(d)
    return n

def is_workday(d):
    return _wd(d)

def next_workday(d):
    while not _wd(d):
        d += dt.timedelta(1)
    return d
