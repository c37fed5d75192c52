"""the platform's registry of who draws or asks for benefits, by blind index; 协查 between counties;
the duplicate checks' resolutions and the nightly sweep's findings

Revision ID: 0070
Revises: 0052

The registry (``benefit_registry``) holds, for every member of every household with an open or
approved application for a periodic benefit, the member's ID-number blind index (HMAC-SM3 under
the platform's blind-index key), the county, case, household, township, category, state
(``pending`` / ``active``) and the month benefits began. Triggers on ``cases``, ``case_findings``
and ``household_members`` keep it in the writing transaction. The application role has no
privilege on it (and row-level security with no policy is enabled besides): it is read only through

* ``jiuzhu_registry_lookup(text[])`` — for the blind indexes the *caller's* county holds, the
  matches elsewhere: another county's name, the category, the state and the month benefits began;
  in the caller's own county also the case and household (its own data);
* ``jiuzhu_registry_refresh()`` — the nightly pass: one self-join of the whole registry on the blind
  index, kept in ``registry_pairs`` (owner-only; the call returns only how many pairs there are);
* ``jiuzhu_registry_duplicates()`` — the caller's county's slice of those pairs (each county's job).

``county_requests`` (协查 between counties) is also platform-level, reached only through
``jiuzhu_request_open``, ``jiuzhu_requests`` and ``jiuzhu_request_answer``, which check the
caller's (signed) county: a county opens a request about a person it holds to the county that
holds the same person, and only that county answers.

Every function reads the caller's county from ``jiuzhu_current_tenant()`` (the signed setting), never
from an argument, and filters by it explicitly (the owner may be a superuser, for whom row-level
security does not apply).
"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls

revision = '0070'
down_revision = '0052'
branch_labels = None
depends_on = None

CALLER = "(SELECT jiuzhu_current_tenant())"

#: periodic benefits only: one-off temporary relief drawn in two places is not 重复享受
SYNC = """
CREATE OR REPLACE FUNCTION jiuzhu_registry_sync(p_tenant int, p_cases int[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM benefit_registry WHERE county_id = p_tenant AND case_id = ANY(p_cases);
  INSERT INTO benefit_registry (person_bidx, county_id, case_id, household_id, township_id, category, state, since)
  SELECT DISTINCT m.id_number_bidx, c.tenant_id, c.id, c.household_id, c.township_id, cat.category,
         CASE WHEN c.status = 'approved' THEN 'active' ELSE 'pending' END,
         CASE WHEN c.status = 'approved'
              THEN date_trunc('month', coalesce(c.benefit_start, c.decided_on, c.applied_on))::date END
    FROM cases c
    JOIN household_members m ON m.tenant_id = c.tenant_id AND m.household_id = c.household_id
    CROSS JOIN LATERAL (
      SELECT f.category FROM case_findings f
       WHERE c.status = 'approved' AND f.tenant_id = c.tenant_id AND f.case_id = c.id AND f.finding = 'eligible'
      UNION
      SELECT x FROM json_array_elements_text(c.categories::json) AS x
       WHERE NOT (c.status = 'approved' AND EXISTS (
               SELECT 1 FROM case_findings f2 WHERE f2.tenant_id = c.tenant_id AND f2.case_id = c.id
                                                AND f2.finding = 'eligible'))
    ) AS cat(category)
   WHERE c.tenant_id = p_tenant AND c.id = ANY(p_cases) AND c.kind = 'application'
     AND c.status IN ('pending_acceptance', 'in_review', 'approved')
     AND cat.category <> 'temporary_relief';
END $$"""

#: the cases of some households: ``pairs`` is a query of (tenant_id, household_id)
CASES_OF = ("SELECT c.tenant_id, c.id FROM cases c JOIN ({pairs}) AS h (tenant_id, household_id) "
            "ON c.tenant_id = h.tenant_id AND c.household_id = h.household_id")
MOVED_MEMBERS = """
    SELECT n.tenant_id, n.household_id FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE o.id_number_bidx IS DISTINCT FROM n.id_number_bidx OR o.household_id IS DISTINCT FROM n.household_id
    UNION
    SELECT o.tenant_id, o.household_id FROM old_rows o JOIN new_rows n ON o.id = n.id
     WHERE o.household_id IS DISTINCT FROM n.household_id"""


def _by_county(rows: str) -> str:
    """plpgsql: sync the cases of ``rows`` (a query of tenant_id, case id), one call per county."""
    return f"""
          FOR t, ids IN SELECT x.tenant_id, array_agg(DISTINCT x.id) FROM ({rows}) AS x (tenant_id, id)
                        GROUP BY x.tenant_id LOOP
            PERFORM jiuzhu_registry_sync(t, ids);
          END LOOP;"""


#: trigger functions: statement-level from the transition tables (one call per county for a bulk
#: insert), or row-level for a case's own update (filtered by WHEN to the columns that matter)
TRIGGERS = {
    "jiuzhu_registry_cases_changed": f"""
        DECLARE t int; ids int[];
        BEGIN
          IF TG_OP = 'DELETE' THEN
            DELETE FROM benefit_registry r USING old_rows o WHERE r.county_id = o.tenant_id AND r.case_id = o.id;
          ELSE {_by_county("SELECT tenant_id, id FROM new_rows")}
          END IF;
          RETURN NULL;
        END""",
    "jiuzhu_registry_case_changed": """
        BEGIN
          PERFORM jiuzhu_registry_sync(NEW.tenant_id, ARRAY[NEW.id]);
          RETURN NULL;
        END""",
    "jiuzhu_registry_findings_changed": f"""
        DECLARE t int; ids int[];
        BEGIN
          IF TG_OP = 'INSERT' THEN {_by_county("SELECT tenant_id, case_id FROM new_rows")}
          ELSIF TG_OP = 'DELETE' THEN {_by_county("SELECT tenant_id, case_id FROM old_rows")}
          ELSE {_by_county("SELECT tenant_id, case_id FROM new_rows UNION SELECT tenant_id, case_id FROM old_rows")}
          END IF;
          RETURN NULL;
        END""",
    "jiuzhu_registry_members_changed": f"""
        DECLARE t int; ids int[];
        BEGIN
          IF TG_OP = 'INSERT' THEN
            {_by_county(CASES_OF.format(pairs="SELECT DISTINCT tenant_id, household_id FROM new_rows"))}
          ELSIF TG_OP = 'DELETE' THEN
            {_by_county(CASES_OF.format(pairs="SELECT DISTINCT tenant_id, household_id FROM old_rows"))}
          ELSE {_by_county(CASES_OF.format(pairs=MOVED_MEMBERS))}
          END IF;
          RETURN NULL;
        END""",
}

LOOKUP = """
CREATE OR REPLACE FUNCTION jiuzhu_registry_lookup(p_bidx text[])
RETURNS TABLE (person_bidx text, county text, same_county boolean, case_id int, household_id int,
               category text, state text, since date)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH me AS (SELECT jiuzhu_current_tenant() AS t),
  held AS (  -- only the indexes the caller's county itself holds: no probing for strangers
    SELECT DISTINCT b FROM unnest(p_bidx) AS b, me
     WHERE me.t > 0 AND (EXISTS (SELECT 1 FROM household_members m WHERE m.tenant_id = me.t AND m.id_number_bidx = b)
                         OR EXISTS (SELECT 1 FROM benefit_registry r WHERE r.county_id = me.t AND r.person_bidx = b)))
  SELECT r.person_bidx::text, t.name::text, r.county_id = me.t,
         CASE WHEN r.county_id = me.t THEN r.case_id END,
         CASE WHEN r.county_id = me.t THEN r.household_id END,
         r.category::text, r.state::text, r.since
    FROM held JOIN benefit_registry r ON r.person_bidx = held.b
    JOIN tenants t ON t.id = r.county_id, me
   ORDER BY 1, 3 DESC, 2, 6
$$"""

#: the nightly pass over the whole registry: one self-join on the blind index, its pairs kept in
#: ``registry_pairs`` (owner-only) for each county's job to read its own slice
REFRESH = """
CREATE OR REPLACE FUNCTION jiuzhu_registry_refresh() RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE n bigint;
BEGIN
  IF jiuzhu_current_tenant() IS DISTINCT FROM 0 THEN  -- the platform's nightly job, no county
    RAISE EXCEPTION 'jiuzhu_registry_refresh() runs in the platform scope only';
  END IF;
  DELETE FROM registry_pairs;
  INSERT INTO registry_pairs (county_id, case_id, person_bidx, other_county_id, other_case_id, category, state, since)
  SELECT DISTINCT a.county_id, a.case_id, a.person_bidx, b.county_id, b.case_id, b.category, b.state, b.since
    FROM benefit_registry a JOIN benefit_registry b ON b.person_bidx = a.person_bidx
     AND (b.county_id <> a.county_id OR b.household_id <> a.household_id);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$"""

DUPLICATES = """
CREATE OR REPLACE FUNCTION jiuzhu_registry_duplicates()
RETURNS TABLE (case_id int, person_bidx text, county text, same_county boolean, other_case_id int,
               category text, state text, since date)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH me AS (SELECT jiuzhu_current_tenant() AS t)
  SELECT p.case_id, p.person_bidx::text, t.name::text, p.other_county_id = me.t,
         CASE WHEN p.other_county_id = me.t THEN p.other_case_id END, p.category::text, p.state::text, p.since
    FROM me JOIN registry_pairs p ON p.county_id = me.t AND me.t > 0
    JOIN tenants t ON t.id = p.other_county_id
   ORDER BY 1, 2, 3, 6
$$"""

OPEN = """
CREATE OR REPLACE FUNCTION jiuzhu_request_open(p_case int, p_bidx text, p_opened date, p_due date)
RETURNS int
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE me int := jiuzhu_current_tenant(); opened int;
BEGIN
  IF me IS NULL OR me <= 0 OR p_due < p_opened OR p_due > p_opened + 90 THEN
    RETURN 0;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM benefit_registry WHERE county_id = me AND case_id = p_case AND person_bidx = p_bidx) THEN
    RETURN 0;  -- only about a person of one of the caller's own cases
  END IF;
  INSERT INTO county_requests (from_county, to_county, person_bidx, from_case_id, to_case_id, to_township_id,
                               category, opened_on, due_on)
  SELECT DISTINCT ON (o.county_id) me, o.county_id, p_bidx, p_case, o.case_id, o.township_id, o.category,
         p_opened, p_due
    FROM benefit_registry o
   WHERE o.person_bidx = p_bidx AND o.county_id <> me
     AND NOT EXISTS (SELECT 1 FROM county_requests q WHERE q.from_county = me AND q.to_county = o.county_id
                        AND q.from_case_id = p_case AND q.person_bidx = p_bidx AND q.answer IS NULL)
   ORDER BY o.county_id, o.state, o.case_id;
  GET DIAGNOSTICS opened = ROW_COUNT;
  RETURN opened;
END $$"""

REQUESTS = """
CREATE OR REPLACE FUNCTION jiuzhu_requests()
RETURNS TABLE (id int, direction text, county text, my_case_id int, my_township_id int, person_bidx text,
               category text, opened_on date, due_on date, answer text, stopped_month date, answered_on date)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH me AS (SELECT jiuzhu_current_tenant() AS t)
  SELECT q.id, 'out', t.name::text, q.from_case_id, NULL::int, q.person_bidx::text, q.category::text, q.opened_on,
         q.due_on, q.answer::text, q.stopped_month, q.answered_on
    FROM me JOIN county_requests q ON q.from_county = me.t AND me.t > 0 JOIN tenants t ON t.id = q.to_county
  UNION ALL
  SELECT q.id, 'in', t.name::text, q.to_case_id, q.to_township_id, q.person_bidx::text, q.category::text,
         q.opened_on, q.due_on, q.answer::text, q.stopped_month, q.answered_on
    FROM me JOIN county_requests q ON q.to_county = me.t AND me.t > 0 JOIN tenants t ON t.id = q.from_county
   ORDER BY 9, 1
$$"""

ANSWER = """
CREATE OR REPLACE FUNCTION jiuzhu_request_answer(p_id int, p_answer text, p_stopped date, p_on date)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE me int := jiuzhu_current_tenant(); done int;
BEGIN
  IF me IS NULL OR me <= 0 OR p_answer NOT IN ('confirmed', 'stopped', 'not_ours')
     OR (p_answer = 'stopped') <> (p_stopped IS NOT NULL) THEN
    RETURN false;
  END IF;
  UPDATE county_requests SET answer = p_answer, stopped_month = date_trunc('month', p_stopped)::date,
                             answered_on = p_on
   WHERE id = p_id AND to_county = me AND answer IS NULL AND p_on >= opened_on;
  GET DIAGNOSTICS done = ROW_COUNT;
  RETURN done = 1;
END $$"""

GRANTED = ("jiuzhu_registry_lookup(text[])", "jiuzhu_registry_duplicates()", "jiuzhu_registry_refresh()",
           "jiuzhu_request_open(int, text, date, date)", "jiuzhu_requests()",
           "jiuzhu_request_answer(int, text, date, date)")


def _case_keyed(name: str, *columns: sa.Column, unique: tuple[str, ...], pg: bool,
                by_user: bool = False) -> None:
    """A county table of case-level rows, keyed as 0062 keys every county table (the demo's SQLite:
    ``id`` alone, as there)."""
    keys = [sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['cases.tenant_id', 'cases.id'],
                                    name=f'fk_{name}_case_id_cases', ondelete='CASCADE'),
            sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['household_members.tenant_id', 'household_members.id'],
                                    name=f'fk_{name}_member_id_household_members', ondelete='CASCADE'),
            sa.PrimaryKeyConstraint('tenant_id', 'id', name=f'pk_{name}')] if pg else [
            sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=f'fk_{name}_case_id_cases', ondelete='CASCADE'),
            sa.ForeignKeyConstraint(['member_id'], ['household_members.id'], name=f'fk_{name}_member_id_household_members',
                                    ondelete='CASCADE'),
            sa.PrimaryKeyConstraint('id', name=f'pk_{name}')]
    if by_user:
        keys.append(sa.ForeignKeyConstraint(['tenant_id', 'recorded_by_id'], ['users.tenant_id', 'users.id'],
                                            name=f'fk_{name}_recorded_by_id_users') if pg else
                    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=f'fk_{name}_recorded_by_id_users'))
    op.create_table(
        name,
        sa.Column('id', sa.Integer(), nullable=False, autoincrement=True),
        sa.Column('case_id', sa.Integer(), nullable=False),
        *columns,
        sa.Column('tenant_id', sa.Integer(), nullable=False,
                  comment='Owning tenant (county); filtered centrally and by row-level security.'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=f'fk_{name}_tenant_id_tenants',
                                ondelete='RESTRICT'),
        *keys,
        sa.UniqueConstraint('tenant_id', *unique, name=f'uq_{name}_key'),
    )
    op.create_index(f'ix_{name}_tenant_id_case_id', name, ['tenant_id', 'case_id'])


def upgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    # the resolution an approver records for a match (transfer of residence, stopped elsewhere, a mistake)
    _case_keyed('duplicate_resolutions',
                sa.Column('member_id', sa.Integer(), nullable=False),
                sa.Column('other', sa.String(length=120), nullable=False),
                sa.Column('kind', sa.String(length=16), nullable=False),
                sa.Column('note', sa.Text(), nullable=True),
                sa.Column('recorded_on', sa.Date(), nullable=False),
                sa.Column('recorded_by_id', sa.Integer(), nullable=True),
                sa.Column('created_at', sa.DateTime(), nullable=False),
                unique=('case_id', 'member_id', 'other'), pg=pg, by_user=True)
    # what the nightly sweep found for this county: first and last seen, gone when it no longer shows
    _case_keyed('duplicate_findings',
                sa.Column('member_id', sa.Integer(), nullable=False),
                sa.Column('other', sa.String(length=120), nullable=False),
                sa.Column('category', sa.String(length=32), nullable=False),
                sa.Column('state', sa.String(length=8), nullable=False),
                sa.Column('since', sa.Date(), nullable=True),
                sa.Column('first_seen_on', sa.Date(), nullable=False),
                sa.Column('last_seen_on', sa.Date(), nullable=False),
                sa.Column('gone_on', sa.Date(), nullable=True),
                unique=('case_id', 'member_id', 'other', 'category'), pg=pg)
    for name in ('duplicate_resolutions', 'duplicate_findings'):
        rls.grant_app_access(op, name)
        rls.enable_tenant_rls(op, name)

    op.create_table(
        'benefit_registry',
        sa.Column('person_bidx', sa.String(length=96), nullable=False),
        sa.Column('county_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('township_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('since', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['county_id'], ['tenants.id'], name='fk_benefit_registry_county_id_tenants',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('case_id', 'person_bidx', 'category', name='pk_benefit_registry'),
        comment="distribution: local — the platform's duplicate-benefit registry, read only through "
                "SECURITY DEFINER functions",
    )
    op.create_index('ix_benefit_registry_person', 'benefit_registry', ['person_bidx', 'county_id'])
    op.create_index('ix_benefit_registry_county', 'benefit_registry', ['county_id', 'person_bidx'])
    op.create_table(
        'registry_pairs',
        sa.Column('county_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('person_bidx', sa.String(length=96), nullable=False),
        sa.Column('other_county_id', sa.Integer(), nullable=False),
        sa.Column('other_case_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=8), nullable=False),
        sa.Column('since', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('county_id', 'case_id', 'person_bidx', 'other_case_id', 'category',
                                name='pk_registry_pairs'),
        comment="distribution: local — the nightly self-join of the duplicate-benefit registry, read only through "
                "jiuzhu_registry_duplicates()",
    )
    op.create_table(
        'county_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('from_county', sa.Integer(), nullable=False),
        sa.Column('to_county', sa.Integer(), nullable=False),
        sa.Column('person_bidx', sa.String(length=96), nullable=False),
        sa.Column('from_case_id', sa.Integer(), nullable=False),
        sa.Column('to_case_id', sa.Integer(), nullable=False),
        sa.Column('to_township_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('opened_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('answer', sa.String(length=16), nullable=True),
        sa.Column('stopped_month', sa.Date(), nullable=True),
        sa.Column('answered_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['from_county'], ['tenants.id'], name='fk_county_requests_from_county_tenants',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['to_county'], ['tenants.id'], name='fk_county_requests_to_county_tenants',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_county_requests'),
        comment="distribution: local — 协查 between counties, reached only through SECURITY DEFINER functions",
    )
    op.create_index('ix_county_requests_from', 'county_requests', ['from_county', 'due_on'])
    op.create_index('ix_county_requests_to', 'county_requests', ['to_county', 'due_on'])
    if not pg:
        return  # (the demo's SQLite: one process, no roles; jiuzhu.duplicates reads the cases themselves)
    role = rls.app_role()
    for table in ('benefit_registry', 'registry_pairs', 'county_requests'):
        op.execute(f"REVOKE ALL ON {table} FROM {role}")
        op.execute(f"REVOKE ALL ON {table} FROM PUBLIC")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")  # and no policy: nothing, were it granted
    op.execute(SYNC)
    # (the default privileges grant EXECUTE on new functions to the application role: taken back)
    op.execute(f"REVOKE ALL ON FUNCTION jiuzhu_registry_sync(int, int[]) FROM PUBLIC, {role}")
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
                   f"SET search_path = public, pg_temp AS $$ {body} $$")
        op.execute(f"REVOKE ALL ON FUNCTION {name}() FROM PUBLIC, {role}")
    op.execute("""CREATE TRIGGER registry_cases_insert AFTER INSERT ON cases REFERENCING NEW TABLE AS new_rows
                  FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_registry_cases_changed()""")
    op.execute("""CREATE TRIGGER registry_cases_delete AFTER DELETE ON cases REFERENCING OLD TABLE AS old_rows
                  FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_registry_cases_changed()""")
    op.execute("""CREATE TRIGGER registry_case_update AFTER UPDATE OF status, categories, benefit_start, decided_on,
                  household_id, kind ON cases FOR EACH ROW
                  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.categories::text IS DISTINCT FROM NEW.categories::text
                        OR OLD.benefit_start IS DISTINCT FROM NEW.benefit_start
                        OR OLD.decided_on IS DISTINCT FROM NEW.decided_on
                        OR OLD.household_id IS DISTINCT FROM NEW.household_id OR OLD.kind IS DISTINCT FROM NEW.kind)
                  EXECUTE FUNCTION jiuzhu_registry_case_changed()""")
    for table, function in (("case_findings", "jiuzhu_registry_findings_changed"),
                            ("household_members", "jiuzhu_registry_members_changed")):
        short = table.split("_")[-1]
        op.execute(f"""CREATE TRIGGER registry_{short}_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows
                       FOR EACH STATEMENT EXECUTE FUNCTION {function}()""")
        op.execute(f"""CREATE TRIGGER registry_{short}_update AFTER UPDATE ON {table}
                       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                       FOR EACH STATEMENT EXECUTE FUNCTION {function}()""")
        op.execute(f"""CREATE TRIGGER registry_{short}_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
                       FOR EACH STATEMENT EXECUTE FUNCTION {function}()""")
    # the cases there already (as the owner; FORCE ROW LEVEL SECURITY lifted for this one statement)
    for table in ("cases", "case_findings", "household_members"):
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute("SELECT jiuzhu_registry_sync(tenant_id, array_agg(id)) FROM cases WHERE kind = 'application' "
               "AND status IN ('pending_acceptance', 'in_review', 'approved') GROUP BY tenant_id")
    for table in ("cases", "case_findings", "household_members"):
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    for sql in (LOOKUP, REFRESH, DUPLICATES, OPEN, REQUESTS, ANSWER):
        op.execute(sql)
    for signature in GRANTED:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {role}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for trigger, table in (("registry_cases_insert", "cases"), ("registry_cases_delete", "cases"),
                               ("registry_case_update", "cases")):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for table in ("case_findings", "household_members"):
            short = table.split("_")[-1]
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS registry_{short}_{event} ON {table}")
        for signature in (*GRANTED, "jiuzhu_registry_sync(int, int[])", *(f"{n}()" for n in TRIGGERS)):
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.drop_table('county_requests')
    op.drop_table('registry_pairs')
    op.drop_table('benefit_registry')
    op.drop_table('duplicate_findings')
    op.drop_table('duplicate_resolutions')
