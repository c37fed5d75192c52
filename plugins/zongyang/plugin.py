"""The zongyang plugin: 枞阳县 (安徽省)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from jiuzhu.cases.assessment import Line
from jiuzhu.cases.households import IncomeKind
from jiuzhu.plugins.baseline import BaselinePlugin

SOURCE = "《枞阳县社会救助工作便民惠民优化服务行动方案》"


class ZongyangPlugin(BaselinePlugin):
    key = "zongyang"
    name = "枞阳县"
    province = "安徽省"
    source_document = f"{SOURCE}（2021年9月18日；seeds/zongyang-2021-convenience-action-plan.txt）"

    #: "对参加劳动就业、外出务工等必需支出，在核算其家庭收入时，按当地低保标准的30%扣减。"
    work_cost_share = Decimal("0.30")

    def excluded_income_kinds(self, settings: dict) -> set:
        """"城乡及居民基本养老保险基础养老金不计收入。" """
        return {IncomeKind.basic_pension}

    def income_deductions(self, household, settings: dict, standard: Decimal, on) -> list[Line]:
        amount = (standard * self.work_cost_share).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return [Line(f"{m.name}务工必要支出（按低保标准的 30% 扣减）", amount)
                for m in household.coresident if m.working]
