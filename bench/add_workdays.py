"""How fast is ``add_workdays``? The index against a day-by-day loop over chinesecalendar.

    .venv/bin/python bench/add_workdays.py [--calls 20000] [--seed 1]

Builds the index straight from the chinesecalendar data (the same days the migration seeds), so it
needs no database. Prints calls per second for n in 3, 7, 15, 30, 45 working days from random starts
in 2004–2026, the index's build time and its memory (tracemalloc). With ``JIUZHU_DATABASE_URL`` set
to a migrated database it also times the public ``jiuzhu.calendar.add_workdays`` (index cached on
the app, loaded from that database). Figures vary by machine; nothing here is asserted by the tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import time
import tracemalloc

import chinese_calendar

from jiuzhu.calendar.seed import chinesecalendar_days, index_from_chinesecalendar

NS = (3, 7, 15, 30, 45)
FIRST_START = dt.date(2004, 1, 1)
LAST_START = dt.date(2026, 9, 30)  # 45 working days later is still inside chinesecalendar's data


def naive_add_workdays(start: dt.date, n: int) -> dt.date:
    day = start
    while n:
        day += dt.timedelta(days=1)
        if chinese_calendar.is_workday(day):
            n -= 1
    return day


def calls_per_second(fn, starts: list[dt.date], n: int) -> float:
    t0 = time.perf_counter()
    for start in starts:
        fn(start, n)
    return len(starts) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000, help="index calls per n (the loop gets a tenth)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    days = chinesecalendar_days()  # read the package's data once, outside the timings
    builds = []
    for _ in range(5):
        t0 = time.perf_counter()
        index = index_from_chinesecalendar()
        builds.append(time.perf_counter() - t0)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    index = index_from_chinesecalendar()
    retained = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    rng = random.Random(args.seed)
    span = (LAST_START - FIRST_START).days
    starts = [FIRST_START + dt.timedelta(days=rng.randrange(span + 1)) for _ in range(args.calls)]
    loop_starts = starts[: max(1, args.calls // 10)]
    for start in loop_starts[:500]:  # the two agree before we time them
        for n in NS:
            assert index.add_workdays(start, n).due == naive_add_workdays(start, n), (start, n)

    print(f"index: {index!r}")
    print(f"seeded exceptions: {len(days)}; build: median {statistics.median(builds) * 1000:.1f} ms "
          f"of {len(builds)}; memory: {retained / 1024:.0f} KiB retained, {peak / 1024:.0f} KiB peak while building")
    print()
    public = public_add_workdays()
    print(f"{'n':>4} {'index calls/s':>15} {'day loop calls/s':>18} {'speed-up':>10}"
          + (f" {'public API calls/s':>20}" if public else ""))
    for n in NS:
        fast = calls_per_second(index.add_workdays, starts, n)
        slow = calls_per_second(naive_add_workdays, loop_starts, n)
        line = f"{n:>4} {fast:>15,.0f} {slow:>18,.0f} {fast / slow:>9.0f}×"
        if public:
            line += f" {calls_per_second(public, starts, n):>20,.0f}"
        print(line)


def public_add_workdays():
    """``jiuzhu.calendar.add_workdays`` inside an app context, if a database is configured."""
    if not os.environ.get("JIUZHU_DATABASE_URL"):
        return None
    from jiuzhu import create_app
    from jiuzhu.calendar import add_workdays

    app = create_app({"SECRET_KEY": os.environ.get("JIUZHU_SECRET_KEY", "bench")})
    app.app_context().push()
    add_workdays(FIRST_START, 1)  # load the index once
    return add_workdays


if __name__ == "__main__":
    main()
