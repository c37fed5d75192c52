"""The isolation fuzz at full size: the five demo counties on a PostgreSQL database of its own; each
county in turn, as every role, as its API tokens and as a cookie mixed with another county's token,
tries every URL rule with the other counties' ids (several per argument, reshuffled each round)
until ``--tries`` requests have been made. Prints tries, statuses, leaks, writes and errors; exits 1
on any leak, write or 5xx.

    python bench/isolation_fuzz.py [--tries 10000] [--seed 2026]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

from support import ROOT, bench_database

sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    owner = bench_database("jiuzhu_bench_isolation", keep=False, secure_cookies=False)
    os.environ.update({"JIUZHU_REDIS_URL": "redis://127.0.0.1:9/0",  # no Redis: rate limits off, nothing shared
                       "JIUZHU_API_RATE_PER_MINUTE": "1000000"})
    from flask_migrate import upgrade
    from sqlalchemy import text

    from jiuzhu import create_app
    from jiuzhu.demo import seed_demo
    from jiuzhu.extensions import db
    from tests import isolation_fuzz as fuzz
    from tests.api_helpers import make_token
    from tests.conftest import PASSWORD
    from tests.test_isolation_fuzz import ROLES, _users

    app = create_app({"TESTING": True})
    with app.app_context():
        upgrade()
        t0 = time.perf_counter()
        seed_demo(PASSWORD)
        db.session.remove()
    print(f"seeded the five demo counties in {time.perf_counter() - t0:.1f} s")
    with owner.connect() as conn:
        counties = dict(conn.execute(text("SELECT code, id FROM tenants")).all())
    codes = {v: k for k, v in counties.items()}
    everyone = set(counties.values())
    rng = random.Random(args.seed)
    total = fuzz.Outcome()
    writes: list = []
    round_no = 0
    while total.tries < args.tries:
        code = sorted(counties)[round_no % len(counties)]
        own = counties[code]
        other = sorted(c for c in counties if c != code)[round_no % (len(counties) - 1)]
        principals = []
        for role in ROLES:
            client = app.test_client()
            fuzz.login(client, f"{code}-{role}")
            principals.append(fuzz.Principal(f"{code}-{role}", own, client))
        county = {"id": own, "code": code, "users": _users(app, own)}
        for username in (f"{code}-t1-staff", f"{code}-t1-village"):
            principals.append(fuzz.Principal(f"token:{username}", own, app.test_client(),
                                             {"Authorization": f"Bearer {make_token(app, county, username=username, name=f'{username} 第 {round_no + 1} 轮')}"}))
        mixed = app.test_client()
        fuzz.login(mixed, f"{code}-t1-village")
        theirs = {"id": counties[other], "code": other, "users": _users(app, counties[other])}
        principals.append(fuzz.Principal("cookie+foreign-token", counties[other], mixed,
                                         {"Authorization": "Bearer " + make_token(app, theirs, username=f"{other}-t1-staff",
                                                                           name=f"{other}-t1-staff 外来 第 {round_no + 1} 轮")},
                                         only="/api/"))
        # the two acting counties may change their own rows (logins, tokens); the others never
        watched = everyone - {own, counties[other]}
        before = {t: fuzz.fingerprint(owner, {t}) for t in watched}
        cache = {}

        def others(p, cache=cache):
            if p.tenant_id not in cache:
                rest = everyone - {p.tenant_id}
                cache[p.tenant_id] = (fuzz.ids_by_table(owner, rest), fuzz.markers(owner, rest, p.tenant_id),
                                      [codes[t] for t in sorted(rest)])
            return cache[p.tenant_id]

        t0 = time.perf_counter()
        outcome = fuzz.run(app, principals, lambda p: others(p)[0], lambda p: others(p)[1], lambda p: others(p)[2],
                           lambda p: codes[p.tenant_id], rng, max_tries=args.tries - total.tries, per_arg=3)
        total.tries += outcome.tries
        total.statuses.update(outcome.statuses)
        total.leaks += outcome.leaks
        total.errors += outcome.errors
        after = {t: fuzz.fingerprint(owner, {t}) for t in watched}
        writes += [(codes[t], table) for t in watched for table in before[t] if before[t][table] != after[t][table]]
        print(f"round {round_no + 1} as {code}: {outcome.tries} tries in {time.perf_counter() - t0:.1f} s")
        round_no += 1
    print(f"tries: {total.tries}   statuses: {dict(sorted(total.statuses.items()))}")
    print(f"leaks: {len(total.leaks)}   writes to a county not acting: {len(writes)}   5xx/errors: {len(total.errors)}")
    for item in (total.leaks + writes + total.errors)[:20]:
        print("  ", item)
    return 1 if total.leaks or writes or total.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
