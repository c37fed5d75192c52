"""a real-name report's correction (问题纠正): when and what was done about a report found true (宁夏
“举报查实、问题纠正”: recorded before the reporter is answered)

Revision ID: 0058
Revises: 0057

"""
import sqlalchemy as sa
from alembic import op

revision = '0058'
down_revision = '0057'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('realname_reports', sa.Column('corrected_on', sa.Date(), nullable=True))
    op.add_column('realname_reports', sa.Column('correction', sa.Text(), nullable=True))


def downgrade():
    op.drop_column('realname_reports', 'correction')
    op.drop_column('realname_reports', 'corrected_on')
