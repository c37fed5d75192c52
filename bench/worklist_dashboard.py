"""The township worklist and the county dashboard at 1,000,000 cases.

    python bench/worklist_dashboard.py [--cases 1000000] [--keep] [--repeat 20] [--warm 30]

Needs PostgreSQL (JIUZHU_BENCH_PG, default postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres).
It (re)creates ``jiuzhu_bench_screens``, migrates, creates one county with 20 townships (staff in
each), and seeds with SQL ``--cases`` cases spread over the townships and the last two years, each
with an open or closed step (about a fifth still open), so the county holds a million cases and a
township its fifty thousand.

``--statements PAGE`` prints the statements one request of the page sends; ``--profile PAGE`` where
its time goes.
It prints the median server time of, each timed through the Flask test client as a logged-in user,
with the SQL statements each request sends:
* the worklist (我的待办) of one township's staff, first page, against the bare SQL query behind it
  and against a plain Flask-Admin ``ModelView`` list of the same steps table (the default screen
  one would get without the worklist), as a county user;
* the case list (案件查询), also searched by part of a name (one many members have, one none has) and
  by an ID number, and a case page, as the township's staff (each household has two members);
* the county dashboard, against the bare SQL aggregates it replaced (counting the cases).
``--keep`` reuses the seeded database (and migrates it to the head first). Each page is requested
``--warm`` times before it is timed, as on a server that has served a while (psycopg has prepared
its statements); the case page is also timed on fresh connections, before any of that.
The last lines (``RESULT``) are what ``bench/run-all`` tabulates.
"""

from __future__ import annotations

import argparse
import re
import time

from sqlalchemy import event, text
from support import bench_database, encrypted, median_ms

PASSWORD = "Bench-pass-1"
TOWNSHIPS = 20

SEED = text("""
WITH h AS (
  INSERT INTO households (tenant_id, township_id, village_id, address, tags, created_at)
  SELECT :tenant, (:towns)[1 + g % :ntowns], NULL, 'h' || g, '[]', now() FROM generate_series(1, :n) g
  RETURNING id, township_id
), c AS (
  INSERT INTO cases (tenant_id, township_id, village_id, household_id, kind, channel, categories, status, plugin_key,
                     consent_classification, applied_on, accepted_on, decided_on, round, due_on, due_provisional,
                     extended, paused_workdays, priority, version, created_at, limit_workdays, monthly_amount)
  SELECT :tenant, h.township_id, NULL, h.id, 'application', 'window',
         (CASE WHEN h.id % 3 = 0 THEN '["tekun"]' ELSE '["dibao"]' END)::json,
         CASE WHEN h.id % 5 = 0 THEN 'in_review' WHEN h.id % 7 = 0 THEN 'denied' ELSE 'approved' END,
         'baseline', false, current_date - (h.id % 700), current_date - (h.id % 700),
         CASE WHEN h.id % 5 = 0 THEN NULL ELSE current_date - (h.id % 700) + 20 END,
         1, current_date - (h.id % 700) + 42, false, false, 0, false, 1, now(), 30, 600 + h.id % 400
  FROM h RETURNING id, township_id, status, applied_on
)
INSERT INTO case_steps (tenant_id, case_id, township_id, village_id, key, round, level, status, opened_on, opened_at,
                        due_on, due_provisional, extended, data, version)
SELECT :tenant, c.id, c.township_id, NULL, 'home_investigation', 1, 'township',
       CASE WHEN c.status = 'in_review' THEN 'open' ELSE 'done' END, c.applied_on, now(),
       current_date + (c.id % 40) - 10, false, false, :no_data, 1
FROM c
""")


