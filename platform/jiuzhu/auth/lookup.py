"""Finding which tenant a login name belongs to, before any tenant scope exists.

Usernames are unique on the whole instance. On PostgreSQL the application role cannot read
another tenant's users (row-level security), so the lookup goes through one narrow
``SECURITY DEFINER`` function that returns only the user's id and tenant id. On SQLite (the demo)
there is no row-level security and a plain Core query does the same.
"""

from __future__ import annotations

from sqlalchemy import func, select, text


def login_directory(session, username: str) -> tuple[int, int | None] | None:
    """Return ``(user_id, tenant_id)`` for a login name, or ``None``."""
    name = (username or "").strip()
    if not name:
        return None
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(
            text("SELECT user_id, tenant_id FROM jiuzhu_login_lookup(:u)"), {"u": name}).first()
    else:
        from jiuzhu.auth.models import User

        users = User.__table__
        row = session.execute(
            select(users.c.id, users.c.tenant_id).where(func.lower(users.c.username) == name.lower())).first()
    return (row[0], row[1]) if row else None
