"""Audit events and the head of each tenant's chain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from jiuzhu.crypto.types import EncryptedJSON, EncryptedText
from jiuzhu.db import Base, utcnow
from jiuzhu.tenancy.mixins import TenantScoped

TENANT_COMMENT = "Owning tenant (county); filtered centrally and by row-level security."


class AuditEvent(TenantScoped, Base):
    """One change, or one act, in a county: who, when, what, before and after.

    Append-only: the application role may only SELECT and INSERT, and a trigger refuses UPDATE
    and DELETE for everyone. Each event carries the keyed hash of the one before it in its tenant's
    chain (``seq`` 1, 2, 3 …), so a changed, removed or reordered event shows up in
    :func:`jiuzhu.audit.services.verify`; the anchors exported daily catch a rewrite even by someone
    who holds the audit key. ``before``, ``after`` and ``reason`` are encrypted (SM4-GCM): they
    hold whatever the audited rows held, ID numbers and phones included.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "seq"),
        # A case's timeline, and an entity's history, are each one index scan in seq order.
        Index("ix_audit_events_case", "tenant_id", "case_id", "seq",
              postgresql_where=text("case_id IS NOT NULL"), sqlite_where=text("case_id IS NOT NULL")),
        Index("ix_audit_events_entity", "tenant_id", "entity_type", "entity_id", "seq"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: the chain's tenant. Overrides the mixin's column only to drop its separate index: the unique
    #: (tenant_id, seq) index leads with tenant_id already, on a table that grows without end.
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), comment=TENANT_COMMENT)
    #: position in the tenant's chain: 1, 2, 3 … with no gaps
    seq: Mapped[int]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: the acting user; None when the system acted (jobs, commands). No foreign key: the event
    #: outlives the user, and ``actor_name`` keeps who it was.
    actor_id: Mapped[int | None]
    #: snapshot of the actor at the time, e.g. 汪某（xt-staff）, or 系统
    actor_name: Mapped[str] = mapped_column(String(200))
    #: the actor's role at the time (a ``Role`` value, or ``system``)
    actor_role: Mapped[str] = mapped_column(String(32))
    #: what was acted on, e.g. ``case``, ``household``, ``user``, ``org_unit``
    entity_type: Mapped[str] = mapped_column(String(64))
    #: its primary key, as text
    entity_id: Mapped[str] = mapped_column(String(64))
    #: ``insert``, ``update``, ``delete``, or a verb of the domain such as ``transition``, ``extend``
    action: Mapped[str] = mapped_column(String(64))
    #: values before: the changed fields of an update, the whole row of a delete
    before: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON("audit_events.before"))
    #: values after: the changed fields of an update, the whole row of an insert
    after: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON("audit_events.after"))
    #: why, in the actor's words (a decision's grounds, an extension's reason)
    reason: Mapped[str | None] = mapped_column(EncryptedText("audit_events.reason"))
    #: the case this event belongs to, for the case timeline (no foreign key: cases come later,
    #: and an event must survive whatever happens to the case)
    case_id: Mapped[int | None]
    #: hash of the previous event of this tenant; 64 zeros for the first
    prev_hash: Mapped[str] = mapped_column(String(64))
    #: hex HMAC-SM3 of this event's canonical content followed by ``prev_hash``, under the audit key
    #: ``key_id`` — a key the database never holds, so whoever owns the database cannot recompute it
    hash: Mapped[str] = mapped_column(String(64))
    #: id of the audit key (``jiuzhu.crypto.keys``) the hash was computed with
    key_id: Mapped[str] = mapped_column(String(16))

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_name} {self.action} {self.entity_type}:{self.entity_id}"


class AuditHead(TenantScoped, Base):
    """The last event of a tenant's chain. Appending locks this row (``SELECT … FOR UPDATE``), so
    the appends of one county serialise and its chain never forks."""

    __tablename__ = "audit_heads"

    #: one head per tenant
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True,
                                           comment=TENANT_COMMENT)
    #: seq of the last event (0: none yet)
    seq: Mapped[int]
    #: hash of the last event (64 zeros: none yet)
    hash: Mapped[str] = mapped_column(String(64))


__all__ = ["AuditEvent", "AuditHead"]
