"""The public publicity pages and the publicity sheet PDF of a county with many approved households.

    python bench/public_pages.py [--households 20000] [--keep] [--repeat 10]

Needs PostgreSQL (JIUZHU_BENCH_PG, default postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres)
and Debian's Noto CJK fonts. It (re)creates ``jiuzhu_bench_public``, migrates, creates one county under
the jingdezhen plugin (approved 低保 households stay on the list until benefits stop) with 20 townships
of 10 villages each, and seeds with SQL ``--households`` approved households (an adult and a minor
each) spread over the villages. The first village of the first township is left empty.

It starts a redis-server of its own (the pages are kept there) and prints the median server time,
through the Flask test client with nobody logged in, of: a village's page rendered (a cache miss: the
county's publicity generation is moved before each request, as a write of the county would) and
served from the cache, each against the bare SQL that finds the village's households, with the
statements each request sends; the county's lookup alone (what every request, cached or not, does
first: an unknown code's 404); an empty village's page; a township's page, rendered and cached; and a
village's sheet as PDF as the worker's job renders it (Redis out of reach for that one request).

``--profile`` prints where 50 renderings of the village page (cache misses) spend their time.
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import text
from support import bench_database, encrypted, median_ms

TOWNSHIPS, VILLAGES = 20, 10
#: a valid number (GB 11643) standing in for every member's
PERSON = "11010519491231002X"

SEED = text("""
WITH h AS (
  INSERT INTO households (tenant_id, township_id, village_id, address, tags, created_at)
  SELECT :tenant, (:towns)[1 + (g % (:nvillages - 1) + 1) / :per_town], (:villages)[1 + g % (:nvillages - 1) + 1],
         'h' || g, '[]', now()
  FROM generate_series(CAST(:start AS int), CAST(:stop AS int)) g
  RETURNING id, township_id, village_id
), m AS (
  INSERT INTO household_members (tenant_id, household_id, name, id_number, id_number_bidx, birth_date, sex, relation,
                                 coresident, disability_grade, health, work_ability, working)
  SELECT :tenant, h.id, n.name, :id_number, :id_number_bidx, n.born, 'male', n.rel, true, 0,
         'serious', 'partial', false
  FROM h, (VALUES (0, '王大山', date '1955-05-01', 'head'), (1, '王小宝', date '2015-01-01', 'grandchild'))
       AS n(k, name, born, rel)
)
INSERT INTO cases (tenant_id, township_id, village_id, household_id, kind, channel, categories, status, plugin_key,
                   consent_classification, applied_on, accepted_on, decided_on, round, due_provisional, extended,
                   paused_workdays, priority, version, created_at, limit_workdays, monthly_amount, benefit_start)
SELECT :tenant, h.township_id, h.village_id, h.id, 'application', 'window', '["dibao"]'::json, 'approved',
       'jingdezhen', false, current_date - 60, current_date - 60, current_date - 40, 1, false, false, 0, false, 1,
       now(), 18, 900, date_trunc('month', current_date - 40)::date
