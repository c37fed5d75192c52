"""beneficiary roll imports; cases.covered_count

Revision ID: 0011
Revises: 0008

"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('roll_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'rejected', 'done', 'failed', name='importstatus', native_enum=False, length=16), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('processed_rows', sa.Integer(), nullable=False),
    sa.Column('created_cases', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_roll_imports_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_roll_imports_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roll_imports'))
    )
    with op.batch_alter_table('roll_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roll_imports_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('covered_count', sa.SmallInteger(), nullable=True))

    rls.grant_app_access(op, "roll_imports")
    rls.enable_tenant_rls(op, "roll_imports")


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('covered_count')

    with op.batch_alter_table('roll_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roll_imports_tenant_id'))

    op.drop_table('roll_imports')
