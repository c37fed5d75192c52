"""the worklist reads a county's green-channel cases (绿色通道, ``cases.priority``) in a statement of
their own: a partial index finds those few cases without reading the others.

Revision ID: 0072
Revises: 0071

"""
import sqlalchemy as sa
from alembic import op

revision = '0072'
down_revision = '0071'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_cases_green_channel', 'cases', ['tenant_id', 'township_id'],
                    postgresql_where=sa.text('priority'), sqlite_where=sa.text('priority'))


def downgrade():
    op.drop_index('ix_cases_green_channel', table_name='cases')
