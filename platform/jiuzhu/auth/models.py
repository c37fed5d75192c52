"""Users and login attempts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiuzhu.audit.capture import Audited
from jiuzhu.auth.roles import Role
from jiuzhu.crypto.types import EncryptedText
from jiuzhu.db import Base, utcnow
from jiuzhu.tenancy.context import Scope
from jiuzhu.tenancy.mixins import OrgScoped
from jiuzhu.tenancy.models import OrgUnit, org_units_of_township


class User(OrgScoped, Audited, Base):
    """A person who works in Jiuzhu: one tenant, one org unit, one role.

    The platform operator is the exception: no tenant and no org unit. Every change to a county's
    user is in the audit trail — that a password changed, never the hash; logins are in
    :class:`LoginAttempt`, not in the trail.
    """

    __tablename__ = "users"
    __tenant_nullable__ = True
    __audit_entity__ = "user"
    __audit_exclude__ = frozenset({"password_hash", "totp_secret", "recovery_codes"})
    __audit_ignore__ = frozenset({"last_login_at", "last_login_ip", "session_generation", "session_end_reason",
                                  "password_changed_at", "password_history", "enabled_at", "totp_last_step"})

    id: Mapped[int] = mapped_column(primary_key=True)
    #: login name, unique on the whole instance (case-insensitive)
    username: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(Enum(Role, name="user_role", native_enum=False, length=32))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="RESTRICT"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: encrypted (SM4-GCM); shown masked
    phone: Mapped[str | None] = mapped_column(EncryptedText("users.phone"))
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]
    #: where the last login came from (shown at the next login)
    last_login_ip: Mapped[str | None] = mapped_column(String(64))
    #: incremented to end every session of the user (see :mod:`jiuzhu.auth.sessions`), and why
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    session_end_reason: Mapped[str | None] = mapped_column(String(20))
    password_changed_at: Mapped[dt.datetime | None]
    #: hashes of the last passwords (the county's policy says how many a new one may not repeat)
    password_history: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: set by an admin's reset or an expired password: nothing else opens until it is changed
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    #: why the account was disabled by the system (``unused``: no login for the policy's days)
    disabled_reason: Mapped[str | None] = mapped_column(String(20))
    #: when an admin last (re-)enabled the account: a dormant account counts its days from here
    enabled_at: Mapped[dt.datetime | None]
    #: the second factor (:mod:`jiuzhu.auth.mfa`): the TOTP secret (encrypted), since when it is on,
    #: the last time step used (no code twice), and digests of the unused recovery codes
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("users.totp_secret"))
    totp_enabled_at: Mapped[dt.datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    recovery_codes: Mapped[list[str]] = mapped_column(JSON, default=list)

    org_unit: Mapped[OrgUnit | None] = relationship()

    def __str__(self) -> str:
        return f"{self.full_name}（{self.username}）"

    # Flask-Login protocol. The id carries the tenant, so a request can enter the tenant's
    # scope before it loads the user.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.tenant_id or 0}:{self.id}"

    @property
    def scope(self) -> Scope:
        """The scope every request of this user runs in."""
        if self.role is Role.platform_operator:
            return Scope.platform()
        unit = self.org_unit
        if self.role.is_village:
            return Scope(self.tenant_id, township_id=unit.parent_id, village_id=unit.id)
        if self.role.is_township:
            return Scope(self.tenant_id, township_id=unit.id)
        return Scope(self.tenant_id)

    # Org scoping: a user belongs to the township/village of their org unit.
    @classmethod
    def township_criteria(cls, township_id):
        return cls.org_unit_id.in_(org_units_of_township(township_id))

    @classmethod
    def village_criteria(cls, village_id):
        return cls.org_unit_id == village_id

    def in_org_scope(self, scope: Scope) -> bool:
        if scope.township_id is None:
            return True
        unit = self.org_unit
        return unit is not None and unit.in_org_scope(scope)


Index("uq_users_username", func.lower(User.username), unique=True)


class LoginAttempt(Base):
    """One login attempt, kept for throttling and for the security log (not tenant-owned:
    the tenant of a mistyped name is unknown)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_source_at", "source", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    #: the client address
    source: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def username_taken(session, username: str) -> bool:
    """Whether a login name is in use anywhere on the instance (usernames are global)."""
    from jiuzhu.auth.lookup import login_directory

    return login_directory(session, username) is not None


__all__ = ["User", "LoginAttempt", "username_taken"]
