"""Login throttling: too many failures lock the account, and the source address, for a while."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from jiuzhu.auth.models import LoginAttempt
from jiuzhu.db import utcnow


@dataclass(frozen=True)
class Lock:
    reason: str  # "account" or "source"
    until: dt.datetime

    def message(self, now: dt.datetime | None = None) -> str:
        now = now or utcnow()
        minutes = max(1, int((self.until - now).total_seconds() + 59) // 60)
        who = "该账户" if self.reason == "account" else "您所在的网络地址"
        return f"登录失败次数过多，{who}已被暂时锁定，请 {minutes} 分钟后再试。"


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["JIUZHU_LOGIN_LOCK_MINUTES"])


def _lock_from(session, column, value: str, limit: int, now: dt.datetime, reason: str) -> Lock | None:
    since = now - _window()
    # Failures since the last success in the window.
    last_ok = session.scalar(
        select(func.max(LoginAttempt.at)).where(column == value, LoginAttempt.success.is_(True),
                                                LoginAttempt.at >= since))
    start = max(since, last_ok) if last_ok else since
    rows = session.execute(
        select(LoginAttempt.at).where(column == value, LoginAttempt.success.is_(False), LoginAttempt.at > start)
        .order_by(LoginAttempt.at.desc()).limit(limit)).scalars().all()
    if len(rows) < limit:
        return None
    until = rows[0] + _window()
    return Lock(reason, until) if until > now else None


def current_lock(session, username: str, source: str, now: dt.datetime | None = None) -> Lock | None:
    now = now or utcnow()
    cfg = current_app.config
    return (_lock_from(session, LoginAttempt.username, username.lower(), cfg["JIUZHU_LOGIN_MAX_FAILURES"], now,
                       "account")
            or _lock_from(session, LoginAttempt.source, source, cfg["JIUZHU_LOGIN_MAX_FAILURES_PER_SOURCE"], now,
                          "source"))


def record_attempt(session, username: str, source: str, success: bool) -> None:
    session.add(LoginAttempt(username=username.lower()[:64], source=source[:64], success=success))
