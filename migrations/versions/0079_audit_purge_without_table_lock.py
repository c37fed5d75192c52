"""a county's purge deletes its audit events without disabling the append-only trigger

The purge (``tenants purge``, as the schema owner) switched ``audit_events_append_only`` off and on
around its deletes. ``ALTER TABLE … DISABLE TRIGGER`` takes a lock on ``audit_events`` that every
other county's writes wait for, until the purge commits — and every write of the application
appends an audit event: the whole instance stood still while one county was purged, and the purge
itself waited for any open transaction that had written an event.

The trigger now lets a DELETE through for the one county named by the transaction's setting
``jiuzhu.purge_tenant``, and only when the statement runs as the table's owner (the application's
role can set the setting, but is not the owner). Everything else stays refused as before.

Revision ID: 0079
Revises: 0078

"""
from alembic import op

revision = '0079'
down_revision = '0078'
branch_labels = None
depends_on = None

#: the payload re-encryption's exception (0015), unchanged
REENCRYPT = """
              IF TG_OP = 'UPDATE' AND current_setting('jiuzhu.audit_reencrypt', true) = 'on'
                 AND (NEW.id, NEW.tenant_id, NEW.seq, NEW.at, NEW.actor_id, NEW.actor_name, NEW.actor_role,
                      NEW.entity_type, NEW.entity_id, NEW.action, NEW.case_id, NEW.prev_hash, NEW.hash, NEW.key_id)
                     IS NOT DISTINCT FROM
                     (OLD.id, OLD.tenant_id, OLD.seq, OLD.at, OLD.actor_id, OLD.actor_name, OLD.actor_role,
                      OLD.entity_type, OLD.entity_id, OLD.action, OLD.case_id, OLD.prev_hash, OLD.hash, OLD.key_id)
              THEN
                RETURN NEW;
              END IF;"""
PURGE = """
              -- a county's purge, as the table's owner, of that county's events only
              IF TG_OP = 'DELETE' AND current_setting('jiuzhu.purge_tenant', true) = OLD.tenant_id::text
                 AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
              THEN
                RETURN OLD;
              END IF;"""


def function(*exceptions: str) -> str:
    return f"""
            CREATE OR REPLACE FUNCTION jiuzhu_audit_events_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              -- the one exception: the key rotation re-encrypting a payload (jiuzhu_audit_reencrypt),
              -- every other column untouched; hashes cover the plain payload, so no hash changes{''.join(exceptions)}
              RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
            END $$"""


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(function(REENCRYPT, PURGE))


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(function(REENCRYPT))
