"""The platform's own log: what the operator did to whole counties (export, import, purge).

A county's chain (:mod:`jiuzhu.audit.chain`) cannot record its own purge — it is deleted with the
county — so acts on whole counties go to ``platform_events``, one keyed chain for the instance
(HMAC-SM3 under the audit key, ``prev_hash`` linking each event to the one before, append-only by
trigger and by grant). An event holds no personal data: a county's code, counts, checksums.
``flask --app wsgi audit verify`` checks this chain after the counties'.
"""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint, insert, select, text
from sqlalchemy.orm import Mapped, mapped_column

from jiuzhu.audit.canonical import canonical, jsonable
from jiuzhu.crypto.cipher import hmac_sm3, same
from jiuzhu.crypto.keys import UnknownKeyError
from jiuzhu.crypto.types import keyring
from jiuzhu.db import Base, utcnow

GENESIS = "0" * 64
#: one advisory lock for the platform chain: appends serialise (the unique seq is the backstop)
LOCK_KEY = 0x6A7A_7066  # "jzpf"

HASHED = ("seq", "at", "actor_name", "action", "tenant_code", "detail")


class PlatformEvent(Base):
    """One act of the platform operator on a whole county."""

    __tablename__ = "platform_events"
    __table_args__ = (UniqueConstraint("seq"), Index("ix_platform_events_tenant_code", "tenant_code", "seq"))

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: who ran the command (the operating-system account), or the operator's login
    actor_name: Mapped[str] = mapped_column(String(200))
    #: ``export``, ``import``, ``purge``
    action: Mapped[str] = mapped_column(String(32))
    tenant_code: Mapped[str] = mapped_column(String(40))
    #: counts, checksums, source and target: never personal data
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))


def _hash(fields: dict[str, Any], prev_hash: str, key: bytes) -> str:
    return hmac_sm3(key, (canonical({k: fields[k] for k in HASHED}) + prev_hash).encode("utf-8"))


def command_actor() -> str:
    """Who runs a command: the operating-system account (a command has no logged-in user)."""
    try:
        return f"命令行（{getpass.getuser()}）"
    except Exception:  # noqa: BLE001 - no account name in a container is still a command
        return "命令行"


def record(connection, action: str, tenant_code: str, detail: dict[str, Any], actor_name: str | None = None) -> int:
    """Append one event in the connection's (or session's) transaction; returns its seq."""
    table = PlatformEvent.__table__
    bind = connection.get_bind() if hasattr(connection, "get_bind") else connection
    if bind.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    last = connection.execute(select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)).first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    key_id, key = keyring().audit.active()
    row = {"seq": seq + 1, "at": utcnow(), "actor_name": actor_name or command_actor(), "action": action,
           "tenant_code": tenant_code, "detail": jsonable(detail), "prev_hash": prev, "key_id": key_id}
    row["hash"] = _hash(row, prev, key)
    connection.execute(insert(table), row)
    return row["seq"]


@dataclass
class PlatformReport:
    events: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session) -> PlatformReport:
    """Recompute every platform event's keyed hash in seq order."""
    report = PlatformReport()
    prev, expected_seq = GENESIS, 1
    for ev in session.scalars(select(PlatformEvent).order_by(PlatformEvent.seq)):
        report.events += 1
        if ev.seq != expected_seq:
            report.problems.append(f"平台记录第 {expected_seq} 条缺失")
        try:
            key = keyring().audit.get(ev.key_id)
        except UnknownKeyError:
            report.problems.append(f"平台记录第 {ev.seq} 条以未配置的审计密钥 {ev.key_id} 计算")
            prev, expected_seq = ev.hash, ev.seq + 1
            continue
        fields = {k: getattr(ev, k) for k in HASHED}
        if ev.prev_hash != prev or not same(_hash(fields, ev.prev_hash, key), ev.hash):
            report.problems.append(f"平台记录第 {ev.seq} 条被改动（{ev.action} {ev.tenant_code}）")
        prev, expected_seq = ev.hash, ev.seq + 1
    return report


def exports_of(session, tenant_code: str) -> list[PlatformEvent]:
    return list(session.scalars(select(PlatformEvent).where(PlatformEvent.tenant_code == tenant_code,
                                                            PlatformEvent.action == "export")
                                .order_by(PlatformEvent.seq)))


__all__ = ["PlatformEvent", "PlatformReport", "command_actor", "exports_of", "record", "verify"]