#: two members a household, the head and a spouse, with common names: after the cases, and after
#: ANALYZE (the members' triggers keep the benefit registry and, planned on empty tables, read every
#: case for each member)
MEMBERS = text("""
INSERT INTO household_members (tenant_id, household_id, name, id_number, id_number_bidx, birth_date, sex, relation,
                               coresident, disability_grade, health, work_ability, working)
SELECT :tenant, h.id,
       CASE WHEN r = 0 AND h.id % 2000 = 0 THEN :rare ELSE substr(:surnames, 1 + (h.id * 7 + r) % char_length(:surnames), 1) END
         || substr(:given, 1 + (h.id * 13 + r * 5) % char_length(:given), 1)
         || CASE WHEN (h.id + r) % 2 = 0 THEN substr(:given, 1 + (h.id * 3 + r) % char_length(:given), 1) ELSE '' END,
       :id_number, md5(h.id || '-' || r), date '1960-01-01' + (h.id % 15000),
       CASE WHEN r = 0 THEN 'male' ELSE 'female' END, CASE WHEN r = 0 THEN 'head' ELSE 'spouse' END,
       true, 0, 'healthy', 'full', false
FROM households AS h CROSS JOIN generate_series(0, 1) AS r
WHERE h.tenant_id = :tenant
""")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红建国志文斌海燕"
SEEDED_ID = "340000196001011234"  # one envelope for every member (the blind indexes are placeholders)
#: a surname one head of household in 2,000 has
RARE_SURNAME = "嵇"
#: 案件查询 searched by part of a name many members have, by one no member has, and by an ID number
SEARCHES = {"common name": "王伟", "rare name": "建国华", "surname": "王", "rare surname": RARE_SURNAME,
            "character nobody has": "禤", "ID number": "340000199001011235"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warm", type=int, default=30,
                        help="requests of each page before the timed ones (the statements get prepared)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", metavar="PAGE", choices=("worklist", "cases", "case", "dashboard"),
                        help="print where the server time of PAGE goes (cProfile, 50 requests) and stop")
    parser.add_argument("--statements", metavar="PAGE", choices=("worklist", "filtered", "cases", "case", "dashboard"),
                        help="print the SQL statements one request of PAGE sends and stop")
    args = parser.parse_args()
    from flask_admin.contrib.sqla import ModelView
    from flask_migrate import upgrade

    from jiuzhu import create_app
    from jiuzhu.admin.base import RoleAccess
    from jiuzhu.auth.roles import Role
    from jiuzhu.auth.services import create_user
    from jiuzhu.extensions import db
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.services import add_org_unit, county_root, create_tenant
    from jiuzhu.workflow.models import Step

    owner = bench_database("jiuzhu_bench_screens", keep=args.keep, secure_cookies=False)
    app = create_app()

    class PlainStepList(RoleAccess, ModelView):
        """What Flask-Admin gives for the steps table with no worklist of ours."""

        roles = frozenset({Role.county_staff, Role.township_staff})
        page_size = 50

    app.extensions["admin"][0].add_view(PlainStepList(Step, db, name="plain", endpoint="plain_steps"))
    with app.app_context():
        upgrade()
        if not args.keep:
            t0 = time.perf_counter()
            with use_scope(Scope.platform()):
                tenant = create_tenant(db.session, app.extensions["jiuzhu.plugins"], code="big", name="大县",
                                       plugin_key="baseline")
                db.session.commit()
                tid = tenant.id
            with use_scope(Scope(tid)):
                root = county_root(db.session)
                towns = [add_org_unit(db.session, parent=root, name=f"第{i + 1:02d}镇") for i in range(TOWNSHIPS)]
                create_user(db.session, username="big-county", full_name="县", role=Role.county_staff,
                            password=PASSWORD, org_unit=root)
                create_user(db.session, username="big-t1", full_name="镇", role=Role.township_staff,
                            password=PASSWORD, org_unit=towns[0])
                db.session.commit()
                town_ids = [t.id for t in towns]
            batch = 100_000
            for start in range(0, args.cases, batch):
                with owner.begin() as conn:
                    conn.execute(SEED, {"tenant": tid, "towns": town_ids, "ntowns": TOWNSHIPS,
                                        "n": min(batch, args.cases - start),
                                        "no_data": encrypted("case_steps.data", {}, tid)})
            with owner.begin() as conn:  # the members' triggers (the benefit registry) plan on these figures
                conn.execute(text("ANALYZE"))
            with owner.begin() as conn:
                conn.execute(MEMBERS, {"tenant": tid, "surnames": SURNAMES, "rare": RARE_SURNAME, "given": GIVEN,
                                       "id_number": encrypted("household_members.id_number", SEEDED_ID, tid)})
            with owner.begin() as conn:
                conn.execute(text("ANALYZE"))
            print(f"seeded {args.cases:,} cases in {TOWNSHIPS} townships in {time.perf_counter() - t0:.1f} s")
        with owner.connect() as conn:
            tid = conn.execute(text("SELECT id FROM tenants WHERE code = 'big'")).scalar()
            town1 = conn.execute(text("SELECT org_unit_id FROM users WHERE username = 'big-t1'")).scalar()
            counts = conn.execute(text("SELECT count(*), count(*) FILTER (WHERE status = 'open') FROM case_steps"))\
                .one()
        print(f"cases: {args.cases:,}; steps: {counts[0]:,}, open: {counts[1]:,}")

    def client_for(username):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        return client

    staff, county = client_for("big-t1"), client_for("big-county")
    assert staff.get("/admin/casework/").status_code == 200
    with owner.connect() as conn:
        case_id = conn.execute(text("SELECT id FROM cases WHERE township_id = :t ORDER BY id DESC LIMIT 1"),
                               {"t": town1}).scalar()
    seen = []
    pages = {"worklist": (staff, "/admin/casework/"), "filtered": (staff, "/admin/casework/?category=tekun"), "cases": (staff, "/admin/casework/cases"),
             "case": (staff, f"/admin/casework/{case_id}"), "dashboard": (county, "/admin/dashboard/")}
    with app.app_context():
        from jiuzhu.extensions import db as _db

        engine = _db.engine
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, params, *a: seen.append((statement, params)))
    in_db = [0.0]  # seconds spent inside the driver's execute (round trip and the server's work)

    def started(conn, *a):
        conn.info["bench_t0"] = time.perf_counter()

    took: list[float] = []  # each statement's time, in order

    def ended(conn, *a):
        took.append(time.perf_counter() - conn.info.pop("bench_t0"))
        in_db[0] += took[-1]

    event.listen(engine, "before_cursor_execute", started)
    event.listen(engine, "after_cursor_execute", ended)
    if args.statements:  # each statement with its median time over --repeat requests (round trip included)
        client, url = pages[args.statements]
        client.get(url)
        each: list[list[float]] = []
        for _ in range(args.repeat):
            seen.clear()
            took.clear()
            assert client.get(url).status_code == 200, url
            each.append(list(took))
        for i, (statement, params) in enumerate(seen, 1):
            ms = sorted(run[i - 1] for run in each if len(run) >= i)
            print(f"-- {i}  (median {ms[len(ms) // 2] * 1000:.2f} ms)\n{' '.join(statement.split())}\n   {params!r}")
        return

    def statements(client, url):
        seen.clear()
        assert client.get(url).status_code == 200, url
        return len(seen)

    def waited(client, url):
        """Median time one request of the page spends waiting for its statements (the database's
        share of its server time: round trips, planning, execution)."""
        times = []
        for _ in range(args.repeat):
            in_db[0] = 0.0
            client.get(url)
            times.append(in_db[0] * 1000)
        return sorted(times)[len(times) // 2]

    bare_worklist = text("""
        SELECT s.id, s.due_on, c.id FROM case_steps s JOIN cases c ON c.tenant_id = s.tenant_id AND c.id = s.case_id
        WHERE s.tenant_id = :t AND s.township_id = :town AND s.status = 'open' AND s.level = 'township'
        ORDER BY s.due_on NULLS LAST, s.id LIMIT 51""")
    bare_dashboard = [text("""SELECT township_id, count(*) FILTER (WHERE due_on < current_date), count(*)
                              FROM case_steps WHERE tenant_id = :t AND status = 'open' GROUP BY township_id"""),
                      text("""SELECT to_char(applied_on, 'YYYY-MM'), categories ->> 0, count(*) FROM cases
                              WHERE tenant_id = :t AND applied_on >= current_date - 365 GROUP BY 1, 2"""),
                      text("""SELECT township_id, count(*) FILTER (WHERE status = 'approved'),
                                     count(*) FILTER (WHERE status = 'denied')
                              FROM cases WHERE tenant_id = :t AND decided_on >= date_trunc('year', current_date)
                              GROUP BY township_id"""),
                      text("SELECT status, count(*) FROM cases WHERE tenant_id = :t GROUP BY status")]
    with owner.connect() as conn:
        sql_worklist = median_ms(lambda: conn.execute(bare_worklist, {"t": tid, "town": town1}).all(), args.repeat)
        sql_dashboard = median_ms(lambda: [conn.execute(q, {"t": tid}).all() for q in bare_dashboard], args.repeat)
    if args.profile:
        profile(args.profile, pages[args.profile])
        return
    def shown(client, url):  # a page that failed is not timed: its error would pass for speed
        assert (status := client.get(url).status_code) == 200, (url, status)

    case_url = f"/admin/casework/{case_id}"
    # the case page on fresh connections: nothing prepared yet, each statement planned at each request
    with app.app_context():
        _db.engine.dispose()
    cold = []
    for _ in range(5):
        t0 = time.perf_counter()
        shown(staff, case_url)
        cold.append((time.perf_counter() - t0) * 1000)
    case_cold = sorted(cold)[len(cold) // 2]
    # then as a server that has served a while: psycopg prepares a statement on a connection once it
    # ran there five times, and PostgreSQL keeps a generic plan after five more when it is no worse
    for client, url in pages.values():
        for _ in range(args.warm):
            shown(client, url)
    worklist = median_ms(lambda: shown(staff, "/admin/casework/"), args.repeat)
    filtered = median_ms(lambda: shown(staff, "/admin/casework/?category=tekun"), args.repeat)
    dashboard = median_ms(lambda: shown(county, "/admin/dashboard/"), args.repeat)
    plain = median_ms(lambda: shown(county, "/admin/plain_steps/"), max(3, args.repeat // 4))
    cases = median_ms(lambda: shown(staff, "/admin/casework/cases"), args.repeat)
    case = median_ms(lambda: shown(staff, case_url), args.repeat)
    from urllib.parse import quote

    # what → (words typed, milliseconds); the county's staff search every township: a name nobody has
    # was the slowest (every case read)
    searches = [(what, q, staff) for what, q in SEARCHES.items()] + [
        (f"{what}, whole county", SEARCHES[what], county)
        for what in ("rare name", "surname", "rare surname", "character nobody has")]
    searched = {what: (q, median_ms(lambda q=q, who=who: shown(who, f"/admin/casework/cases?q={quote(q)}"),
                                    max(3, args.repeat // 4)))
                for what, q, who in searches}
    n = {name: statements(client, url) for name, client, url in (
        ("worklist", staff, "/admin/casework/"), ("dashboard", county, "/admin/dashboard/"),
        ("cases", staff, "/admin/casework/cases"), ("case", staff, f"/admin/casework/{case_id}"),
        ("plain", county, "/admin/plain_steps/"))}
    db_ms = {name: waited(client, url) for name, client, url in (
        ("worklist", staff, "/admin/casework/"), ("dashboard", county, "/admin/dashboard/"),
        ("cases", staff, "/admin/casework/cases"), ("case", staff, f"/admin/casework/{case_id}"))}
    print(f"worklist, one township, first page:   server {worklist:8.1f} ms  {n['worklist']:2} statements   "
          f"bare SQL {sql_worklist:7.1f} ms   ratio {worklist / sql_worklist:5.1f}×   "
          f"waiting for the database {db_ms['worklist']:.1f} ms")
    print(f"worklist filtered by category (特困):  server {filtered:8.1f} ms")
    print(f"plain Flask-Admin ModelView of steps: server {plain:8.1f} ms  {n['plain']:2} statements   "
          f"(COUNT(*) and OFFSET paging)   worklist is {plain / worklist:5.1f}× faster")
    print(f"case list (案件查询), township:        server {cases:8.1f} ms  {n['cases']:2} statements   "
          f"waiting for the database {db_ms['cases']:.1f} ms")
    for what, (_, ms) in searched.items():
        print(f"case list searched, {what + ':':30} server {ms:8.1f} ms")
    print(f"case page, township:                  server {case:8.1f} ms  {n['case']:2} statements   "
          f"waiting for the database {db_ms['case']:.1f} ms   (fresh connections: {case_cold:.1f} ms)")
    print(f"dashboard, whole county:              server {dashboard:8.1f} ms  {n['dashboard']:2} statements   "
          f"bare SQL counting the cases {sql_dashboard:7.1f} ms   ratio {dashboard / sql_dashboard:5.2f}×   "
          f"waiting for the database {db_ms['dashboard']:.1f} ms")
    size = f"{args.cases:,} cases"
    for name, ms, extra in (("worklist, first page", worklist, f"{n['worklist']} stmts; "
                             f"{plain / worklist:.1f}× faster than plain ModelView ({plain:.1f} ms)"),
                            ("case list (案件查询)", cases, f"{n['cases']} stmts"),
                            *((f"case list searched by {what}", ms, f"q={q}")
                              for what, (q, ms) in searched.items()),
                            ("case page", case, f"{n['case']} stmts"),
                            ("case page, fresh connections", case_cold, "first 5 requests, nothing prepared"),
                            ("dashboard", dashboard, f"{n['dashboard']} stmts; "
                             f"bare SQL counting cases {sql_dashboard:.1f} ms")):
        print(f"RESULT\t{name}\t{size}\t{ms:.1f} ms\t{extra}")
    owner.dispose()


def profile(name, client_url):
    import cProfile
    import pstats

    client, url = client_url
    client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(50):
        client.get(url)
    profiler.disable()
    profiler.dump_stats(f"/tmp/jiuzhu-{name}.prof") if __import__("os").environ.get("JIUZHU_BENCH_DUMP") else None
    print(f"where 50 requests of the {name} spend their time (cumulative, then own time):")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
