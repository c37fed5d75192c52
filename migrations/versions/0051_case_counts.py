"""open steps with no deadline of their own indexed; open steps counted by township and deadline;
case counts per township, status, first category, month applied and month decided, kept by
triggers on cases in the same transaction (PostgreSQL): the dashboard sums counters, not cases

Revision ID: 0051
Revises: 0062

"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls

revision = '0051'
down_revision = '0062'
branch_labels = None
depends_on = None

#: the counter key of a row of ``cases`` (in a trigger's transition table, or the table itself)
KEY = """tenant_id, coalesce(township_id, 0), status, coalesce(categories ->> 0, ''),
         date_trunc('month', applied_on)::date, coalesce(date_trunc('month', decided_on)::date, DATE '1900-01-01')"""
COLUMNS = "tenant_id, township_id, status, category, applied_month, decided_month, n"
#: the counter key of an open step with a deadline of its own
STEP_KEY = "tenant_id, coalesce(township_id, 0), due_on"
STEP_ROWS = "status = 'open' AND due_on IS NOT NULL"
STEP_COLUMNS = "tenant_id, township_id, due_on, n"


def counting_function(name: str, table: str, key: str, columns: str, rows: str, nkey: int) -> str:
    """A trigger function keeping ``table`` (counters by ``key``, of the rows matching ``rows``)
    from a statement's transition tables: one statement whatever the number of rows. Old keys count
    -1, new keys +1; keys whose sum is 0 (an update that moves nothing between counters — most
    updates) are not touched, so they take no lock."""
    groups = ", ".join(str(i) for i in range(1, nkey + 1))
    ks = ", ".join(f"k{i}" for i in range(1, nkey + 1))
    upsert = f"INSERT INTO {table} AS c ({columns})"
    conflict = f"ON CONFLICT ON CONSTRAINT pk_{table} DO UPDATE SET n = c.n + EXCLUDED.n"
    return f"""
        CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
        LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            {upsert} SELECT {key}, count(*) FROM new_rows WHERE {rows}
              GROUP BY {groups} ORDER BY {groups} {conflict};
          ELSIF TG_OP = 'DELETE' THEN
            {upsert} SELECT {key}, -count(*) FROM old_rows WHERE {rows}
              GROUP BY {groups} ORDER BY {groups} {conflict};
          ELSE
            {upsert} SELECT {ks}, sum(d) FROM (
                SELECT {key}, 1 FROM new_rows WHERE {rows}
                UNION ALL SELECT {key}, -1 FROM old_rows WHERE {rows}
              ) AS moved ({ks}, d)
              GROUP BY {groups} HAVING sum(d) <> 0 ORDER BY {groups} {conflict};
          END IF;
          RETURN NULL;
        END $$"""


def counting_triggers(prefix: str, table: str, function: str) -> None:
    op.execute(f"""CREATE TRIGGER {prefix}_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows
                   FOR EACH STATEMENT EXECUTE FUNCTION {function}()""")
    op.execute(f"""CREATE TRIGGER {prefix}_update AFTER UPDATE ON {table}
                   REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                   FOR EACH STATEMENT EXECUTE FUNCTION {function}()""")
    op.execute(f"""CREATE TRIGGER {prefix}_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
                   FOR EACH STATEMENT EXECUTE FUNCTION {function}()""")


def upgrade():
    op.create_table('case_counts',
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('applied_month', sa.Date(), nullable=False),
    sa.Column('decided_month', sa.Date(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_case_counts_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'township_id', 'status', 'category', 'applied_month', 'decided_month',
                            name='pk_case_counts')
    )
    with op.batch_alter_table('case_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_counts_tenant_id'), ['tenant_id'], unique=False)
    with op.batch_alter_table('case_steps', schema=None) as batch_op:
        batch_op.create_index('ix_case_steps_open_no_due', ['tenant_id', 'township_id', 'case_id'], unique=False,
                              postgresql_where=sa.text("status = 'open' AND due_on IS NULL"),
                              sqlite_where=sa.text("status = 'open' AND due_on IS NULL"))
    if op.get_bind().dialect.name != "postgresql":
        return  # (the demo's SQLite: the dashboard counts the cases themselves)
    # the cases there already, counted by the owner before row-level security applies to the counters
    # (cases is under FORCE ROW LEVEL SECURITY: lifted for this one statement of this transaction)
    op.execute("ALTER TABLE cases NO FORCE ROW LEVEL SECURITY")
    op.execute(f"INSERT INTO case_counts ({COLUMNS}) SELECT {KEY}, count(*) FROM cases GROUP BY 1, 2, 3, 4, 5, 6")
    op.execute("ALTER TABLE cases FORCE ROW LEVEL SECURITY")
    # the application reads the counters; only the triggers write them, in the application's
    # transaction and under its tenant (row-level security checks the rows they write)
    rls.grant_app_only(op, 'case_counts', 'SELECT, INSERT, UPDATE')
    rls.enable_tenant_rls(op, 'case_counts')
    op.execute(counting_function("jiuzhu_case_counts_apply", "case_counts", KEY, COLUMNS, "true", 6))
    counting_triggers("case_counts", "cases", "jiuzhu_case_counts_apply")
    # open steps with a deadline of their own, by township and deadline: the dashboard's overdue
    # and due-soon counts sum these (a few thousand rows) for any day
    op.create_table('open_step_counts',
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False, comment='Owning tenant (county); filtered centrally and by row-level security.'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_open_step_counts_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'township_id', 'due_on', name='pk_open_step_counts')
    )
    with op.batch_alter_table('open_step_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open_step_counts_tenant_id'), ['tenant_id'], unique=False)
    op.execute("ALTER TABLE case_steps NO FORCE ROW LEVEL SECURITY")
    op.execute(f"INSERT INTO open_step_counts ({STEP_COLUMNS}) SELECT {STEP_KEY}, count(*) FROM case_steps "
               f"WHERE {STEP_ROWS} GROUP BY 1, 2, 3")
    op.execute("ALTER TABLE case_steps FORCE ROW LEVEL SECURITY")
    rls.grant_app_only(op, 'open_step_counts', 'SELECT, INSERT, UPDATE')
    rls.enable_tenant_rls(op, 'open_step_counts')
    op.execute(counting_function("jiuzhu_open_step_counts_apply", "open_step_counts", STEP_KEY, STEP_COLUMNS,
                                 STEP_ROWS, 3))
    counting_triggers("open_step_counts", "case_steps", "jiuzhu_open_step_counts_apply")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS case_counts_{event} ON cases")
            op.execute(f"DROP TRIGGER IF EXISTS open_step_counts_{event} ON case_steps")
        op.execute("DROP FUNCTION IF EXISTS jiuzhu_case_counts_apply()")
        op.execute("DROP FUNCTION IF EXISTS jiuzhu_open_step_counts_apply()")
    op.drop_table('open_step_counts')
    with op.batch_alter_table('case_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_case_steps_open_no_due')
    op.drop_table('case_counts')
