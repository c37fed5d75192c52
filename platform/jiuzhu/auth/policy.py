"""A county's security policy (安全策略): sessions, passwords, dormant accounts and the second factor.

Each county admin sets these within bounds (等保 2.0 level 3 asks for an idle timeout, password
complexity and lifetime, and two factors for administrators); a county that has set nothing runs on
the defaults below, and so does the platform operator. The values are read on every request, so
they are cached per process for :data:`CACHE_SECONDS` — a change applies everywhere within a minute.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any

from sqlalchemy import JSON, Integer, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from jiuzhu.audit.capture import Audited
from jiuzhu.auth.roles import Role
from jiuzhu.db import Base, utcnow
from jiuzhu.tenancy.mixins import TenantScoped

CACHE_SECONDS = 60

#: roles that always need the second factor, whatever the county sets
ALWAYS_MFA = frozenset({Role.platform_operator, Role.county_admin})


@dataclasses.dataclass(frozen=True)
class PolicyValues:
    #: minutes without a request after which a session ends
    idle_minutes: int = 15
    #: hours after login after which a session ends, however active
    absolute_hours: int = 10
    password_min_length: int = 10
    #: earlier passwords a new one may not repeat
    password_history: int = 5
    #: days after which a password must be changed (0: never)
    password_max_age_days: int = 90
    #: days without a login after which an account is disabled (0: never)
    disable_unused_days: int = 90
    #: households one account may open in an hour before the county admins are alerted
    access_alert_per_hour: int = 100
    #: roles that need the second factor, besides :data:`ALWAYS_MFA`
    mfa_roles: tuple[str, ...] = ()

    def needs_mfa(self, role: Role) -> bool:
        return role in ALWAYS_MFA or role.value in self.mfa_roles


DEFAULTS = PolicyValues()

#: field → (low, high, label) — what the screen offers and refuses beyond
BOUNDS: dict[str, tuple[int, int, str]] = {
    "idle_minutes": (5, 30, "无操作自动退出（分钟）"),
    "absolute_hours": (1, 24, "登录后最长在线时间（小时）"),
    "password_min_length": (10, 64, "密码最短长度"),
    "password_history": (0, 24, "不得与最近几次密码相同"),
    "password_max_age_days": (0, 180, "密码最长使用天数（0 为不限）"),
    "disable_unused_days": (0, 365, "多少天未登录即停用账户（0 为不停用）"),
    "access_alert_per_hour": (10, 1000, "一个账户一小时内查看多少户家庭即提醒县级管理员"),
}


class SecurityPolicy(Audited, TenantScoped, Base):
    """The county's own values; absent fields take :data:`DEFAULTS`."""

    __tablename__ = "security_policies"
    __audit_entity__ = "security_policy"
    __audit_ignore__ = frozenset({"updated_at"})
    __table_args__ = (UniqueConstraint("tenant_id", name="uq_security_policies_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idle_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULTS.idle_minutes)
    absolute_hours: Mapped[int] = mapped_column(Integer, default=DEFAULTS.absolute_hours)
    password_min_length: Mapped[int] = mapped_column(Integer, default=DEFAULTS.password_min_length)
    password_history: Mapped[int] = mapped_column(Integer, default=DEFAULTS.password_history)
    password_max_age_days: Mapped[int] = mapped_column(Integer, default=DEFAULTS.password_max_age_days)
    disable_unused_days: Mapped[int] = mapped_column(Integer, default=DEFAULTS.disable_unused_days)
    access_alert_per_hour: Mapped[int] = mapped_column(Integer, default=DEFAULTS.access_alert_per_hour,
                                                       server_default=str(DEFAULTS.access_alert_per_hour))
    mfa_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def values(self) -> PolicyValues:
        return PolicyValues(**{f.name: (tuple(getattr(self, f.name) or ()) if f.name == "mfa_roles"
                                        else getattr(self, f.name))
                               for f in dataclasses.fields(PolicyValues)})


_cache: dict[int, tuple[float, PolicyValues]] = {}


def policy_for(session, tenant_id: int | None) -> PolicyValues:
    """The policy in force for a county's users (the defaults for the platform), cached briefly.
    The caller is in the tenant's scope (the row is tenant-owned)."""
    if tenant_id is None:
        return DEFAULTS
    hit = _cache.get(tenant_id)
    now = time.monotonic()
    if hit and hit[0] > now:
        return hit[1]
    row = session.scalar(select(SecurityPolicy).where(SecurityPolicy.tenant_id == tenant_id))
    values = row.values() if row else DEFAULTS
    _cache[tenant_id] = (now + CACHE_SECONDS, values)
    return values


def forget_cached(tenant_id: int | None = None) -> None:
    if tenant_id is None:
        _cache.clear()
    else:
        _cache.pop(tenant_id, None)


def validate_policy(data: dict[str, Any]) -> dict[str, list[str]]:
    """Field → Chinese messages for values beyond :data:`BOUNDS` or unknown roles."""
    errors: dict[str, list[str]] = {}
    for name, (low, high, label) in BOUNDS.items():
        value = data.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            errors[name] = [f"{label}须为整数。"]
        elif not low <= value <= high:
            errors[name] = [f"{label}须在 {low} 至 {high} 之间。"]
    roles = data.get("mfa_roles") or []
    known = {r.value for r in Role if r is not Role.platform_operator}
    if any(r not in known for r in roles):
        errors["mfa_roles"] = ["角色无效。"]
    return errors


def save_policy(session, tenant_id: int, data: dict[str, Any]) -> SecurityPolicy:
    from jiuzhu.errors import ValidationError

    errors = validate_policy(data)
    if errors:
        raise ValidationError(field_errors=errors)
    row = session.scalar(select(SecurityPolicy).where(SecurityPolicy.tenant_id == tenant_id))
    if row is None:
        row = SecurityPolicy()
        session.add(row)
    for name in BOUNDS:
        setattr(row, name, data[name])
    row.mfa_roles = sorted(set(data.get("mfa_roles") or []))
    session.flush()
    forget_cached(tenant_id)
    return row
