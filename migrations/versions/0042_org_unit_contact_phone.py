"""an org unit's public contact phone (the township's and the county's): printed on publicity pages
and sheets as where to object

Revision ID: 0042
Revises: 0041

"""
import sqlalchemy as sa
from alembic import op

revision = '0042'
down_revision = '0041'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('org_units', sa.Column('contact_phone', sa.String(40), nullable=True))


def downgrade():
    op.drop_column('org_units', 'contact_phone')
