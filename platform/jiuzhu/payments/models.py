"""Benefit payments: the monthly benefit schedule of an approved case, and temporary-relief grants
paid once, in stages, or as a small advance before the paperwork.

The county pays monthly benefits (权钱分离); temporary relief may be paid by the township that
confirmed it, out of its relief reserve. Every row belongs to a case and is seen where the case is.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiuzhu.cases.households import MONEY
from jiuzhu.cases.models import Case, ScopedThroughCase
from jiuzhu.crypto.types import EncryptedText
from jiuzhu.db import Base, utcnow


def first_of_next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def add_months(month: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months after ``month``'s."""
    index = month.year * 12 + (month.month - 1) + n
    return dt.date(index // 12, index % 12 + 1, 1)


class BenefitSchedule(ScopedThroughCase, Base):
    """The monthly benefit of one approved case: from which month, how much, until when."""

    __tablename__ = "benefit_schedules"
    __table_args__ = (UniqueConstraint("tenant_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    #: the category the benefit is paid under (tekun, dibao…)
    category: Mapped[str] = mapped_column(String(24))
    #: the household's monthly benefit, yuan (changed by a review that continues at a new amount)
    monthly_amount: Mapped[Decimal] = mapped_column(MONEY)
    #: the first month paid for (its 1st day): the month after confirmation, or the same month
    start_month: Mapped[dt.date] = mapped_column(Date)
    #: the last month paid for (its 1st day); None while benefits run until a review stops them
    end_month: Mapped[dt.date | None] = mapped_column(Date)
    #: benefits reach the household's account by this day of each month (None: not fixed)
    pay_by_day: Mapped[int | None] = mapped_column(SmallInteger)
    #: how the money is paid, e.g. a financial institution and the province's payment system
    paid_through: Mapped[str | None] = mapped_column(String(200))
    #: a gradual exit (渐退期) granted on review: its length in months and the day it was decided
    gradual_exit_months: Mapped[int | None] = mapped_column(SmallInteger)
    gradual_exit_decided_on: Mapped[dt.date | None] = mapped_column(Date)
    #: why benefits end (stopped on review, gradual exit)
    end_reason: Mapped[str | None] = mapped_column(EncryptedText("benefit_schedules.end_reason"))
    created_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
    payments: Mapped[list[BenefitPayment]] = relationship(back_populates="schedule", order_by="BenefitPayment.month",
                                                          cascade="all, delete-orphan")

    @property
    def exit_on(self) -> dt.date | None:
        """The first day no longer paid for (退出日期), once an end is set."""
        return first_of_next_month(self.end_month) if self.end_month is not None else None


class BenefitPayment(ScopedThroughCase, Base):
    """One month of a schedule paid by the county."""

    __tablename__ = "benefit_payments"
    __table_args__ = (UniqueConstraint("tenant_id", "schedule_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("benefit_schedules.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    #: the month paid for (its 1st day)
    month: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    paid_on: Mapped[dt.date] = mapped_column(Date)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    schedule: Mapped[BenefitSchedule] = relationship(back_populates="payments")
    case: Mapped[Case] = relationship()


class ReliefKind(enum.StrEnum):
    #: 一次性临时救助金 (Shexian: the confirmed per-capita monthly amount, within 3 working days)
    one_off = "one_off"
    #: 一次审批、分阶段救助: approved once, paid in planned stages
    staged = "staged"
    #: 小金额先行救助: paid at once in an emergency, the paperwork completed afterwards
    advance = "advance"

    @property
    def label(self) -> str:
        return {"one_off": "一次性临时救助", "staged": "分阶段临时救助", "advance": "小金额先行救助"}[self.value]


class ReliefGrant(ScopedThroughCase, Base):
    """One temporary-relief approval (or advance) for a case, with its planned payments."""

    __tablename__ = "relief_grants"
    __table_args__ = (
        # the list of advances whose paperwork is still to be completed
        Index("ix_relief_grants_tenant_kind_paperwork", "tenant_id", "kind", "paperwork_completed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReliefKind] = mapped_column(Enum(ReliefKind, native_enum=False, length=16))
    #: the amount approved (for an advance: the amount paid), yuan
    total_amount: Mapped[Decimal] = mapped_column(MONEY)
    approved_on: Mapped[dt.date] = mapped_column(Date)
    #: paid by this day at the latest (Shexian's one-off relief: 3 working days after confirmation)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    #: 救助事由
    reason: Mapped[str] = mapped_column(EncryptedText("relief_grants.reason"))
    #: 救助对象: the person the money went to
    recipient: Mapped[str | None] = mapped_column(String(50))
    #: 急难发生地, for relief applied for where the emergency happened
    emergency_place: Mapped[str | None] = mapped_column(String(200))
    #: an advance's paperwork (登记救助对象、事由、金额，补齐签字、盖章), completed on this day
    paperwork_completed_on: Mapped[dt.date | None] = mapped_column(Date)
    #: 经办人员签字: the handlers who signed the completed paperwork
    handler_signatures: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: 盖章: the paperwork carries the township's seal
    sealed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
    payments: Mapped[list[ReliefPayment]] = relationship(back_populates="grant", order_by="ReliefPayment.stage",
                                                         cascade="all, delete-orphan")

    @property
    def paid_amount(self) -> Decimal:
        return sum((p.amount for p in self.payments if p.paid_on is not None), Decimal("0"))

    @property
    def paperwork_pending(self) -> bool:
        return self.kind == ReliefKind.advance and self.paperwork_completed_on is None


class ReliefPayment(ScopedThroughCase, Base):
    """One payment (stage) of a relief grant: planned, then paid."""

    __tablename__ = "relief_payments"
    __table_args__ = (UniqueConstraint("tenant_id", "grant_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("relief_grants.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    #: 1, 2, 3… in the order they are paid
    stage: Mapped[int] = mapped_column(SmallInteger)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    #: the day the stage is planned for (None: when the case worker decides)
    planned_on: Mapped[dt.date | None] = mapped_column(Date)
    paid_on: Mapped[dt.date | None] = mapped_column(Date)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: the payment voucher (付款凭证) number
    voucher_no: Mapped[str | None] = mapped_column(String(60))

    grant: Mapped[ReliefGrant] = relationship(back_populates="payments")
    case: Mapped[Case] = relationship()


__all__ = ["BenefitSchedule", "BenefitPayment", "ReliefKind", "ReliefGrant", "ReliefPayment", "add_months",
           "first_of_next_month"]
