"""Cases (申请/案件): one application by one household for one or more categories."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    UniqueConstraint,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiuzhu.audit.capture import Audited
from jiuzhu.cases.categories import CaseKind, CaseStatus, Category, Channel, Finding
from jiuzhu.cases.households import MONEY, Household
from jiuzhu.crypto.types import EncryptedBytes, EncryptedJSON, EncryptedText
from jiuzhu.db import Base, utcnow
from jiuzhu.tenancy.context import Scope
from jiuzhu.tenancy.mixins import OrgScoped, TenantScoped


def _enum(cls, length=24):
    return Enum(cls, native_enum=False, length=length)


class Case(Audited, OrgScoped, Base):
    """An application (or a periodic review) carried through the plugin's workflow."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_tenant_township_status", "tenant_id", "township_id", "status"),
        Index("ix_cases_tenant_applied", "tenant_id", "applied_on"),
        # the org scoping of a township: its shared cases (few), ``other_township_id = :t``
        Index("ix_cases_other_township", "tenant_id", "other_township_id",
              postgresql_where=text("other_township_id IS NOT NULL"),
              sqlite_where=text("other_township_id IS NOT NULL")),
        # the worklist's green-channel statement: the few cases in a green channel (绿色通道)
        Index("ix_cases_green_channel", "tenant_id", "township_id", postgresql_where=text("priority"),
              sqlite_where=text("priority")),
        CheckConstraint("(other_township_id IS NULL AND other_township_role IS NULL) OR "
                        "(other_township_id IS NOT NULL AND other_township_role IS NOT NULL "
                        "AND other_township_role IN ('registered', 'emergency') "
                        "AND other_township_id <> township_id)", name="other_township_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: handled where the household lives (受理地): township and village
    township_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    #: a second township of the county that owns some of the case's steps (a case shared by two
    #: townships): the household's registered township (户籍所在地, ``registered``) or where the
    #: emergency happened (急难发生地, ``emergency``) — see ``StepSpec.township``
    other_township_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    other_township_role: Mapped[str | None] = mapped_column(String(16))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    kind: Mapped[CaseKind] = mapped_column(_enum(CaseKind), default=CaseKind.application)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    #: categories asked for, in the plugin's determination order
    categories: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus), default=CaseStatus.pending_acceptance)
    #: the plugin that ran this case (a tenant's plugin may change later; the case keeps its rules)
    plugin_key: Mapped[str] = mapped_column(String(40))
    #: the applicant consented to staff determining the categories (一次申请、分类审核认定)
    consent_classification: Mapped[bool] = mapped_column(Boolean, default=False)
    #: dates the 授权书 (check authorization) and 承诺书 (commitment) were signed
    authorization_signed_on: Mapped[dt.date | None] = mapped_column(Date)
    commitment_signed_on: Mapped[dt.date | None] = mapped_column(Date)
    applied_on: Mapped[dt.date] = mapped_column(Date)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    #: loop counter: an objection during publicity starts round 2, and so on
    round: Mapped[int] = mapped_column(SmallInteger, default=1)

    #: overall time limit (办理时限) in working days, and the due date it gives
    limit_workdays: Mapped[int | None] = mapped_column(SmallInteger)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_reason: Mapped[str | None] = mapped_column(EncryptedText("cases.extension_reason"))
    #: working days the clock stood still (e.g. Dangtu does not count the publicity period)
    paused_workdays: Mapped[int] = mapped_column(SmallInteger, default=0)

    #: priority handling (绿色通道), with why
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    priority_reason: Mapped[str | None] = mapped_column(EncryptedText("cases.priority_reason"))
    #: 急难: why this temporary relief takes the simplified emergency path (where the rules have one)
    emergency_reason: Mapped[str | None] = mapped_column(EncryptedText("cases.emergency_reason"))

    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    #: encrypted, like every free text that may say why (income, illness, disability)
    decision_reason: Mapped[str | None] = mapped_column(EncryptedText("cases.decision_reason"))
    #: approved monthly benefit of the household, yuan
    monthly_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    #: people the benefit covers (保障人数) when it is not simply the co-resident members (imported rolls)
    covered_count: Mapped[int | None] = mapped_column(SmallInteger)
    #: first month benefits are paid for (the 1st of that month)
    benefit_start: Mapped[dt.date | None] = mapped_column(Date)
    #: where an applicant outside civil-affairs help was referred (转介), recorded
    referral: Mapped[str | None] = mapped_column(EncryptedText("cases.referral"))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)

    #: for a periodic review (定期复核): the approved case under review
    review_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: optimistic lock: a stale write fails instead of overwriting
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __audit_entity__ = "case"
    __audit_ignore__ = frozenset({"version"})

    @property
    def audit_case_id(self) -> int | None:
        return self.id

    household: Mapped[Household] = relationship()
    materials: Mapped[list[CaseMaterial]] = relationship(back_populates="case", order_by="CaseMaterial.id",
                                                         cascade="all, delete-orphan")
    findings: Mapped[list[CategoryFinding]] = relationship(back_populates="case",
                                                           order_by="CategoryFinding.position",
                                                           cascade="all, delete-orphan")
    notices: Mapped[list[Notice]] = relationship(back_populates="case", order_by="Notice.id")

    @property
    def category_enums(self) -> list[Category]:
        return [Category(c) for c in self.categories]

    @property
    def missing_materials(self) -> list[CaseMaterial]:
        return [m for m in self.materials if m.required and not m.satisfied]

    def __str__(self) -> str:
        return f"案件 {self.id}"

    # A case shared by two townships is seen by both; a village sees its own village's cases only.
    @classmethod
    def township_criteria(cls, township_id):
        return or_(cls.township_id == township_id, cls.other_township_id == township_id)

    def in_org_scope(self, scope: Scope) -> bool:
        if scope.village_id is None and scope.township_id is not None:
            return scope.township_id in (self.township_id, self.other_township_id)
        return super().in_org_scope(scope)


