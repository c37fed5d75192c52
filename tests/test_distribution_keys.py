"""The schema is ready to be distributed by county (PostgreSQL with Citus): read from the catalogue,
every table with a tenant_id has it in its primary key, in every unique constraint and index, and in
every foreign key to another county table; every table without one is marked a reference or a
coordinator-local table. Exemptions are listed here with their reason, and checked to still be needed.

Beside distribution, a composite foreign key is a guard a person would notice: a row of one county
can no longer be pointed at a parent of another, even by someone who writes the database directly
(foreign-key checks bypass row-level security)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.conftest import scratch_database, signed_tenant

#: tables with a tenant_id that may not (yet) be keyed by it, and why
EXEMPT = {
    "users": "the platform operators' accounts have no county (tenant_id NULL), which no key column may be; "
             "the table has UNIQUE (tenant_id, id) so that county tables' foreign keys to it are composite",
}

KEYS = """
SELECT c.relname AS tbl,
       k.contype, k.conname, k.confrelid::regclass::text AS ref,
       ARRAY(SELECT a.attname FROM unnest(k.conkey) u(n) JOIN pg_attribute a
               ON a.attrelid = k.conrelid AND a.attnum = u.n)::text[] AS cols,
       ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a
               ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i)::text[] AS refcols,
       ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a
               ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i)::text[] AS ordered
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
 WHERE c.relnamespace = 'public'::regnamespace AND k.contype IN ('p', 'u', 'f')
