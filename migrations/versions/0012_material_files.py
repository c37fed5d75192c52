"""material files: scans and photos attached to a case's materials checklist

Revision ID: 0012
Revises: 0009

"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_material_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_by_name', sa.String(length=120), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_material_files_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['material_id'], ['case_materials.id'], name=op.f('fk_case_material_files_material_id_case_materials'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_case_material_files_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_case_material_files_uploaded_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_material_files'))
    )
    with op.batch_alter_table('case_material_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_material_files_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_material_files_material_id'), ['material_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_material_files_tenant_id'), ['tenant_id'], unique=False)

    rls.grant_app_access(op, 'case_material_files')
    rls.enable_tenant_rls(op, 'case_material_files')


def downgrade():
    op.drop_table('case_material_files')
