"""Step instances: one row each time a step of a case's workflow opens."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jiuzhu.cases.models import Case
from jiuzhu.crypto.types import EncryptedJSON, EncryptedText
from jiuzhu.db import Base, utcnow
from jiuzhu.tenancy.mixins import OrgScoped
from jiuzhu.tenancy.models import OrgLevel


class StepStatus(enum.StrEnum):
    open = "open"
    done = "done"
    skipped = "skipped"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        return {"open": "办理中", "done": "已完成", "skipped": "已跳过", "cancelled": "已取消"}[self.value]


class Step(OrgScoped, Base):
    """One step of one case in one round: who acted, when, by when, with what outcome."""

    __tablename__ = "case_steps"
    __table_args__ = (
        # the worklists and the reminder sweep: open steps by deadline
        # (…, due_on, id) is exactly the worklist's ORDER BY: the first page is read off the index
        Index("ix_case_steps_open_due", "tenant_id", "township_id", "level", "due_on", "id",
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_case_steps_open_level_due", "tenant_id", "level", "due_on", "id",
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        # the dashboard: open steps running to their case's deadline (no limit of their own)
        Index("ix_case_steps_open_no_due", "tenant_id", "township_id", "case_id",
              postgresql_where=text("status = 'open' AND due_on IS NULL"),
              sqlite_where=text("status = 'open' AND due_on IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    #: the township that owns (acts on) the step, so worklists need no join: the case's township, or
    #: for a step a plugin gives to the case's other township (``StepSpec.township``) that one
    township_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    key: Mapped[str] = mapped_column(String(40))
    round: Mapped[int] = mapped_column(SmallInteger, default=1)
    level: Mapped[OrgLevel] = mapped_column(Enum(OrgLevel, native_enum=False, length=16))
    status: Mapped[StepStatus] = mapped_column(Enum(StepStatus, native_enum=False, length=16),
                                               default=StepStatus.open)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    #: the due date lies in a year whose holiday schedule is not yet published (weekends only)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the step's one extension was used (with reason)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the end of the step's minimum run (publicity), if it has one
    runs_until: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str | None] = mapped_column(String(120))
    #: the step's form data (investigators, findings, report number…)
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("case_steps.data"), default=dict)
    #: the reason given for an outcome, a skip or an extension
    reason: Mapped[str | None] = mapped_column(EncryptedText("case_steps.reason"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    case: Mapped[Case] = relationship()

    # Every township of the case sees all its steps (the case page's timeline); a township's own steps
    # are those with its ``township_id`` (the worklist filters on it). Only a shared case's steps can
    # belong to another township, so the second term reads the few shared cases (partial index).
    @classmethod
    def township_criteria(cls, township_id):
        return or_(cls.township_id == township_id,
                   cls.case_id.in_(select(Case.id).where(Case.other_township_id.is_not(None),
                                                         Case.township_criteria(township_id)).correlate(None)))

    def in_org_scope(self, scope) -> bool:
        if scope.village_id is None and scope.township_id is not None and self.township_id != scope.township_id:
            case = self.case
            return case is not None and case.in_org_scope(scope)
        return super().in_org_scope(scope)

    @property
    def is_open(self) -> bool:
        return self.status == StepStatus.open


class OpenStepCount(OrgScoped, Base):
    """How many open steps with a deadline of their own a township has per deadline — kept by
    triggers on ``case_steps`` in the same transaction as the change (PostgreSQL; migration 0051),
    so the dashboard's overdue and due-soon counts sum a few thousand counters for any day instead
    of reading every open step. Never written by the application itself."""

    __tablename__ = "open_step_counts"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "township_id", "due_on", name="pk_open_step_counts"),)

    township_id: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[dt.date] = mapped_column(Date)
    n: Mapped[int] = mapped_column(BigInteger, default=0)

    @classmethod
    def village_criteria(cls, village_id):
        from sqlalchemy import false

        return false()  # counted by township: nothing of it is a village's

    def in_org_scope(self, scope) -> bool:
        return scope.village_id is None and super().in_org_scope(scope)
