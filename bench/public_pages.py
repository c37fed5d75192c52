"""The public publicity pages and the publicity sheet PDF of a county with many approved households.

    python bench/public_pages.py [--households 20000] [--keep] [--repeat 10]

Needs PostgreSQL (JIUZHU_BENCH_PG, default postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres)
and Debian's Noto CJK fonts. It (re)creates ``jiuzhu_bench_public``, migrates, creates one county under
the jingdezhen plugin (approved 低保 households stay on the list until benefits stop) with 20 townships
of 10 villages each, and seeds with SQL ``--households`` approved households (an adult and a minor
each) spread over the villages. The first village of the first township is left empty.

It prints the median server time, through the Flask test client with nobody logged in, of: a village's
page, an empty village's page, a township's page, and a village's sheet as PDF; and the bare SQL that
finds a village's households, for scale.
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
    args = parser.parse_args()
    import os

    from flask_migrate import upgrade

    from jiuzhu import create_app
    from jiuzhu.crypto.types import index_candidates
    from jiuzhu.extensions import db
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.services import add_org_unit, county_root, create_tenant

    # no Redis: the sheet is then rendered in the request — what the worker's job costs (with Redis
    # a reader gets it from the cache, rendered once per version of the list)
    os.environ["JIUZHU_REDIS_URL"] = "redis://127.0.0.1:9/0"
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
        in_busy = conn.execute(text("SELECT count(*) FROM households WHERE village_id = :v"), {"v": busy}).scalar()
        sql = median_ms(lambda: conn.execute(text(
            "SELECT c.id FROM cases c JOIN households h ON h.id = c.household_id "
            "WHERE h.village_id = :v AND c.status = 'approved'"), {"v": busy}).all(), args.repeat)
    client = app.test_client()
    shown = client.get(f"/public/big/{busy}/").get_data(as_text=True).count('data-testid="row"')
    assert shown == in_busy, (shown, in_busy)  # every household of the village is on its page
    village = median_ms(lambda: client.get(f"/public/big/{busy}/"), args.repeat)
    nobody = median_ms(lambda: client.get(f"/public/big/{empty}/"), args.repeat)
    township = median_ms(lambda: client.get(f"/public/big/{town}/"), max(3, args.repeat // 3))
    sheet = median_ms(lambda: client.get(f"/public/big/{busy}/sheet.pdf"), max(3, args.repeat // 3))
    size = len(client.get(f"/public/big/{busy}/sheet.pdf").data)
    print(f"a village's page ({in_busy:,} households):   server {village:8.1f} ms   bare SQL {sql:6.1f} ms")
    print(f"an empty village's page:                server {nobody:8.1f} ms")
    print(f"a township's page, first page:          server {township:8.1f} ms")
    print(f"a village's sheet as PDF (the job):     server {sheet:8.1f} ms   {size / 1024:,.0f} KiB")
    print(f"village page / its bare SQL: {village / sql:.1f}×")
    households = f"{args.households:,} households"
    print(f"RESULT\tpublic village page\t{households}\t{village:.1f} ms\t"
          f"{in_busy:,} households; {village / sql:.1f}× its bare SQL ({sql:.1f} ms)")
    print(f"RESULT\tpublic township page\t{households}\t{township:.1f} ms\tfirst page (the township and 4 villages)")
    print(f"RESULT\tpublic sheet PDF, rendering\t{households}\t{sheet:.1f} ms\t{in_busy:,} rows; "
          f"an RQ job once per version of the list, then served from Redis")
    owner.dispose()


if __name__ == "__main__":
    main()
