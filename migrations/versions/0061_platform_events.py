"""platform events: what the platform operator did to whole counties (export, import, purge), in a
keyed chain of its own, append-only

Revision ID: 0061
Revises: 0042

"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls

revision = '0061'
down_revision = '0042'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'platform_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_name', sa.String(length=200), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('tenant_code', sa.String(length=40), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('key_id', sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_events')),
        sa.UniqueConstraint('seq', name=op.f('uq_platform_events_seq')),
    )
    op.create_index('ix_platform_events_tenant_code', 'platform_events', ['tenant_code', 'seq'])
    rls.grant_app_only(op, 'platform_events', 'SELECT, INSERT')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
            CREATE OR REPLACE FUNCTION jiuzhu_platform_events_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'platform_events is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
            END $$""")
        op.execute("""
            CREATE TRIGGER platform_events_append_only BEFORE UPDATE OR DELETE ON platform_events
            FOR EACH ROW EXECUTE FUNCTION jiuzhu_platform_events_append_only()""")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS platform_events_append_only ON platform_events")
        op.execute("DROP FUNCTION IF EXISTS jiuzhu_platform_events_append_only()")
    op.drop_index('ix_platform_events_tenant_code', table_name='platform_events')
    op.drop_table('platform_events')
