"""audit trail: append-only events hash-chained per tenant, and each chain's head

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TENANT_COMMENT = 'Owning tenant (county); filtered centrally and by row-level security.'


def upgrade():
    op.create_table('audit_heads',
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment=TENANT_COMMENT),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_audit_heads_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_audit_heads'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment=TENANT_COMMENT),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('actor_role', sa.String(length=32), nullable=False),
    sa.Column('entity_type', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_audit_events_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('tenant_id', 'seq', name=op.f('uq_audit_events_tenant_id_seq'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_case', ['tenant_id', 'case_id', 'seq'], unique=False, postgresql_where=sa.text('case_id IS NOT NULL'), sqlite_where=sa.text('case_id IS NOT NULL'))
        batch_op.create_index('ix_audit_events_entity', ['tenant_id', 'entity_type', 'entity_id', 'seq'], unique=False)

    # The application role appends and reads events, never changes them; it moves the chain head.
    rls.grant_app_only(op, 'audit_events', 'SELECT, INSERT')
    rls.grant_app_only(op, 'audit_heads', 'SELECT, INSERT, UPDATE')
    rls.enable_tenant_rls(op, 'audit_events')
    rls.enable_tenant_rls(op, 'audit_heads')
    if op.get_bind().dialect.name == 'postgresql':
        # For everyone, the owner included: tampering takes a deliberate DISABLE TRIGGER first.
        # (TRUNCATE stays with the owner only — the application role has no TRUNCATE privilege.)
        op.execute("""
            CREATE OR REPLACE FUNCTION jiuzhu_audit_events_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
            END $$""")
        op.execute("""
            CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_audit_events_append_only()""")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS jiuzhu_audit_events_append_only()")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_entity')
        batch_op.drop_index('ix_audit_events_case', postgresql_where=sa.text('case_id IS NOT NULL'), sqlite_where=sa.text('case_id IS NOT NULL'))

    op.drop_table('audit_events')
    op.drop_table('audit_heads')
