"""visits to must-visit households (走访摸排, 景德镇's 必到必访九类人群): when, by whom, what was found, seen where
the household is; keyed by county like every county table

Revision ID: 0053
Revises: 0070

"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls

revision = '0053'
down_revision = '0070'
branch_labels = None
depends_on = None


def upgrade():
    pg = op.get_bind().dialect.name == 'postgresql'
    tenant_fk = sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_outreach_visits_tenant_id_tenants'),
                                        ondelete='RESTRICT')
    if pg:  # every key leads with tenant_id (0062): a visit points only at its own county's rows
        keys = [sa.ForeignKeyConstraint(['tenant_id', 'household_id'], ['households.tenant_id', 'households.id'],
                                        name=op.f('fk_outreach_visits_household_id_households'), ondelete='CASCADE'),
                sa.ForeignKeyConstraint(['tenant_id', 'township_id'], ['org_units.tenant_id', 'org_units.id'],
                                        name=op.f('fk_outreach_visits_township_id_org_units')),
                sa.ForeignKeyConstraint(['tenant_id', 'village_id'], ['org_units.tenant_id', 'org_units.id'],
                                        name=op.f('fk_outreach_visits_village_id_org_units')),
                sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_outreach_visits'))]
    else:
        keys = [sa.ForeignKeyConstraint(['household_id'], ['households.id'],
                                        name=op.f('fk_outreach_visits_household_id_households'), ondelete='CASCADE'),
                sa.ForeignKeyConstraint(['township_id'], ['org_units.id'],
                                        name=op.f('fk_outreach_visits_township_id_org_units')),
                sa.ForeignKeyConstraint(['village_id'], ['org_units.id'],
                                        name=op.f('fk_outreach_visits_village_id_org_units')),
                sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                        name=op.f('fk_outreach_visits_recorded_by_id_users'), ondelete='SET NULL'),
                sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_visits'))]
    op.create_table('outreach_visits',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),  # a serial, in a composite key too
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('visitors', sa.String(length=200), nullable=False),
    sa.Column('groups', sa.JSON(), nullable=False),
    sa.Column('finding', sa.Text(), nullable=False),
    sa.Column('needs_assistance', sa.Boolean(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    tenant_fk, *keys)
    with op.batch_alter_table('outreach_visits', schema=None) as batch_op:
        batch_op.create_index('ix_outreach_visits_tenant_household_on', ['tenant_id', 'household_id', 'visited_on'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_outreach_visits_tenant_id'), ['tenant_id'], unique=False)
    if pg:
        op.execute('ALTER TABLE outreach_visits ADD CONSTRAINT fk_outreach_visits_recorded_by_id_users '
                   'FOREIGN KEY (tenant_id, recorded_by_id) REFERENCES users (tenant_id, id) '
                   'ON DELETE SET NULL (recorded_by_id)')
        op.execute(f'GRANT USAGE, SELECT ON SEQUENCE outreach_visits_id_seq TO {rls.app_role()}')
    rls.enable_tenant_rls(op, 'outreach_visits')


def downgrade():
    op.drop_table('outreach_visits')
