"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

_STANDARD = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
# Real argon2id with minimal cost: the test suite creates hundreds of users.
_FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

MIN_PASSWORD_LENGTH = 10
#: character classes a password must mix (of lower case, upper case, digits, symbols)
MIN_CLASSES = 3
MIN_DISTINCT = 5


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


_dummy: dict[int, str] = {}


def spend_verification_time(password: str) -> None:
    """Do the work of one verification for a login name that does not exist, so that an unknown
    name takes as long to refuse as a known one with a wrong password (no enumeration by timing)."""
    hasher = _hasher()
    key = id(hasher)
    if key not in _dummy:
        _dummy[key] = hasher.hash("jiuzhu-no-such-user")
    verify_password(_dummy[key], password)


def _classes(password: str) -> int:
    return sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))


def password_problem(password: str, *, username: str | None = None, min_length: int = MIN_PASSWORD_LENGTH,
                     previous_hashes: list[str] | tuple[str, ...] = ()) -> str | None:
    """A Chinese message if the password is not acceptable, else None: long enough, mixing three
    of four character classes, not mostly one character, not a common password, not the login
    name, and none of the user's recent passwords."""
    from jiuzhu.auth.common_passwords import is_common

    password = password or ""
    if len(password) < min_length:
        return f"密码至少需要 {min_length} 个字符。"
    if _classes(password) < MIN_CLASSES:
        return "密码须包含大写字母、小写字母、数字、符号中的至少三类。"
    if len(set(password)) < MIN_DISTINCT:
        return "密码中重复的字符过多，请换一个更难猜的密码。"
    if is_common(password):
        return "这是常见的弱密码，请换一个更难猜的密码。"
    if username and username.strip() and username.strip().lower() in password.lower():
        return "密码不能包含用户名。"
    if any(verify_password(old, password) for old in previous_hashes):
        return f"新密码不能与最近 {len(previous_hashes)} 次使用过的密码相同。"
    return None