"""


def tables(conn) -> tuple[set[str], set[str]]:
    rows = conn.execute(text("""
        SELECT c.relname, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                                                              AND NOT a.attisdropped)
          FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace""")).all()
    return {r[0] for r in rows if r[1]}, {r[0] for r in rows if not r[1]}


def problems_in(conn) -> tuple[list[str], dict[str, list[str]]]:
    county, other = tables(conn)
    problems: list[str] = []
    seen_exempt: dict[str, list[str]] = {}
    keys = conn.execute(text(KEYS)).mappings().all()
    for table in sorted(county):
        mine = [k for k in keys if k["tbl"] == table]
        pks = [k for k in mine if k["contype"] == "p"]
        issues = []
        if not pks or "tenant_id" not in pks[0]["cols"]:
            issues.append(f"{table}: primary key {pks[0]['cols'] if pks else None} lacks tenant_id")
        for k in mine:
            if k["contype"] == "u" and "tenant_id" not in k["cols"]:
                issues.append(f"{table}: unique {k['conname']} {k['cols']} lacks tenant_id")
            if k["contype"] == "f" and k["ref"] != "tenants":
                pairs = dict(zip(k["ordered"], k["refcols"], strict=True))
                if pairs.get("tenant_id") != "tenant_id":
                    issues.append(f"{table}: foreign key {k['conname']} to {k['ref']} lacks tenant_id")
        for (name, definition) in conn.execute(text("""
                SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                 WHERE x.indrelid = CAST(:t AS regclass) AND x.indisunique AND NOT x.indisprimary
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)"""), {"t": table}):
            if "tenant_id" not in definition.split(" USING ", 1)[1]:
                issues.append(f"{table}: unique index {name} lacks tenant_id")
        if table in EXEMPT:
            seen_exempt[table] = issues
        else:
            problems += issues
    for table in sorted(other):
        comment = conn.execute(text("SELECT obj_description(CAST(:t AS regclass), 'pg_class')"), {"t": table}).scalar()
        if not (comment or "").startswith(("distribution: reference", "distribution: local")):
            problems.append(f"{table}: no tenant_id and not marked as a reference or local table ({comment!r})")
    return problems, seen_exempt


def test_every_county_table_is_keyed_by_tenant_id(app, owner_engine):
    with owner_engine.connect() as conn:
        problems, exempt = problems_in(conn)
        references = conn.execute(text(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' "
            "AND obj_description(c.oid, 'pg_class') LIKE 'distribution: reference%' ORDER BY 1")).scalars().all()
        county, _ = tables(conn)
    print("exempt from distribution keys:", {t: EXEMPT[t] for t in exempt})
    assert problems == []
    assert references == ["calendar_exceptions", "calendar_years", "tenants"]
    assert len(county) > 35
    # each exemption is still needed (or this list must shrink), and is the only thing amiss there
    assert set(exempt) == set(EXEMPT)
    assert exempt["users"] == ["users: primary key ['id'] lacks tenant_id", "users: unique index uq_users_username "
                               "lacks tenant_id"]


#: the tables the reminder sweep fills in bulk, tied to their county through a NOT NULL composite key
#: (migration 0076) instead of a key of their own to ``tenants``
TIED_THROUGH = {"notifications": "users", "deliveries": "reminders", "reminders": "org_units",
                "supervision_items": "org_units"}


def test_a_tenant_filter_is_served_by_a_key_and_nothing_keeps_a_second_copy(app, owner_engine):
    """Every county table has a primary or unique key leading with tenant_id (what ``tenant_id = …``
    and the checks of ``tenants``' own keys read), and no single-column tenant_id index beside it:
    every write paid for that copy, nothing read it."""
    with owner_engine.connect() as conn:
        county, _ = tables(conn)
        leading = set(conn.execute(text("""
            SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.indkey[0]
             WHERE c.relnamespace = 'public'::regnamespace AND (x.indisprimary OR x.indisunique)
               AND a.attname = 'tenant_id'""")).scalars())
        copies = conn.execute(text("""
            SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
              JOIN pg_class c ON c.oid = x.indrelid JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.indkey[0]
             WHERE c.relnamespace = 'public'::regnamespace AND x.indnatts = 1 AND a.attname = 'tenant_id'
               AND x.indpred IS NULL AND NOT x.indisunique""")).scalars().all()
    assert county - leading == set()
    assert copies == []


#: foreign keys to a county's many rows (households, members, cases) with no index of their own, and why
#: (none now: ``notifications.case_id`` was one until 0080, for the reminder sweep's sake — 2–4% of it)
UNINDEXED: dict[tuple[str, str], str] = {}


def test_removing_a_household_member_or_case_finds_what_points_at_it_through_an_index(app, owner_engine):
    """Each row removed checks (or cascades to) the rows whose foreign key names it: without an index on
    that key PostgreSQL reads the whole referencing table — every county's rows — once per row removed.
    A county of 8,000 cases took 26 s to purge its members (``household_incomes.member_id``)."""
    with owner_engine.connect() as conn:
        keys = conn.execute(text("""
            SELECT c.relname, a.attname, k.confrelid::regclass::text
              FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
              JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[array_length(k.conkey, 1)]
             WHERE k.contype = 'f' AND c.relnamespace = 'public'::regnamespace
               AND k.confrelid::regclass::text IN ('households', 'household_members', 'cases')
               AND NOT EXISTS (
                   SELECT 1 FROM pg_index x
                    WHERE x.indrelid = k.conrelid
                      AND (x.indkey[0] = a.attnum OR (x.indkey[1] = a.attnum AND x.indkey[0] = k.conkey[1]
                                                      AND array_length(k.conkey, 1) = 2)))""")).all()
    missing = {(table, column) for table, column, _ in keys}
    assert missing - set(UNINDEXED) == set(), sorted(missing - set(UNINDEXED))
    assert set(UNINDEXED) <= missing  # an exemption no longer needed is removed


def test_the_sweeps_tables_stay_tied_to_an_existing_county(app, world, owner_engine):
    """Without a key of their own to ``tenants``, the rows the sweep writes still cannot name a county
    that does not exist, nor another county's parent; and a county with such rows cannot be deleted."""
    a, b = world.county("tia", townships=1, villages=1), world.county("tib", townships=1, villages=1)
    with owner_engine.connect() as conn:
        keys = conn.execute(text(KEYS)).mappings().all()
        for table, parent in TIED_THROUGH.items():
            mine = [k for k in keys if k["tbl"] == table and k["contype"] == "f"]
            assert not any(k["ref"] == "tenants" for k in mine), table
            tie = [k for k in mine if k["ref"] == parent and k["ordered"][0] == "tenant_id"]
            assert tie, (table, [k["conname"] for k in mine])
            column = tie[0]["ordered"][1]
            assert conn.execute(text("SELECT is_nullable FROM information_schema.columns "
                                     "WHERE table_name = :t AND column_name = :c"),
                                {"t": table, "c": column}).scalar() == "NO", (table, column)
    insert = text("INSERT INTO notifications (tenant_id, user_id, title, body, created_at) "
                  "VALUES (:t, :u, '标题', '正文', now())")
    with owner_engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :s, true)"), {"s": signed_tenant(a["id"])})
        for tenant, user in ((a["id"] + b["id"] + 1000, a["users"]["tia-t1-staff"]),  # no such county
                             (a["id"], b["users"]["tib-t1-staff"])):  # another county's user
            with pytest.raises(IntegrityError, match="fk_notifications_user_id_users"), conn.begin_nested():
                conn.execute(insert, {"t": tenant, "u": user})
        conn.execute(insert, {"t": a["id"], "u": a["users"]["tia-t1-staff"]})
    with owner_engine.begin() as conn, pytest.raises(IntegrityError, match="fk_.*_tenant_id_tenants"):
        conn.execute(text("DELETE FROM tenants WHERE id = :t"), {"t": a["id"]})


