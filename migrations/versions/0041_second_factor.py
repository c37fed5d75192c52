"""the second factor: a TOTP secret (encrypted), when it was turned on, the last step used, digests
of the recovery codes

Revision ID: 0041
Revises: 0020

"""
import sqlalchemy as sa
from alembic import op

revision = '0041'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    # plain ADD COLUMN (no batch): on SQLite a batch would rebuild users and lose its expression index
    op.add_column('users', sa.Column('totp_secret', sa.Text(), nullable=True))
    op.add_column('users', sa.Column('totp_enabled_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.add_column('users', sa.Column('recovery_codes', sa.JSON(), nullable=True))


def downgrade():
    for column in ('recovery_codes', 'totp_last_step', 'totp_enabled_at', 'totp_secret'):
        op.drop_column('users', column)
