"""The reminder sweep at scale: 1,000,000 open steps over 100 counties.

    python bench/reminder_sweep.py [--tenants 100] [--steps 1000000] [--keep] [--database jiuzhu_bench] [--workers 1]

Needs PostgreSQL (JIUZHU_BENCH_PG, default postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres).
It (re)creates the database ``jiuzhu_bench`` (``--database``), runs the migrations, creates the counties with a
township each and its staff through the service layer, then seeds with SQL, per county, open cases
each with one open step and the four reminders the planner gives a deadline (3 and 1 working days
before, on the day, the first overdue). Due dates are spread over the next 90 days with a few
already past, so a day's sweep finds a realistic few per cent of the outbox due.

It prints, for the same day:
* the bare SQL query that finds the due rows of every county (their ids), and the same reading the
  columns the claim reads of each (``dispatch.CLAIM_COLUMNS``: what the sweep must at least read);
* the sweep's claim alone: ``dispatch.claim`` in each county's scope, batch after batch, as the sweep
  claims them — the county's sweep lock, then the batch's columns (``--batch`` rows; here continuing
  after the last claimed row, since nothing is marked sent), rolled back;
* the whole sweep: every county's job as a worker runs it (claim, inbox rows, mark sent, commit),
  with the process's peak resident memory before and after; ``--workers N``: the jobs taken by N
  worker processes at once (peak memory: the largest worker's).
``--keep`` reuses the seeded database; the sweep marks its reminders sent, so a second ``--keep``
run first sets them pending again and empties the inbox.
The last lines (``RESULT``) are what ``bench/run-all`` tabulates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time

from sqlalchemy import select, text
from support import bench_county, bench_database, encrypted

TODAY = dt.date(2026, 11, 20)  # a Friday and a working day

SEED = text("""
WITH h AS (
  INSERT INTO households (tenant_id, township_id, village_id, address, tags, created_at)
  SELECT :tenant, :town, :village, 'h' || g, '[]', now() FROM generate_series(1, :n) g RETURNING id
), c AS (
  INSERT INTO cases (tenant_id, township_id, village_id, household_id, kind, channel, categories, status, plugin_key,
                     consent_classification, applied_on, accepted_on, round, due_on, due_provisional, extended,
                     paused_workdays, priority, version, created_at, limit_workdays)
  SELECT :tenant, :town, :village, h.id, 'application', 'window', '["dibao"]', 'in_review', 'baseline', false,
         :today, :today, 1, NULL, false, false, 0, false, 1, now(), 30 FROM h RETURNING id
), s AS (
  INSERT INTO case_steps (tenant_id, case_id, township_id, village_id, key, round, level, status, opened_on,
                          opened_at, due_on, due_provisional, extended, data, version)
  SELECT :tenant, c.id, :town, :village, 'home_investigation', 1, 'township', 'open', :today, now(),
         :today + ((c.id % 93) - 2), false, false, :no_data, 1 FROM c RETURNING id, case_id, due_on
)
INSERT INTO reminders (tenant_id, township_id, village_id, case_id, subject, subject_id, kind, "offset", due_on,
                       send_on, level, escalate, title, status, created_at, recipients)
SELECT :tenant, :town, :village, s.case_id, 'step', s.id, k.kind, k.off, s.due_on, s.due_on + k.shift, 'township',
       k.kind = 'overdue', '某户 · 入户调查', 'pending', now(), 0
