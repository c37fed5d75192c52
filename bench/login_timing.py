"""Login refusals take as long for an unknown name as for a known one with a wrong password (no
enumeration of login names by timing). Prints the median time of each and their ratio, with the
production password hashing (argon2id, RFC 9106 low-memory profile).

    python bench/login_timing.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import re

from support import bench_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    bench_database("jiuzhu_bench_login", keep=False, secure_cookies=False)
    import os

    os.environ["JIUZHU_PASSWORD_HASHING"] = "standard"
    os.environ["JIUZHU_LOGIN_MAX_FAILURES"] = "100000"
    os.environ["JIUZHU_LOGIN_MAX_FAILURES_PER_SOURCE"] = "100000"
    from flask_migrate import upgrade

    from jiuzhu import create_app
    from jiuzhu.auth.roles import Role
    from jiuzhu.auth.services import create_user
    from jiuzhu.extensions import db
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.services import county_root, create_tenant

    app = create_app()
    with app.app_context():
        upgrade()
        with use_scope(Scope.platform()):
            tenant = create_tenant(db.session, app.extensions["jiuzhu.plugins"], code="tm", name="计时县",
                                   plugin_key="baseline")
            db.session.commit()
        with use_scope(Scope(tenant.id)):
            create_user(db.session, username="known-user", full_name="计时", role=Role.county_staff,
                        password="Bench-pass-2026", org_unit=county_root(db.session))
            db.session.commit()
        db.session.remove()

    def attempt(name):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        client.post("/login", data={"username": name, "password": "Wrong-pass-2026", "csrf_token": token})

    # interleaved, so that load from other processes falls on both alike
    import statistics
    import time

    times: dict[str, list[float]] = {"known-user": [], "no-such-user": []}
    attempt("known-user"), attempt("no-such-user")  # warm-up
    for _ in range(args.repeat):
        for name, series in times.items():
            t0 = time.perf_counter()
            attempt(name)
            series.append((time.perf_counter() - t0) * 1000)
    known, unknown = statistics.median(times["known-user"]), statistics.median(times["no-such-user"])
    print(f"login refused, known name, wrong password: {known:8.1f} ms (median of {args.repeat})")
    print(f"login refused, unknown name:               {unknown:8.1f} ms")
    print(f"ratio unknown / known:                     {unknown / known:8.2f}")


if __name__ == "__main__":
    main()
