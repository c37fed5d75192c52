"""a look at personal data recorded in one statement: ``jiuzhu_record_look`` hands the county to
row-level security, reads the county's alert limit and the account's looks within the hour, and
writes the look

The access log (PIPL) is written in a transaction of its own, so that a look is recorded whatever
the page does next. That transaction took two statements — the county's setting for row-level
security, then the row written with the counts read (a data-modifying ``WITH``) — two round trips
on every page that shows personal data. The function does both in one; it runs as the caller (not
``SECURITY DEFINER``), so row-level security checks the row exactly as before: the signed county
it is handed is verified by ``jiuzhu_current_tenant()`` in the table's policies.

The counts are read before the row is written (as the ``WITH`` did: a statement's subqueries do
not see the row its own ``WITH`` writes).

Revision ID: 0081
Revises: 0080

"""
from alembic import op

from jiuzhu.tenancy import rls

revision = '0081'
down_revision = '0080'
branch_labels = None
depends_on = None

SIGNATURE = ("jiuzhu_record_look(text, timestamptz, integer, varchar, varchar, varchar, varchar, integer, "
             "integer, varchar, varchar, integer, timestamptz)")

FUNCTION = """
CREATE OR REPLACE FUNCTION jiuzhu_record_look(
    signed text, look_at timestamptz, look_user integer, look_user_name varchar, look_user_role varchar,
    look_kind varchar, look_subject_type varchar, look_subject_id integer, look_household integer,
    look_detail varchar, look_source varchar, look_tenant integer, since timestamptz,
    OUT alert_limit integer, OUT looks bigint, OUT opened bigint)
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM set_config('app.tenant_id', signed, true);
    SELECT p.access_alert_per_hour INTO alert_limit FROM security_policies AS p WHERE p.tenant_id = look_tenant;
    SELECT count(*) FILTER (WHERE a.household_id = look_household), count(DISTINCT a.household_id)
      INTO looks, opened
      FROM personal_data_access AS a
     WHERE a.tenant_id = look_tenant AND a.user_id = look_user AND a.at >= since AND a.household_id IS NOT NULL;
    INSERT INTO personal_data_access (at, user_id, user_name, user_role, kind, subject_type, subject_id,
                                      household_id, detail, source, tenant_id)
    VALUES (look_at, look_user, look_user_name, look_user_role, look_kind, look_subject_type, look_subject_id,
            look_household, look_detail, look_source, look_tenant);
END $$
"""


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return  # (the demo's SQLite writes the row and reads the counts as two statements)
    op.execute(FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {rls.app_role()}")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
