"""重复享受 at provincial scale: 100 counties, 1,000,000 household members.

    python bench/duplicates.py [--counties 100] [--members 1000000] [--keep] [--repeat 20]

Needs PostgreSQL (JIUZHU_BENCH_PG, default the local server). It (re)creates ``jiuzhu_bench_dup``,
runs the migrations, creates the counties (a township and a village each) through the service
layer, then seeds per county with SQL: households of four with an approved 低保 case each, their
members carrying blind indexes — the registry is filled by the migration's triggers as the rows go
in, so the seeding time includes keeping it. One household in 200 has its head also drawing in the
next county; one in 1,000 shares a member with another household of its own county.

It prints:
* the bare SQL self-join on the blind index over the whole registry (the least any sweep must read);
* the nightly sweep as the application role: ``jiuzhu_registry_refresh()`` (the one pass) and then
  ``jiuzhu_registry_duplicates()`` in each county's signed scope (its slice);
* the whole nightly job: the pass, then every county's job (``sweep_tenant_duplicates``: findings
  written, the county told), as the workers run them one after another;
* the intake check per household: ``jiuzhu_registry_lookup`` for a household's four members, as the
  application role (median of --repeat households).
The ``RESULT`` lines are what ``bench/run-all`` tabulates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import statistics
import time

from sqlalchemy import create_engine, select, text
from support import bench_county, bench_database, encrypted

DECIDED = dt.date(2026, 3, 20)

#: one county's households, approved cases and members; the person numbers are global, so a member
#: shared with the next county (or with another household here) gets the same blind index
SEED = text("""
WITH h AS (
  INSERT INTO households (tenant_id, township_id, village_id, address, tags, created_at)
  SELECT :tenant, :town, :village, 'h' || g, '[]', now() FROM generate_series(1, :n) g RETURNING id
), hn AS (
  SELECT id, row_number() OVER (ORDER BY id) AS g FROM h
), c AS (
  INSERT INTO cases (tenant_id, township_id, village_id, household_id, kind, channel, categories, status, plugin_key,
                     consent_classification, applied_on, accepted_on, decided_on, benefit_start, round, due_provisional,
                     extended, paused_workdays, priority, version, created_at, monthly_amount, covered_count)
  SELECT :tenant, :town, :village, hn.id, 'application', 'window', '["dibao"]', 'approved', 'baseline', false,
         :decided - 20, :decided - 19, :decided, date_trunc('month', :decided)::date + interval '1 month', 1, false,
         false, 0, false, 1, now(), 1000, 4 FROM hn RETURNING id
)
INSERT INTO household_members (tenant_id, household_id, name, id_number, id_number_bidx, birth_date, sex, relation,
                               coresident, disability_grade, health, work_ability, working)
SELECT :tenant, hn.id, '某', :enc,
       :key || '.' || encode(sha256(convert_to('person:' || (CASE
           WHEN j = 1 AND hn.g % 200 = 0 THEN :next_base + hn.g * 4 + 2      -- the head is a spouse next door
           WHEN j = 4 AND hn.g % 1000 = 1 THEN :base + (hn.g + 1) * 4 + 4   -- two households here
           ELSE :base + hn.g * 4 + j END)::text, 'UTF8')), 'hex'),
       DATE '1970-01-01', 'male', CASE WHEN j = 1 THEN 'head' ELSE 'other' END, true, 0, 'healthy', 'full', false
  FROM hn CROSS JOIN generate_series(1, 4) AS j
