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
