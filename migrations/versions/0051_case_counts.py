"""open steps with no deadline of their own indexed; case counts per township, status, first category, month applied and month decided, kept by
triggers on cases in the same transaction (PostgreSQL): the dashboard sums counters, not cases

Revision ID: 0051
Revises: 0041

"""
import sqlalchemy as sa
from alembic import op

from jiuzhu.tenancy import rls

revision = '0051'
down_revision = '0041'
branch_labels = None
depends_on = None

#: the counter key of a row of ``cases`` (in a trigger's transition table, or the table itself)
KEY = """tenant_id, coalesce(township_id, 0), status, coalesce(categories ->> 0, ''),
         date_trunc('month', applied_on)::date, coalesce(date_trunc('month', decided_on)::date, DATE '1900-01-01')"""
COLUMNS = "tenant_id, township_id, status, category, applied_month, decided_month, n"


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
    # one statement per changed statement on cases (transition tables), whatever the number of rows:
    # the rows' old keys count -1, their new keys +1, keys whose sum is 0 (an update that moves no
    # case between counters — most updates) are not touched, so they take no lock
    op.execute(f"""
        CREATE OR REPLACE FUNCTION jiuzhu_case_counts_apply() RETURNS trigger
        LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            INSERT INTO case_counts AS c ({COLUMNS})
              SELECT {KEY}, count(*) FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
              ON CONFLICT ON CONSTRAINT pk_case_counts DO UPDATE SET n = c.n + EXCLUDED.n;
          ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO case_counts AS c ({COLUMNS})
              SELECT {KEY}, -count(*) FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
              ON CONFLICT ON CONSTRAINT pk_case_counts DO UPDATE SET n = c.n + EXCLUDED.n;
          ELSE
            INSERT INTO case_counts AS c ({COLUMNS})
              SELECT k1, k2, k3, k4, k5, k6, sum(d) FROM (
                SELECT {KEY}, 1 FROM new_rows UNION ALL SELECT {KEY}, -1 FROM old_rows
              ) AS moved (k1, k2, k3, k4, k5, k6, d)
              GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5, 6
              ON CONFLICT ON CONSTRAINT pk_case_counts DO UPDATE SET n = c.n + EXCLUDED.n;
          END IF;
          RETURN NULL;
        END $$""")
    op.execute("""CREATE TRIGGER case_counts_insert AFTER INSERT ON cases REFERENCING NEW TABLE AS new_rows
                  FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_case_counts_apply()""")
    op.execute("""CREATE TRIGGER case_counts_update AFTER UPDATE ON cases
                  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                  FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_case_counts_apply()""")
    op.execute("""CREATE TRIGGER case_counts_delete AFTER DELETE ON cases REFERENCING OLD TABLE AS old_rows
                  FOR EACH STATEMENT EXECUTE FUNCTION jiuzhu_case_counts_apply()""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS case_counts_{event} ON cases")
        op.execute("DROP FUNCTION IF EXISTS jiuzhu_case_counts_apply()")
    with op.batch_alter_table('case_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_case_steps_open_no_due')
    op.drop_table('case_counts')
