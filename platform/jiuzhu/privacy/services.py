"""Recording a look at personal information, and the alert to the county admin on unusual volume.

:func:`record_access` writes on its own connection and commits at once: a request that only reads
(a page, a PDF) still leaves its trace, and a request that fails later does not erase it.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import has_request_context, request
from sqlalchemy import func, insert, select, text

from jiuzhu.db import utcnow
from jiuzhu.privacy.models import AccessKind, PersonalDataAccess

log = logging.getLogger(__name__)

#: households one account may open in an hour before the county admin is alerted (default)
DEFAULT_ALERT_PER_HOUR = 100


def _actor():
    from jiuzhu.audit.context import current_actor

    actor = current_actor()  # the request's user, or the API token's (with the token's name)
    return actor.id, actor.name, actor.role


def record_access(session, kind: AccessKind, subject_type: str, subject_id: int | None, *,
                  household_id: int | None = None, detail: str | None = None) -> None:
    """Log one look, in the current county's scope, and alert the county admins the moment an
    account passes the county's hourly limit of households opened."""
    from jiuzhu.tenancy.context import require_scope
    from jiuzhu.tenancy.scoping import tenant_setting

    scope = require_scope()
    tenant_id = scope.tenant_id
    if tenant_id is None:
        return  # the platform operator sees no county's people
    user_id, name, role = _actor()
    source = (request.remote_addr or "")[:64] if has_request_context() else None
    row = {"tenant_id": tenant_id, "at": utcnow(), "user_id": user_id, "user_name": name[:120],
           "user_role": str(role)[:32], "kind": kind, "subject_type": subject_type[:24], "subject_id": subject_id,
           "household_id": household_id, "detail": (detail or "")[:200] or None, "source": source}
    engine = session.get_bind()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            from jiuzhu.tenancy.context import Scope

            signed = tenant_setting(Scope(tenant_id))
            if household_id is not None and user_id is not None:
                _record_look(conn, signed, row)  # the county's setting, the counts and the row: one statement
                return
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed})
        if household_id is None or user_id is None:
            conn.execute(insert(PersonalDataAccess.__table__).values(**row))
        else:
            _write_and_alert(conn, row)


#: ``jiuzhu_record_look`` (migration 0081): the county handed to row-level security, its alert limit
#: and the account's looks within the hour read, the row written — one round trip
RECORD_LOOK = text("SELECT alert_limit, looks, opened FROM jiuzhu_record_look(:signed, :at, :user_id, :user_name, "
                   ":user_role, :kind, :subject_type, :subject_id, :household_id, :detail, :source, :tenant_id, "
                   ":since)")


def _record_look(conn, signed: str, row: dict) -> None:
    """PostgreSQL: write the look and alert the county admins if it is the one that passes the
    county's hourly limit of households opened, the row and the counts in one statement."""
    limit, looks, opened = conn.execute(RECORD_LOOK, {
        **row, "kind": str(row["kind"]), "signed": signed, "since": row["at"] - dt.timedelta(hours=1)}).one()
    _alert_if_unusual(conn, row["tenant_id"], row["user_id"], row["user_name"], limit or DEFAULT_ALERT_PER_HOUR,
                      looks, opened)


def _write_and_alert(conn, row: dict) -> None:
    """The demo's SQLite: read the county's limit and the account's looks within the hour, write the
    look, and alert the county admins if it is the one that passes the limit."""
    from jiuzhu.auth.policy import SecurityPolicy

    tenant_id, user_id, household_id = row["tenant_id"], row["user_id"], row["household_id"]
    since = utcnow() - dt.timedelta(hours=1)
    t, policy = PersonalDataAccess.__table__, SecurityPolicy.__table__
    mine = (t.c.tenant_id == tenant_id, t.c.user_id == user_id, t.c.at >= since)
    limit, looks, opened = conn.execute(select(
        select(policy.c.access_alert_per_hour).where(policy.c.tenant_id == tenant_id).scalar_subquery(),
        select(func.count()).where(*mine, t.c.household_id == household_id).scalar_subquery(),
        select(func.count(func.distinct(t.c.household_id))).where(*mine, t.c.household_id.is_not(None))
        .scalar_subquery())).one()
    conn.execute(insert(t).values(**row))
    _alert_if_unusual(conn, tenant_id, user_id, row["user_name"], limit or DEFAULT_ALERT_PER_HOUR, looks, opened)


def _alert_if_unusual(conn, tenant_id: int, user_id: int, name: str, limit: int, looks: int, opened: int) -> None:
    """``looks``: this household's looks by the account within the hour before this one; ``opened``:
    the households it opened within the hour before this one."""
    from jiuzhu.auth.models import User
    from jiuzhu.auth.roles import Role
    from jiuzhu.reminders.models import Notification

    if looks != 0:
        return  # a household already opened within the hour adds nothing
    opened += 1
    if opened != limit + 1:  # exactly once, as the limit is passed
        return
    log.warning("unusual volume of personal data opened: tenant %s user %s, %s households in an hour",
                tenant_id, user_id, opened)
    users = User.__table__
    admins = conn.scalars(select(users.c.id).where(users.c.tenant_id == tenant_id,
                                                   users.c.role == Role.county_admin.value,
                                                   users.c.active.is_(True))).all()
    for admin_id in admins:
        conn.execute(insert(Notification.__table__).values(
            tenant_id=tenant_id, user_id=admin_id, created_at=utcnow(),
            title="个人信息访问异常提醒",
            body=(f"{name} 在一小时内查看了 {opened} 户家庭的信息，超过本县设定的 {limit} 户。"
                  "请在“个人信息访问记录”中核实是否为正常工作需要。")))


def purge_expired(session, older_than_days: int) -> int:
    """Remove access-log rows older than the retention, in every county (the platform's job, not a
    county's). On PostgreSQL through the one function allowed to delete, which refuses < 183 days."""
    if older_than_days < 183:
        raise ValueError("the access log is kept at least 183 days")
    if session.get_bind().dialect.name == "postgresql":
        removed = session.scalar(text("SELECT jiuzhu_purge_access_log(:d)"), {"d": older_than_days})
    else:
        t = PersonalDataAccess.__table__
        removed = session.execute(t.delete().where(t.c.at < utcnow() - dt.timedelta(days=older_than_days))).rowcount
    session.commit()
    return int(removed or 0)
