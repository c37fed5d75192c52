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
    if op.get_bind().dialect.name == "postgresql":
        # the one UPDATE the audit trail allows (re-encryption under a new key, 0015) reads the tenant
        # the signed way too
        op.execute("""
            CREATE OR REPLACE FUNCTION jiuzhu_audit_reencrypt(event_id bigint, old_before text, old_after text,
                                                              old_reason text, new_before text, new_after text,
                                                              new_reason text) RETURNS boolean
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
            DECLARE changed int;
            BEGIN
              PERFORM set_config('jiuzhu.audit_reencrypt', 'on', true);
              UPDATE audit_events SET "before" = new_before, "after" = new_after, reason = new_reason
               WHERE id = event_id
                 AND tenant_id = jiuzhu_current_tenant()
                 AND "before" IS NOT DISTINCT FROM old_before AND "after" IS NOT DISTINCT FROM old_after
                 AND reason IS NOT DISTINCT FROM old_reason;
              GET DIAGNOSTICS changed = ROW_COUNT;
              PERFORM set_config('jiuzhu.audit_reencrypt', 'off', true);
              RETURN changed = 1;
            END $$""")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION jiuzhu_current_tenant() CASCADE")
