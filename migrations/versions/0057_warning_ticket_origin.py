"""where a warning ticket came from: the monitoring platform or a 12345 hotline ticket (枞阳 “做好“12345”政务
服务热线交办社会救助热线工单处置”), each origin with its own deadline

Revision ID: 0057
Revises: 0053

"""
import sqlalchemy as sa
from alembic import op

revision = '0057'
down_revision = '0053'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('warning_tickets', sa.Column('origin', sa.String(length=16), nullable=False,
                                               server_default='monitoring'))


def downgrade():
    op.drop_column('warning_tickets', 'origin')
