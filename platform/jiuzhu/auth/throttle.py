"""Login throttling: too many failures lock the account, and the source address, for a while.

A county office often reaches the instance through one address (a NAT or a proxy). So that a
guesser behind that address cannot lock the whole office out, the source lock spares every login
name that has already logged in successfully from that address within :data:`KNOWN_SOURCE_DAYS`:
it stops the guessing of other names, not the people who work there. The address is
``request.remote_addr``, which reads ``X-Forwarded-For`` only when the app is told it sits behind a
trusted proxy (``JIUZHU_TRUSTED_PROXIES``); a client cannot forge it otherwise.
"""

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
    start = since
    if reason == "account":  # an account's failures count since its last success; an address's all count
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


KNOWN_SOURCE_DAYS = 30


def _known_here(session, username: str, source: str, now: dt.datetime) -> bool:
    since = now - dt.timedelta(days=KNOWN_SOURCE_DAYS)
    return session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == username, LoginAttempt.source == source, LoginAttempt.success.is_(True),
        LoginAttempt.at >= since)) > 0


def current_lock(session, username: str, source: str, now: dt.datetime | None = None) -> Lock | None:
    now = now or utcnow()
    cfg = current_app.config
    name = username.lower()
    account = _lock_from(session, LoginAttempt.username, name, cfg["JIUZHU_LOGIN_MAX_FAILURES"], now, "account")
    if account:
        return account
    source_lock = _lock_from(session, LoginAttempt.source, source, cfg["JIUZHU_LOGIN_MAX_FAILURES_PER_SOURCE"], now,
                             "source")
    if source_lock and not _known_here(session, name, source, now):
        return source_lock
    return None


def record_attempt(session, username: str, source: str, success: bool) -> None:
    session.add(LoginAttempt(username=username.lower()[:64], source=source[:64], success=success))
