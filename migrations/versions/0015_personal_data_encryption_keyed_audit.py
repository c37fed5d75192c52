"""personal data encrypted (SM4-GCM) with blind indexes; the audit chain keyed (HMAC-SM3)

Revision ID: 0015
Revises: 0014

Needs the keys (JIUZHU_KEYS_FILE or JIUZHU_KEYS), like the application: the rows already there are
encrypted here, under the active field key.

* The columns that hold ID numbers, phones, contacts, and free text or JSON that may carry health
  or income details become ``text`` (an envelope is longer than the value) and every existing value
  is encrypted, bound to its ``table.column`` and county (``jiuzhu.crypto.cipher``).
* ``household_members.id_number_bidx``: the HMAC-SM3 blind index of each ID number, indexed — the
  plain index on the number goes, and so does the one on warning tickets' numbers.
* Deliveries are unique per (reminder, channel, user): the recipient is ciphertext now.
* The audit chain: each county's existing chain is first verified with the old, unkeyed SHA-256;
  a broken chain stops the migration (nothing is changed) and names the county and the break, so
  that re-keying never launders a tampered history. Then every event's payload is encrypted and
  its hash recomputed as HMAC-SM3 under the active audit key (``key_id``), and the head follows.
* The append-only trigger becomes a row trigger that still refuses every UPDATE and DELETE, except
  an UPDATE of the encrypted payload alone, made through ``jiuzhu_audit_reencrypt`` (the key
  rotation): hashes cover the plain payload, so re-encrypting changes no hash, and garbage written
  there fails verification.

SQLite (the demo) keeps its column types (it stores any length) and adds the new columns as
nullable; the data steps are the same.
"""
import hashlib
import json

import sqlalchemy as sa
from alembic import op
from flask import current_app

from jiuzhu.tenancy import rls

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

#: (table, column, kind): kind is text, json or bytes
ENCRYPTED = (
    ('households', 'phone', 'text'),
    ('household_members', 'id_number', 'text'),
    ('household_incomes', 'note', 'text'),
    ('household_properties', 'note', 'text'),
    ('legal_supporters', 'id_number', 'text'),
    ('cases', 'extension_reason', 'text'),
    ('cases', 'priority_reason', 'text'),
    ('cases', 'decision_reason', 'text'),
    ('cases', 'referral', 'text'),
    ('case_findings', 'reason', 'text'),
    ('case_notices', 'content', 'json'),
    ('case_material_files', 'data', 'bytes'),
    ('case_assistance', 'content', 'text'),
    ('case_steps', 'data', 'json'),
    ('case_steps', 'reason', 'text'),
    ('warning_tickets', 'id_number', 'text'),
    ('warning_tickets', 'summary', 'text'),
    ('warning_tickets', 'visit_findings', 'text'),
    ('warning_tickets', 'clarification', 'json'),
    ('warning_tickets', 'online_check', 'text'),
    ('warning_tickets', 'decision_reason', 'text'),
    ('benefit_schedules', 'end_reason', 'text'),
    ('relief_grants', 'reason', 'text'),
    ('spotcheck_items', 'finding', 'text'),
    ('staff_kinships', 'note', 'text'),
    ('realname_reports', 'reporter_contact', 'text'),
    ('realname_reports', 'content', 'text'),
    ('realname_reports', 'verification', 'text'),
    ('realname_reports', 'answer', 'text'),
    ('users', 'phone', 'text'),
    ('deliveries', 'recipient', 'text'),
    ('api_idempotency', 'body', 'json'),
    ('roll_imports', 'content', 'bytes'),
)
AUDIT_PAYLOAD = (('before', 'json'), ('after', 'json'), ('reason', 'text'))
HASHED_FIELDS = ("tenant_id", "seq", "at", "actor_id", "actor_name", "actor_role", "entity_type", "entity_id",
                 "action", "before", "after", "reason", "case_id")
GENESIS = "0" * 64
BATCH = 1000


def _keys():
    return current_app.extensions["jiuzhu.keys"]


