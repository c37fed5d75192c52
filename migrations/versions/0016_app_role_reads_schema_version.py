"""the application role may read alembic_version, so that /readyz can tell whether the schema is at
the head of the migrations this code ships

Revision ID: 0016
Revises: 0015

"""
from alembic import op

from jiuzhu.tenancy import rls

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"GRANT SELECT ON alembic_version TO {rls.app_role()}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"REVOKE SELECT ON alembic_version FROM {rls.app_role()}")
