"""login sessions that can be ended, password history and age, dormant accounts; the county's
security policy

Revision ID: 0017
Revises: 0016

"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    # plain ADD COLUMN (no batch): on SQLite a batch would rebuild users and lose its expression index
    op.add_column('users', sa.Column('last_login_ip', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
    op.add_column('users', sa.Column('session_end_reason', sa.String(length=20), nullable=True))
    op.add_column('users', sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('password_history', sa.JSON(), nullable=True))
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                     nullable=False))
    op.add_column('users', sa.Column('disabled_reason', sa.String(length=20), nullable=True))
    op.add_column('users', sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE users SET password_changed_at = created_at WHERE password_changed_at IS NULL")

    op.create_table('security_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idle_minutes', sa.Integer(), nullable=False),
    sa.Column('absolute_hours', sa.Integer(), nullable=False),
    sa.Column('password_min_length', sa.Integer(), nullable=False),
    sa.Column('password_history', sa.Integer(), nullable=False),
    sa.Column('password_max_age_days', sa.Integer(), nullable=False),
    sa.Column('disable_unused_days', sa.Integer(), nullable=False),
    sa.Column('access_alert_per_hour', sa.Integer(), server_default='100', nullable=False),
    sa.Column('mfa_roles', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_security_policies_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_policies')),
    sa.UniqueConstraint('tenant_id', name='uq_security_policies_tenant_id')
    )
    with op.batch_alter_table('security_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_policies_tenant_id'), ['tenant_id'], unique=False)
    rls.grant_app_access(op, 'security_policies')
    rls.enable_tenant_rls(op, 'security_policies')


def downgrade():
    op.drop_table('security_policies')
    for column in ('enabled_at', 'disabled_reason', 'must_change_password', 'password_history', 'password_changed_at',
                   'session_end_reason', 'session_generation', 'last_login_ip'):
        op.drop_column('users', column)
