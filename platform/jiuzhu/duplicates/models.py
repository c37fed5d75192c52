"""A county's own records of duplicates: the resolutions approvers record and the sweep's findings.
The cross-county facts themselves live in platform tables no county can read (see the migration 0070)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Column, Date, Enum, ForeignKey, Index, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiuzhu.cases.households import Member
from jiuzhu.cases.models import Case, ScopedThroughCase
from jiuzhu.crypto.types import EncryptedText
from jiuzhu.db import Base, utcnow


class ResolutionKind(enum.StrEnum):
    """How a match was resolved before approval (the issue's three, and a stop in this county)."""

    transfer = "transfer"
    stopped = "stopped"
    mistake = "mistake"
    left = "left"

    @property
    def label(self) -> str:
        return RESOLUTION_LABELS[self]


RESOLUTION_LABELS = {
    ResolutionKind.transfer: "户籍或居住地已迁移（救助关系转入本地）",
    ResolutionKind.stopped: "对方已停止发放（或本人已申请停发）",
    ResolutionKind.mistake: "比对有误（经核实非同一人或登记错误，已更正）",
    ResolutionKind.left: "已从另一户中移出（本县内重复登记已更正）",
}


class DuplicateResolution(ScopedThroughCase, Base):
    """What the approver established about one match of one member, before approving."""

    __tablename__ = "duplicate_resolutions"
    __table_args__ = (UniqueConstraint("tenant_id", "case_id", "member_id", "other"),
                      Index("ix_duplicate_resolutions_member", "tenant_id", "member_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("household_members.id", ondelete="CASCADE"))
    #: the other place as the registry named it: a county's name, or 本县案件 N
    other: Mapped[str] = mapped_column(String(120))
    kind: Mapped[ResolutionKind] = mapped_column(Enum(ResolutionKind, native_enum=False, length=16))
    #: what was checked (encrypted: it may say where the person lives)
    note: Mapped[str | None] = mapped_column(EncryptedText("duplicate_resolutions.note"))
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()


class DuplicateFinding(ScopedThroughCase, Base):
    """One duplicate the nightly sweep reported to this county: first and last seen, gone when it no
    longer shows (the other side stopped, the member left, the case ended)."""

    __tablename__ = "duplicate_findings"
    __table_args__ = (UniqueConstraint("tenant_id", "case_id", "member_id", "other", "category"),
                      Index("ix_duplicate_findings_member", "tenant_id", "member_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("household_members.id", ondelete="CASCADE"))
    other: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(32))
    #: the other side's state: pending (申请中) or active (享受中)
    state: Mapped[str] = mapped_column(String(8))
    since: Mapped[dt.date | None] = mapped_column(Date)
    first_seen_on: Mapped[dt.date] = mapped_column(Date)
    last_seen_on: Mapped[dt.date] = mapped_column(Date)
    gone_on: Mapped[dt.date | None] = mapped_column(Date)

    case: Mapped[Case] = relationship()

    @property
    def member(self) -> Member | None:
        return next((m for m in self.case.household.members if m.id == self.member_id), None)


#: 协查 between counties: a platform table (no tenant_id); on PostgreSQL the application reaches it only
#: through the jiuzhu_request_* functions, on the demo's SQLite directly (jiuzhu.duplicates.services)
county_requests = Table(
    "county_requests", Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("from_county", Integer, nullable=False),
    Column("to_county", Integer, nullable=False),
    Column("person_bidx", String(96), nullable=False),
    Column("from_case_id", Integer, nullable=False),
    Column("to_case_id", Integer, nullable=False),
    Column("to_township_id", Integer, nullable=False),
    Column("category", String(32), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("answer", String(16)),
    Column("stopped_month", Date),
    Column("answered_on", Date),
)


__all__ = ["DuplicateFinding", "DuplicateResolution", "ResolutionKind", "county_requests"]
