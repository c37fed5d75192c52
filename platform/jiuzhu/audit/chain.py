"""Appending to a tenant's chain, and the keyed hash that links each event to the one before.

The hash is HMAC-SM3 under the active audit key (``jiuzhu.crypto.keys``; the event records the key's
id). The key lives outside the database: someone who owns the database and rewrites an event
cannot compute the hashes that would hide it. Someone who also stole the key is caught by the
anchors, the chain heads exported daily outside the database (:mod:`jiuzhu.audit.anchors`).

Both the automatic capture and :func:`jiuzhu.audit.services.record` append through
:func:`append`, so explicit and automatic events share one chain.

Concurrency: :func:`lock_head` takes ``SELECT … FOR UPDATE`` on the tenant's ``audit_heads`` row
and the lock is held until the transaction ends. Two transactions of one county therefore append
one after the other, from the first audited write of the later one until the commit of the
earlier — the price of a chain that never forks, and small at a county's volume (a few writes a
second at peak). Counties never wait for each other. The unique (tenant_id, seq) index is the
backstop. Appends need READ COMMITTED (the default): the lock then hands over the latest head.
On SQLite (the demo) FOR UPDATE is ignored and the database's single writer serialises instead; a
losing writer fails, it does not fork the chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from jiuzhu.audit.canonical import canonical, jsonable
from jiuzhu.audit.context import current_actor
from jiuzhu.audit.models import AuditEvent, AuditHead
from jiuzhu.crypto.cipher import hmac_sm3
from jiuzhu.crypto.types import keyring
from jiuzhu.db import utcnow

#: prev_hash of a chain's first event
GENESIS = "0" * 64

#: the columns an event's hash covers, all but its id, its own hash and prev_hash (which follows
#: the canonical JSON of these)
HASHED_FIELDS = ("tenant_id", "seq", "at", "actor_id", "actor_name", "actor_role", "entity_type", "entity_id",
                 "action", "before", "after", "reason", "case_id")


def event_hash(fields: Mapping[str, Any], prev_hash: str, key: bytes) -> str:
    """Hex HMAC-SM3 under ``key`` of the canonical JSON of the hashed fields, followed by ``prev_hash``.

    The values are the plain ones (``before``/``after``/``reason`` decrypted), so re-encrypting a
    payload under a new field key leaves the hash as it was."""
    content = canonical({name: fields[name] for name in HASHED_FIELDS})
    return hmac_sm3(key, (content + prev_hash).encode("utf-8"))


@dataclass(frozen=True)
class Entry:
    """What an event says, before it has a place in the chain."""

    entity_type: str
    entity_id: str
    action: str
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    reason: str | None = None
    case_id: int | None = None


def _insert_head_if_missing(session, tenant_id: int) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    session.execute(dialect_insert(AuditHead.__table__)
                    .values(tenant_id=tenant_id, seq=0, hash=GENESIS)
                    .on_conflict_do_nothing(index_elements=["tenant_id"]))


def lock_head(session, tenant_id: int) -> tuple[int, str]:
    """Lock the tenant's chain head until the transaction ends; return its (seq, hash).

    The first append of a tenant creates the head. Two first appends at once both try; ``ON CONFLICT
    DO NOTHING`` makes the second wait for the first to commit, and its lock then sees that head.
    """
    query = (select(AuditHead.seq, AuditHead.hash).where(AuditHead.tenant_id == tenant_id)
             .with_for_update())
    row = session.execute(query).first()
    if row is None:
        _insert_head_if_missing(session, tenant_id)
        row = session.execute(query).one()
    return row.seq, row.hash


def append(session, tenant_id: int, entries: Sequence[Entry], *, returning: bool = False) -> list[AuditEvent]:
    """Append ``entries`` to the tenant's chain in the session's transaction, as the current actor.

    Runs inside flushes too (the automatic capture calls it from ``after_flush``), so it writes with
    INSERT/UPDATE statements and never adds objects to the unit of work. ``returning``: hand back
    the new events as ORM objects (one RETURNING round trip); otherwise an empty list.
    """
    if not entries:
        return []
    seq, prev = lock_head(session, tenant_id)
    key_id, key = keyring().audit.active()
    actor = current_actor()
    at = utcnow()
    rows = []
    for entry in entries:
        seq += 1
        row = {"tenant_id": tenant_id, "seq": seq, "at": at, "actor_id": actor.id, "actor_name": actor.name,
               "actor_role": actor.role, "entity_type": entry.entity_type, "entity_id": str(entry.entity_id),
               "action": entry.action, "before": jsonable(entry.before), "after": jsonable(entry.after),
               "reason": entry.reason, "case_id": entry.case_id, "prev_hash": prev, "key_id": key_id}
        row["hash"] = prev = event_hash(row, prev, key)
        rows.append(row)
    events: list[AuditEvent] = []
    if returning:
        events = list(session.scalars(insert(AuditEvent).returning(AuditEvent), rows))
    else:
        session.execute(insert(AuditEvent.__table__), rows)
    heads = AuditHead.__table__
    session.execute(update(heads).where(heads.c.tenant_id == tenant_id).values(seq=seq, hash=prev))
    return events
