"""the tenant handed to PostgreSQL signed: jiuzhu_current_tenant() checks an HMAC with a key only
the owner can read, and every row-level security policy compares with it

Revision ID: 0018
Revises: 0017

"""
from alembic import op

from jiuzhu.tenancy import rls

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    rls.install_signed_tenant(op)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION jiuzhu_current_tenant() CASCADE")
