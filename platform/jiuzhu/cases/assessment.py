"""Economic assessment: a household's per-capita monthly income against the local standard.

The core counts the income of co-resident members and the support paid by legal supporters; a
plugin may exclude kinds of income and add deductions (Zongyang deducts 30% of the standard for
each working member and does not count the residents' basic pension).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from jiuzhu.cases.households import Household, IncomeKind
from jiuzhu.errors import ValidationError

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    label: str
    amount: Decimal


@dataclass
class Assessment:
    members: int
    standard: Decimal
    counted: list[Line] = field(default_factory=list)
    excluded: list[Line] = field(default_factory=list)
    deductions: list[Line] = field(default_factory=list)

    @property
    def gross(self) -> Decimal:
        return sum((line.amount for line in self.counted), Decimal("0"))

    @property
    def deducted(self) -> Decimal:
        return sum((line.amount for line in self.deductions), Decimal("0"))

    @property
    def household_income(self) -> Decimal:
        return max(Decimal("0"), self.gross - self.deducted)

    @property
    def per_capita(self) -> Decimal:
        return (self.household_income / self.members).quantize(CENT, ROUND_HALF_UP) if self.members else Decimal("0")

    @property
    def below_standard(self) -> bool:
        return self.per_capita < self.standard

    @property
    def monthly_benefit(self) -> Decimal:
        """差额补助: (standard − per-capita income) × members, never negative."""
        gap = self.standard - self.per_capita
        return max(Decimal("0"), gap * self.members).quantize(CENT, ROUND_HALF_UP)


def assess(household: Household, plugin, settings: dict, on: dt.date) -> Assessment:
    standard = settings.get("dibao_standard")
    if standard in (None, ""):
        raise ValidationError("县级管理员尚未设置本地低保标准（元/人·月），无法测算。")
    standard = Decimal(str(standard))
    members = household.coresident
    if not members:
        raise ValidationError("该户没有共同生活的家庭成员，无法测算。")
    member_ids = {m.id for m in members}
    excluded_kinds = plugin.excluded_income_kinds(settings)
    result = Assessment(members=len(members), standard=standard)
    for item in household.incomes:
        if item.member_id is not None and item.member_id not in member_ids:
            continue
        line = Line(IncomeKind(item.kind).label, Decimal(item.monthly_amount))
        (result.excluded if item.kind in excluded_kinds else result.counted).append(line)
    for supporter in household.supporters:
        if supporter.monthly_support_paid:
            result.counted.append(Line(f"{supporter.name}（{supporter.duty}义务人）给付",
                                       Decimal(supporter.monthly_support_paid)))
    result.deductions.extend(plugin.income_deductions(household, settings, standard, on))
    return result
