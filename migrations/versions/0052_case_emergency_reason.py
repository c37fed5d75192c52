"""a case's 急难 reason: temporary relief handled on the simplified emergency path only when staff say
why (encrypted like the case's other reasons)

Revision ID: 0052
Revises: 0051

"""
import sqlalchemy as sa
from alembic import op

revision = '0052'
down_revision = '0051'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('cases', sa.Column('emergency_reason', sa.Text(), nullable=True))


def downgrade():
    op.drop_column('cases', 'emergency_reason')
