"""The reminder outbox, the in-app inbox, external deliveries, channels and the supervision list."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from jiuzhu.crypto.types import EncryptedText
from jiuzhu.db import Base, utcnow
from jiuzhu.tenancy.mixins import OrgScoped, TenantScoped


def _enum(cls, length=16):
    return Enum(cls, native_enum=False, length=length)


class Subject(enum.StrEnum):
    step = "step"
    case = "case"
    publicity = "publicity"
    warning = "warning"
    county_request = "county_request"
    #: a month of benefit unpaid past its pay-by day (subject_id: the benefit schedule)
    payment = "payment"

    @property
    def label(self) -> str:
        return {"step": "办理环节", "case": "办理时限", "publicity": "公示期满", "warning": "预警处置",
                "county_request": "跨县协查", "payment": "保障金发放"}[self.value]


class ReminderKind(enum.StrEnum):
    before = "before"
    due = "due"
    overdue = "overdue"

    @property
    def label(self) -> str:
        return {"before": "即将到期", "due": "今日到期", "overdue": "已超期"}[self.value]


class ReminderStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    cancelled = "cancelled"


class Reminder(OrgScoped, Base):
    """One reminder to send, once: about a deadline of a step, a case, a publicity or a warning."""

    __tenant_key__ = False  # (tenant_id, township_id) → org_units ties each row to its county (0076)
    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "subject", "subject_id", "kind", "offset", "due_on"),
        # the sweep: due pending rows of one tenant, oldest first
        Index("ix_reminders_pending_send_on", "tenant_id", "send_on",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    subject: Mapped[Subject] = mapped_column(_enum(Subject))
    #: the step, case or warning id the reminder is about
    subject_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ReminderKind] = mapped_column(_enum(ReminderKind))
    #: working days before the due date (``before``); the repeat number (``overdue``); 0 (``due``)
    offset: Mapped[int] = mapped_column(SmallInteger, default=0)
    #: the deadline the reminder is about
    due_on: Mapped[dt.date] = mapped_column(Date)
    #: the day it goes out (moved to a working day unless the county asks otherwise)
    send_on: Mapped[dt.date] = mapped_column(Date)
    #: who acts: the township's or the county's staff
    level: Mapped[str] = mapped_column(String(16))
    #: overdue reminders also go to the county's supervision list (督办)
    escalate: Mapped[bool] = mapped_column(Boolean, default=False)
    #: what the reminder is about, in words (step name, household)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[ReminderStatus] = mapped_column(_enum(ReminderStatus), default=ReminderStatus.pending)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    #: how many people it reached in the inbox
    recipients: Mapped[int] = mapped_column(SmallInteger, default=0)


class Notification(TenantScoped, Base):
    """The in-app inbox: always delivered, in the same transaction that marks the reminder sent."""

    __tenant_key__ = False  # (tenant_id, user_id) → users ties each row to its county (0076)
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("tenant_id", "reminder_id", "user_id"),
        Index("ix_notifications_user_unread", "user_id", postgresql_where=text("read_at IS NULL"),
              sqlite_where=text("read_at IS NULL")),
        # a case removed (its county purged) finds its notifications without reading the county's
        Index("ix_notifications_case", "tenant_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id", ondelete="SET NULL"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]


class ChannelKind(enum.StrEnum):
    email = "email"
    webhook = "webhook"

    @property
    def label(self) -> str:
        return {"email": "电子邮件", "webhook": "短信网关（Webhook）"}[self.value]


class NotificationChannel(TenantScoped, Base):
    """A county's external channel: its SMTP server or its SMS gateway's webhook."""

    __tablename__ = "notification_channels"
    __table_args__ = (UniqueConstraint("tenant_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ChannelKind] = mapped_column(_enum(ChannelKind))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: email: host, port, username, password, sender, starttls; webhook: url, secret
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_success_at: Mapped[dt.datetime | None]

    #: after this many failures in a row the channel counts as failing and the county admin is told
    FAILING_AFTER = 5

    @property
    def failing(self) -> bool:
        return self.consecutive_failures >= self.FAILING_AFTER


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    delivered = "delivered"
    dead = "dead"


class Delivery(TenantScoped, Base):
    """One message to one recipient over one external channel, retried with back-off."""

    __tenant_key__ = False  # (tenant_id, reminder_id) → reminders ties each row to its county (0076)
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "reminder_id", "channel", "user_id"),
        Index("ix_deliveries_pending_next", "tenant_id", "next_attempt_at",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"))
    channel: Mapped[ChannelKind] = mapped_column(_enum(ChannelKind))
    #: e-mail address or mobile number (encrypted; one delivery per reminder, channel and user)
    recipient: Mapped[str] = mapped_column(EncryptedText("deliveries.recipient"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus), default=DeliveryStatus.pending)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    #: back-off between attempts, then the delivery is given up (dead)
    BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=2),
               dt.timedelta(hours=12))


class SupervisionItem(OrgScoped, Base):
    """The county's supervision list (督办): overdue work, until it is done."""

    __tenant_key__ = False  # (tenant_id, township_id) → org_units ties each row to its county (0076)
    __tablename__ = "supervision_items"
    __table_args__ = (UniqueConstraint("tenant_id", "subject", "subject_id", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    subject: Mapped[Subject] = mapped_column(_enum(Subject))
    subject_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[dt.date] = mapped_column(Date)
    flagged_on: Mapped[dt.date] = mapped_column(Date)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)


__all__ = ["Reminder", "Notification", "NotificationChannel", "Delivery", "SupervisionItem", "Subject",
           "ReminderKind", "ReminderStatus", "ChannelKind", "DeliveryStatus"]
