"""China dates. Every date in the domain (applied, accepted, due) is a date in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")


def china_now() -> dt.datetime:
    return dt.datetime.now(CHINA_TZ)


def china_today() -> dt.date:
    return china_now().date()


def china_date(moment: dt.datetime) -> dt.date:
    """The China date of an aware timestamp."""
    return moment.astimezone(CHINA_TZ).date()


def cn_date(day: dt.date | None) -> str:
    """A date as a notice writes it (2026年10月14日), or the blank to fill in by hand."""
    return f"{day.year}年{day.month}月{day.day}日" if day else "____年__月__日"
