"""every key of a county's table leads with tenant_id, so the schema can be distributed by county
(PostgreSQL with Citus): primary keys (tenant_id, id), unique constraints with tenant_id, foreign keys
between county tables composite (tenant_id, x_id) → parent (tenant_id, id); reference and
coordinator-local tables marked in their comments

Revision ID: 0062
Revises: 0061

The ORM keeps mapping ``id`` as each model's identity (ids still come from one sequence per table,
so they stay unique on their own); only the database's constraints change. A composite foreign key
also means a row can only point at a parent of its own county — a second guard beside row-level
security. ``ON DELETE SET NULL`` becomes ``SET NULL (x_id)`` (PostgreSQL 15), never clearing the
row's tenant_id.

``users`` keeps its primary key ``(id)``: the platform operators' accounts have no county
(tenant_id NULL), which no key column may be. It gains ``UNIQUE (tenant_id, id)`` for the composite
foreign keys that point at it. See docs/scaling.md for what Citus needs beyond this.

On SQLite (the demo, one machine) only the unique constraints that ``ON CONFLICT`` names change —
as extra unique indexes; nothing else is needed there.
"""
from alembic import op
from sqlalchemy import text

revision = '0062'
down_revision = '0061'
branch_labels = None
depends_on = None

#: (table, old name, old columns, new name): unique constraints that gain tenant_id
UNIQUES = [
    ('case_findings', 'uq_case_findings_case_id_category', ['case_id', 'category'],
     'uq_case_findings_tenant_id_case_id_category'),
    ('deliveries', 'uq_deliveries_reminder_id_channel_user_id', ['reminder_id', 'channel', 'user_id'],
     'uq_deliveries_tenant_id_reminder_id_channel_user_id'),
    ('notifications', 'uq_notifications_reminder_id_user_id', ['reminder_id', 'user_id'],
     'uq_notifications_tenant_id_reminder_id_user_id'),
    ('benefit_schedules', 'uq_benefit_schedules_case_id', ['case_id'], 'uq_benefit_schedules_tenant_id_case_id'),
    ('benefit_payments', 'uq_benefit_payments_schedule_id_month', ['schedule_id', 'month'],
     'uq_benefit_payments_tenant_id_schedule_id_month'),
    ('relief_payments', 'uq_relief_payments_grant_id_stage', ['grant_id', 'stage'],
     'uq_relief_payments_tenant_id_grant_id_stage'),
    ('api_tokens', 'uq_api_tokens_secret_hash', ['secret_hash'], 'uq_api_tokens_tenant_id_secret_hash'),
]

#: tables replicated to every node (small, read everywhere, written rarely)
REFERENCE = {
    'tenants': 'the counties of the instance',
    'calendar_years': 'the published working-day calendar',
    'calendar_exceptions': 'the published working-day calendar',
}
#: tables that stay on the coordinator only (platform bookkeeping, never joined with county data)
LOCAL = {
    'login_attempts': 'throttling by login name, before any county is known',
    'jiuzhu_rls_key': 'the key that signs the tenant handed to PostgreSQL',
    'platform_events': 'the platform log of exports, imports and purges',
    'alembic_version': 'the schema version',
}


def _tenant_tables(conn) -> list[str]:
    return list(conn.execute(text("""
        SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
         WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace AND c.relname <> 'tenants'
         ORDER BY 1""")).scalars())


def _foreign_keys(conn, tables: list[str]) -> list[dict]:
    """Foreign keys from one county table to another (not to tenants), with their actions."""
    rows = conn.execute(text("""
        SELECT k.conname, k.conrelid::regclass::text AS tbl, k.confrelid::regclass::text AS ref,
               k.confdeltype, k.confupdtype,
               ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i) AS cols,
               ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                       JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i) AS refcols
          FROM pg_constraint k
         WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace
           AND k.confrelid <> 'tenants'::regclass
         ORDER BY 2, 1""")).mappings().all()
    return [dict(r) for r in rows if r['tbl'] in tables and r['ref'] in tables]


_ACTIONS = {'a': 'NO ACTION', 'r': 'RESTRICT', 'c': 'CASCADE', 'n': 'SET NULL', 'd': 'SET DEFAULT'}


