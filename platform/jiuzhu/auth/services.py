"""Creating and changing users. Validation first; nothing is written when input is refused."""

from __future__ import annotations

import re

from jiuzhu.auth.lookup import login_directory
from jiuzhu.auth.models import User
from jiuzhu.auth.passwords import hash_password, password_problem
from jiuzhu.auth.roles import Role
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
    problem = password_problem(password)
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
                password_hash=hash_password(password), phone=phone or None, email=email or None, active=True)
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise ValidationError(problem)
    user.password_hash = hash_password(password)
