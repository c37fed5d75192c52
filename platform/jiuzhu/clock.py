"""China dates. Every date in the domain (applied, accepted, due) is a date in Asia/Shanghai.

The demo — and only the demo, on its SQLite database — can move its clock forward (演示时钟), so that
a newcomer takes a fresh case through a seven-day publicity and on to payment in minutes: the demo
sets ``JIUZHU_DEMO_CLOCK_FILE`` to a file holding a number of days, which every process of the demo
(web, RQ worker, cron) adds to today. ``create_app`` refuses the setting on any other database.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")
DEMO_CLOCK_ENV = "JIUZHU_DEMO_CLOCK_FILE"

_cached: tuple[str, float, int] | None = None


def demo_offset_days() -> int:
    """Days the demo's clock runs ahead (0 outside the demo)."""
    global _cached
    path = os.environ.get(DEMO_CLOCK_ENV)
    if not path:
        return 0
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return 0
    if _cached is None or _cached[0] != path or _cached[1] != mtime:
        try:
            with open(path, encoding="utf-8") as f:
                days = int(f.read().strip() or "0")
        except (OSError, ValueError):
            days = 0
        _cached = (path, mtime, max(0, min(days, 3650)))
    return _cached[2]


def set_demo_offset_days(days: int) -> int:
    """Move the demo's clock (the demo only: without its clock file this does nothing)."""
    path = os.environ.get(DEMO_CLOCK_ENV)
    if not path:
        return 0
    days = max(0, min(int(days), 3650))
    with open(path, "w", encoding="utf-8") as f:
        f.write(str(days))
    return days


def china_now() -> dt.datetime:
    now = dt.datetime.now(CHINA_TZ)
    offset = demo_offset_days()
    return now + dt.timedelta(days=offset) if offset else now


def china_today() -> dt.date:
    return china_now().date()


def china_date(moment: dt.datetime) -> dt.date:
    """The China date of an aware timestamp."""
    return moment.astimezone(CHINA_TZ).date()


def cn_date(day: dt.date | None) -> str:
    """A date as a notice writes it (2026年10月14日), or the blank to fill in by hand."""
    return f"{day.year}年{day.month}月{day.day}日" if day else "____年__月__日"