def _action(code: str, column: str | None) -> str:
    action = _ACTIONS[code]
    return f'{action} ({column})' if code == 'n' and column else action


def _primary_key(conn, table: str) -> tuple[str, list[str]] | None:
    row = conn.execute(text("""
        SELECT k.conname, ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                                  JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i)
          FROM pg_constraint k WHERE k.contype = 'p' AND k.conrelid = CAST(:t AS regclass)"""), {'t': table}).first()
    return (row[0], list(row[1])) if row else None


def _comment(table: str, kind: str, why: str) -> None:
    op.execute(f"COMMENT ON TABLE {table} IS 'distribution: {kind} ({why})'")


def upgrade():
    conn = op.get_bind()
    if conn.dialect.name != 'postgresql':
        for table, _old, cols, new in UNIQUES:  # what ON CONFLICT names must exist on the demo too
            op.create_index(new, table, ['tenant_id', *cols], unique=True)
        return
    tables = _tenant_tables(conn)
    fks = _foreign_keys(conn, tables)
    for fk in fks:
        op.execute(f'ALTER TABLE {fk["tbl"]} DROP CONSTRAINT {fk["conname"]}')
    for table in tables:
        pk = _primary_key(conn, table)
        if table == 'users':
            op.execute('ALTER TABLE users ADD CONSTRAINT uq_users_tenant_id_id UNIQUE (tenant_id, id)')
        elif pk and pk[1] == ['id']:
            op.execute(f'ALTER TABLE {table} DROP CONSTRAINT {pk[0]}')
            op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {pk[0]} PRIMARY KEY (tenant_id, id)')
    for table, old, cols, new in UNIQUES:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT {old}')
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {new} UNIQUE (tenant_id, {", ".join(cols)})')
    # the token lookup (jiuzhu_token_lookup) finds a token by its hash alone
    op.execute('CREATE INDEX ix_api_tokens_secret_hash ON api_tokens (secret_hash)')
    for fk in fks:
        (col,) = fk['cols']
        op.execute(f'ALTER TABLE {fk["tbl"]} ADD CONSTRAINT {fk["conname"]} FOREIGN KEY (tenant_id, {col}) '
                   f'REFERENCES {fk["ref"]} (tenant_id, id) ON DELETE {_action(fk["confdeltype"], col)} '
                   f'ON UPDATE {_action(fk["confupdtype"], None)}')
    for table, why in REFERENCE.items():
        _comment(table, 'reference', why)
    for table, why in LOCAL.items():
        _comment(table, 'local', why)
    op.execute("COMMENT ON TABLE users IS 'distribution: by tenant_id once the platform operators'' accounts "
               "(tenant_id NULL) have a table of their own; until then the one county table keyed by (id)'")


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name != 'postgresql':
        for table, _old, _cols, new in UNIQUES:
            op.drop_index(new, table_name=table)
        return
    tables = _tenant_tables(conn)
    fks = [fk for fk in _foreign_keys(conn, tables) if fk['cols'][0] == 'tenant_id' and len(fk['cols']) == 2]
    for fk in fks:
        op.execute(f'ALTER TABLE {fk["tbl"]} DROP CONSTRAINT {fk["conname"]}')
    op.execute('DROP INDEX ix_api_tokens_secret_hash')
    for table, old, cols, new in UNIQUES:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT {new}')
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {old} UNIQUE ({", ".join(cols)})')
    for table in tables:
        pk = _primary_key(conn, table)
        if table == 'users':
            op.execute('ALTER TABLE users DROP CONSTRAINT uq_users_tenant_id_id')
        elif pk and pk[1] == ['tenant_id', 'id']:
            op.execute(f'ALTER TABLE {table} DROP CONSTRAINT {pk[0]}')
            op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {pk[0]} PRIMARY KEY (id)')
    for fk in fks:
        col = fk['cols'][1]
        op.execute(f'ALTER TABLE {fk["tbl"]} ADD CONSTRAINT {fk["conname"]} FOREIGN KEY ({col}) '
                   f'REFERENCES {fk["ref"]} (id) ON DELETE {_action(fk["confdeltype"], None)} '
                   f'ON UPDATE {_action(fk["confupdtype"], None)}')
    for table in [*REFERENCE, *LOCAL, 'users']:
        op.execute(f'COMMENT ON TABLE {table} IS NULL')
