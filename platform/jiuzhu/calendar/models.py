"""The working-day calendar as data: which years are published, and their exceptions.

Global, not tenant-owned: every county works by the same State Council schedule. Only exceptions
to the Monday-to-Friday rule are stored — holidays (also those on a weekend, so that a schedule
reads as it was published) and make-up working days on a weekend (调休上班).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from jiuzhu.db import Base, utcnow


class CalendarSource(enum.StrEnum):
    chinesecalendar = "chinesecalendar"
    operator = "operator"

    @property
    def label(self) -> str:
        return {"chinesecalendar": "chinesecalendar 软件包", "operator": "平台运维人员录入"}[self.value]


class CalendarYear(Base):
    """A year whose holiday schedule is published: its row exists exactly when it is."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: where the schedule came from: the ``chinesecalendar`` package (seeded) or the operator
    source: Mapped[CalendarSource] = mapped_column(
        Enum(CalendarSource, name="calendar_source", native_enum=False, length=20))
    #: when the schedule was entered (or last replaced); other processes notice a change by it
    entered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: who entered it: the operator's name, or ``chinesecalendar`` for seeded years
    entered_by: Mapped[str] = mapped_column(String(64))
    #: the notice it comes from, e.g. 国办发明电〔2025〕7号
    note: Mapped[str | None] = mapped_column(String(200))

    def __str__(self) -> str:
        return f"{self.year} 年"


class CalendarException(Base):
    """One day that breaks the Monday-to-Friday rule, or a holiday on a weekend."""

    __tablename__ = "calendar_exceptions"

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    #: True: a make-up working day (调休上班) on a weekend; False: a holiday (休), weekday or weekend
    is_workday: Mapped[bool] = mapped_column(Boolean)
    #: the holiday it belongs to, e.g. 国庆节, or 春节调休 for a make-up day
    name: Mapped[str] = mapped_column(String(60))
    #: the year whose schedule set this day: the day's own year, except that a New Year (元旦)
    #: arrangement may reach into the previous December (the 2019 notice set 2018-12-29 to 12-31)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year", ondelete="CASCADE"), index=True)

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {'班' if self.is_workday else '休'} {self.name}"


__all__ = ["CalendarSource", "CalendarYear", "CalendarException"]
