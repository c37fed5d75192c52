"""member names found by their part through their pairs of adjacent characters (``member_name_grams``),
kept by triggers on ``household_members`` in the writing transaction (PostgreSQL)

案件查询 found a name by its part with ``name LIKE '%…%'``, which no btree index serves: under row-level
security PostgreSQL walked the county's cases newest first and read each household's members,
expecting to fill the page soon — 0.3–0.5 s for a township's staff and up to 1.7 s for the county's
when no name matched, at 1,000,000 cases in one county. A GIN index of the names' characters is
never used under row-level security: only ``LEAKPROOF`` operators reach an index ahead of the
policy, and the array's ``@>`` is not. Each pair of adjacent characters of a name (``王小明``: ``王小``,
``小明``) is a row here, with the member and its household, under a btree ``(tenant_id, gram)`` that
``text =`` (leakproof) reaches: a search looks up the pairs of what was typed, keeps the members
that have them all, and checks their names.

Statement triggers with transition tables: one statement per insert, update or delete, however many
members (an import's hundred thousand). A member removed takes its pairs with it (the composite
foreign key cascades). The SQLite demo has the table but no triggers: its search reads the names.

Revision ID: 0077
Revises: 0076

"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls

revision = '0077'
down_revision = '0076'
branch_labels = None
depends_on = None

#: the distinct pairs of adjacent characters of the names of ``{rows}`` (a table or transition table
#: aliased ``m``, filtered by ``{where}``), with their member and household
PAIRS = """
    SELECT DISTINCT m.tenant_id, substr(m.name, i, 2), m.id, m.household_id
      FROM {rows} m CROSS JOIN LATERAL generate_series(1, char_length(m.name) - 1) AS i
     WHERE {where}"""
INSERT = "INSERT INTO member_name_grams (tenant_id, gram, member_id, household_id)"
#: an update's members whose name or household changed
CHANGED = ("EXISTS (SELECT 1 FROM old_rows o WHERE o.id = m.id AND "
           "(o.name IS DISTINCT FROM m.name OR o.household_id IS DISTINCT FROM m.household_id))")

FUNCTION = f"""
CREATE OR REPLACE FUNCTION jiuzhu_member_name_grams_apply() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {INSERT} {PAIRS.format(rows="new_rows", where="true")};
  ELSE
    DELETE FROM member_name_grams g USING new_rows m
     WHERE g.tenant_id = m.tenant_id AND g.member_id = m.id AND {CHANGED};
    {INSERT} {PAIRS.format(rows="new_rows", where=CHANGED)};
  END IF;
  RETURN NULL;
END $$"""


def upgrade():
    pg = op.get_bind().dialect.name == 'postgresql'
    if pg:  # every key leads with tenant_id (0062): a pair points only at its own county's member
        keys = [sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['household_members.tenant_id',
                                                                      'household_members.id'],
                                        name=op.f('fk_member_name_grams_member_id_household_members'),
                                        ondelete='CASCADE')]
    else:
        keys = [sa.ForeignKeyConstraint(['member_id'], ['household_members.id'],
                                        name=op.f('fk_member_name_grams_member_id_household_members'),
                                        ondelete='CASCADE')]
    op.create_table('member_name_grams',
    sa.Column('gram', sa.String(length=2), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    *keys,
    sa.PrimaryKeyConstraint('tenant_id', 'gram', 'member_id', name='pk_member_name_grams'))
    op.create_index('ix_member_name_grams_member', 'member_name_grams', ['tenant_id', 'member_id'], unique=False)
    if not pg:
        return
    # the members there already, read by the owner before row-level security applies to the pairs
    op.execute("ALTER TABLE household_members NO FORCE ROW LEVEL SECURITY")
    op.execute(f"{INSERT} {PAIRS.format(rows='household_members', where='true')}")
    op.execute("ALTER TABLE household_members FORCE ROW LEVEL SECURITY")
    # the application reads them; only the triggers write them, in the application's transaction and
    # under its county (row-level security checks the rows they write)
    rls.grant_app_only(op, 'member_name_grams', 'SELECT, INSERT, DELETE')
    rls.enable_tenant_rls(op, 'member_name_grams')
    op.execute(FUNCTION)
    op.execute("""CREATE TRIGGER member_name_grams_insert AFTER INSERT ON household_members
                  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_member_name_grams_apply()""")
    op.execute("""CREATE TRIGGER member_name_grams_update AFTER UPDATE ON household_members
                  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                  FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_member_name_grams_apply()""")
    op.execute("ANALYZE member_name_grams")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS member_name_grams_insert ON household_members")
        op.execute("DROP TRIGGER IF EXISTS member_name_grams_update ON household_members")
        op.execute("DROP FUNCTION IF EXISTS jiuzhu_member_name_grams_apply()")
    op.drop_table('member_name_grams')
