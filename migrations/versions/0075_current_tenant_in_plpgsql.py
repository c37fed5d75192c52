"""``jiuzhu_current_tenant()`` — the signed tenant every row-level security policy compares with —
in PL/pgSQL instead of SQL: same check, same answers. A ``SECURITY DEFINER`` SQL function cannot be
inlined and is planned anew each time a statement calls it (once per tenant table the statement
reaches); PL/pgSQL keeps its plan for the session.

Revision ID: 0075
Revises: 0074

"""
from alembic import op

from jiuzhu.tenancy.rls import create_current_tenant

revision = '0075'
down_revision = '0074'
branch_labels = None
depends_on = None

#: the definition of migration 0018, put back by the downgrade
SQL_FUNCTION = """
    CREATE OR REPLACE FUNCTION jiuzhu_current_tenant() RETURNS int
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
      SELECT CASE WHEN split_part(v, ':', 2) = encode(hmac(split_part(v, ':', 1)::bytea,
                                                           (SELECT key FROM jiuzhu_rls_key), 'sha256'), 'hex')
                  THEN CASE WHEN split_part(v, ':', 1) = 'platform' THEN 0
                            ELSE split_part(v, ':', 1)::int END
             END
      FROM (SELECT coalesce(current_setting('app.tenant_id', true), '') AS v) setting
    $$"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        create_current_tenant(op)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        create_current_tenant(op, SQL_FUNCTION)
