"""case assistance records: what a village assistant or township staff did to help a case along

Revision ID: 0014
Revises: 0013

"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_assistance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('visit', 'investigation', 'delivery', 'report', 'other', name='assistancekind', native_enum=False, length=16), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_assistance_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_case_assistance_recorded_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_case_assistance_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_assistance'))
    )
    with op.batch_alter_table('case_assistance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_assistance_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_assistance_tenant_id'), ['tenant_id'], unique=False)

    rls.grant_app_access(op, 'case_assistance')
    rls.enable_tenant_rls(op, 'case_assistance')


def downgrade():
    op.drop_table('case_assistance')
