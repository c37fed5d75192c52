"""PostgreSQL row-level security and the application role, for use inside migrations.

Each function takes Alembic's ``op`` and does nothing on other databases (the SQLite demo has no
roles and no RLS; the ORM scoping still applies there).

* the application role: ``LOGIN NOBYPASSRLS``, not the owner of any table, granted DML only;
* per tenant-owned table: ``ENABLE`` + ``FORCE ROW LEVEL SECURITY`` and one policy comparing
  ``tenant_id`` with ``app.tenant_id``, which the application sets per transaction;
* ``jiuzhu_login_lookup(name)``: the one ``SECURITY DEFINER`` function that crosses tenants,
  returning only the id and tenant of a login name, so that login can find the tenant to enter.
* The tenant is handed over *signed* (migration 0018): ``app.tenant_id`` holds ``<tenant>:<HMAC>``
  (or ``platform:<HMAC>``), and every policy compares with ``jiuzhu_current_tenant()``, a
  ``SECURITY DEFINER`` function that checks the HMAC with a key in a table only the owner can read.
  The application derives the same key from its secret. An SQL injection running as the
  application role can set ``app.tenant_id`` to anything it likes — and sees nothing, because it
  cannot sign another county (nor the platform). See :func:`signed_setting`.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import text

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::int"
#: the verified tenant (0: the platform; NULL: none or forged), once per statement (an InitPlan)
SIGNED_TENANT = "(SELECT jiuzhu_current_tenant())"
RLS_KEY_LABEL = b"jiuzhu row-level security tenant v1"


def rls_key(secret_key: str | bytes) -> bytes:
    """The key that signs the tenant handed to PostgreSQL, derived from the application's secret."""
    import hashlib
    import hmac

    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(secret, RLS_KEY_LABEL, hashlib.sha256).digest()


def signed_setting(key: bytes, tenant_id: int | None, *, platform: bool = False) -> str:
    """The value of ``app.tenant_id`` for a tenant (or the platform); '' for none."""
    import hashlib
    import hmac

    if tenant_id is None and not platform:
        return ""
    subject = "platform" if tenant_id is None else str(int(tenant_id))
    return f"{subject}:{hmac.new(key, subject.encode(), hashlib.sha256).hexdigest()}"


def _signed(op) -> bool:
    return bool(op.get_bind().execute(text("SELECT to_regprocedure('jiuzhu_current_tenant()') IS NOT NULL")).scalar())


