"""HTTP under load: gunicorn with the shipped settings (deploy/gunicorn.conf.py) on loopback, many
concurrent users on a mixed session, for a bounded time.

    python bench/http_load.py [--users 100] [--seconds 60] [--think 0]

Needs the database seeded by ``bench/worklist_dashboard.py`` (``jiuzhu_bench_screens``: one county of
20 townships, its county and township staff); run that first at the size wanted. Each simulated user
logs in (half as the county's staff, half as a township's) and then, until the time is up, opens the
pages of its role in turn: township staff the worklist (我的待办), the case list (案件查询) and a case
page; county staff the dashboard (督办看板), the worklist and the case list. The API list is not in the
mix (the seeded county has no API token). The client runs on the same two cores as the server.

``--ramp S``: the users arrive one by one over S seconds instead of logging in all at once.
``--pdf``: township staff also print the case's file (一户一档) in each round — a PDF laid out with
the CJK fonts; with it, the workers' memory minute by minute shows whether what a PDF took is given back.
``--think S``: each user pauses between two pages for a random time averaging S seconds (as staff
reading a page do); with the default 0 the users click without pause, so the server is saturated and
the latency measures the queue in front of it rather than a page's time.

It also prints each gunicorn worker's CPU time over the run (a worker replaced meanwhile by one
started anew, after ``max_requests``, is counted too): how evenly the workers shared the requests.
``GUNICORN_CMD_ARGS`` passes through to gunicorn, so settings other than the shipped ones can be
compared in the same run of the machine — e.g. the earlier ``--keep-alive 5 --worker-connections 1000``.

It prints throughput, p50/p95/p99 and errors (a page answered other than 200 — a redirect to the
login too —, a login other than 302, or a failed connection),
and one ``RESULT`` line for ``bench/run-all``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
import requests.adapters
from sqlalchemy import text
from support import ROOT, bench_database
from urllib3.util.retry import Retry

PASSWORD = "Bench-pass-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_usage(master: int) -> dict[int, tuple[float, float]]:
    """CPU seconds (user and system) and resident memory (MB) of each process whose parent is
    ``master``: gunicorn's workers."""
    tick, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    seen = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the name: state, ppid, …; utime and stime are the 12th and 13th, rss (pages) the 22nd
        if int(fields[1]) == master:
            seen[int(stat.parent.name)] = ((int(fields[11]) + int(fields[12])) / tick,
                                           int(fields[21]) * page / 2**20)
    return seen


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=0.0, help="mean pause of a user between pages (s)")
    parser.add_argument("--ramp", type=float, default=0.0, help="users arrive one by one over this time (s)")
    parser.add_argument("--pdf", action="store_true",
                        help="township users also print the case's file (一户一档) as PDF in their round")
    args = parser.parse_args()
    owner = bench_database("jiuzhu_bench_screens", keep=True, secure_cookies=False)
    with owner.connect() as conn:
        town = conn.execute(text("SELECT org_unit_id FROM users WHERE username = 'big-t1'")).scalar()
        case_id = conn.execute(text("SELECT id FROM cases WHERE township_id = :t ORDER BY id DESC LIMIT 1"),
                               {"t": town}).scalar()
        cases = conn.execute(text("SELECT count(*) FROM cases")).scalar()
        have = set(conn.execute(text("SELECT username FROM users WHERE username LIKE 'load-%'")).scalars())
    owner.dispose()
    # one account per simulated user (a login ends the account's other sessions), and an API token
    # of its own (the API's limits count per token)
    wanted = [f"load-{i:03d}" for i in range(args.users)]
    from jiuzhu import create_app
    from jiuzhu.api.tokens import create_token
    from jiuzhu.auth.models import User
    from jiuzhu.auth.roles import Role
    from jiuzhu.auth.services import create_user
    from jiuzhu.extensions import db
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.models import OrgUnit, Tenant
    from jiuzhu.tenancy.services import county_root

    app = create_app()
    run = int(time.time())
    with app.app_context():
        from sqlalchemy import select

        with use_scope(Scope.platform()):
            tid = db.session.scalar(select(Tenant.id).where(Tenant.code == "big"))
        with use_scope(Scope(tid)):
            root, unit = county_root(db.session), db.session.get(OrgUnit, town)
            for i, name in enumerate(wanted):
                if name not in have:
                    create_user(db.session, username=name, full_name="压测", password=PASSWORD,
                                role=Role.county_staff if i % 2 == 0 else Role.township_staff,
                                org_unit=root if i % 2 == 0 else unit)
            db.session.flush()
            tokens = [create_token(db.session, None, name=f"load-{run}-{i:03d}", user=db.session.scalar(
                select(User).where(User.username == name))).secret for i, name in enumerate(wanted)]
            db.session.commit()
        db.session.remove()
    port = free_port()
    # the API's per-token limit (120 a minute) is lifted: gunicorn does not serve its connections
    # evenly under saturation, and a user served faster than the others would be refused (429)
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}", "TZ": "Asia/Shanghai",
           "JIUZHU_API_RATE_PER_MINUTE": "1000000"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--bind",
         f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "--error-logfile", "-", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("gunicorn did not come up")
        times: list[float] = []
        page_times: list[float] = []  # the pages after the login (the login's password hashing aside)
        errors: list[str] = []
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds

        def user(i: int):
            time.sleep(args.ramp * i / args.users)
            session = requests.Session()
            # a page asked again once when the server had just closed the idle connection it was sent
            # on (with a gunicorn that keeps connections, as before ``keepalive = 0``: 5 s, while the users'
            # pauses averaged up to that): what a browser, or nginx in front of gunicorn, does for a GET;
            # a POST is never repeated
            session.mount("http://", requests.adapters.HTTPAdapter(max_retries=Retry(
                total=1, connect=1, read=1, status=0, other=0, allowed_methods=frozenset({"GET"}),
                raise_on_status=False)))
            county = i % 2 == 0
            pages = (["/admin/dashboard/", "/admin/casework/", "/admin/casework/cases", "/api/v1/cases"] if county
                     else ["/admin/casework/", "/admin/casework/cases", f"/admin/casework/{case_id}", "/api/v1/cases"]
                     + ([f"/admin/casework/{case_id}/file.pdf"] if args.pdf else []))
            api = {"Authorization": f"Bearer {tokens[i]}"}

            def timed(method, url, expect=200, **kw):
                t0 = time.perf_counter()
                try:
                    resp = session.request(method, base + url, timeout=30, allow_redirects=False, **kw)
                    status = resp.status_code
                except requests.RequestException as exc:
                    resp, status = None, type(exc).__name__
                took = time.perf_counter() - t0
                ok = status == expect
                with lock:
                    times.append(took)
                    if not url.startswith("/login"):
                        page_times.append(took)
                    if not ok:
                        errors.append(f"{method} {url} {status}")
                return resp

            page = timed("GET", "/login")
            if page is None:
                return
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
            timed("POST", "/login", expect=302, data={"username": wanted[i], "password": PASSWORD,
                                                      "csrf_token": token})
            n = 0
            pause = random.Random(i)
            while time.monotonic() < stop_at:
                url = pages[n % len(pages)]
                timed("GET", url, headers=api if url.startswith("/api/") else None)
                n += 1
                if args.think:
                    time.sleep(min(pause.expovariate(1 / args.think), max(0.0, stop_at - time.monotonic())))

        cpu: dict[int, float] = {}  # the last seen CPU time of every worker, replaced ones too
        rss: dict[int, list[float]] = {}  # each worker's resident memory: first seen, peak
        by_minute: dict[int, dict[int, float]] = {}  # each minute's last reading of every worker

        def seen(usage):
            for pid, (cpu_s, rss_mb) in usage.items():
                cpu[pid] = cpu_s
                first_peak = rss.setdefault(pid, [rss_mb, rss_mb])
                first_peak[1] = max(first_peak[1], rss_mb)

        def watch_workers():
            started = time.monotonic()
            while time.monotonic() < stop_at + 1:
                usage = worker_usage(server.pid)
                seen(usage)
                by_minute[int((time.monotonic() - started) // 60)] = {p: mb for p, (_, mb) in usage.items()}
                time.sleep(1)

        seen(worker_usage(server.pid))
        first_workers = set(cpu)
        start_cpu = dict(cpu)
        watcher = threading.Thread(target=watch_workers, daemon=True)
        watcher.start()
        t0 = time.monotonic()
        threads = [threading.Thread(target=user, args=(i,)) for i in range(args.users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        seen(worker_usage(server.pid))
    finally:
        server.terminate()
        server.wait(30)
    q = statistics.quantiles(times, n=100)
    p50, p95, p99 = q[49] * 1000, q[94] * 1000, q[98] * 1000
    thinking = ((", with the case file's PDF" if args.pdf else "") + (f", think {args.think:g} s" if args.think else "")
                + (f", arriving over {args.ramp:g} s" if args.ramp else ""))
    print(f"{args.users} users{thinking}, {wall:.0f} s, {cases:,} cases: {len(times):,} requests, "
          f"{len(times) / wall:.1f} req/s; p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms; "
          f"{len(errors)} errors")
    pq = statistics.quantiles(page_times, n=100)
    print(f"  the pages alone (logins aside): {len(page_times):,}; p50 {pq[49] * 1000:.0f} ms, "
          f"p95 {pq[94] * 1000:.0f} ms, p99 {pq[98] * 1000:.0f} ms")
    used = sorted((cpu[pid] - start_cpu.get(pid, 0.0) for pid in cpu), reverse=True)
    busiest = 100 * used[0] / max(sum(used), 1e-9)  # the share of the workers' CPU the busiest one used
    replaced = len(set(cpu) - first_workers)
    print(f"  the workers' CPU over the run: {', '.join(f'{t:.1f} s' for t in used)} (the busiest "
          f"{busiest:.0f}% of {sum(used):.1f} s; {replaced} started anew after max_requests)")
    print("  their resident memory, at the start → its peak: " + ", ".join(
        f"{first:.0f} → {peak:.0f} MB" for first, peak in (rss[pid] for pid in sorted(rss))))
    print("  the workers' memory minute by minute (the largest then): " + ", ".join(
        f"{max(by_minute[m].values()):.0f} MB" for m in sorted(by_minute) if by_minute[m]))
    for e in sorted(set(errors))[:10]:
        print("  error:", e)
    print(f"RESULT\thttp mixed session\t{args.users} users{thinking}, {cases:,} cases\t{len(times) / wall:.1f} req/s\t"
          f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, {len(errors)} errors; pages alone p95 "
          f"{pq[94] * 1000:.0f} ms; busiest worker {busiest:.0f}% of the workers' CPU")


if __name__ == "__main__":
    main()
