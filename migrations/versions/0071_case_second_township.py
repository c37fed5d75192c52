"""a case shared by two townships of one county: the other township and what it is to the case
(``registered``: the household's registered township, 景德镇 人户分离; ``emergency``: where the emergency
happened, 枞阳 临时救助). A step's ``township_id`` is the township that owns it (no new column).

The new column is on ``cases``, which already has forced row-level security by ``tenant_id``. On
PostgreSQL its foreign key is composite like every county key (0062), ``(tenant_id,
other_township_id) → org_units (tenant_id, id)``: a case can only name a unit of its own county; a
trigger checks the unit is a township. The partial index serves the org scoping's
``other_township_id = :t``.

Revision ID: 0071
Revises: 0058

"""
import sqlalchemy as sa
from alembic import op

revision = '0071'
down_revision = '0058'
branch_labels = None
depends_on = None


ROLE_CHECK = ("(other_township_id IS NULL AND other_township_role IS NULL) OR "
              "(other_township_id IS NOT NULL AND other_township_role IS NOT NULL "
              "AND other_township_role IN ('registered', 'emergency') "
              "AND other_township_id <> township_id)")


def upgrade():
    pg = op.get_bind().dialect.name == 'postgresql'
    op.add_column('cases', sa.Column('other_township_id', sa.Integer(), nullable=True))
    op.add_column('cases', sa.Column('other_township_role', sa.String(length=16), nullable=True))
    if pg:  # (the demo's SQLite: the columns only, like 0052; the application sets both or neither)
        op.create_foreign_key('fk_cases_other_township_id_org_units', 'cases', 'org_units',
                              ['tenant_id', 'other_township_id'], ['tenant_id', 'id'])
        op.create_check_constraint('ck_cases_other_township_role', 'cases', ROLE_CHECK)
    op.create_index('ix_cases_other_township', 'cases', ['tenant_id', 'other_township_id'],
                    postgresql_where=sa.text('other_township_id IS NOT NULL'),
                    sqlite_where=sa.text('other_township_id IS NOT NULL'))
    if pg:
        op.execute("""
            CREATE FUNCTION jiuzhu_case_other_township_is_a_township() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.other_township_id IS NOT NULL AND NOT EXISTS (
                  SELECT 1 FROM org_units u WHERE u.tenant_id = NEW.tenant_id
                     AND u.id = NEW.other_township_id AND u.level = 'township') THEN
                RAISE EXCEPTION 'cases.other_township_id must be a township of the case''s county'
                  USING ERRCODE = 'check_violation';
              END IF;
              RETURN NEW;
            END $$""")
        op.execute("""
            CREATE TRIGGER trg_cases_other_township_is_a_township
            BEFORE INSERT OR UPDATE OF other_township_id, tenant_id ON cases
            FOR EACH ROW EXECUTE FUNCTION jiuzhu_case_other_township_is_a_township()""")


def downgrade():
    pg = op.get_bind().dialect.name == 'postgresql'
    if pg:
        op.execute("DROP TRIGGER IF EXISTS trg_cases_other_township_is_a_township ON cases")
        op.execute("DROP FUNCTION IF EXISTS jiuzhu_case_other_township_is_a_township()")
    op.drop_index('ix_cases_other_township', table_name='cases')
    if pg:
        op.drop_constraint('fk_cases_other_township_id_org_units', 'cases', type_='foreignkey')
        op.drop_constraint('ck_cases_other_township_role', 'cases', type_='check')
        op.drop_column('cases', 'other_township_role')
        op.drop_column('cases', 'other_township_id')
    else:
        with op.batch_alter_table('cases') as batch_op:
            batch_op.drop_column('other_township_role')
            batch_op.drop_column('other_township_id')
