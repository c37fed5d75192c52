"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

_STANDARD = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
# Real argon2id with minimal cost: the test suite creates hundreds of users.
_FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

MIN_PASSWORD_LENGTH = 10


def _hasher() -> PasswordHasher:
    if has_app_context() and current_app.config.get("JIUZHU_PASSWORD_HASHING") == "fast":
        return _FAST
    return _STANDARD


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """A Chinese message if the password is too weak, else None."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符。"
    if password.isdigit() or password.isalpha():
        return "密码须同时包含字母和数字（或符号）。"
    return None
