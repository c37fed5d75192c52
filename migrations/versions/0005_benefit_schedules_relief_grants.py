"""benefit schedules and payments, temporary-relief grants and payments

Revision ID: 0005
Revises: 0011

"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls

TENANT_TABLES = ("benefit_schedules", "benefit_payments", "relief_grants", "relief_payments")

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0011'
branch_labels = None
depends_on = None

TENANT_COMMENT = 'Owning tenant (county); filtered centrally and by row-level security.'


def _tenant_column():
    return sa.Column('tenant_id', sa.Integer(), nullable=False, comment=TENANT_COMMENT)


def upgrade():
    op.create_table('benefit_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('monthly_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('start_month', sa.Date(), nullable=False),
    sa.Column('end_month', sa.Date(), nullable=True),
    sa.Column('pay_by_day', sa.SmallInteger(), nullable=True),
    sa.Column('paid_through', sa.String(length=200), nullable=True),
    sa.Column('gradual_exit_months', sa.SmallInteger(), nullable=True),
    sa.Column('gradual_exit_decided_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    _tenant_column(),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_benefit_schedules_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_benefit_schedules_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_schedules')),
    sa.UniqueConstraint('case_id', name=op.f('uq_benefit_schedules_case_id'))
    )
    with op.batch_alter_table('benefit_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benefit_schedules_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_benefit_schedules_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('benefit_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('paid_by_id', sa.Integer(), nullable=True),
    _tenant_column(),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_benefit_payments_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['paid_by_id'], ['users.id'], name=op.f('fk_benefit_payments_paid_by_id_users')),
    sa.ForeignKeyConstraint(['schedule_id'], ['benefit_schedules.id'], name=op.f('fk_benefit_payments_schedule_id_benefit_schedules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_benefit_payments_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_payments')),
    sa.UniqueConstraint('schedule_id', 'month', name=op.f('uq_benefit_payments_schedule_id_month'))
    )
    with op.batch_alter_table('benefit_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benefit_payments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_benefit_payments_schedule_id'), ['schedule_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_benefit_payments_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('relief_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('one_off', 'staged', 'advance', name='reliefkind', native_enum=False, length=16), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('approved_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recipient', sa.String(length=50), nullable=True),
    sa.Column('emergency_place', sa.String(length=200), nullable=True),
    sa.Column('paperwork_completed_on', sa.Date(), nullable=True),
    sa.Column('handler_signatures', sa.JSON(), nullable=False),
    sa.Column('sealed', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    _tenant_column(),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_relief_grants_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_relief_grants_created_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_relief_grants_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relief_grants'))
    )
    with op.batch_alter_table('relief_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relief_grants_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_relief_grants_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_relief_grants_tenant_kind_paperwork',
                              ['tenant_id', 'kind', 'paperwork_completed_on'], unique=False)

    op.create_table('relief_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.SmallInteger(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('paid_by_id', sa.Integer(), nullable=True),
    sa.Column('voucher_no', sa.String(length=60), nullable=True),
    _tenant_column(),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_relief_payments_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['grant_id'], ['relief_grants.id'], name=op.f('fk_relief_payments_grant_id_relief_grants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['paid_by_id'], ['users.id'], name=op.f('fk_relief_payments_paid_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_relief_payments_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relief_payments')),
    sa.UniqueConstraint('grant_id', 'stage', name=op.f('uq_relief_payments_grant_id_stage'))
    )
    with op.batch_alter_table('relief_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relief_payments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_relief_payments_grant_id'), ['grant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_relief_payments_tenant_id'), ['tenant_id'], unique=False)

    rls.grant_app_access(op, *TENANT_TABLES)
    for table in TENANT_TABLES:
        rls.enable_tenant_rls(op, table)


def downgrade():
    for table in reversed(TENANT_TABLES):
        op.drop_table(table)
