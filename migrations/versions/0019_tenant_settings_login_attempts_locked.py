"""a county's settings in a tenant-owned table under row-level security (out of the platform's list
of counties); login attempts readable only through narrow functions

Revision ID: 0019
Revises: 0018

"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tenant_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plugin_settings', sa.JSON(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_settings_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_settings')),
    sa.UniqueConstraint('tenant_id', name='uq_tenant_settings_tenant_id')
    )
    with op.batch_alter_table('tenant_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenant_settings_tenant_id'), ['tenant_id'], unique=False)
    op.execute("INSERT INTO tenant_settings (tenant_id, plugin_settings) "
               "SELECT id, coalesce(plugin_settings, '{}') FROM tenants")
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('plugin_settings')
    rls.grant_app_access(op, 'tenant_settings')
    rls.enable_tenant_rls(op, 'tenant_settings')
    rls.lock_login_attempts(op)


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plugin_settings', sa.JSON(), nullable=True))
    op.execute("UPDATE tenants SET plugin_settings = s.plugin_settings FROM tenant_settings s "
               "WHERE s.tenant_id = tenants.id")
    op.drop_table('tenant_settings')
