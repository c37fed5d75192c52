"""The isolation fuzz, CI-sized: the five demo counties seeded with cases in every state; one county's
every role, its API tokens, its operator-free platform view and a cookie of it mixed with another
county's token try every URL rule of the application with the other counties' ids. 0 leaks, 0 writes,
0 server errors. ``bench/isolation_fuzz.py`` runs the same for ≥ 10,000 tries."""

from __future__ import annotations

import random

import pytest
from flask import current_app
from sqlalchemy import text

from jiuzhu.extensions import db
from tests import isolation_fuzz as fuzz
from tests.api_helpers import api_redis, make_token  # noqa: F401
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("api_redis")

OWN = "shexian"
ROLES = ("admin", "county", "t1-staff", "t1-leader", "t1-village")


@pytest.fixture
def demo(app, owner_engine):
    from jiuzhu.demo import seed_demo

    with app.app_context():
        assert current_app
        seed_demo(PASSWORD)
        db.session.remove()
    with owner_engine.begin() as conn:
        counties = dict(conn.execute(text("SELECT code, id FROM tenants")).all())
        # one case of every county shared with a second township of it (``cases.other_township_id``, as
        # a 人户分离 household registered there): the fuzz then tries the org scoping's shared-case paths
        shared = conn.execute(text("""
            UPDATE cases c SET other_township_id = t.other, other_township_role = 'registered'
            FROM (SELECT DISTINCT ON (c2.tenant_id) c2.id AS case_id, u.id AS other
                  FROM cases c2 JOIN org_units u ON u.tenant_id = c2.tenant_id AND u.level = 'township'
                   AND u.id <> c2.township_id
                  ORDER BY c2.tenant_id, c2.id, u.id) t
            WHERE c.id = t.case_id""")).rowcount
        assert shared == len(counties)
    return counties


def principals(app, counties) -> list[fuzz.Principal]:
    own, other = counties[OWN], counties["yongning"]
    out = []
    for role in ROLES:
        client = app.test_client()
        fuzz.login(client, f"{OWN}-{role}")
        out.append(fuzz.Principal(f"{OWN}-{role}", own, client))
    county = {"id": own, "code": OWN, "users": _users(app, own)}
    for username in (f"{OWN}-t1-staff", f"{OWN}-t1-village", f"{OWN}-county"):
        secret = make_token(app, county, username=username)
        out.append(fuzz.Principal(f"token:{username}", own, app.test_client(),
                                  {"Authorization": f"Bearer {secret}"}))
    # a cookie of this county and a token of another: the token alone counts (its county is "own")
    mixed = app.test_client()
    fuzz.login(mixed, f"{OWN}-t1-village")
    theirs = {"id": other, "code": "yongning", "users": _users(app, other)}
    out.append(fuzz.Principal("cookie+foreign-token", other, mixed,
                              {"Authorization": f"Bearer {make_token(app, theirs, username='yongning-t1-staff')}"},
                              only="/api/"))
    return out


def _users(app, tenant_id) -> dict[str, int]:
    from sqlalchemy import select

    from jiuzhu.auth.models import User
    from jiuzhu.tenancy.context import Scope, use_scope

    with app.app_context(), use_scope(Scope(tenant_id)):
        users = {u.username: u.id for u in db.session.scalars(select(User))}
        db.session.remove()
    return users


def test_no_route_shows_or_changes_another_countys_data(app, demo, owner_engine):
    counties = demo
    everyone = set(counties.values())
    codes = {v: k for k, v in counties.items()}
    cache: dict[int, tuple] = {}

    def others(p):
        if p.tenant_id not in cache:
            rest = everyone - {p.tenant_id}
            cache[p.tenant_id] = (fuzz.ids_by_table(owner_engine, rest), fuzz.markers(owner_engine, rest, p.tenant_id),
                                  [codes[t] for t in sorted(rest)])
        return cache[p.tenant_id]

    acting = principals(app, counties)  # logins and tokens first: they write, legitimately
    watched = {t for t in everyone if t != counties[OWN]}  # its own requests may change its own rows
    before = {t: fuzz.fingerprint(owner_engine, {t}) for t in watched}
    outcome = fuzz.run(app, acting, lambda p: others(p)[0], lambda p: others(p)[1],
                       lambda p: others(p)[2], lambda p: codes[p.tenant_id], random.Random(2026), per_arg=1)
    after = {t: fuzz.fingerprint(owner_engine, {t}) for t in watched}
    print(f"isolation fuzz: {outcome.tries} tries, statuses {dict(outcome.statuses)}")
    assert outcome.tries >= 900
    assert outcome.leaks == [], "\n".join(map(str, outcome.leaks))
    assert outcome.errors == []
    for tenant_id in watched:  # nothing of another county changed
        changed = [t for t in before[tenant_id] if before[tenant_id][t] != after[tenant_id][t]]
        assert changed == [], (codes[tenant_id], changed)


def test_the_fuzz_reports_a_leak_when_there_is_one(app, demo, owner_engine):
    """The detector itself: present the county's *own* rows and names as if they were another
    county's — every way a leak shows (a 200 on a row's URL, its text on a page) must be reported."""
    counties = demo
    own = counties[OWN]
    codes = {v: k for k, v in counties.items()}
    own_ids = fuzz.ids_by_table(owner_engine, {own})
    own_markers = fuzz.markers(owner_engine, {own}, -1)
    staff = [p for p in principals(app, counties) if p.name == f"{OWN}-county"]
    other_codes = [codes[t] for t in sorted(set(counties.values()) - {own})]
    for planted, reason in ((own_markers, "shows"), (set(), "200")):
        outcome = fuzz.run(app, staff, lambda p: own_ids, lambda p, m=planted: m, lambda p: other_codes,
                           lambda p: OWN, random.Random(7), max_tries=150, per_arg=1)
        assert any(why.startswith(reason) for *_, why in outcome.leaks), (reason, outcome.leaks[:5])
