"""API tokens and the stored responses of idempotent requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiuzhu.audit.capture import Audited
from jiuzhu.auth.models import User
from jiuzhu.crypto.types import EncryptedJSON
from jiuzhu.db import Base, utcnow
from jiuzhu.tenancy.mixins import TenantScoped


class ApiToken(TenantScoped, Audited, Base):
    """A bearer token of one county, acting as one user.

    A token for a person acts as that person; a token for an integration (the provincial
    government-service platform, the low-income monitoring platform, a dashboard) acts as a service
    user created with it, with the token's role and org unit — so every role check of the engine
    applies to it unchanged. Only the SHA-256 of the secret is stored; the secret is shown once.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("tenant_id", "secret_hash"),)
    __audit_entity__ = "api_token"
    __audit_exclude__ = frozenset({"secret_hash"})
    __audit_ignore__ = frozenset({"last_used_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: the user the token acts as (a person, or the integration's service user)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    #: True when the user was created for this token (an integration), False for a person's token
    service_user: Mapped[bool] = mapped_column(default=False)
    #: the first characters of the secret, to tell tokens apart in lists
    prefix: Mapped[str] = mapped_column(String(16))
    #: unique within the county (every key leads with tenant_id, migration 0062); indexed alone for the
    #: lookup by hash, and a 256-bit secret's hash never repeats anyway
    secret_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"


class IdempotentRequest(TenantScoped, Base):
    """The response of a POST with an ``Idempotency-Key``, stored in the transaction of its write:
    a retry with the same key and body gets it back instead of writing again."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("tenant_id", "token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    #: SHA-256 of method, path and body
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    #: encrypted: an answer may carry a decision's grounds
    body: Mapped[Any] = mapped_column(EncryptedJSON("api_idempotency.body"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


__all__ = ["ApiToken", "IdempotentRequest"]
