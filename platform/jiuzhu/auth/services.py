"""Creating and changing users. Validation first; nothing is written when input is refused."""

from __future__ import annotations

import datetime as dt
import re

from jiuzhu.auth.lookup import login_directory
from jiuzhu.auth.models import User
from jiuzhu.auth.passwords import hash_password, password_problem
from jiuzhu.auth.policy import policy_for
from jiuzhu.auth.roles import Role
from jiuzhu.auth.sessions import EndReason, end_sessions
from jiuzhu.db import utcnow
from jiuzhu.errors import ValidationError
from jiuzhu.tenancy.context import require_scope
from jiuzhu.tenancy.models import OrgUnit

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")


def check_role_fits_unit(role: Role, unit: OrgUnit | None) -> str | None:
    level = role.org_level
    if level is None:
        return None if unit is None else "平台运维人员不隶属于任何县（区）的组织。"
    if unit is None:
        return f"{role.label}须指定所属单位（{level.label}）。"
    if unit.level != level:
        return f"{role.label}须隶属于{level.label}，而“{unit.name}”是{unit.level.label}。"
    return None


def create_user(session, *, username: str, full_name: str, role: Role | str, password: str,
                org_unit: OrgUnit | None = None, phone: str | None = None, email: str | None = None) -> User:
    scope = require_scope()
    role = Role(role)
    username = (username or "").strip()
    full_name = (full_name or "").strip()
    errors = []
    if not USERNAME_RE.match(username):
        errors.append("用户名须为 3–64 个字母、数字、点、下划线或连字符，并以字母或数字开头。")
    elif login_directory(session, username) is not None:
        errors.append(f"用户名“{username}”已被使用。")
    if not full_name:
        errors.append("姓名不能为空。")
    policy = policy_for(session, scope.tenant_id)
    problem = password_problem(password, username=username, min_length=policy.password_min_length)
    if problem:
        errors.append(problem)
    if (role is Role.platform_operator) != scope.is_platform:
        errors.append("平台运维人员只能在平台范围内创建；县（区）用户只能在本县（区）范围内创建。")
    else:
        problem = check_role_fits_unit(role, org_unit)
        if problem:
            errors.append(problem)
    if errors:
        raise ValidationError(*errors)
    user = User(username=username, full_name=full_name, role=role, org_unit=org_unit,
                password_hash=hash_password(password), phone=phone or None, email=email or None, active=True,
                password_changed_at=utcnow())
    session.add(user)
    session.flush()
    return user


def set_password(session, user: User, password: str, *, by_admin: bool = False) -> None:
    """A new password under the county's policy (length, classes, not common, not the login name,
    none of the last N). Every other session of the user ends; after an admin's reset the user must
    choose their own at the next login."""
    policy = policy_for(session, user.tenant_id)
    # newest first: the current password, then the ones before it
    previous = [user.password_hash, *(user.password_history or [])][: policy.password_history]
    problem = password_problem(password, username=user.username, min_length=policy.password_min_length,
                               previous_hashes=previous)
    if problem:
        raise ValidationError(field_errors={"password": [problem]})
    user.password_history = previous
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = by_admin
    end_sessions(user, EndReason.reset_by_admin if by_admin else EndReason.password_changed)


def is_dormant(user: User, policy, now: dt.datetime) -> bool:
    """Unused for longer than the county allows: no login (nor creation, nor re-enabling) within
    ``disable_unused_days``. The operator's own account is never disabled so (it has no county)."""
    if not policy.disable_unused_days or user.tenant_id is None:
        return False
    last = max((t for t in (user.last_login_at, user.created_at, user.enabled_at) if t is not None), default=now)
    return now - last > dt.timedelta(days=policy.disable_unused_days)


def disable_dormant_accounts(session, now: dt.datetime | None = None) -> list[User]:
    """In the current county: disable every active account unused beyond the policy (the daily job;
    a login finds the same). Returns them; the caller commits."""
    from sqlalchemy import select

    now = now or utcnow()
    policy = policy_for(session, require_scope().tenant_id)
    if not policy.disable_unused_days:
        return []
    disabled = []
    for user in session.scalars(select(User).where(User.active.is_(True))):
        if is_dormant(user, policy, now):
            user.active, user.disabled_reason = False, "unused"
            end_sessions(user, EndReason.disabled)
            disabled.append(user)
    session.flush()
    return disabled
