"""PostgreSQL row-level security and the application role, for use inside migrations.

Each function takes Alembic's ``op`` and does nothing on other databases (the SQLite demo has no
roles and no RLS; the ORM scoping still applies there).

* the application role: ``LOGIN NOBYPASSRLS``, not the owner of any table, granted DML only;
* per tenant-owned table: ``ENABLE`` + ``FORCE ROW LEVEL SECURITY`` and one policy comparing
  ``tenant_id`` with ``app.tenant_id``, which the application sets per transaction;
* ``jiuzhu_login_lookup(name)``: the one ``SECURITY DEFINER`` function that crosses tenants,
  returning only the id and tenant of a login name, so that login can find the tenant to enter.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import text

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::int"


def _is_pg(op) -> bool:
    return op.get_bind().dialect.name == "postgresql"


def app_role() -> str:
    role = current_app.config.get("JIUZHU_DB_APP_ROLE") or "jiuzhu_app"
    if not role.replace("_", "").isalnum():
        raise ValueError(f"JIUZHU_DB_APP_ROLE {role!r} must be letters, digits and underscores")
    return role


def ensure_app_role(op) -> None:
    """Create the application role if missing, and let it use the schema."""
    if not _is_pg(op):
        return
    role = app_role()
    op.execute(f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
            CREATE ROLE {role} LOGIN NOBYPASSRLS;
          END IF;
        END $$""")
    op.execute(f"ALTER ROLE {role} NOBYPASSRLS NOSUPERUSER")
    password = current_app.config.get("JIUZHU_DB_APP_PASSWORD")
    if password:
        op.get_bind().execute(text(f"ALTER ROLE {role} PASSWORD " + _quote_literal(op, password)))
    op.execute(f"GRANT CONNECT ON DATABASE {_quote_ident(op, _current_database(op))} TO {role}")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO {role}")


def grant_app_access(op, *tables: str) -> None:
    """DML on tables created before the default privileges existed (idempotent)."""
    if not _is_pg(op):
        return
    role = app_role()
    for table in tables:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")


def grant_app_only(op, table: str, privileges: str) -> None:
    """Exactly ``privileges`` (e.g. ``"SELECT, INSERT"``) on ``table`` for the application role,
    taking back what the default privileges gave it — an append-only table gets no UPDATE/DELETE."""
    if not _is_pg(op):
        return
    role = app_role()
    op.execute(f"REVOKE ALL ON {table} FROM {role}")
    op.execute(f"GRANT {privileges} ON {table} TO {role}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")


def enable_tenant_rls(op, table: str, *, platform_rows: bool = False) -> None:
    """Row-level security on a tenant-owned table.

    ``platform_rows``: rows with tenant_id NULL belong to the platform and are visible (only) when
    no tenant is set — the platform operator's own account.
    """
    if not _is_pg(op):
        return
    cond = (f"tenant_id IS NOT DISTINCT FROM {CURRENT_TENANT}" if platform_rows
            else f"tenant_id = {CURRENT_TENANT}")
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({cond}) WITH CHECK ({cond})")


def create_login_lookup(op) -> None:
    if not _is_pg(op):
        return
    op.execute("""
        CREATE OR REPLACE FUNCTION jiuzhu_login_lookup(login text)
        RETURNS TABLE (user_id int, tenant_id int)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$ SELECT id, tenant_id FROM users WHERE lower(username) = lower(login) $$""")
    # FORCE ROW LEVEL SECURITY binds the owner too; let the owner (as whom the function runs) read
    # users for this lookup only. The application role is never the owner.
    owner = op.get_bind().execute(text("SELECT current_user")).scalar()
    op.execute("DROP POLICY IF EXISTS login_lookup ON users")
    op.execute(f"CREATE POLICY login_lookup ON users FOR SELECT USING (current_user = {_quote_literal(op, owner)})")
    op.execute("REVOKE ALL ON FUNCTION jiuzhu_login_lookup(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION jiuzhu_login_lookup(text) TO {app_role()}")


def create_token_lookup(op) -> None:
    """``jiuzhu_api_token_lookup(hash)``: the token id and tenant of an API secret's SHA-256, so that a
    request with a bearer token can find the tenant to enter (like the login lookup)."""
    if not _is_pg(op):
        return
    op.execute("""
        CREATE OR REPLACE FUNCTION jiuzhu_api_token_lookup(digest text)
        RETURNS TABLE (token_id int, tenant_id int)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$ SELECT id, tenant_id FROM api_tokens WHERE secret_hash = digest AND revoked_at IS NULL $$""")
    owner = op.get_bind().execute(text("SELECT current_user")).scalar()
    op.execute("DROP POLICY IF EXISTS token_lookup ON api_tokens")
    op.execute(f"CREATE POLICY token_lookup ON api_tokens FOR SELECT USING (current_user = {_quote_literal(op, owner)})")
    op.execute("REVOKE ALL ON FUNCTION jiuzhu_api_token_lookup(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION jiuzhu_api_token_lookup(text) TO {app_role()}")


def _current_database(op) -> str:
    return op.get_bind().execute(text("SELECT current_database()")).scalar()


def _quote_ident(op, name: str) -> str:
    return op.get_bind().execute(text("SELECT quote_ident(:n)"), {"n": name}).scalar()


def _quote_literal(op, value: str) -> str:
    return op.get_bind().execute(text("SELECT quote_literal(:v)"), {"v": value}).scalar()