def _policy_condition(op, platform_rows: bool) -> str:
    if _signed(op):
        return (f"(tenant_id = {SIGNED_TENANT} OR (tenant_id IS NULL AND {SIGNED_TENANT} = 0))" if platform_rows
                else f"tenant_id = {SIGNED_TENANT}")
    return (f"tenant_id IS NOT DISTINCT FROM {CURRENT_TENANT}" if platform_rows
            else f"tenant_id = {CURRENT_TENANT}")


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

    ``platform_rows``: rows with tenant_id NULL belong to the platform and are visible (only) in
    the platform's scope — the platform operator's own account.
    """
    if not _is_pg(op):
        return
    cond = _policy_condition(op, platform_rows)
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({cond}) WITH CHECK ({cond})")


def install_signed_tenant(op) -> None:
    """The signed tenant (see the module doc): pgcrypto, the owner-only key table with the key
    derived from ``SECRET_KEY``, ``jiuzhu_current_tenant()``, and every tenant policy rewritten."""
    if not _is_pg(op):
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
    op.execute("CREATE TABLE IF NOT EXISTS jiuzhu_rls_key (id int PRIMARY KEY DEFAULT 1 CHECK (id = 1), key bytea NOT NULL)")
    op.execute("REVOKE ALL ON jiuzhu_rls_key FROM PUBLIC")
    op.execute(f"REVOKE ALL ON jiuzhu_rls_key FROM {app_role()}")
    store_rls_key(op.get_bind(), current_app.config["SECRET_KEY"])
    create_current_tenant(op)
    # a table whose tenant_id may be NULL holds platform rows too (the operator's own account)
    policies = op.get_bind().execute(text("""
        SELECT p.tablename, c.is_nullable = 'YES'
        FROM pg_policies p JOIN information_schema.columns c
          ON c.table_schema = p.schemaname AND c.table_name = p.tablename AND c.column_name = 'tenant_id'
        WHERE p.schemaname = 'public' AND p.policyname = 'tenant_isolation'""")).all()
    for table, platform_rows in policies:
        enable_tenant_rls(op, table, platform_rows=platform_rows)


#: ``jiuzhu_current_tenant()``: the tenant of ``app.tenant_id`` if its HMAC is right, 0 for the
#: platform, NULL otherwise. PL/pgSQL, not SQL: every reference to a tenant table in a statement
#: calls it once (an InitPlan each), and a ``SECURITY DEFINER`` SQL function is planned anew at every
#: call, while PL/pgSQL keeps its plan for the session (about 0.08 ms against 0.015 ms a call; a page
#: statement reaches seven or eight tables).
CURRENT_TENANT_FUNCTION = """
    CREATE OR REPLACE FUNCTION jiuzhu_current_tenant() RETURNS int
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
    DECLARE
      v text := coalesce(current_setting('app.tenant_id', true), '');
      subject text := split_part(v, ':', 1);
    BEGIN
      IF split_part(v, ':', 2) = encode(hmac(subject::bytea, (SELECT key FROM jiuzhu_rls_key), 'sha256'), 'hex') THEN
        RETURN CASE WHEN subject = 'platform' THEN 0 ELSE subject::int END;
      END IF;
      RETURN NULL;
    END $$"""


def create_current_tenant(op, definition: str = CURRENT_TENANT_FUNCTION) -> None:
    """(Re)define ``jiuzhu_current_tenant()``, callable by the application role only."""
    op.execute(definition)
    op.execute("REVOKE ALL ON FUNCTION jiuzhu_current_tenant() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION jiuzhu_current_tenant() TO {app_role()}")


def store_rls_key(connection, secret_key: str) -> None:
    """Write the key derived from ``secret_key`` (as the owner): after a change of JIUZHU_SECRET_KEY,
    ``flask --app wsgi tenants rls-key`` does this again, or the application sees no rows at all."""
    connection.execute(text("INSERT INTO jiuzhu_rls_key (id, key) VALUES (1, :k) "
                            "ON CONFLICT (id) DO UPDATE SET key = excluded.key"), {"k": rls_key(secret_key)})


def lock_login_attempts(op) -> None:
    """``login_attempts`` holds every login name anyone typed, from every address. The application
    role keeps no privilege on it; three ``SECURITY DEFINER`` functions record an attempt and answer
    exactly what throttling asks (for a name or an address it already has in hand)."""
    if not _is_pg(op):
        return
    role = app_role()
    op.execute(f"REVOKE ALL ON login_attempts FROM {role}")
    op.execute("""
        CREATE OR REPLACE FUNCTION jiuzhu_login_record(name text, src text, ok boolean) RETURNS void
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$ INSERT INTO login_attempts (username, source, success, at) VALUES (name, src, ok, now()) $$""")
    op.execute("""
        CREATE OR REPLACE FUNCTION jiuzhu_login_failures(kind text, value text, since timestamptz, max_rows int)
        RETURNS SETOF timestamptz
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$ SELECT at FROM login_attempts
              WHERE NOT success AND at > since
                AND CASE kind WHEN 'username' THEN username = value WHEN 'source' THEN source = value END
              ORDER BY at DESC LIMIT max_rows $$""")
    op.execute("""
        CREATE OR REPLACE FUNCTION jiuzhu_login_last_success(name text, src text, since timestamptz)
        RETURNS timestamptz
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$ SELECT max(at) FROM login_attempts
              WHERE success AND username = name AND (src IS NULL OR source = src) AND at >= since $$""")
    for fn in ("jiuzhu_login_record(text, text, boolean)", "jiuzhu_login_failures(text, text, timestamptz, int)",
               "jiuzhu_login_last_success(text, text, timestamptz)"):
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {role}")


def rls_key_matches(session) -> bool:
    """Whether PostgreSQL accepts this application's signature (the key in the database was derived
    from the same JIUZHU_SECRET_KEY); for the readiness check and ``tenants rls-key``. True on SQLite."""
    from jiuzhu.tenancy.context import Scope
    from jiuzhu.tenancy.scoping import tenant_setting

    if session.get_bind().dialect.name != "postgresql":
        return True
    with session.get_bind().connect() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": tenant_setting(Scope.platform())})
        return conn.execute(text("SELECT jiuzhu_current_tenant()")).scalar() == 0


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
