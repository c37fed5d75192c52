"""The isolation fuzz: every URL rule of the application, with other counties' ids, as every role of
one county, as its API tokens, and with a cookie of one county mixed with a token of another.

A *leak* is a 200 for a URL that names another county's row, or any page, PDF, export or JSON that
carries another county's text. A *write* is any change to another county's rows (a fingerprint of
every tenant-owned table, compared before and after). Both must be zero.

Used by ``tests/test_isolation_fuzz.py`` (a CI-sized run) and ``bench/isolation_fuzz.py`` (≥ 10,000
tries, randomised).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import text
from werkzeug.routing import IntegerConverter

from tests.conftest import csrf_token

#: route argument → the table its ids come from
ARG_TABLES = {
    "case_id": "cases", "step_id": "steps", "notice_id": "notices", "file_id": "case_material_files",
    "household_id": "households", "member_id": "members", "ticket_id": "warning_tickets",
    "draw_id": "spot_check_draws", "item_id": "spot_check_items", "report_id": "real_name_reports",
    "import_id": "roll_imports", "unit_id": "org_units", "token_id": "api_tokens", "user_id": "users",
    "supporter_id": "legal_supporters", "grant_id": "relief_grants", "schedule_id": "benefit_schedules",
}
#: tables whose rows of the other county a request may legitimately change: the token's own use
#: (last_used_at), stored idempotent answers, the access log of the county looking
UNWATCHED = {"api_tokens", "idempotent_requests", "personal_data_access", "login_attempts"}
STRING_ARGS = {"export_type": ["csv", "xlsx"], "action": ["withdraw", "terminate", "revoke"],
               "key": ["application_form", "id_and_register", "authorization"], "filename": ["x.js"]}


@dataclass
class Principal:
    name: str
    tenant_id: int | None
    client: object
    headers: dict = field(default_factory=dict)
    #: only URLs under this prefix (a cookie mixed with a token: the token is the API's principal,
    #: the cookie the screens' — the screens are the cookie county's own, tried separately)
    only: str = ""


@dataclass
class Outcome:
    tries: int = 0
    leaks: list = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)


def tenant_tables(owner_engine) -> list[str]:
    with owner_engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_name = 'tenant_id' ORDER BY table_name")).scalars())


def ids_by_table(owner_engine, tenant_ids: set[int]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    with owner_engine.connect() as conn:
        for table in tenant_tables(owner_engine):
            has_id = conn.execute(text("SELECT 1 FROM information_schema.columns WHERE table_name = :t "
                                       "AND column_name = 'id'"), {"t": table}).first()
            if has_id:
                out[table] = list(conn.execute(text(f'SELECT id FROM "{table}" WHERE tenant_id = ANY(:t) ORDER BY id'),
                                               {"t": list(tenant_ids)}).scalars())
    return out


def fingerprint(owner_engine, tenant_ids: set[int]) -> dict[str, str]:
    """A digest of every row of these counties in every tenant-owned table (but :data:`UNWATCHED`)."""
    out = {}
    with owner_engine.connect() as conn:
        for table in tenant_tables(owner_engine):
            if table in UNWATCHED:
                continue
            out[table] = conn.execute(text(
                f'SELECT count(*) || \':\' || coalesce(md5(string_agg(t::text, \'|\' ORDER BY t::text)), \'\') '
                f'FROM "{table}" t WHERE tenant_id = ANY(:t)'), {"t": list(tenant_ids)}).scalar()
    return out


def markers(owner_engine, tenant_ids: set[int], own_tenant: int) -> set[str]:
    """Texts only the other counties' pages would show: their names, places and staff."""
    with owner_engine.connect() as conn:
        theirs = set(conn.execute(text(
            "SELECT name FROM tenants WHERE id = ANY(:t) UNION SELECT name FROM org_units WHERE tenant_id = ANY(:t) "
            "UNION SELECT username FROM users WHERE tenant_id = ANY(:t)"), {"t": list(tenant_ids)}).scalars())
        mine = set(conn.execute(text(
            "SELECT name FROM tenants WHERE id = :o UNION SELECT name FROM org_units WHERE tenant_id = :o "
            "UNION SELECT username FROM users WHERE tenant_id = :o"), {"o": own_tenant}).scalars())
    return {m for m in theirs - mine if m and len(m) >= 3}


def _model_tables(app) -> dict[str, str]:
    admin = app.extensions["admin"][0]
    return {v.endpoint: v.model.__tablename__ for v in admin._views if getattr(v, "model", None) is not None}


