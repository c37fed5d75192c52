"""Creating, revoking and authenticating API tokens.

The secret is ``jz_`` + 40 random URL-safe characters, shown once; only its SHA-256 is stored. A
token for an integration gets a service user of its own (with the token's role and org unit and a
random password nobody knows), so that the engine's role checks and the audit trail treat the
integration like any other actor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, text

from jiuzhu.api.models import ApiToken
from jiuzhu.audit import record
from jiuzhu.audit.context import Actor
from jiuzhu.auth.models import User
from jiuzhu.auth.roles import TENANT_ROLES, Role
from jiuzhu.auth.services import create_user
from jiuzhu.db import utcnow
from jiuzhu.errors import NotFound, PermissionDenied, ValidationError
from jiuzhu.tenancy.context import Scope, require_scope, use_scope
from jiuzhu.tenancy.models import OrgUnit, Tenant

SECRET_PREFIX = "jz_"
LAST_USED_GRANULARITY = dt.timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class IssuedToken:
    token: ApiToken
    #: the secret, shown once and never stored
    secret: str


def _require_admin(by: User | None) -> None:
    if by is not None and by.role is not Role.county_admin:
        raise PermissionDenied("只有县级管理员可以创建或吊销接口令牌。")


def create_token(session, by: User | None, *, name: str, user: User | None = None, role: Role | str | None = None,
                 org_unit: OrgUnit | None = None) -> IssuedToken:
    """A token acting as ``user`` (a person's token), or, with ``role`` and ``org_unit``, as a new
    service user for an integration. ``by`` is the county admin (None from the CLI)."""
    _require_admin(by)
    scope = require_scope()
    name = (name or "").strip()
    errors = []
    if not name or len(name) > 100:
        errors.append("请填写令牌名称（不超过 100 字）。")
    elif session.scalar(select(ApiToken.id).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))):
        errors.append(f"已有名为“{name}”的有效令牌。")
    if user is None:
        try:
            role = Role(role) if role else None
        except ValueError:
            role = None
        if role is None or role not in TENANT_ROLES:
            errors.append("请选择令牌的角色。")
        elif role is Role.county_admin:
            errors.append("接口令牌不能具有县级管理员角色。")
    elif user.role is Role.county_admin:
        errors.append("接口令牌不能代表县级管理员。")
    elif not user.active:
        errors.append(f"用户{user}已停用。")
    if errors:
        raise ValidationError(*errors)
    secret = SECRET_PREFIX + secrets.token_urlsafe(30)
    service = user is None
    if service:
        if org_unit is None and role.is_county:
            from jiuzhu.tenancy.services import county_root

            org_unit = county_root(session)
        tenant = session.get(Tenant, scope.tenant_id)
        user = create_user(session, username=f"api-{tenant.code}-{secrets.token_hex(4)}",
                           full_name=f"接口：{name}", role=role, org_unit=org_unit,
                           password=secrets.token_urlsafe(32) + "Aa1!")
    token = ApiToken(name=name, user_id=user.id, service_user=service, prefix=secret[:10],
                     secret_hash=digest(secret), created_by_id=by.id if by else None)
    session.add(token)
    session.flush()
    return IssuedToken(token, secret)


def revoke_token(session, by: User | None, token_id: int) -> ApiToken:
    _require_admin(by)
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("令牌不存在。")
    if token.revoked_at is not None:
        raise ValidationError(f"令牌“{token.name}”已于 {token.revoked_at:%Y-%m-%d %H:%M} 吊销。")
    token.revoked_at = utcnow()
    if token.service_user:
        token.user.active = False
    session.flush()
    record(session, entity_type="api_token", entity_id=token.id, action="revoke", after={"name": token.name})
    return token


def token_directory(session, secret: str) -> tuple[int, int] | None:
    """``(token_id, tenant_id)`` of a live token's secret, before any tenant scope exists."""
    if not secret or not secret.startswith(SECRET_PREFIX) or len(secret) > 100:
        return None
    hashed = digest(secret)
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(text("SELECT token_id, tenant_id FROM jiuzhu_api_token_lookup(:d)"),
                              {"d": hashed}).first()
    else:
        table = ApiToken.__table__
        row = session.execute(select(table.c.id, table.c.tenant_id)
                              .where(table.c.secret_hash == hashed, table.c.revoked_at.is_(None))).first()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class Principal:
    """Who an API request acts as: the token, its user, and the scope they run in."""

    token_id: int
    token_name: str
    tenant_id: int
    user: User
    scope: Scope

    @property
    def actor(self) -> Actor:
        return Actor(id=self.user.id, name=f"{self.user}·接口令牌“{self.token_name}”", role=str(self.user.role.value))


def authenticate(session, secret: str) -> Principal | None:
    """The principal of a live token whose user is active and whose county is usable; marks its use."""
    from flask import current_app

    found = token_directory(session, secret)
    if found is None:
        return None
    token_id, tenant_id = found
    with use_scope(Scope(tenant_id)):
        tenant = session.get(Tenant, tenant_id)
        if tenant is None or not tenant.active or tenant.plugin_key not in current_app.extensions["jiuzhu.plugins"]:
            return None
        token = session.get(ApiToken, token_id)
        if token is None or token.revoked_at is not None or not token.user.active:
            return None
        user = token.user
        principal = Principal(token_id=token.id, token_name=token.name, tenant_id=tenant_id, user=user,
                              scope=user.scope)
        now = utcnow()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
            token.last_used_at = now  # at most one write a minute per token
            session.commit()
    return principal


def purge_idempotency(session, *, days: int, now: dt.datetime | None = None) -> int:
    """Forget the stored answers to Idempotency-Keys older than ``days`` days, in the current county.
    Returns how many were removed. A platform retries within minutes; a month is ample."""
    from sqlalchemy import delete

    from jiuzhu.api.models import IdempotentRequest

    if days < 1:
        raise ValidationError("保留天数至少为 1 天。")
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    result = session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < cutoff)
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0
