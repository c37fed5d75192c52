"""Tenants (counties on the instance) and their org tree: county → township → village."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    event,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, relationship

from jiuzhu.audit.capture import Audited
from jiuzhu.db import Base, utcnow
from jiuzhu.tenancy.context import Scope
from jiuzhu.tenancy.mixins import OrgScoped, TenantScoped


class Tenant(Base):
    """A county (县/区) running on this instance under one jurisdiction plugin."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: short ASCII code used in URLs and CLI commands, e.g. ``shexian``
    code: Mapped[str] = mapped_column(String(40), unique=True)
    #: the county's name, e.g. 歙县
    name: Mapped[str] = mapped_column(String(100))
    #: key of the jurisdiction plugin that carries this county's rules
    plugin_key: Mapped[str] = mapped_column(String(40))
    #: official administrative division code (GB/T 2260), 6 digits for a county
    division_code: Mapped[str | None] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: set anew by the database with every change to the county's org units (migration 0074: the
    #: writing transaction's id, by triggers in that transaction): what a list of places read once
    #: is kept by — it says "changed", not "how often"
    org_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"),
                                             comment="Set anew by triggers with every change to the county's org units")

    @property
    def plugin_settings(self) -> dict[str, Any]:
        """The county admin's plugin settings (validated by the plugin's settings schema), from the
        county's own :class:`TenantSettings` row: read in the current scope, so outside the county's
        scope they are not there (empty). Read once per transaction and scope."""
        row = _settings_row(self)
        return dict(row.plugin_settings or {}) if row is not None else {}

    @plugin_settings.setter
    def plugin_settings(self, value: dict[str, Any]) -> None:
        from jiuzhu.tenancy.context import CrossTenantWriteError, current_scope

        scope = current_scope()
        if scope is None or scope.tenant_id != self.id:
            raise CrossTenantWriteError("a county's settings are written in that county's own scope")
        row = _settings_row(self)
        if row is None:
            row = TenantSettings(tenant_id=self.id)
            object_session(self).add(row)
        row.plugin_settings = dict(value or {})
        object_session(self).info.pop(_SETTINGS_CACHE, None)

    def __str__(self) -> str:
        return self.name


_SETTINGS_CACHE = "jiuzhu.tenant_settings"


def _settings_row(tenant: Tenant) -> TenantSettings | None:
    from jiuzhu.tenancy.context import current_scope

    session = object_session(tenant)
    if session is None:
        return None
    cache = session.info.setdefault(_SETTINGS_CACHE, {})
    key = (current_scope(), tenant.id)
    if key not in cache:
        cache[key] = session.scalar(select(TenantSettings).where(TenantSettings.tenant_id == tenant.id))
    return cache[key]


def remember_settings(tenant: Tenant, row: TenantSettings | None) -> None:
    """Keep ``row`` (read in this transaction, in the current scope) as ``tenant``'s settings row,
    so :func:`_settings_row` asks no more: the user's own statement reads it (``auth.blueprint``)."""
    from jiuzhu.tenancy.context import current_scope

    session = object_session(tenant)
    if session is not None and (row is None or row.tenant_id == tenant.id):
        session.info.setdefault(_SETTINGS_CACHE, {})[(current_scope(), tenant.id)] = row


@event.listens_for(Session, "after_transaction_end")
def _forget_settings(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_SETTINGS_CACHE, None)


class TenantSettings(TenantScoped, Base):
    """A county's settings, apart from the platform's list of counties: the list (codes, names,
    plugins) is public on the publicity pages anyway, the settings are the county's alone — under
    the same row-level security as every other row of the county."""

    __tablename__ = "tenant_settings"
    __table_args__ = (UniqueConstraint("tenant_id", name="uq_tenant_settings_tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OrgLevel(enum.StrEnum):
    county = "county"
    township = "township"
    village = "village"

    @property
    def label(self) -> str:
        return {"county": "县（区）", "township": "乡镇（街道、园区）", "village": "村（社区）"}[self.value]


#: which level may sit under which
PARENT_LEVEL = {OrgLevel.township: OrgLevel.county, OrgLevel.village: OrgLevel.township}


class OrgUnit(OrgScoped, Audited, Base):
    """One node of a county's org tree. Each tenant has exactly one county-level root.
    Every change is in the audit trail."""

    __tablename__ = "org_units"
    __audit_entity__ = "org_unit"
    __table_args__ = (
        UniqueConstraint("tenant_id", "parent_id", "name"),
        Index("uq_org_units_tenant_division_code", "tenant_id", "division_code", unique=True,
              postgresql_where=text("division_code IS NOT NULL"), sqlite_where=text("division_code IS NOT NULL")),
        Index("uq_org_units_tenant_root", "tenant_id", unique=True,
              postgresql_where=text("parent_id IS NULL"), sqlite_where=text("parent_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="RESTRICT"), index=True)
    level: Mapped[OrgLevel] = mapped_column(Enum(OrgLevel, name="org_level", native_enum=False, length=16))
    name: Mapped[str] = mapped_column(String(100))
    #: official administrative division code (GB/T 2260 / 统计用区划代码), where known
    division_code: Mapped[str | None] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the office's public phone (受理咨询、异议), printed on the publicity pages and sheets
    contact_phone: Mapped[str | None] = mapped_column(String(40))

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(back_populates="parent", order_by="OrgUnit.name")

    def __str__(self) -> str:
        return self.name

    @property
    def government(self) -> str:
        """The township's government as it signs: 某镇人民政府, 某街道办事处 (a name that already ends in
        政府 or 管委会 as it is)."""
        if self.name.endswith("街道"):
            return f"{self.name}办事处"
        return self.name if self.name.endswith(("管委会", "政府")) else f"{self.name}人民政府"

    @property
    def full_name(self) -> str:
        parts, node = [], self
        while node is not None:
            parts.append(node.name)
            node = node.parent
        return " · ".join(reversed(parts))

    @property
    def township_id(self) -> int | None:
        if self.level == OrgLevel.township:
            return self.id
        if self.level == OrgLevel.village:
            return self.parent_id
        return None

    # A township sees itself and its villages; a village sees itself.
    @classmethod
    def township_criteria(cls, township_id):
        return or_(cls.id == township_id, cls.parent_id == township_id)

    @classmethod
    def village_criteria(cls, village_id):
        return cls.id == village_id

    def in_org_scope(self, scope: Scope) -> bool:
        if scope.village_id is not None:
            return self.id is not None and self.id == scope.village_id
        if scope.township_id is not None:
            return scope.township_id in (self.id, self.parent_id)
        return True


def org_units_of_township(township_id):
    """A subquery of the ids of a township and its villages (for scoping rows that point at an OrgUnit)."""
    return select(OrgUnit.id).where(or_(OrgUnit.id == township_id, OrgUnit.parent_id == township_id))
