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
from sqlalchemy import func, select, text

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


# -- reading and writing attempts: on PostgreSQL only through the narrow functions of migration 0019
# (the application role has no privilege on the table); on SQLite (the demo) directly.

def _pg(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _last_success(session, username: str, source: str | None, since: dt.datetime) -> dt.datetime | None:
    if _pg(session):
        return session.scalar(text("SELECT jiuzhu_login_last_success(:n, :s, :since)"),
                              {"n": username, "s": source, "since": since})
    q = select(func.max(LoginAttempt.at)).where(LoginAttempt.username == username, LoginAttempt.success.is_(True),
                                                LoginAttempt.at >= since)
    if source is not None:
        q = q.where(LoginAttempt.source == source)
    return session.scalar(q)


def _failures(session, kind: str, value: str, since: dt.datetime, limit: int) -> list[dt.datetime]:
    if _pg(session):
        return list(session.scalars(text("SELECT * FROM jiuzhu_login_failures(:k, :v, :since, :n)"),
                                    {"k": kind, "v": value, "since": since, "n": limit}))
    column = LoginAttempt.username if kind == "username" else LoginAttempt.source
    return list(session.scalars(select(LoginAttempt.at).where(column == value, LoginAttempt.success.is_(False),
                                                              LoginAttempt.at > since)
                                .order_by(LoginAttempt.at.desc()).limit(limit)))


def record_attempt(session, username: str, source: str, success: bool) -> None:
    name, src = username.lower()[:64], source[:64]
    if _pg(session):
        session.execute(text("SELECT jiuzhu_login_record(:n, :s, :ok)"), {"n": name, "s": src, "ok": success})
    else:
        session.add(LoginAttempt(username=name, source=src, success=success))


def _lock_from(session, kind: str, value: str, limit: int, now: dt.datetime) -> Lock | None:
    since = now - _window()
    start = since
    if kind == "username":  # an account's failures count since its last success; an address's all count
        last_ok = _last_success(session, value, None, since)
        start = max(since, last_ok) if last_ok else since
    rows = _failures(session, kind, value, start, limit)
    if len(rows) < limit:
        return None
    until = rows[0] + _window()
    return Lock("account" if kind == "username" else "source", until) if until > now else None


KNOWN_SOURCE_DAYS = 30


def current_lock(session, username: str, source: str, now: dt.datetime | None = None) -> Lock | None:
    now = now or utcnow()
    cfg = current_app.config
    name = username.lower()
    account = _lock_from(session, "username", name, cfg["JIUZHU_LOGIN_MAX_FAILURES"], now)
    if account:
        return account
    source_lock = _lock_from(session, "source", source, cfg["JIUZHU_LOGIN_MAX_FAILURES_PER_SOURCE"], now)
    if source_lock and _last_success(session, name, source, now - dt.timedelta(days=KNOWN_SOURCE_DAYS)) is None:
        return source_lock
    return None
