"""Assistance categories (认定类别) and case vocabularies."""

from __future__ import annotations

import enum


class Category(enum.StrEnum):
    tekun = "tekun"
    dibao = "dibao"
    dibao_edge = "dibao_edge"
    rigid_expense = "rigid_expense"
    low_income_other = "low_income_other"
    temporary_relief = "temporary_relief"
    elderly_low_income = "elderly_low_income"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    Category.tekun: "特困人员",
    Category.dibao: "最低生活保障",
    Category.dibao_edge: "低保边缘家庭",
    Category.rigid_expense: "刚性支出困难家庭",
    Category.low_income_other: "其他低收入人口",
    Category.temporary_relief: "临时救助",
    Category.elderly_low_income: "高龄低收入老年人",
}


class Channel(enum.StrEnum):
    window = "window"
    online = "online"
    village_proxy = "village_proxy"

    @property
    def label(self) -> str:
        return {"window": "窗口申请", "online": "网上申请", "village_proxy": "村（社区）代为申请"}[self.value]


class CaseKind(enum.StrEnum):
    application = "application"
    review = "review"

    @property
    def label(self) -> str:
        return {"application": "申请审核确认", "review": "定期复核"}[self.value]


class CaseStatus(enum.StrEnum):
    pending_acceptance = "pending_acceptance"
    in_review = "in_review"
    approved = "approved"
    denied = "denied"
    not_accepted = "not_accepted"
    withdrawn = "withdrawn"
    revoked = "revoked"
    closed = "closed"

    @property
    def label(self) -> str:
        return CASE_STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self in (CaseStatus.pending_acceptance, CaseStatus.in_review)


CASE_STATUS_LABELS = {
    CaseStatus.pending_acceptance: "待受理",
    CaseStatus.in_review: "审核中",
    CaseStatus.approved: "已确认（给予救助）",
    CaseStatus.denied: "不予确认",
    CaseStatus.not_accepted: "不予受理",
    CaseStatus.withdrawn: "申请人撤回",
    CaseStatus.revoked: "已撤销",
    CaseStatus.closed: "已终止",
}


class Finding(enum.StrEnum):
    eligible = "eligible"
    ineligible = "ineligible"

    @property
    def label(self) -> str:
        return {"eligible": "符合", "ineligible": "不符合"}[self.value]
