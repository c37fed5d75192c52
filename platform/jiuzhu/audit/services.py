"""Recording semantic events, and verifying a tenant's chain."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, select, type_coerce

from jiuzhu.audit.chain import GENESIS, HASHED_FIELDS, Entry, append, event_hash
from jiuzhu.audit.models import AuditEvent, AuditHead
from jiuzhu.crypto.cipher import DecryptionError, same
from jiuzhu.crypto.keys import UnknownKeyError
from jiuzhu.crypto.types import keyring
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
    anchor_mismatch = "anchor_mismatch"
    anchor_invalid = "anchor_invalid"

    @property
    def label(self) -> str:
        return {"content_altered": "内容被改动", "broken_link": "链接断开", "gap": "记录缺失",
                "head_mismatch": "链头不符", "anchor_mismatch": "与锚点不符",
                "anchor_invalid": "锚点文件不可信"}[self.value]


@dataclass(frozen=True)
class Break:
    """One place where the chain does not hold."""

    kind: BreakKind
    #: the event concerned; for a gap the first missing seq; for a head mismatch the head's seq; for
    #: an anchor the seq it anchored; None for an anchor file that cannot be trusted
    seq: int | None
    #: what was found, in Chinese
    detail: str

    @property
    def message(self) -> str:
        where = f"第 {self.seq} 条" if self.seq is not None else "锚点"
        return f"{where}：{self.kind.label}——{self.detail}"


@dataclass
class ChainReport:
    tenant_id: int
    #: events read
    events: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS
    breaks: list[Break] = field(default_factory=list)
    #: the trusted anchors the chain was compared with
    anchors: list = field(default_factory=list)
    #: anchored seq → the anchors that name it (filled by :func:`check_chain`)
    _anchored: dict = field(default_factory=dict, repr=False)
    _keys: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def latest_anchor(self):
        return max(self.anchors, key=lambda a: a.seq) if self.anchors else None

    def _step(self, row, fields) -> None:
        self.events += 1
        expected = self.last_seq + 1
        if row.seq != expected:
            # A deleted event also breaks the link of the next one; the gap says it all.
            missing = f"第 {expected} 条" if row.seq == expected + 1 else f"第 {expected}–{row.seq - 1} 条"
            self.breaks.append(Break(BreakKind.gap, expected, f"{missing}不存在（记录被删除）"))
        elif row.prev_hash != self.last_hash:
            self.breaks.append(Break(BreakKind.broken_link, row.seq,
                                     "记录的前一哈希与上一条记录的哈希不一致（记录被改动或插入）"))
        if fields is None:
            self.breaks.append(Break(BreakKind.content_altered, row.seq,
                                     "记录中的加密内容无法解密（密文被改动或替换）"))
        else:
            try:
                key = self._keys.get(row.key_id)
            except UnknownKeyError:
                self.breaks.append(Break(BreakKind.content_altered, row.seq,
                                         f"记录的哈希以未配置的审计密钥“{row.key_id}”计算"))
            else:
                if not same(event_hash(fields, row.prev_hash, key), row.hash):
                    self.breaks.append(Break(BreakKind.content_altered, row.seq,
                                             "记录内容与其密钥哈希不符（记录被改动）"))
        for anchor in self._anchored.get(row.seq, ()):
            if anchor.hash != row.hash:
                self.breaks.append(Break(BreakKind.anchor_mismatch, row.seq,
                                         f"{anchor.when} 锚定的哈希与现存记录不同（锚定后记录被改写）"))
        self.last_seq, self.last_hash = row.seq, row.hash

    def _finish(self, head) -> None:
        head_seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
        if head_seq != self.last_seq or head_hash != self.last_hash:
            if head_seq == self.last_seq:
                detail = "链头的哈希与最后一条记录的哈希不一致"
            else:
                detail = f"链头记为第 {head_seq} 条，而最后一条记录是第 {self.last_seq} 条"
                if head_seq > self.last_seq:
                    detail += "（末尾的记录被删除）"
            self.breaks.append(Break(BreakKind.head_mismatch, head_seq, detail))
        beyond = [a for a in self.anchors if a.seq > self.last_seq]
        if beyond:
            anchor = max(beyond, key=lambda a: a.seq)
            self.breaks.append(Break(
                BreakKind.anchor_mismatch, anchor.seq,
                f"{anchor.when} 锚定时链已有第 {anchor.seq} 条，现存最后一条是第 {self.last_seq} 条"
                f"（末尾的记录被删除、链头被回退或整条链被清空）"))


_HASHED_PLAIN = tuple(name for name in HASHED_FIELDS if name not in ("before", "after", "reason"))
_ENCRYPTED = ("before", "after", "reason")


def _columns():
    # Mapped attributes, not table columns: the statement must pass through the ORM scoping. The
    # encrypted payload is read as stored and decrypted here, so that an altered ciphertext is a
    # break at its seq rather than an error that stops the check.
    plain = [getattr(AuditEvent, name) for name in (*_HASHED_PLAIN, "prev_hash", "hash", "key_id")]
    raw = [type_coerce(getattr(AuditEvent, name), Text).label(name)
           for name in _ENCRYPTED]
    return plain + raw


def _plain_fields(row, tenant_id: int) -> dict | None:
    fields = dict(row._mapping)
    table = AuditEvent.__table__
    try:
        for name in _ENCRYPTED:
            stored = fields[name]
            fields[name] = None if stored is None else table.c[name].type.decrypt(stored, tenant_id)
    except (DecryptionError, ValueError):
        return None
    return fields


def check_chain(session, tenant_id: int, *, batch_size: int = 2000, anchors: Sequence = (),
                since=None) -> ChainReport:
    """Recompute every keyed hash of the tenant's chain in seq order and report each break, and
    compare the chain with its trusted anchors (:mod:`jiuzhu.audit.anchors`).

    Must run in that tenant's scope. Events are streamed (``yield_per``), so memory stays flat on
    millions of rows. Events committed while the check runs are checked too: when the head has
    moved past the last event read, the check reads on from there before it compares the head.
    ``since`` (an anchor): check only what follows it, after confirming that the event it anchored
    is still there unchanged — what the daily anchoring does before it anchors again.
    """
    scope = current_scope()
    if scope is None or scope.tenant_id != tenant_id:
        raise ScopeError(f"verify the chain of tenant {tenant_id} inside that tenant's scope")
    report = ChainReport(tenant_id, anchors=list(anchors), _keys=keyring().audit)
    for anchor in report.anchors:
        report._anchored.setdefault(anchor.seq, []).append(anchor)
    if since is not None and since.seq > 0:
        stored = session.scalar(select(AuditEvent.hash).where(AuditEvent.tenant_id == tenant_id,
                                                              AuditEvent.seq == since.seq))
        if stored != since.hash:
            report.breaks.append(Break(BreakKind.anchor_mismatch, since.seq,
                                       f"{since.when} 锚定的记录已不存在或已被改写"))
            return report
        report.last_seq, report.last_hash = since.seq, since.hash
    head_query = select(AuditHead.seq, AuditHead.hash).where(AuditHead.tenant_id == tenant_id)
    while True:
        events = (select(*_columns())
                  .where(AuditEvent.tenant_id == tenant_id, AuditEvent.seq > report.last_seq)
                  .order_by(AuditEvent.seq).execution_options(yield_per=batch_size))
        for row in session.execute(events):
            report._step(row, _plain_fields(row, tenant_id))
        head = session.execute(head_query).first()
        if head is None or head.seq <= report.last_seq:
            break
        newer = session.scalar(select(AuditEvent.seq).where(AuditEvent.seq > report.last_seq).limit(1))
        if newer is None:
            break
    report._finish(head)
    return report


def verify(session, tenant_id: int, anchors: Sequence = ()) -> list[Break]:
    """Every break in the tenant's chain: altered content, broken links, gaps, a wrong head, and
    disagreements with the anchors given."""
    return check_chain(session, tenant_id, anchors=anchors).breaks


__all__ = ["Break", "BreakKind", "ChainReport", "check_chain", "record", "verify"]