def test_a_row_cannot_point_at_another_countys_parent(app, world, owner_engine):
    a, b = world.county("dka", townships=1, villages=1), world.county("dkb", townships=1, villages=1)
    with owner_engine.begin() as conn:  # the database owner, writing directly, in county a
        conn.execute(text("SELECT set_config('app.tenant_id', :s, true)"), {"s": signed_tenant(a["id"])})
        with pytest.raises(IntegrityError, match="fk_org_units_parent_id_org_units"), conn.begin_nested():
            conn.execute(text("UPDATE org_units SET parent_id = :p WHERE id = :v"),
                         {"p": b["towns"][0], "v": a["villages"][0][0]})
        with pytest.raises(IntegrityError, match="fk_users_org_unit_id_org_units"), conn.begin_nested():
            conn.execute(text("UPDATE users SET org_unit_id = :u WHERE id = :id"),
                         {"u": b["towns"][0], "id": a["users"]["dka-t1-staff"]})
        # within the county the same kind of change is fine
        conn.execute(text("UPDATE users SET org_unit_id = :u WHERE id = :id"),
                     {"u": a["root"], "id": a["users"]["dka-t1-staff"]})


def test_the_migration_goes_down_and_up_again(database_urls):
    from flask_migrate import downgrade, upgrade

    from jiuzhu.extensions import db

    with scratch_database(database_urls, "m62") as (app, engine), app.app_context():
        upgrade()
        with engine.connect() as conn:
            assert problems_in(conn)[0] == []
        downgrade(revision="0061")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT to_regclass('ix_notifications_tenant_id')")).scalar() is not None
            problems, _ = problems_in(conn)
            assert "cases: primary key ['id'] lacks tenant_id" in problems
            assert "case_steps: foreign key fk_case_steps_case_id_cases to cases lacks tenant_id" in problems
            fk = conn.execute(text("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                   "WHERE conname = 'fk_legal_supporters_supported_member_id_household_members'")
                              ).scalar()
            assert fk == ("FOREIGN KEY (supported_member_id) REFERENCES household_members(id) "
                          "ON DELETE SET NULL")
        upgrade()
        with engine.connect() as conn:
            assert problems_in(conn)[0] == []
            assert conn.execute(text("SELECT to_regclass('ix_notifications_tenant_id')")).scalar() is None
            fk = conn.execute(text("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                   "WHERE conname = 'fk_legal_supporters_supported_member_id_household_members'")
                              ).scalar()
            assert fk == ("FOREIGN KEY (tenant_id, supported_member_id) REFERENCES household_members(tenant_id, id) "
                          "ON DELETE SET NULL (supported_member_id)")
        db.session.remove()