FROM h
""")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    import shutil
    import tempfile
    from pathlib import Path

    from tests.services import RedisServer

    where = Path(tempfile.mkdtemp(prefix="jiuzhu-bench-redis-"))
    redis = RedisServer(where).start()
    try:
        run(args, redis.url)
    finally:
        redis.stop()
        shutil.rmtree(where, ignore_errors=True)


def run(args, redis_url: str) -> None:
    import os

    from flask_migrate import upgrade

    from jiuzhu import create_app
    from jiuzhu.crypto.types import index_candidates
    from jiuzhu.disclosure.generation import generations
    from jiuzhu.extensions import db
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.services import add_org_unit, county_root, create_tenant

    os.environ["JIUZHU_REDIS_URL"] = redis_url
    owner = bench_database("jiuzhu_bench_public", keep=args.keep, secure_cookies=False)
    app = create_app()
    with app.app_context():
        if not args.keep:
            upgrade()
            t0 = time.perf_counter()
            with use_scope(Scope.platform()):
                tenant = create_tenant(db.session, app.extensions["jiuzhu.plugins"], code="big", name="大县",
                                       plugin_key="jingdezhen")
                db.session.commit()
                tid = tenant.id
            with use_scope(Scope(tid)):
                root = county_root(db.session)
                towns, villages = [], []
                for i in range(TOWNSHIPS):
                    town = add_org_unit(db.session, parent=root, name=f"第{i + 1:02d}镇")
                    towns.append(town)
                    villages += [add_org_unit(db.session, parent=town, name=f"第{i + 1:02d}镇第{j + 1:02d}村")
                                 for j in range(VILLAGES)]
                db.session.commit()
                town_ids, village_ids = [t.id for t in towns], [v.id for v in villages]
            batch = 10_000
            for start in range(1, args.households + 1, batch):
                with owner.begin() as conn:
                    conn.execute(SEED, {"tenant": tid, "towns": town_ids, "villages": village_ids,
                                        "nvillages": len(village_ids), "per_town": VILLAGES,
                                        "start": start, "stop": min(start + batch - 1, args.households),
                                        # the pages never show ID numbers: one envelope stands in for all
                                        "id_number": encrypted("household_members.id_number", PERSON, tid),
                                        "id_number_bidx": index_candidates("id_number", PERSON)[0]})
            with owner.begin() as conn:
                conn.execute(text("ANALYZE"))
            print(f"seeded {args.households:,} approved households in {len(village_ids) - 1} villages "
                  f"in {time.perf_counter() - t0:.1f} s")
    with owner.connect() as conn:
        empty, busy = conn.execute(text("SELECT id FROM org_units WHERE name IN ('第01镇第01村', '第01镇第02村') "
                                        "ORDER BY name")).scalars().all()
        town = conn.execute(text("SELECT id FROM org_units WHERE name = '第02镇'")).scalar()
        tid = conn.execute(text("SELECT id FROM tenants WHERE code = 'big'")).scalar()
        in_busy = conn.execute(text("SELECT count(*) FROM households WHERE village_id = :v"), {"v": busy}).scalar()
        sql = median_ms(lambda: conn.execute(text(
            "SELECT c.id FROM cases c JOIN households h ON h.id = c.household_id "
            "WHERE h.village_id = :v AND c.status = 'approved'"), {"v": busy}).all(), args.repeat)
    client = app.test_client()
    gens = generations(app)
    village_url, town_url = f"/public/big/{busy}/", f"/public/big/{town}/"
    shown = client.get(village_url).get_data(as_text=True).count('data-testid="row"')
    assert shown == in_busy, (shown, in_busy)  # every household of the village is on its page
    if args.profile:
        return profile(client, village_url, lambda: gens.move({str(tid)}))

    def cold(url):  # what the first reader after a write of the county waits for
        def once():
            gens.move({str(tid)})
            t0 = time.perf_counter()
            client.get(url)
            return (time.perf_counter() - t0) * 1000
        return once

    def warm(url):
        def once():
            client.get(url)  # kept (again) if a move came in between
            t0 = time.perf_counter()
            client.get(url)
            return (time.perf_counter() - t0) * 1000
        return once

    village_cold, village_warm = median_of(cold(village_url), args.repeat), median_of(warm(village_url), args.repeat)
    stmts_cold, stmts_warm = statements(app, client, village_url, cold=lambda: gens.move({str(tid)}))
    nobody = median_of(cold(f"/public/big/{empty}/"), args.repeat)
    # the floor of a page from the cache: a code that is no county is looked up (the same read), then a 404 page
    floor = median_ms(lambda: client.get("/public/nowhere/"), args.repeat)
    few = max(3, args.repeat // 3)
    township_cold, township_warm = median_of(cold(town_url), few), median_of(warm(town_url), few)
    # the sheet as the worker renders it: with Redis out of reach the request renders it itself
    app.config["JIUZHU_REDIS_URL"] = "redis://127.0.0.1:9/0"
    sheet = median_ms(lambda: client.get(f"/public/big/{busy}/sheet.pdf"), few)
    size = len(client.get(f"/public/big/{busy}/sheet.pdf").data)
    app.config["JIUZHU_REDIS_URL"] = redis_url
    print(f"a village's page ({in_busy:,} households), rendered:  server {village_cold:8.1f} ms  "
          f"{village_cold / sql:6.1f}× bare SQL  {stmts_cold} statements")
    print(f"the same page from the cache:               server {village_warm:8.1f} ms  "
          f"{village_warm / sql:6.1f}× bare SQL  {stmts_warm} statements")
    print(f"the bare SQL of the village's households:   {sql:8.2f} ms")
    print(f"the county's lookup alone (an unknown code's 404): {floor:6.1f} ms  {floor / sql:6.1f}× bare SQL")
    print(f"an empty village's page, rendered:           server {nobody:8.1f} ms")
    print(f"a township's page, first page, rendered:     server {township_cold:8.1f} ms   cached {township_warm:.1f} ms")
    print(f"a village's sheet as PDF (the job):          server {sheet:8.1f} ms   {size / 1024:,.0f} KiB")
    households = f"{args.households:,} households"
    print(f"RESULT\tpublic village page, cached\t{households}\t{village_warm:.1f} ms\t"
          f"{in_busy:,} households; {village_warm / sql:.1f}× its bare SQL ({sql:.2f} ms); "
          f"{stmts_warm} statements; the county's lookup alone {floor:.1f} ms")
    print(f"RESULT\tpublic village page, rendered\t{households}\t{village_cold:.1f} ms\t"
          f"the first request after a write of the county; {village_cold / sql:.1f}× its bare SQL; "
          f"{stmts_cold} statements")
    print(f"RESULT\tpublic township page\t{households}\t{township_cold:.1f} ms\tfirst page (the township and 4 "
          f"villages), rendered; {township_warm:.1f} ms from the cache")
    print(f"RESULT\tpublic sheet PDF, rendering\t{households}\t{sheet:.1f} ms\t{in_busy:,} rows; "
          f"an RQ job once per version of the list, then served from Redis")
    owner.dispose()


def median_of(once, repeat: int) -> float:
    """The median of what ``once()`` measured (in ms), after one warm-up call."""
    import statistics

    once()
    return statistics.median(once() for _ in range(repeat))


def statements(app, client, url: str, cold) -> tuple[int, int]:
    """The statements one request of ``url`` sends, rendered (after ``cold()``) and from the cache."""
    from sqlalchemy import event

    from jiuzhu.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(*args):
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        counts = []
        for before in (cold, lambda: None):
            before()
            seen.clear()
            client.get(url)
            counts.append(len(seen))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return counts[0], counts[1]


def profile(client, url: str, cold) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    for _ in range(50):
        cold()
        profiler.enable()
        client.get(url)
        profiler.disable()
    print("where 50 renderings of the village page spend their time (cumulative, then own time):")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