@lru_cache(maxsize=1)
def unshown_in_lists() -> tuple:
    """Loader options of a list of cases (screens, API): the reasons no list shows are neither loaded
    nor decrypted — personal data is opened where it is shown, not fifty rows at a time. Built once
    (options are immutable and shared by every statement that carries them)."""
    from sqlalchemy.orm import defer

    return tuple(defer(c) for c in (Case.extension_reason, Case.emergency_reason, Case.decision_reason,
                                    Case.referral))


class ScopedThroughCase(Audited, OrgScoped):
    """Rows that belong to a case, visible where the case is, recorded in the case's audit timeline."""

    @property
    def audit_case_id(self) -> int | None:
        return self.case_id

    @classmethod
    def township_criteria(cls, township_id):
        return cls.case_id.in_(select(Case.id).where(Case.township_criteria(township_id)))

    @classmethod
    def village_criteria(cls, village_id):
        return cls.case_id.in_(select(Case.id).where(Case.village_id == village_id))

    def in_org_scope(self, scope: Scope) -> bool:
        case = self.case
        return case is None or case.in_org_scope(scope)


class CaseMaterial(ScopedThroughCase, Base):
    """One line of the materials checklist of a case."""

    __tablename__ = "case_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(100))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    provided: Mapped[bool] = mapped_column(Boolean, default=False)
    #: obtained from a government platform instead of the applicant (never asked for again)
    via_platform: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(200))

    case: Mapped[Case] = relationship(back_populates="materials")
    files: Mapped[list[MaterialFile]] = relationship(back_populates="material", order_by="MaterialFile.id",
                                                     cascade="all, delete-orphan")

    @property
    def satisfied(self) -> bool:
        return self.provided or self.via_platform