FROM s CROSS JOIN (VALUES ('before', 3, -3), ('before', 1, -1), ('due', 0, 0), ('overdue', 1, 1)) AS k(kind, off, shift)
""")


def _worker_ready(_):
    import os

    from jiuzhu.instance import job_app

    job_app()  # the worker's app, created once (as an RQ worker process does at start)
    time.sleep(0.2)
    return os.getpid()


def _worker_sweep(args):
    from jiuzhu.reminders.jobs import send_tenant_reminders

    tid, batch = args
    return send_tenant_reminders(tid, today=TODAY.isoformat(), batch=batch).get("sent", 0)


def _worker_peak(_):
    time.sleep(0.2)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parallel_sweep(tenant_ids, workers: int, batch: int):
    """The county jobs taken by ``workers`` processes (as ``jiuzhu-worker@1``, ``@2`` … take them from
    the queue), each started and warmed up before the clock starts. Returns (sent, seconds, the workers'
    peak RSS before, after) — the largest of the workers'."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # fresh processes: no connection shared with this one
    with context.Pool(workers) as pool:
        pool.map(_worker_ready, range(workers * 2), chunksize=1)
        before = max(pool.map(_worker_peak, range(workers * 2), chunksize=1))
        t0 = time.perf_counter()
        sent = sum(pool.imap_unordered(_worker_sweep, [(tid, batch) for tid in tenant_ids], chunksize=1))
        whole = time.perf_counter() - t0
        after = max(pool.map(_worker_peak, range(workers * 2), chunksize=1))
    return sent, whole, before, after


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="reuse an already seeded jiuzhu_bench")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--database", default="jiuzhu_bench", help="the benchmark's own database (recreated)")
    parser.add_argument("--profile", action="store_true",
                        help="with one worker: print where the whole sweep's time goes (cProfile)")
    parser.add_argument("--workers", type=int, default=1,
                        help="sweep with this many worker processes (default: every county's job in this one)")
    args = parser.parse_args()
    from flask_migrate import upgrade

    from jiuzhu import create_app
    from jiuzhu.extensions import db
    from jiuzhu.reminders.dispatch import claim
    from jiuzhu.reminders.jobs import send_tenant_reminders
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.models import Tenant

    owner = bench_database(args.database, keep=args.keep)
    app = create_app()
    with app.app_context():
        if not args.keep:
            upgrade()
            t0 = time.perf_counter()
            per = args.steps // args.tenants
            for i in range(args.tenants):
                tid, town_id, village_id = bench_county(app, f"b{i:03d}", f"县{i:03d}", with_staff=True)
                with owner.begin() as conn:
                    conn.execute(SEED, {"tenant": tid, "town": town_id, "village": village_id, "n": per,
                                        "today": TODAY, "no_data": encrypted("case_steps.data", {}, tid)})
            with owner.begin() as conn:
                conn.execute(text("ANALYZE"))
            print(f"seeded {args.tenants} counties × {per:,} open steps (4 reminders each) "
                  f"in {time.perf_counter() - t0:.1f} s")
        else:
            upgrade()
            with owner.begin() as conn:  # the previous run's sweep undone
                conn.execute(text("DELETE FROM notifications"))
                conn.execute(text("DELETE FROM supervision_items"))
                conn.execute(text("DELETE FROM reminders WHERE \"offset\" > 1 AND kind = 'overdue'"))
                conn.execute(text("UPDATE reminders SET status = 'pending', sent_at = NULL, recipients = 0 "
                                  "WHERE status <> 'pending'"))
            with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE reminders"))
        tenant_ids = list(db.session.scalars(select(Tenant.id).order_by(Tenant.id)))
        db.session.remove()

        with owner.connect() as conn:
            total = conn.execute(text("SELECT count(*) FROM reminders")).scalar()
            t0 = time.perf_counter()
            due = 0
            for tid in tenant_ids:
                due += len(conn.execute(text(
                    "SELECT id FROM reminders WHERE tenant_id = :t AND status = 'pending' AND send_on <= :d "
                    "ORDER BY send_on, id"), {"t": tid, "d": TODAY}).all())
            bare = time.perf_counter() - t0
            from jiuzhu.reminders.dispatch import CLAIM_COLUMNS

            columns = ", ".join(f'"{c}"' for c in CLAIM_COLUMNS)
            t0 = time.perf_counter()
            for tid in tenant_ids:
                conn.execute(text(
                    f"SELECT {columns} FROM reminders WHERE tenant_id = :t AND status = 'pending' "
                    "AND send_on <= :d ORDER BY send_on, id"), {"t": tid, "d": TODAY}).all()
            bare_columns = time.perf_counter() - t0
        print(f"outbox: {total:,} rows; due on {TODAY}: {due:,}")
        print(f"bare SQL, due rows of every county:        {bare * 1000:9.1f} ms")
        print(f"  the same with the claim's columns:       {bare_columns * 1000:9.1f} ms")

        t0 = time.perf_counter()
        claimed = 0
        for tid in tenant_ids:
            with use_scope(Scope(tid)):
                last = None
                while True:
                    rows = claim(db.session, TODAY, args.batch, after=last)
                    claimed += len(rows)
                    if len(rows) < args.batch:
                        break
                    last = (rows[-1].send_on, rows[-1].id)
                db.session.rollback()
        claim_s = time.perf_counter() - t0
        db.session.remove()
        print(f"sweep claim (batches of {args.batch}):          {claim_s * 1000:9.1f} ms  ({claimed:,} rows)")

        if args.workers > 1:
            sent, whole, rss_before, rss_after = parallel_sweep(tenant_ids, args.workers, args.batch)
        else:
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            profiler = None
            if args.profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            t0 = time.perf_counter()
            sent = 0
            for tid in tenant_ids:
                result = send_tenant_reminders(tid, today=TODAY.isoformat(), batch=args.batch)
                sent += result.get("sent", 0)
            whole = time.perf_counter() - t0
            if profiler is not None:
                import pstats

                profiler.disable()
                print("where the sweep's time goes (cumulative, then own time; profiled, so slower):")
                stats = pstats.Stats(profiler).strip_dirs()
                stats.sort_stats("cumulative").print_stats(40)
                stats.sort_stats("tottime").print_stats(20)
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"whole sweep (claim, inbox, mark sent):     {whole * 1000:9.1f} ms  ({sent:,} reminders, "
              f"{sent / whole:,.0f}/s)")
        print(f"claim / bare SQL: {claim_s / bare:.1f}× ({claim_s / bare_columns:.1f}× the claim's columns)   "
              f"whole sweep / bare SQL: {whole / bare:.1f}×")
        print(f"peak resident memory: {rss_before:.0f} MB before the sweep, {rss_after:.0f} MB after")
        size = f"{args.steps:,} open steps, {total:,} outbox rows"
        if args.workers > 1:
            size += f", {args.workers} worker processes"
        print(f"RESULT\treminder sweep\t{size}\t{sent / whole:,.0f} reminders/s\t"
              f"{sent:,} in {whole:.1f} s; peak RSS {rss_after:.0f} MB (before {rss_before:.0f} MB)")
        print(f"RESULT\tsweep claim\t{size}\t{claim_s * 1000:.0f} ms\t"
              f"{claim_s / bare:.2f}× the bare select ({bare * 1000:.0f} ms); "
              f"{claim_s / bare_columns:.2f}× it with the claim's columns ({bare_columns * 1000:.0f} ms)")
    owner.dispose()


if __name__ == "__main__":
    main()
