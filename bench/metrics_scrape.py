"""/metrics at scale: what a Prometheus scrape costs with many counties, each read in its own scope.

    .venv/bin/python bench/metrics_scrape.py --counties 100 --cases 10000   # 1,000,000 cases
    .venv/bin/python bench/metrics_scrape.py --keep                          # reuse the seeded database

Seeds COUNTIES counties with CASES cases each (a fifth of them with an open step, some overdue) and a
due reminder for every tenth case, then times the whole scrape (Redis and the per-county gauges)
against the bare per-county SQL it runs.
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import text
from support import bench_database, median_ms
from worklist_dashboard import SEED, TOWNSHIPS

TOKEN = "bench-metrics-token-0123456789"

REMINDERS = text("""
INSERT INTO reminders (tenant_id, township_id, village_id, case_id, subject, subject_id, kind, "offset", due_on,
                       send_on, level, escalate, title, status, created_at, recipients)
SELECT c.tenant_id, c.township_id, NULL, c.id, 'case', c.id, 'due', 0, current_date - (c.id % 3),
       current_date - (c.id % 3), 'township', false, 'bench', 'pending', now(), 0
FROM cases c WHERE c.tenant_id = :t AND c.id % 10 = 0
""")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--counties", type=int, default=100)
    parser.add_argument("--cases", type=int, default=10_000, help="cases per county")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    from flask_migrate import upgrade

    from jiuzhu import create_app
    from jiuzhu.extensions import db
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.services import add_org_unit, county_root, create_tenant

    owner = bench_database("jiuzhu_bench_metrics", keep=args.keep)
    app = create_app({"JIUZHU_METRICS_TOKEN": TOKEN})
    with app.app_context():
        if not args.keep:
            upgrade()
            t0 = time.perf_counter()
            for i in range(args.counties):
                with use_scope(Scope.platform()):
                    tenant = create_tenant(db.session, app.extensions["jiuzhu.plugins"], code=f"c{i:03d}",
                                           name=f"第{i}县", plugin_key="baseline")
                    db.session.commit()
                    tid = tenant.id
                with use_scope(Scope(tid)):
                    root = county_root(db.session)
                    towns = [add_org_unit(db.session, parent=root, name=f"第{j + 1:02d}镇") for j in range(TOWNSHIPS)]
                    db.session.commit()
                    town_ids = [t.id for t in towns]
                with owner.begin() as conn:
                    conn.execute(SEED, {"tenant": tid, "towns": town_ids, "ntowns": TOWNSHIPS, "n": args.cases})
                    conn.execute(REMINDERS, {"t": tid})
                db.session.remove()
            with owner.begin() as conn:
                conn.execute(text("ANALYZE"))
            print(f"seeded {args.counties} counties × {args.cases:,} cases in {time.perf_counter() - t0:.1f} s")
    with owner.connect() as conn:
        steps, open_steps, reminders = conn.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE status = 'open'), "
            "(SELECT count(*) FROM reminders WHERE status = 'pending') FROM case_steps")).one()
        tenant_ids = conn.execute(text("SELECT id FROM tenants WHERE active")).scalars().all()
    print(f"counties: {len(tenant_ids)}; steps: {steps:,}, open: {open_steps:,}; pending reminders: {reminders:,}")

    client = app.test_client()

    def scrape():
        resp = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert resp.status_code == 200 and b"jiuzhu_open_steps" in resp.data

    bare = [text("SELECT count(*), count(*) FILTER (WHERE due_on < current_date) FROM case_steps "
                 "WHERE tenant_id = :t AND status = 'open'"),
            text("SELECT min(send_on) FROM reminders WHERE tenant_id = :t AND status = 'pending' "
                 "AND send_on <= current_date")]

    def bare_sql():
        with owner.connect() as conn:
            for tid in tenant_ids:
                for statement in bare:
                    conn.execute(statement, {"t": tid}).all()

    print(f"/metrics scrape: {median_ms(scrape, args.repeat):.0f} ms (median of {args.repeat})")
    print(f"the same per-county SQL as the owner, one connection: {median_ms(bare_sql, args.repeat):.0f} ms")


if __name__ == "__main__":
    main()
