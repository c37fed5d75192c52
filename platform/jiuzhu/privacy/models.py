"""The access log of personal information (个人信息访问记录)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jiuzhu.db import Base, utcnow
from jiuzhu.tenancy.mixins import TenantScoped


class AccessKind(enum.StrEnum):
    view_id_number = "view_id_number"
    view_household = "view_household"
    view_case = "view_case"
    download_case_file = "download_case_file"
    download_notice = "download_notice"
    download_material = "download_material"
    export_list = "export_list"

    @property
    def label(self) -> str:
        return ACCESS_LABELS[self]


ACCESS_LABELS = {
    AccessKind.view_id_number: "查看完整身份证号码",
    AccessKind.view_household: "查看家庭档案",
    AccessKind.view_case: "查看案件",
    AccessKind.download_case_file: "下载一户一档",
    AccessKind.download_notice: "下载通知书",
    AccessKind.download_material: "查看申请材料",
    AccessKind.export_list: "导出名单",
}


class PersonalDataAccess(TenantScoped, Base):
    """One look at a person's or household's information, or one export of a list: who, when, from
    where, what. Append-only (the application role may only insert and read), kept for the instance's
    retention period (at least six months), never purged by a county. Holds no personal data itself:
    the subject is named by its id."""

    __tablename__ = "personal_data_access"
    __table_args__ = (
        Index("ix_personal_data_access_tenant_at", "tenant_id", "at"),
        Index("ix_personal_data_access_user_at", "tenant_id", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: who (a person or an API token's user); the name and role as they were at the time
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_name: Mapped[str] = mapped_column(String(120))
    user_role: Mapped[str] = mapped_column(String(32))
    kind: Mapped[AccessKind] = mapped_column(Enum(AccessKind, native_enum=False, length=24))
    #: what was looked at: household, case, member, notice, material, or the list exported
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    #: the household concerned, if any (to count households per hour and to answer "who saw this family")
    household_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: a short description without personal data ("一户一档 PDF", "用户名单 CSV", "API")
    detail: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(64))