""")

BARE = text("""
SELECT count(*) FROM (
  SELECT a.case_id, a.person_bidx, b.county_id, b.case_id, b.category
    FROM benefit_registry a JOIN benefit_registry b ON b.person_bidx = a.person_bidx
     AND (b.county_id <> a.county_id OR b.household_id <> a.household_id)
   GROUP BY 1, 2, 3, 4, 5) AS pairs""")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--counties", type=int, default=100)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="reuse an already seeded jiuzhu_bench_dup")
    args = parser.parse_args()
    from flask_migrate import upgrade

    from jiuzhu import create_app
    from jiuzhu.crypto.types import keyring
    from jiuzhu.duplicates.models import DuplicateFinding
    from jiuzhu.extensions import db
    from jiuzhu.reminders.jobs import sweep_tenant_duplicates
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.models import Tenant
    from jiuzhu.tenancy.rls import rls_key, signed_setting

    owner = bench_database("jiuzhu_bench_dup", keep=args.keep)
    app = create_app()
    households = max(1, args.members // args.counties // 4)
    with app.app_context():
        upgrade()
        key_id = keyring().blind_index.active_id
        if not args.keep:
            t0 = time.perf_counter()
            places = [bench_county(app, f"d{i:03d}", f"县{i:03d}") for i in range(args.counties)]
            stride = households * 4 + 8
            for i, (tid, town, village) in enumerate(places):
                with owner.begin() as conn:
                    conn.execute(SEED, {"tenant": tid, "town": town, "village": village, "n": households,
                                        "decided": DECIDED, "key": key_id, "base": i * stride,
                                        "next_base": ((i + 1) % args.counties) * stride,
                                        "enc": encrypted("household_members.id_number", "110101197001010011", tid)})
            with owner.begin() as conn:
                conn.execute(text("ANALYZE"))
            print(f"seeded {args.counties} counties × {households:,} households × 4 members "
                  f"({args.counties * households * 4:,} members; registry kept by the triggers) "
                  f"in {time.perf_counter() - t0:.1f} s")
        tenant_ids = list(db.session.scalars(select(Tenant.id).order_by(Tenant.id)))
        db.session.remove()
    with owner.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM benefit_registry")).scalar()
        t0 = time.perf_counter()
        pairs = conn.execute(BARE).scalar()
        bare_s = time.perf_counter() - t0
    print(f"registry rows: {rows:,}; bare self-join: {pairs:,} pairs in {bare_s * 1000:.0f} ms")

    key = rls_key("bench")
    app_engine = create_engine(os.environ["JIUZHU_DATABASE_URL"])
    with app_engine.connect() as conn:
        t0 = time.perf_counter()
        with conn.begin():  # the nightly pass, as the cron job runs it (the platform's scope)
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                         {"t": signed_setting(key, None, platform=True)})
            kept = conn.execute(text("SELECT jiuzhu_registry_refresh()")).scalar()
        refresh_s = time.perf_counter() - t0
        found = 0
        t0 = time.perf_counter()
        for tid in tenant_ids:
            with conn.begin():
                conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed_setting(key, tid)})
                found += conn.execute(text("SELECT count(*) FROM jiuzhu_registry_duplicates()")).scalar()
        slices_s = time.perf_counter() - t0
    function_s = refresh_s + slices_s
    print(f"sweep as the application role: the pass over the registry {refresh_s * 1000:.0f} ms ({kept:,} pairs), "
          f"then {len(tenant_ids)} counties' slices {slices_s * 1000:.0f} ms ({found:,} rows)")

    t0 = time.perf_counter()
    new = 0
    with app.app_context():
        for tid in tenant_ids:
            new += sweep_tenant_duplicates(tid, today="2026-11-20")["new"]
        with use_scope(Scope(tenant_ids[0])):
            assert db.session.scalars(select(DuplicateFinding)).first() is not None
        db.session.remove()
    job_s = refresh_s + time.perf_counter() - t0
    print(f"nightly jobs end to end (the pass, then {len(tenant_ids)} county jobs writing findings): "
          f"{new:,} new findings in {job_s * 1000:.0f} ms")

    # the intake check: one household's four members, as the case page asks
    times = []
    with app_engine.connect() as conn:
        for n in range(args.repeat):
            i = (n * 37) % len(tenant_ids)
            g = 1 + (n * 7919) % households
            base = i * (households * 4 + 8)
            bidx = [f"{key_id}.{hashlib.sha256(f'person:{base + g * 4 + j}'.encode()).hexdigest()}"
                    for j in range(1, 5)]
            with conn.begin():
                conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                             {"t": signed_setting(key, tenant_ids[i])})
                t0 = time.perf_counter()
                got = conn.execute(text("SELECT * FROM jiuzhu_registry_lookup(CAST(:b AS text[]))"),
                                   {"b": bidx}).all()
                times.append((time.perf_counter() - t0) * 1000)
                assert got, "the household's own rows"
    intake_ms = statistics.median(times)
    app_engine.dispose()
    print(f"intake check per household (4 members): median {intake_ms:.2f} ms over {len(times)} households")
    size = f"{args.counties} counties, {rows:,} registry rows"
    print(f"RESULT\tduplicate sweep (function, all counties)\t{size}\t{function_s * 1000:.0f} ms\t"
          f"bare self-join {bare_s * 1000:.0f} ms: {function_s / bare_s:.1f}×")
    print(f"RESULT\tduplicate sweep (nightly jobs end to end)\t{size}\t{job_s * 1000:.0f} ms\t"
          f"bare self-join {bare_s * 1000:.0f} ms: {job_s / bare_s:.1f}×")
    print(f"RESULT\tintake duplicate check per household\t{size}\t{intake_ms:.2f} ms\ttarget: a few ms")


if __name__ == "__main__":
    main()
