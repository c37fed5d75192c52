"""Spot-check draws and their items, the staff-kinship registry, real-name reports."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiuzhu.cases.households import Household
from jiuzhu.cases.models import Case
from jiuzhu.crypto.types import EncryptedText
from jiuzhu.db import Base, utcnow
from jiuzhu.tenancy.context import Scope
from jiuzhu.tenancy.mixins import OrgScoped


class CountyOnly(OrgScoped):
    """Rows only the county level sees and writes: a township or village scope reads none of them
    and cannot write one (the central scoping applies these criteria like any org criteria).

    Who reported whom, which staff have relatives on the rolls, and which households the county
    re-checks are the county's supervision files, not the townships'."""

    @classmethod
    def township_criteria(cls, township_id):
        return false()

    @classmethod
    def village_criteria(cls, village_id):
        return false()

    def in_org_scope(self, scope: Scope) -> bool:
        return scope.township_id is None and scope.village_id is None


def _enum(cls, length=16):
    return Enum(cls, native_enum=False, length=length)


class SpotCheckDraw(CountyOnly, Base):
    """One draw: which new cases were eligible, the seed, the rule applied and who drew when.

    The sample is a function of (population, seed, shares): anyone may recompute it from this row
    (``jiuzhu.spotchecks.services.choose``) and find the same households."""

    __tablename__ = "spotcheck_draws"
    __table_args__ = (Index("ix_spotcheck_draws_tenant_window", "tenant_id", "window_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the day of the draw; the window ends on it
    drawn_on: Mapped[dt.date] = mapped_column(Date)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    drawn_by_name: Mapped[str] = mapped_column(String(120))
    #: the random seed (e.g. the number of a public lottery draw), recorded so the sample can be redone
    seed: Mapped[str] = mapped_column(String(64))
    #: the plugin and its rule as applied (categories, shares, window, source sentence)
    plugin_key: Mapped[str] = mapped_column(String(40))
    rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: first and last decision dates of the new cases considered
    window_start: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date)
    #: the shares applied (never below the rule's minimum)
    sample_share: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    on_site_share: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    #: ids of every new case considered, ascending; a case is considered by one draw only
    population: Mapped[list[int]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    items: Mapped[list[SpotCheckItem]] = relationship(back_populates="draw", order_by="SpotCheckItem.case_id",
                                                      cascade="all, delete-orphan")

    def __str__(self) -> str:
        return f"{self.drawn_on:%Y-%m-%d} 抽查（{len(self.items)} 户）"


class SpotCheckMethod(enum.StrEnum):
    on_site = "on_site"
    desk = "desk"

    @property
    def label(self) -> str:
        return {"on_site": "实地抽查", "desk": "书面（线上）抽查"}[self.value]


class SpotCheckResult(enum.StrEnum):
    pending = "pending"
    conforms = "conforms"
    irregular = "irregular"

    @property
    def label(self) -> str:
        return {"pending": "待核查", "conforms": "情况属实、符合条件", "irregular": "发现问题"}[self.value]


class SpotCheckItem(CountyOnly, Base):
    """One sampled case: how it is checked, whether it is a staff relative's, and the result."""

    __tablename__ = "spotcheck_items"
    __table_args__ = (UniqueConstraint("tenant_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("spotcheck_draws.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    method: Mapped[SpotCheckMethod] = mapped_column(_enum(SpotCheckMethod))
    #: the household is registered as related to handling staff (always checked on site)
    related_to_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[SpotCheckResult] = mapped_column(_enum(SpotCheckResult), default=SpotCheckResult.pending)
    #: what the check found (required when it found a problem)
    finding: Mapped[str | None] = mapped_column(EncryptedText("spotcheck_items.finding"))
    checked_on: Mapped[dt.date | None] = mapped_column(Date)
    #: who checked (names, as on the record)
    checker: Mapped[str | None] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    draw: Mapped[SpotCheckDraw] = relationship(back_populates="items")
    case: Mapped[Case] = relationship()
    household: Mapped[Household] = relationship()

    @property
    def on_site(self) -> bool:
        return self.method == SpotCheckMethod.on_site


class StaffLevel(enum.StrEnum):
    """The four levels of staff handling 低保 (四级经办人员)."""

    city = "city"
    county = "county"
    township = "township"
    village = "village"

    @property
    def label(self) -> str:
        return {"city": "市级", "county": "县级", "township": "乡镇（街道）", "village": "村（居）"}[self.value]


#: 近亲属 (《民法典》第一千零四十五条): spouse, parents, children, siblings, grandparents, grandchildren
CLOSE_RELATIVES = ("配偶", "父母", "子女", "兄弟姐妹", "祖父母", "外祖父母", "孙子女", "外孙子女")


class StaffKinship(CountyOnly, Base):
    """近亲属关系备案: a household with a close relative among the staff who handle 低保."""

    __tablename__ = "staff_kinships"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    staff_name: Mapped[str] = mapped_column(String(50))
    staff_level: Mapped[StaffLevel] = mapped_column(_enum(StaffLevel))
    #: the staff member's unit and post, e.g. 某某镇民政办 经办人
    staff_unit: Mapped[str] = mapped_column(String(100))
    #: how the staff member is related to the household (one of ``CLOSE_RELATIVES``)
    relation: Mapped[str] = mapped_column(String(20))
    registered_on: Mapped[dt.date] = mapped_column(Date)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(EncryptedText("staff_kinships.note"))

    household: Mapped[Household] = relationship()


class ReportStatus(enum.StrEnum):
    received = "received"
    verified = "verified"
    answered = "answered"

    @property
    def label(self) -> str:
        return {"received": "已受理待核实", "verified": "已核实待反馈", "answered": "已反馈举报人"}[self.value]


class RealNameReport(CountyOnly, Base):
    """实名举报: recorded on receipt, verified one by one, the result answered to the reporter."""

    __tablename__ = "realname_reports"
    __table_args__ = (Index("ix_realname_reports_tenant_status", "tenant_id", "status"),
                      Index("ix_realname_reports_household", "tenant_id", "household_id"),
                      Index("ix_realname_reports_case", "tenant_id", "case_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the reporter's real name and how to reach them for the answer (county eyes only)
    reporter_name: Mapped[str] = mapped_column(String(50))
    reporter_contact: Mapped[str] = mapped_column(EncryptedText("realname_reports.reporter_contact"))
    #: 来信、来电、来访、网络…
    channel: Mapped[str] = mapped_column(String(20))
    received_on: Mapped[dt.date] = mapped_column(Date)
    #: whom or what the report is about, in words; and the household or case when identified
    subject: Mapped[str] = mapped_column(String(200))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    content: Mapped[str] = mapped_column(EncryptedText("realname_reports.content"))
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus), default=ReportStatus.received)
    verified_on: Mapped[dt.date | None] = mapped_column(Date)
    #: whether the report proved true, and what the verification found
    substantiated: Mapped[bool | None] = mapped_column(Boolean)
    verification: Mapped[str | None] = mapped_column(EncryptedText("realname_reports.verification"))
    #: the correction of what a report found true (问题纠正): when, and what was done
    corrected_on: Mapped[dt.date | None] = mapped_column(Date)
    correction: Mapped[str | None] = mapped_column(EncryptedText("realname_reports.correction"))
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    #: the answer given to the reporter
    answer: Mapped[str | None] = mapped_column(EncryptedText("realname_reports.answer"))
    #: how the answer reached the reporter (电话、书面、当面…)
    answered_via: Mapped[str | None] = mapped_column(String(20))
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    household: Mapped[Household | None] = relationship()
    case: Mapped[Case | None] = relationship()


__all__ = ["CountyOnly", "SpotCheckDraw", "SpotCheckItem", "SpotCheckMethod", "SpotCheckResult", "StaffLevel",
           "StaffKinship", "RealNameReport", "ReportStatus", "CLOSE_RELATIVES"]
