"""Recording semantic events, and verifying a tenant's chain."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from jiuzhu.audit.chain import GENESIS, HASHED_FIELDS, Entry, append, event_hash
from jiuzhu.audit.models import AuditEvent, AuditHead
from jiuzhu.tenancy.context import NoScopeError, ScopeError, current_scope, require_scope


def record(session, *, entity_type: str, entity_id: int | str, action: str,
           before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None,
           reason: str | None = None, case_id: int | None = None) -> AuditEvent:
    """Append one event to the current tenant's chain, as the current actor, in the caller's
    transaction: the caller commits, and a rollback removes the event with the change.

    For acts that a row diff cannot say (a transition and its grounds, an extension and its
    reason). Pending changes are flushed first, so their automatic events come before this one.
    """
    tenant_id = require_scope().tenant_id
    if tenant_id is None:
        raise NoScopeError("audit events belong to a tenant's chain; the platform scope has none")
    if not entity_type or not action or entity_id is None or entity_id == "":
        raise ValueError("an audit event needs entity_type, entity_id and action")
    for name, values in (("before", before), ("after", after)):
        if values is not None and not isinstance(values, Mapping):
            raise TypeError(f"{name} must be a mapping of field → value, or None")
    session.flush()
    entry = Entry(entity_type=entity_type, entity_id=str(entity_id), action=action, before=before, after=after,
                  reason=reason, case_id=None if case_id is None else int(case_id))
    return append(session, tenant_id, [entry], returning=True)[0]


# -- verification ---------------------------------------------------------------------------------

class BreakKind(enum.StrEnum):
    content_altered = "content_altered"
    broken_link = "broken_link"
    gap = "gap"
    head_mismatch = "head_mismatch"

    @property
    def label(self) -> str:
        return {"content_altered": "内容被改动", "broken_link": "链接断开", "gap": "记录缺失",
                "head_mismatch": "链头不符"}[self.value]


@dataclass(frozen=True)
class Break:
    """One place where the chain does not hold."""

    kind: BreakKind
    #: the event concerned; for a gap the first missing seq; for a head mismatch the head's seq
    seq: int
    #: what was found, in Chinese
    detail: str

    @property
    def message(self) -> str:
        return f"第 {self.seq} 条：{self.kind.label}——{self.detail}"


@dataclass
class ChainReport:
    tenant_id: int
    #: events read
    events: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    def _step(self, row) -> None:
        self.events += 1
        expected = self.last_seq + 1
        if row.seq != expected:
            # A deleted event also breaks the link of the next one; the gap says it all.
            missing = f"第 {expected} 条" if row.seq == expected + 1 else f"第 {expected}–{row.seq - 1} 条"
            self.breaks.append(Break(BreakKind.gap, expected, f"{missing}不存在（记录被删除）"))
        elif row.prev_hash != self.last_hash:
            self.breaks.append(Break(BreakKind.broken_link, row.seq,
                                     "记录的前一哈希与上一条记录的哈希不一致（记录被改动或插入）"))
        if event_hash(row._mapping, row.prev_hash) != row.hash:
            self.breaks.append(Break(BreakKind.content_altered, row.seq, "记录内容与其哈希不符（记录被改动）"))
        self.last_seq, self.last_hash = row.seq, row.hash

    def _finish(self, head) -> None:
        head_seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
        if head_seq == self.last_seq and head_hash == self.last_hash:
            return
        if head_seq == self.last_seq:
            detail = "链头的哈希与最后一条记录的哈希不一致"
        else:
            detail = f"链头记为第 {head_seq} 条，而最后一条记录是第 {self.last_seq} 条"
            if head_seq > self.last_seq:
                detail += "（末尾的记录被删除）"
        self.breaks.append(Break(BreakKind.head_mismatch, head_seq, detail))


# Mapped attributes, not table columns: the statement must pass through the ORM scoping.
_COLUMNS = [getattr(AuditEvent, name) for name in (*HASHED_FIELDS, "prev_hash", "hash")]


def check_chain(session, tenant_id: int, *, batch_size: int = 2000) -> ChainReport:
    """Recompute every hash of the tenant's chain in seq order and report each break.

    Must run in that tenant's scope. Events are streamed (``yield_per``), so memory stays flat on
    millions of rows. Events committed while the check runs are checked too: when the head has
    moved past the last event read, the check reads on from there before it compares the head.
    """
    scope = current_scope()
    if scope is None or scope.tenant_id != tenant_id:
        raise ScopeError(f"verify the chain of tenant {tenant_id} inside that tenant's scope")
    report = ChainReport(tenant_id)
    head_query = select(AuditHead.seq, AuditHead.hash).where(AuditHead.tenant_id == tenant_id)
    while True:
        events = (select(*_COLUMNS)
                  .where(AuditEvent.tenant_id == tenant_id, AuditEvent.seq > report.last_seq)
                  .order_by(AuditEvent.seq).execution_options(yield_per=batch_size))
        for row in session.execute(events):
            report._step(row)
        head = session.execute(head_query).first()
        if head is None or head.seq <= report.last_seq:
            break
        newer = session.scalar(select(AuditEvent.seq).where(AuditEvent.seq > report.last_seq).limit(1))
        if newer is None:
            break
    report._finish(head)
    return report


def verify(session, tenant_id: int) -> list[Break]:
    """Every break in the tenant's chain: altered content, broken links, gaps, a wrong head."""
    return check_chain(session, tenant_id).breaks


__all__ = ["Break", "BreakKind", "ChainReport", "check_chain", "record", "verify"]
