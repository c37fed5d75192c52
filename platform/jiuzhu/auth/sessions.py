"""Login sessions that can be ended: one live session per account, an idle timeout and an absolute
lifetime (the county's :mod:`jiuzhu.auth.policy`), and revocation on logout or password change.

The session cookie is signed, not stored. What makes it revocable is a counter on the user,
``session_generation``, copied into the cookie at login and compared on every request (the user row
is loaded anyway, so this costs no query): a new login, a logout, a password change or an admin's
reset increments it, and every older cookie — even one copied before the logout — stops working.
The reason of the last increment tells the user why their session ended. The cookie also carries the
login time and the time of the last request, for the idle and absolute limits.
"""

from __future__ import annotations

import enum
import time

from flask import session

GEN, LOGIN_AT, SEEN_AT = "_jz_gen", "_jz_login", "_jz_seen"


class EndReason(enum.StrEnum):
    new_login = "new_login"
    logout = "logout"
    password_changed = "password_changed"
    reset_by_admin = "reset_by_admin"
    disabled = "disabled"
    idle = "idle"
    expired = "expired"

    @property
    def message(self) -> str:
        return {
            "new_login": "您的账户已在其他地方登录，本会话已结束。如非本人操作，请立即修改密码并联系管理员。",
            "logout": "您已退出登录，请重新登录。",
            "password_changed": "您的密码已修改，其他会话已结束，请用新密码登录。",
            "reset_by_admin": "管理员已重置您的密码或账户，请重新登录。",
            "disabled": "您的账户已停用。",
            "idle": "长时间未操作，已自动退出，请重新登录。",
            "expired": "登录时间已达上限，请重新登录。",
        }[self.value]


def end_sessions(user, reason: EndReason) -> None:
    """Every session of the user ends (the caller commits). The counter is raised by the database
    (``session_generation + 1`` in the UPDATE, under the row's lock), not by Python: two logins at
    the same moment each get a generation of their own, and the later ends the earlier — read in
    Python, both read the same value, wrote the same next one, and both sessions lived on."""
    user.session_generation = type(user).session_generation + 1
    user.session_end_reason = reason.value


def _generation(user) -> int:
    """The user's generation as the database holds it, after any raise above (flushed first)."""
    from sqlalchemy.orm import object_session

    found = object_session(user)
    if found is not None:
        found.flush()
    return user.session_generation


def start(user, now: float | None = None) -> None:
    """The request logging the user in: older sessions end, this cookie carries the new generation."""
    end_sessions(user, EndReason.new_login)
    now = time.time() if now is None else now
    session[GEN] = _generation(user)
    session[LOGIN_AT] = session[SEEN_AT] = int(now)


def keep_current(user) -> None:
    """After a change that ended the user's sessions (a password change), this one continues."""
    session[GEN] = _generation(user)


def check(user, policy, now: float | None = None) -> EndReason | None:
    """Why this request's session of ``user`` is over, or None (and the idle clock restarts)."""
    now = time.time() if now is None else now
    if session.get(GEN) != user.session_generation:
        return EndReason(user.session_end_reason) if user.session_end_reason else EndReason.logout
    if now - session.get(LOGIN_AT, 0) > policy.absolute_hours * 3600:
        return EndReason.expired
    if now - session.get(SEEN_AT, 0) > policy.idle_minutes * 60:
        return EndReason.idle
    if int(now) - session.get(SEEN_AT, 0) >= 30:  # refresh at most every 30 s: fewer cookie rewrites
        session[SEEN_AT] = int(now)
    return None


def forget() -> None:
    for key in (GEN, LOGIN_AT, SEEN_AT):
        session.pop(key, None)