class MaterialFile(ScopedThroughCase, Base):
    """A scanned or photographed material (PDF, JPEG or PNG) attached to a line of the checklist.

    The bytes live in the database (one transaction with the checklist tick and the audit event);
    the audit trail records the file's name, size and SHA-256, never its content."""

    __tablename__ = "case_material_files"
    __audit_exclude__ = frozenset({"data"})

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("case_materials.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    #: encrypted (a scan of an ID card or a household register is personal data too)
    data: Mapped[bytes] = mapped_column(EncryptedBytes("case_material_files.data"), deferred=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_by_name: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    material: Mapped[CaseMaterial] = relationship(back_populates="files")
    case: Mapped[Case] = relationship()


class CategoryFinding(ScopedThroughCase, Base):
    """The finding for one category, recorded in the plugin's determination order."""

    __tablename__ = "case_findings"
    __table_args__ = (UniqueConstraint("tenant_id", "case_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    category: Mapped[Category] = mapped_column(_enum(Category))
    #: 1-based place in the determination order
    position: Mapped[int] = mapped_column(SmallInteger)
    finding: Mapped[Finding] = mapped_column(_enum(Finding, 16))
    reason: Mapped[str | None] = mapped_column(EncryptedText("case_findings.reason"))
    decided_on: Mapped[dt.date] = mapped_column(Date)

    case: Mapped[Case] = relationship(back_populates="findings")


class Notice(ScopedThroughCase, Base):
    """A numbered written notice or certificate issued on a case."""

    __tablename__ = "case_notices"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    #: e.g. missing_materials (一次性告知书), not_accepted, denial, certificate
    kind: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(60))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    #: what the notice says, e.g. the missing items or the reasons
    content: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("case_notices.content"), default=dict)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="notices")


class DocumentSequence(TenantScoped, Base):
    """Per-tenant, per-kind, per-year counter for notice and certificate numbers."""

    __tablename__ = "document_sequences"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(SmallInteger)
    last_number: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("tenant_id", "kind", "year"),)


__all__ = ["Case", "CaseMaterial", "CategoryFinding", "Notice", "DocumentSequence", "ScopedThroughCase",
           "Channel", "CaseKind", "CaseStatus"]


class AssistanceKind(enum.StrEnum):
    """What a village (or township) did for a case (协助乡镇做好…调查、入户走访…情况报告)."""

    visit = "visit"
    investigation = "investigation"
    delivery = "delivery"
    report = "report"
    other = "other"

    @property
    def label(self) -> str:
        return {"visit": "入户走访", "investigation": "协助入户调查", "delivery": "送达文书",
                "report": "情况报告", "other": "其他协助"}[self.value]


class AssistanceRecord(ScopedThroughCase, Base):
    """协助记录: what a village assistant (or township staff) did to help a case along — never a decision."""

    __tablename__ = "case_assistance"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AssistanceKind] = mapped_column(_enum(AssistanceKind, 16))
    done_on: Mapped[dt.date] = mapped_column(Date)
    content: Mapped[str] = mapped_column(EncryptedText("case_assistance.content"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by_name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()


#: ``CaseCount.decided_month`` of a case not decided yet
UNDECIDED = dt.date(1900, 1, 1)


class CaseCount(OrgScoped, Base):
    """How many cases a county has per township, status, first category, month applied and month
    decided — kept by triggers on ``cases`` in the same transaction as the change (PostgreSQL;
    migration 0051), so the dashboard sums a few thousand counters instead of a million cases and
    is never out of date. Never written by the application itself."""

    __tablename__ = "case_counts"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "township_id", "status", "category", "applied_month",
                                           "decided_month", name="pk_case_counts"),)

    township_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    category: Mapped[str] = mapped_column(String(32))
    applied_month: Mapped[dt.date] = mapped_column(Date)
    decided_month: Mapped[dt.date] = mapped_column(Date)
    n: Mapped[int] = mapped_column(BigInteger, default=0)

    @classmethod
    def village_criteria(cls, village_id):
        from sqlalchemy import false

        return false()  # counted by township: nothing of it is a village's

    def in_org_scope(self, scope: Scope) -> bool:
        return scope.village_id is None and super().in_org_scope(scope)
