"""a case shared by two townships of one county: the other township and what it is to the case
(``registered``: the household's registered township, 景德镇 人户分离; ``emergency``: where the emergency
happened, 枞阳 临时救助). A step's ``township_id`` is the township that owns it (no new column).

The new column is on ``cases``, which already has forced row-level security by ``tenant_id``; the
other township is an org unit of the same tenant (checked by the trigger below, so no row can point
at another county's unit). The partial index serves the org scoping's ``other_township_id = :t``.

Revision ID: 0071
Revises: 0058

"""
import sqlalchemy as sa
from alembic import op

revision = '0071'
down_revision = '0058'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('cases', sa.Column('other_township_id', sa.Integer(), sa.ForeignKey('org_units.id'),
                                     nullable=True))
    op.add_column('cases', sa.Column('other_township_role', sa.String(length=16), nullable=True))
    op.create_check_constraint(
        'ck_cases_other_township_role', 'cases',
        "(other_township_id IS NULL AND other_township_role IS NULL) OR "
        "(other_township_id IS NOT NULL AND other_township_role IN ('registered', 'emergency') "
        "AND other_township_id <> township_id)")
    op.create_index('ix_cases_other_township', 'cases', ['tenant_id', 'other_township_id'],
                    postgresql_where=sa.text('other_township_id IS NOT NULL'),
                    sqlite_where=sa.text('other_township_id IS NOT NULL'))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
            CREATE FUNCTION jiuzhu_case_other_township_same_tenant() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.other_township_id IS NOT NULL AND NOT EXISTS (
                  SELECT 1 FROM org_units u WHERE u.id = NEW.other_township_id
                     AND u.tenant_id = NEW.tenant_id AND u.level = 'township') THEN
                RAISE EXCEPTION 'cases.other_township_id must be a township of the same tenant'
                  USING ERRCODE = 'check_violation';
              END IF;
              RETURN NEW;
            END $$""")
        op.execute("""
            CREATE TRIGGER trg_cases_other_township_same_tenant
            BEFORE INSERT OR UPDATE OF other_township_id, tenant_id ON cases
            FOR EACH ROW EXECUTE FUNCTION jiuzhu_case_other_township_same_tenant()""")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS trg_cases_other_township_same_tenant ON cases")
        op.execute("DROP FUNCTION IF EXISTS jiuzhu_case_other_township_same_tenant()")
    op.drop_index('ix_cases_other_township', table_name='cases')
    op.drop_constraint('ck_cases_other_township_role', 'cases', type_='check')
    op.drop_column('cases', 'other_township_role')
    op.drop_column('cases', 'other_township_id')