def _encrypt(table, column, kind, value, tenant_id):
    from jiuzhu.crypto.cipher import associated_data, encrypt_bytes, encrypt_text

    aad = associated_data(f"{table}.{column}", tenant_id)
    if kind == 'bytes':
        return encrypt_bytes(_keys().field, bytes(value), aad)
    if kind == 'json':
        plain = value if isinstance(value, (dict, list)) else json.loads(value)
        raw = json.dumps(plain, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    else:
        raw = str(value).encode()
    return encrypt_text(_keys().field, raw, aad)


def _is_pg():
    return op.get_bind().dialect.name == 'postgresql'


def _widen():
    """varchar and json columns become text; bytea stays."""
    if not _is_pg():
        return
    op.drop_index('ix_household_members_id_number', table_name='household_members')
    op.drop_index('ix_warning_tickets_id_number', table_name='warning_tickets')
    for table, column, kind in ENCRYPTED + tuple(('audit_events', c, k) for c, k in AUDIT_PAYLOAD):
        if kind != 'bytes':
            op.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" TYPE text USING "{column}"::text')


def _encrypt_rows():
    bind = op.get_bind()
    by_table = {}
    for table, column, kind in ENCRYPTED:
        by_table.setdefault(table, []).append((column, kind))
    for table, columns in by_table.items():
        names = ", ".join(f'"{c}"' for c, _ in columns)
        last = 0
        while True:
            rows = bind.execute(sa.text(f'SELECT id, tenant_id, {names} FROM {table} WHERE id > :last '
                                        f'ORDER BY id LIMIT {BATCH}'), {"last": last}).all()
            if not rows:
                break
            for row in rows:
                values = {c: _encrypt(table, c, k, row._mapping[c], row.tenant_id)
                          for c, k in columns if row._mapping[c] is not None}
                if table == 'household_members':
                    from jiuzhu.crypto.blindindex import compute

                    values['id_number_bidx'] = compute(_keys().blind_index, 'id_number', row.id_number)
                if values:
                    sets = ", ".join(f'"{c}" = :{c}' for c in values)
                    bind.execute(sa.text(f'UPDATE {table} SET {sets} WHERE id = :id'), {**values, "id": row.id})
            last = rows[-1].id


def _audit_fields(row):
    """An event's stored values as the hash saw them: payload JSON parsed, ``at`` aware UTC (SQLite
    hands text back through raw SQL, naive)."""
    import datetime as dt

    fields = dict(row._mapping)
    for name, kind in AUDIT_PAYLOAD:
        if kind == 'json' and isinstance(fields[name], str):
            fields[name] = json.loads(fields[name])
    at = fields["at"]
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    fields["at"] = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
    return fields


def _legacy_hash(fields, prev_hash):
    from jiuzhu.audit.canonical import canonical

    content = canonical({name: fields[name] for name in HASHED_FIELDS})
    return hashlib.sha256((content + prev_hash).encode("utf-8")).hexdigest()


def _rekey_audit():
    """Verify each county's unkeyed chain, then encrypt its payloads and key its hashes."""
    from jiuzhu.audit.canonical import canonical
    from jiuzhu.crypto.cipher import hmac_sm3

    bind = op.get_bind()
    key_id, key = _keys().audit.active()
    tenants = bind.execute(sa.text("SELECT DISTINCT tenant_id FROM audit_events ORDER BY tenant_id")).scalars().all()
    for tenant_id in tenants:
        # pass 1: the old chain must hold before anything is rewritten
        prev, expected, last = GENESIS, 1, 0
        while True:
            rows = bind.execute(sa.text(
                "SELECT * FROM audit_events WHERE tenant_id = :t AND seq > :last ORDER BY seq LIMIT :n"),
                {"t": tenant_id, "last": last, "n": BATCH}).all()
            if not rows:
                break
            for row in rows:
                fields = _audit_fields(row)
                if row.seq != expected or row.prev_hash != prev or _legacy_hash(fields, row.prev_hash) != row.hash:
                    code = bind.execute(sa.text("SELECT code FROM tenants WHERE id = :t"), {"t": tenant_id}).scalar()
                    raise RuntimeError(
                        f"the audit chain of county {code!r} is broken at event {expected} (unkeyed SHA-256 "
                        f"check): it is not re-keyed, and nothing was migrated. Find out what happened (restore "
                        f"from a backup, `flask audit verify` on the previous release) before upgrading.")
                prev, expected = row.hash, expected + 1
            last = rows[-1].seq
        head = bind.execute(sa.text("SELECT seq, hash FROM audit_heads WHERE tenant_id = :t"), {"t": tenant_id}).first()
        if head is None or head.seq != expected - 1 or head.hash != prev:
            code = bind.execute(sa.text("SELECT code FROM tenants WHERE id = :t"), {"t": tenant_id}).scalar()
            raise RuntimeError(f"the audit chain head of county {code!r} does not match its last event: it is not "
                               f"re-keyed, and nothing was migrated.")
        # pass 2: encrypt the payload, key the hashes
        prev, last = GENESIS, 0
        while True:
            rows = bind.execute(sa.text(
                "SELECT * FROM audit_events WHERE tenant_id = :t AND seq > :last ORDER BY seq LIMIT :n"),
                {"t": tenant_id, "last": last, "n": BATCH}).all()
            if not rows:
                break
            for row in rows:
                fields = _audit_fields(row)
                values = {name: None if fields[name] is None else
                          _encrypt('audit_events', name, kind, fields[name], tenant_id)
                          for name, kind in AUDIT_PAYLOAD}
                content = canonical({name: fields[name] for name in HASHED_FIELDS})
                new_hash = hmac_sm3(key, (content + prev).encode("utf-8"))
                bind.execute(sa.text('UPDATE audit_events SET "before" = :before, "after" = :after, reason = :reason, '
                                     'prev_hash = :prev, hash = :hash, key_id = :kid WHERE id = :id'),
                             {**values, "prev": prev, "hash": new_hash, "kid": key_id, "id": row.id})
                prev = new_hash
            last = rows[-1].seq
        bind.execute(sa.text("UPDATE audit_heads SET hash = :h WHERE tenant_id = :t"), {"h": prev, "t": tenant_id})


def upgrade():
    pg = _is_pg()
    _widen()
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_number_bidx', sa.String(length=96), nullable=True))
    op.add_column('audit_events', sa.Column('key_id', sa.String(length=16), nullable=True))

    if pg:  # the payload columns of audit_events are rewritten below: the trigger lets only the owner's
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")  # migration through
    _encrypt_rows()
    _rekey_audit()
    if pg:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")

    if pg:
        op.alter_column('household_members', 'id_number_bidx', nullable=False)
        op.alter_column('audit_events', 'key_id', nullable=False)
    op.create_index('ix_household_members_id_number_bidx', 'household_members', ['id_number_bidx'], unique=False)

    if pg:
        op.drop_constraint('uq_deliveries_reminder_id_channel_recipient', 'deliveries', type_='unique')
        op.create_unique_constraint('uq_deliveries_reminder_id_channel_user_id', 'deliveries',
                                    ['reminder_id', 'channel', 'user_id'])
    else:  # SQLite cannot drop an inline constraint; on random ciphertext it never matches anyway
        op.create_index('uq_deliveries_reminder_id_channel_user_id', 'deliveries',
                        ['reminder_id', 'channel', 'user_id'], unique=True)

    if pg:
        op.execute("""
            CREATE OR REPLACE FUNCTION jiuzhu_audit_events_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              -- the one exception: the key rotation re-encrypting a payload (jiuzhu_audit_reencrypt),
              -- every other column untouched; hashes cover the plain payload, so no hash changes
              IF TG_OP = 'UPDATE' AND current_setting('jiuzhu.audit_reencrypt', true) = 'on'
                 AND (NEW.id, NEW.tenant_id, NEW.seq, NEW.at, NEW.actor_id, NEW.actor_name, NEW.actor_role,
                      NEW.entity_type, NEW.entity_id, NEW.action, NEW.case_id, NEW.prev_hash, NEW.hash, NEW.key_id)
                     IS NOT DISTINCT FROM
                     (OLD.id, OLD.tenant_id, OLD.seq, OLD.at, OLD.actor_id, OLD.actor_name, OLD.actor_role,
                      OLD.entity_type, OLD.entity_id, OLD.action, OLD.case_id, OLD.prev_hash, OLD.hash, OLD.key_id)
              THEN
                RETURN NEW;
              END IF;
              RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
            END $$""")
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("""
            CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION jiuzhu_audit_events_append_only()""")
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
                 AND tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::int
                 AND "before" IS NOT DISTINCT FROM old_before AND "after" IS NOT DISTINCT FROM old_after
                 AND reason IS NOT DISTINCT FROM old_reason;
              GET DIAGNOSTICS changed = ROW_COUNT;
              PERFORM set_config('jiuzhu.audit_reencrypt', 'off', true);
              RETURN changed = 1;
            END $$""")
        op.execute("REVOKE ALL ON FUNCTION jiuzhu_audit_reencrypt(bigint, text, text, text, text, text, text) "
                   "FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION jiuzhu_audit_reencrypt(bigint, text, text, text, text, text, text) "
                   f"TO {rls.app_role()}")


def downgrade():
    raise RuntimeError("0015 is not reversible: going back would write ID numbers and phones in clear and "
                       "unkey the audit chain. Restore the backup taken before the upgrade instead.")
