"""Warning tickets."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Enum, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiuzhu.cases.households import Household
from jiuzhu.crypto.types import EncryptedJSON, EncryptedText
from jiuzhu.db import Base, utcnow
from jiuzhu.tenancy.mixins import OrgScoped


class WarningStatus(enum.StrEnum):
    received = "received"
    visited = "visited"
    decided = "decided"

    @property
    def label(self) -> str:
        return {"received": "待入户核查", "visited": "已入户核查待研判", "decided": "已作出确认决定"}[self.value]


class WarningDecision(enum.StrEnum):
    """综合研判救助对象是否符合救助条件，并作出确认决定."""

    eligible = "eligible"
    ineligible = "ineligible"

    @property
    def label(self) -> str:
        return {"eligible": "符合救助条件", "ineligible": "不符合救助条件"}[self.value]


class WarningTicket(OrgScoped, Base):
    """One warning ticket: who it is about, when it came back, by when it must be settled, and how."""

    __tablename__ = "warning_tickets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source_ref"),
        # the township's to-do list and the county's overdue list: open tickets by deadline
        Index("ix_warning_tickets_open_due", "tenant_id", "township_id", "due_on", "id",
              postgresql_where=text("status <> 'decided'"), sqlite_where=text("status <> 'decided'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the township that must handle the ticket, and the village when known
    township_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    #: the household or the person's 居民身份证 number as the platform sent it (encrypted, shown masked)
    id_number: Mapped[str] = mapped_column(EncryptedText("warning_tickets.id_number"))
    #: the registered household it matched, if any
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    #: where the ticket came from: the monitoring platform, or a 12345 hotline ticket (the plugin's ``ticket_rules``)
    origin: Mapped[str] = mapped_column(String(16), default="monitoring", server_default="monitoring")
    #: the ticket's number on the monitoring platform (单据编号)
    source_ref: Mapped[str] = mapped_column(String(64))
    #: what the platform flagged (e.g. 大额医疗支出、新增残疾、收入骤降)
    summary: Mapped[str] = mapped_column(EncryptedText("warning_tickets.summary"))
    #: the day the ticket came back to the township (预警单据返回之日)
    received_on: Mapped[dt.date] = mapped_column(Date)
    #: the day it must be verified and decided, from the plugin's ``warning_rule.due``
    due_on: Mapped[dt.date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the rule applied, as words with its source (e.g. 预警单据返回 20 个工作日内)
    due_rule: Mapped[str] = mapped_column(String(300))
    status: Mapped[WarningStatus] = mapped_column(Enum(WarningStatus, native_enum=False, length=16),
                                                  default=WarningStatus.received)
    #: the home verification visit (入户核查): date, staff, findings
    visited_on: Mapped[dt.date | None] = mapped_column(Date)
    visitors: Mapped[list[str]] = mapped_column(JSON, default=list)
    visit_findings: Mapped[str | None] = mapped_column(EncryptedText("warning_tickets.visit_findings"))
    #: a request to the county to look at the unclear warning point to point (点对点查看)
    clarification: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON("warning_tickets.clarification"))
    #: the decision (确认决定) and what it rests on: the online check and the visit
    decision: Mapped[WarningDecision | None] = mapped_column(Enum(WarningDecision, native_enum=False, length=16))
    online_check: Mapped[str | None] = mapped_column(EncryptedText("warning_tickets.online_check"))
    decision_reason: Mapped[str | None] = mapped_column(EncryptedText("warning_tickets.decision_reason"))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    household: Mapped[Household | None] = relationship()

    def overdue_on(self, today: dt.date) -> bool:
        """Past its deadline and not decided, or decided after it (flagged for supervision)."""
        if self.decided_on is not None:
            return self.decided_on > self.due_on
        return today > self.due_on

    @property
    def origin_label(self) -> str:
        from jiuzhu.plugins.baseline import BaselinePlugin

        return BaselinePlugin.TICKET_ORIGINS.get(self.origin, self.origin)

    def __str__(self) -> str:
        return f"预警单据 {self.source_ref}"


__all__ = ["WarningTicket", "WarningStatus", "WarningDecision"]
