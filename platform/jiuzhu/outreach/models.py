"""One visit to a must-visit household (走访摸排): when, by whom, what was found."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiuzhu.audit.capture import Audited
from jiuzhu.cases.households import Household
from jiuzhu.crypto.types import EncryptedText
from jiuzhu.db import Base, utcnow
from jiuzhu.tenancy.mixins import OrgScoped


class OutreachVisit(Audited, OrgScoped, Base):
    """A visit to a household of a must-visit group, seen where the household is (its township, its village)."""

    __tablename__ = "outreach_visits"
    __table_args__ = (Index("ix_outreach_visits_tenant_household_on", "tenant_id", "household_id", "visited_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    township_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    visited_on: Mapped[dt.date] = mapped_column(Date)
    #: who visited (names and teams: 社会救助协理员、网格员…)
    visitors: Mapped[str] = mapped_column(String(200))
    #: the household's must-visit groups at the visit
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: what the visit found
    finding: Mapped[str] = mapped_column(EncryptedText("outreach_visits.finding"))
    #: the household appears to qualify: the township is to bring it into assistance (及时纳入救助范围)
    needs_assistance: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    household: Mapped[Household] = relationship()


__all__ = ["OutreachVisit"]
