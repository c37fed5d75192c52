"""PostgreSQL: drop what every write pays for and nothing reads.

* ``ix_<table>_tenant_id``, wherever a primary key or unique constraint of the table already leads
  with ``tenant_id`` (every county table since 0062: ``(tenant_id, id)``; ``users``: ``UNIQUE
  (tenant_id, id)``). That index answers every ``tenant_id = …`` the single-column one did.
* ``fk_<table>_tenant_id_tenants`` on the four tables the reminder sweep fills by the hundred thousand
  (``notifications``, ``deliveries``, ``reminders``, ``supervision_items``). Each of them has a NOT NULL
  composite foreign key ``(tenant_id, x)`` to a county table that has its own key to ``tenants``
  (``users``, ``reminders``, ``org_units``), so the county exists whatever the row — the check on
  ``tenants`` was a second lookup, and a share lock on the county's one ``tenants`` row, per row
  written. A county still cannot be deleted while it has rows there: its users and org units keep
  their ``RESTRICT`` keys to it.

Measured with ``bench/reminder_sweep.py`` (100 counties, 161,291 due reminders, one worker), runs
alternating on one database: the whole sweep 34.2 and 40.9 s with them, 32.3 and 33.0 s without.

The SQLite demo keeps both (its keys are ``(id)``, and the models still declare them).

Revision ID: 0076
Revises: 0075

"""
from alembic import op
from sqlalchemy import text

revision = '0076'
down_revision = '0075'
branch_labels = None
depends_on = None

#: table → the NOT NULL column of its composite foreign key that implies the county
SWEEP_TABLES = {"notifications": "user_id", "deliveries": "reminder_id", "reminders": "township_id",
                "supervision_items": "township_id"}

#: the single-column tenant_id indexes made redundant by a key that leads with tenant_id
REDUNDANT = text("""
    SELECT i.indexname, i.tablename FROM pg_indexes i
    WHERE i.schemaname = current_schema() AND i.indexname = 'ix_' || i.tablename || '_tenant_id'
      AND EXISTS (SELECT FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
                  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.indkey[0]
                  WHERE c.relname = i.tablename AND c.relnamespace = to_regnamespace(current_schema())
                    AND (x.indisprimary OR x.indisunique) AND x.indnatts > 1 AND a.attname = 'tenant_id')
    ORDER BY i.tablename""")

#: the tables the downgrade gives their index back (every county table that had one)
DROPPED_INDEX_TABLES = (
    "api_idempotency", "api_tokens", "benefit_payments", "benefit_schedules", "case_assistance", "case_counts",
    "case_findings", "case_material_files", "case_materials", "case_notices", "case_steps", "cases", "deliveries",
    "document_sequences", "household_incomes", "household_members", "household_properties", "households",
    "legal_supporters", "notification_channels", "notifications", "open_step_counts", "org_units",
    "outreach_visits", "personal_data_access", "realname_reports", "relief_grants", "relief_payments", "reminders",
    "roll_imports", "security_policies", "spotcheck_draws", "spotcheck_items", "staff_kinships", "supervision_items",
    "tenant_settings", "users", "warning_tickets")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for index, _table in bind.execute(REDUNDANT).all():
        op.execute(f"DROP INDEX IF EXISTS {index}")
    for table in SWEEP_TABLES:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS fk_{table}_tenant_id_tenants")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in SWEEP_TABLES:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_tenant_id_tenants "
                   "FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE RESTRICT")
    for table in DROPPED_INDEX_TABLES:
        if bind.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}).scalar():
            op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_tenant_id ON {table} (tenant_id)")