def url_candidates(app, other_ids: dict[str, list[int]], other_codes: list[str], own_code: str,
                   rng: random.Random, per_arg: int = 2) -> list[tuple[str, str, str]]:
    """(method, url, endpoint) for every rule, its int arguments filled with the other counties' ids."""
    models = _model_tables(app)
    everything = [i for ids in other_ids.values() for i in ids] or [1]
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith("static") or rule.endpoint in ("metrics",):
            continue
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        choices: dict[str, list] = {}
        for arg, conv in rule._converters.items():
            if isinstance(conv, IntegerConverter):
                pool = other_ids.get(ARG_TABLES.get(arg, ""), []) or everything
                choices[arg] = rng.sample(pool, min(per_arg, len(pool)))
            elif arg == "code":
                choices[arg] = [own_code, *other_codes[:1]]
            else:
                choices[arg] = STRING_ARGS.get(arg, ["x"])[:per_arg]
        combos = [{}]
        for arg, values in choices.items():
            combos = [{**c, arg: v} for c in combos for v in values]
        view = rule.endpoint.split(".", 1)[0]
        table = models.get(view)
        for values in combos[: per_arg * 2]:
            try:
                url = rule.build(values, append_unknown=False)[1]
            except Exception:  # noqa: BLE001 — a rule we cannot build is not a route to probe
                continue
            if table and rule.endpoint.endswith(("details_view", "edit_view", "delete_view", "index_view",
                                                  "action_view")):
                pool = other_ids.get(table) or everything
                url += ("&" if "?" in url else "?") + f"id={rng.choice(pool)}"
            for method in methods:
                out.append((method, url, rule.endpoint))
    return out


def _post_data(client, url: str, other_ids: dict[str, list[int]], rng: random.Random) -> dict:
    page = client.get("/admin/")
    html = page.get_data(as_text=True) if page.status_code == 200 else ""
    try:
        token = csrf_token(html)
    except AssertionError:
        token = ""
    anyid = str(rng.choice([i for ids in other_ids.values() for i in ids] or [1]))
    return {"csrf_token": token, "id": anyid, "rowid": [anyid], "action": "delete", "outcome": "approve",
            "reason": "越权", "village_id": anyid, "township_id": anyid, "name": "越权", "content": "越权",
            "kind": "visit", "done_on": "2026-10-10", "note": "越权"}


def leaked(resp, url: str, endpoint: str, other_code_urls: bool, their_markers: set[str]) -> str | None:
    body = resp.get_data()
    ctype = resp.headers.get("Content-Type", "")
    textual = ctype.startswith(("text/", "application/json"))
    if textual:
        content = body.decode("utf-8", "replace")
        for m in their_markers:
            if m in content:
                return f"shows {m!r}"
    if resp.status_code == 200 and not other_code_urls:
        names_a_row = bool(re.search(r"/\d+(/|\.pdf|\.json|$|\?)|[?&]id=\d+", url))
        is_list = endpoint.endswith(("index_view", "export", "index", "cases", "ajax_lookup", "new", "county"))
        if names_a_row and not is_list:
            return f"200 {ctype}"
    return None


def run(app, principals: list[Principal], other_ids_of, markers_of, codes_of, own_code_of, rng: random.Random,
        max_tries: int | None = None, per_arg: int = 2) -> Outcome:
    outcome = Outcome()
    for p in principals:
        other_ids = other_ids_of(p)
        their_markers = markers_of(p)
        candidates = [c for c in url_candidates(app, other_ids, codes_of(p), own_code_of(p), rng, per_arg)
                      if c[1].startswith(p.only)]
        rng.shuffle(candidates)
        for method, url, endpoint in candidates:
            if max_tries is not None and outcome.tries >= max_tries:
                return outcome
            try:
                if method == "GET":
                    resp = p.client.get(url, headers=p.headers)
                else:
                    data = _post_data(p.client, url, other_ids, rng)
                    if url.startswith("/api/"):
                        resp = p.client.post(url, json={"data": {}, "outcome": "approve"},
                                             headers={**p.headers, "Idempotency-Key": f"fuzz-{outcome.tries}"})
                    else:
                        resp = p.client.post(url, data=data, headers=p.headers)
            except Exception as exc:  # noqa: BLE001 — a crash is a finding, recorded
                outcome.errors.append((p.name, method, url, repr(exc)[:200]))
                continue
            outcome.tries += 1
            outcome.statuses[resp.status_code] += 1
            if resp.status_code >= 500:
                outcome.errors.append((p.name, method, url, resp.status_code))
            public_other = url.startswith("/public/") and f"/public/{own_code_of(p)}/" not in url
            why = leaked(resp, url, endpoint, public_other, set() if public_other else their_markers)
            if why:
                outcome.leaks.append((p.name, method, url, why))
    return outcome


def login(client, username: str) -> None:
    from tests.conftest import login as log_in

    resp = log_in(client, username)
    assert resp.status_code == 302, (username, resp.get_data(as_text=True)[:300])
