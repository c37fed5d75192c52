"""The dangtu plugin: 当涂县 (安徽省), 《当涂县城乡低保及特困人员审核确认权限委托下放工作实施方案（试行）》.

1. 受理 (township or industrial park): “一本一书” — the household register and ID card, and the check
   authorization letter; nothing the checking platform provides is asked for.
2. 家庭经济状况核对 through the county bureau's entrusted agency, which issues a report (the step
   records the agency and the report number); 入户调查 with neighbour visits, letters where needed.
3. 民主评议 (skippable without doubt, as nationally), 初审, 公示 — the publicity period does not count
   towards the 20 working days (the case's clock stands still while it runs).
4. 审核确认 by the township (park); the result is filed with the county (备案), which supervises,
   spot-checks new cases on site and may revoke; 一户一档: entered into the province's system, exported
   to paper, both alike, kept by the township that confirmed.
5. Benefits from the month after, paid by the county through an entrusted financial institution and
   the province's payment system.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import select

from jiuzhu.cases.categories import CaseKind, CaseStatus, Category
from jiuzhu.plugins.baseline import MaterialSpec
from jiuzhu.plugins.rules import BenefitStart, PaymentRule, SpotCheckRule
from jiuzhu.workflow.spec import Due, Outcome, OverallLimit, StepSpec, Workflow
from plugins.anhui import COUNTY, TOWNSHIP, AnhuiPlugin, cite
from plugins.dangtu import forms, source

D = source.DOCUMENT
#: the categories whose confirmation was delegated, and which 一户一档 keeps one file for
DELEGATED = (Category.dibao, Category.tekun)


@dataclass(frozen=True)
class DangtuLimits:
    limit: int = 20
    publicity_days: int = 7
    denial_days: int = 3
    #: the county acknowledges a township's result within this many working days (its own setting)
    filing: int = 5


class DangtuPlugin(AnhuiPlugin):
    #: “纸质档案要一户一档,按照谁确认谁存档的要求”: the county sees what is not archived yet
    archive_step: ClassVar[str | None] = "archive"
    #: “审核确认结果汇总上报至县民政局备案”: the county's acknowledgement, listed on its dashboard
    filing_step: ClassVar[str | None] = "county_filing"
    key = "dangtu"
    name = "当涂县"
    source_document = D
    source_seed = source.SEED
    document = D
    confirming_unit: ClassVar[str] = "乡镇人民政府（园区管委会）"
    delegation_source: ClassVar[str] = cite(D, source.DELEGATION, source.PROCESS)

    #: 低保 and 特困 are what the document delegates
    categories: ClassVar[tuple[Category, ...]] = (Category.tekun, Category.dibao)
    category_order: ClassVar[tuple[Category, ...]] = categories

    #: 将办理时限压缩到20个工作日内(不含公示期) — no extension
    max_limit_workdays: ClassVar[int] = 20
    max_extended_workdays: ClassVar[int | None] = None
    limit_source: ClassVar[str] = D
    settings_schema = forms.DangtuSettings
    DECIMAL_SETTINGS: ClassVar[tuple[str, ...]] = (*AnhuiPlugin.DECIMAL_SETTINGS, "spot_check_share")

    #: 一本一书: no commitment letter asked
    commitment_required: ClassVar[bool] = False

    payment_rule: ClassVar[PaymentRule] = PaymentRule(
        BenefitStart.month_after, paid_through="县民政局委托金融机构（安徽财政惠农补贴资金管理发放系统）",
        source=cite(D, source.PAYMENT))
    #: 负责对新审核确认低保及特困对象入户抽查 — on site (入户); the share is the county's to set
    spot_check_rule: ClassVar[SpotCheckRule] = SpotCheckRule(
        categories=DELEGATED, sample_share=None, on_site_share=Decimal("1"), answer_real_name_reports=True,
        source=cite(D, source.SPOT_CHECK, source.REPORTS))

    NOTICE_TITLES: ClassVar[dict[str, str]] = {
        "missing_materials": "城乡低保、特困人员申请材料一次性告知书",
        "not_accepted": "城乡低保、特困人员申请不予受理通知书",
        "denial": "城乡低保、特困人员不予确认通知书",
        "certificate": "城乡低保、特困人员审核确认通知书",
    }

    # -- materials --------------------------------------------------------------------------------

    def material_specs(self) -> list[MaterialSpec]:
        """“一本一书”: exactly the household register with the ID card, and the authorization letter."""
        return [MaterialSpec("id_and_register", "户口簿和身份证"),
                MaterialSpec("authorization", "家庭经济状况核查授权委托书")]

    # -- settings ---------------------------------------------------------------------------------

    def defaults(self) -> dict[str, Any]:
        return {**super().defaults(), "extended_limit_workdays": None, "entrusted_check_agency": None,
                "spot_check_share": None, "filing_workdays": DangtuLimits.filing}

    def setting_bounds(self) -> dict[str, tuple[int, int, str]]:
        return {**super().setting_bounds(), "filing_workdays": (1, 20, "县民政局备案时限")}

    def step_limits(self, s: dict[str, Any]) -> DangtuLimits:
        return DangtuLimits(limit=s["limit_workdays"], publicity_days=s["publicity_days"],
                            denial_days=s["denial_notice_workdays"],
                            filing=s.get("filing_workdays") or DangtuLimits.filing)

    # -- the workflow -----------------------------------------------------------------------------

    def build_variant(self, variant: str, d: DangtuLimits) -> Workflow:
        base = self.build_workflow(limit=d.limit, extended=None, publicity_days=d.publicity_days,
                                   denial_days=d.denial_days)
        steps = (
            base.step("acceptance").with_changes(source=cite(D, source.PROCESS, source.MATERIALS, source.PLATFORM_INFO)),
            base.step("economic_check").with_changes(label="家庭经济状况核对（委托核对机构）",
                                                     form=forms.EntrustedCheckForm,
                                                     source=cite(D, source.CHECK, source.COUNTY_REPORT)),
            base.step("home_investigation").with_changes(form=forms.InvestigationForm,
                                                         source=cite(D, source.INVESTIGATION)),
            base.step("appraisal").with_changes(source=cite(D, source.PROCESS)),
            base.step("review_opinion").with_changes(label="初审", source=cite(D, source.PROCESS)),
            base.step("publicity").with_changes(pauses_clock=True, source=cite(D, source.PROCESS, source.LIMIT)),
            self.decision_step(),
            base.step("denial_notice"),
            base.step("certificate"),
            StepSpec("county_filing", "县民政局备案", COUNTY, due=Due(d.filing), outcomes=(
                Outcome("filed", "已备案", form=forms.FilingForm),
            ), source=cite(D, source.FILING)),
            StepSpec("archive", "归档（一户一档）", TOWNSHIP, outcomes=(
                Outcome("archived", "已录入系统并导出纸质档案存档", form=forms.ArchiveForm),
            ), source=cite(D, source.ARCHIVE, source.ONE_FILE)),
        )
        return Workflow(steps=steps, start=("acceptance",),
                        limit=OverallLimit(d.limit, None, source=cite(D, source.LIMIT)))

    def decision_step(self) -> StepSpec:
        """The township (park) confirms; either way the result is filed with the county and archived."""
        base = super().decision_step()
        return base.with_changes(outcomes=tuple(replace(o, next=(*o.next, "county_filing", "archive"))
                                                for o in base.outcomes))

    # -- guards -----------------------------------------------------------------------------------

    def check_application(self, household, categories: list[str], consent: bool, on: dt.date) -> list[str]:
        """“纸质档案要一户一档,按照谁确认谁存档的要求” is a rule of archiving, not of who may apply: a
        household drawing 低保 may apply for 特困 (its papers go into the same file). What is refused is a
        second application for a category the household already has open or is paid under — a change of
        that goes through the file's review."""
        from jiuzhu.cases.models import Case
        from jiuzhu.extensions import db

        if household.id is None:
            return []
        rows = db.session.execute(select(Case.id, Case.categories).where(
            Case.household_id == household.id, Case.kind == CaseKind.application,
            Case.status.in_([CaseStatus.pending_acceptance, CaseStatus.in_review, CaseStatus.approved]))).all()
        same = [case_id for case_id, held in rows if set(held or []) & set(categories)]
        if same:
            return [f"该户已有同一类别正在办理或正在享受救助的案件（案件 {'、'.join(map(str, same))}），"
                    "请在原档案（一户一档）中办理复核或变更，不重复申请。"]
        return []

    def check_outcome(self, case, view, spec: StepSpec, outcome: Outcome, data: dict, on: dt.date) -> list[str]:
        problems = super().check_outcome(case, view, spec, outcome, data, on)
        if spec.key == "economic_check":
            agency = self.tenant_settings(case.tenant_id).get("entrusted_check_agency")
            if agency and data.get("agency") != agency:
                problems.append(f"核对须通过县民政局委托的核对机构（{agency}）进行，核对报告出具单位不符。")
            issued = data.get("report_issued_on")
            if issued is not None and (issued > on or (case.accepted_on and issued < case.accepted_on)):
                problems.append("核对报告出具日期须在受理之后、办理之日以前。")
        return problems

    def spot_check_share(self, settings: dict[str, Any]) -> Decimal | None:
        """The share of new 低保/特困 cases the county checks at home (the county decides it)."""
        return settings.get("spot_check_share") or self.spot_check_rule.sample_share

    # -- notices ----------------------------------------------------------------------------------

    def notice_basis(self, kind: str) -> str:
        quote = {"missing_materials": source.MATERIALS + source.PLATFORM_INFO, "not_accepted": source.PROCESS,
                 "denial": source.PROCESS, "certificate": source.DELEGATION + source.PAYMENT, "revocation": source.SPOT_CHECK}.get(kind)
        if quote is None:  # (a revocation: the provincial rules and the county's document, unquoted)
            return super().notice_basis(kind)
        return f"{super().notice_basis(kind)}：“{quote}”"

    def notice_text(self, kind: str, case) -> list[str]:
        paragraphs = super().notice_text(kind, case)
        if kind == "certificate" and case.benefit_start is not None:
            paragraphs.insert(-1, "保障金由县民政局委托金融机构，通过安徽财政惠农补贴资金管理发放系统按月发放。")
        return paragraphs

    def validate(self) -> list[str]:
        problems = super().validate()
        if [m.key for m in self.material_specs() if m.required] != ["id_and_register", "authorization"]:
            problems.append("当涂县申请材料须为“一本一书”")
        if not self.default_workflow().step("publicity").pauses_clock:
            problems.append("当涂县办理时限不含公示期")
        return problems


__all__ = ["DangtuPlugin", "DangtuLimits", "DELEGATED"]
