"""The shexian plugin: 歙县 (安徽省), 歙民〔2024〕57号 “一次申请、分类审核认定”.

One merged application for every category; with the applicant's consent, staff determine the
categories one by one in the fixed order 特困 → 低保 → 低保边缘 → 刚性支出困难 → 其他低收入 → 临时救助:

1. 受理 (township): complete → accept; incomplete → one written notice (一次性告知); nothing a
   government platform provides is asked for.
2. 家庭经济状况核对 (county) and 入户调查 (township), then 民主评议 (skippable without doubt).
3. 初核意见 (township) within 7 working days of acceptance.
4. 公示 when the opinion is to grant.
5. 联审联批 (township's joint review meeting) decides, recording one finding per category in the
   fixed order: 特困/低保 → certificate, benefits from the month after, and within 3 working days a
   one-off temporary relief equal to the confirmed per-capita monthly amount; 低保边缘/刚性支出/其他
   低收入 → entered into the big-data system within 5 working days; 临时救助 alone → the relief
   amount; none → not confirmed, referred to the department that fits the difficulty (recorded).
All within 15 working days of acceptance, extendable once, with a reason, to 25.
Monitoring warnings are handled within 5 working days (``warning_rule``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from jiuzhu.calendar import add_workdays
from jiuzhu.cases.categories import Category, Finding
from jiuzhu.plugins.rules import BenefitStart, PaymentRule, WarningRule
from jiuzhu.workflow.spec import Decision, Due, Outcome, OverallLimit, StepSpec, Workflow
from plugins.anhui import TOWNSHIP, AnhuiPlugin, cite
from plugins.shexian import forms, source

D = source.DOCUMENT
#: the five categories of which a household is determined to be (at most) one
MAIN_CATEGORIES = (Category.tekun, Category.dibao, Category.dibao_edge, Category.rigid_expense,
                   Category.low_income_other)
LOW_INCOME = (Category.dibao_edge, Category.rigid_expense, Category.low_income_other)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ShexianLimits:
    """The time limits the workflow is built with: 歙民〔2024〕57号's, or a county's shorter ones."""

    limit: int = 15
    extended: int | None = 25
    publicity_days: int = 7
    denial_days: int = 3
    initial_opinion: int = 7
    one_off_relief: int = 3
    big_data_entry: int = 5


def order_label(categories) -> str:
    return "→".join(Category(c).label for c in categories)


class ShexianPlugin(AnhuiPlugin):
    key = "shexian"
    name = "歙县"
    source_document = D
    source_seed = source.SEED
    document = D

    #: “特困人员”、“最低生活保障对象”、“低保边缘家庭”、“刚性支出困难家庭”、“其他低收入人口”、“临时救助”的认定顺序
    category_order: ClassVar[tuple[Category, ...]] = (
        Category.tekun, Category.dibao, Category.dibao_edge, Category.rigid_expense, Category.low_income_other,
        Category.temporary_relief)
    categories: ClassVar[tuple[Category, ...]] = category_order
    #: 一次性临时救助金 is paid, with its voucher, by closing the “发放一次性临时救助金” step
    relief_paid_at_step: ClassVar[str | None] = "one_off_relief"

    max_limit_workdays: ClassVar[int] = 15
    max_extended_workdays: ClassVar[int | None] = 25
    limit_source: ClassVar[str] = D
    settings_schema = forms.ShexianSettings

    joint_review_meeting: ClassVar[bool] = True
    delegation_source: ClassVar[str] = cite(D, source.MEETING)

    payment_rule: ClassVar[PaymentRule] = PaymentRule(
        BenefitStart.month_after, one_off_relief_workdays=3,
        one_off_relief_categories=(Category.tekun, Category.dibao), source=cite(D, source.BENEFITS))
    warning_rule: ClassVar[WarningRule] = WarningRule(due=Due(5), source=cite(D, source.WARNING))

    NOTICE_TITLES: ClassVar[dict[str, str]] = {
        "missing_materials": "低收入人口申请认定材料一次性告知书",
        "not_accepted": "低收入人口申请认定不予受理通知书",
        "denial": "低收入人口申请认定不予认定通知书",
        "certificate": "低收入人口分类审核认定结果通知书",
    }

    # -- settings ---------------------------------------------------------------------------------

    def defaults(self) -> dict[str, Any]:
        d = ShexianLimits()
        return {**super().defaults(), "initial_opinion_workdays": d.initial_opinion,
                "one_off_relief_workdays": d.one_off_relief, "big_data_entry_workdays": d.big_data_entry,
                "warning_workdays": self.warning_rule.due.days, "one_off_relief_basis": "per_capita"}

    def setting_bounds(self) -> dict[str, tuple[int, int, str]]:
        d = ShexianLimits()
        return {**super().setting_bounds(),
                "initial_opinion_workdays": (1, d.initial_opinion, "初核意见时限"),
                "one_off_relief_workdays": (1, d.one_off_relief, "一次性临时救助金发放时限"),
                "big_data_entry_workdays": (1, d.big_data_entry, "录入社会救助大数据信息系统时限"),
                "warning_workdays": (1, self.warning_rule.due.days, "预警信息处置时限")}

    def step_limits(self, s: dict[str, Any]) -> ShexianLimits:
        return ShexianLimits(limit=s["limit_workdays"], extended=s.get("extended_limit_workdays"),
                             publicity_days=s["publicity_days"], denial_days=s["denial_notice_workdays"],
                             initial_opinion=s["initial_opinion_workdays"], one_off_relief=s["one_off_relief_workdays"],
                             big_data_entry=s["big_data_entry_workdays"])

    # -- the workflow -----------------------------------------------------------------------------

    def build_variant(self, variant: str, d: ShexianLimits) -> Workflow:
        base = self.build_workflow(limit=d.limit, extended=d.extended, publicity_days=d.publicity_days,
                                   denial_days=d.denial_days)
        steps = (
            base.step("acceptance").with_changes(source=cite(D, source.MERGED_FORM, source.ACCEPT, source.PLATFORM)),
            base.step("economic_check").with_changes(source=cite(D, source.ASSESS)),
            base.step("home_investigation").with_changes(source=cite(D, source.ASSESS)),
            base.step("appraisal"),
            base.step("review_opinion").with_changes(
                label="初核意见", due=Due(d.initial_opinion, start="accepted"),
                source=cite(D, source.INITIAL_OPINION)),
            base.step("publicity"),
            self.decision_step(),
            base.step("denial_notice").with_changes(label="不予认定告知", source=cite(D, source.REFERRAL)),
            base.step("certificate").with_changes(label="发放认定结果通知（救助证）"),
            StepSpec("one_off_relief", "发放一次性临时救助金", TOWNSHIP, outcomes=(
                Outcome("paid", "已按人均月补助标准发放", form=forms.OneOffPaidForm),
            ), due=Due(d.one_off_relief), source=cite(D, source.BENEFITS)),
            StepSpec("big_data_entry", "录入社会救助大数据信息系统", TOWNSHIP, outcomes=(
                Outcome("entered", "已录入", form=forms.BigDataEntryForm),
            ), due=Due(d.big_data_entry), source=cite(D, source.ENTRY)),
        )
        return Workflow(steps=steps, start=("acceptance",),
                        limit=OverallLimit(d.limit, d.extended, source=cite(D, source.LIMIT)))

    def decision_step(self) -> StepSpec:
        """联审联批: the joint review meeting decides, one finding per category in the fixed order."""
        return StepSpec("decision", "联审联批（分类审核认定）", self.deciding_level, outcomes=(
            Outcome("approve", "确认为特困人员或最低生活保障对象", next=("certificate", "one_off_relief"),
                    decision=Decision.approve, form=forms.MonthlyApprovalForm),
            Outcome("approve_low_income", "认定为低保边缘家庭、刚性支出困难家庭或其他低收入人口",
                    next=("certificate", "big_data_entry"), decision=Decision.approve,
                    form=forms.LowIncomeApprovalForm),
            Outcome("approve_relief", "给予临时救助", next=("certificate",), decision=Decision.approve,
                    form=forms.ReliefApprovalForm),
            Outcome("deny", "不予认定（转介相应部门）", next=("denial_notice",), decision=Decision.deny,
                    requires_reason=True, form=forms.DenialForm),
        ), source=cite(D, source.MEETING, source.ORDER, source.ONE_APPLICATION))

    # -- the classified review ----------------------------------------------------------------------

    def check_findings(self, case, outcome: Outcome, findings: list[dict]) -> list[str]:
        """The findings come in the fixed order, cover what was asked, stay within it without the
        applicant's consent, go through the order without gaps with it, name at most one of the five
        categories, and fit the outcome chosen."""
        order = [c.value for c in self.category_order]
        found = [f["category"] for f in findings]
        asked = list(case.categories)
        unknown = [c for c in found if c not in order]
        if unknown:
            return ["本县不认定这些类别：" + "、".join(Category(c).label for c in unknown) + "。"]
        problems = []
        dupes = sorted({c for c in found if found.count(c) > 1}, key=order.index)
        if dupes:
            problems.append("同一类别只能认定一次：" + "、".join(Category(c).label for c in dupes) + "。")
        positions = [order.index(c) for c in found]
        if positions != sorted(positions):
            problems.append(f"须按{order_label(order)}的顺序逐类认定，当前顺序为{order_label(found)}。")
        missing = [c for c in asked if c not in found]
        if missing:
            problems.append("申请人申请的类别须逐一认定：尚未认定" + "、".join(Category(c).label for c in missing) + "。")
        eligible = [f["category"] for f in findings if f["finding"] == Finding.eligible]
        main_eligible = [c for c in eligible if c in MAIN_CATEGORIES]
        if not case.consent_classification:
            extra = [c for c in found if c not in asked]
            if extra:
                problems.append("申请人未同意分类审核认定，不能认定其未申请的类别："
                                + "、".join(Category(c).label for c in extra) + "。")
        else:
            stop = order.index(main_eligible[0]) + 1 if main_eligible else len(order)
            skipped = [c for c in order[:stop] if c not in found]
            if skipped:
                problems.append("已征得申请人同意分类审核认定，须按顺序逐类认定，不能跳过："
                                + "、".join(Category(c).label for c in skipped) + "。")
        if len(main_eligible) > 1:
            problems.append("一户只能认定为特困人员、最低生活保障对象、低保边缘家庭、刚性支出困难家庭、其他低收入人口中的一类，"
                            "按认定顺序取首个符合的类别。")
        first = main_eligible[0] if main_eligible else None
        relief = Category.temporary_relief.value in eligible
        if outcome.key == "approve" and first not in (Category.tekun, Category.dibao):
            problems.append("“确认为特困人员或最低生活保障对象”须有特困人员或最低生活保障对象的“符合”认定。")
        if outcome.key == "approve_low_income" and first not in LOW_INCOME:
            problems.append("“认定为低收入人口”须有低保边缘家庭、刚性支出困难家庭或其他低收入人口的“符合”认定。")
        if outcome.key == "approve_relief" and (first is not None or not relief):
            problems.append("“给予临时救助”只用于仅符合临时救助条件的申请：须认定临时救助为“符合”，其他类别均不符合。")
        if outcome.key == "deny" and eligible:
            problems.append("认定结果中有“符合”的类别，不能不予认定。")
        return problems

    def check_outcome(self, case, view, spec: StepSpec, outcome: Outcome, data: dict, on: dt.date) -> list[str]:
        problems = super().check_outcome(case, view, spec, outcome, data, on)
        if spec.key == "decision":
            problems += self.check_findings(case, outcome, data.get("findings") or [])
            eligible = {f["category"] for f in data.get("findings") or [] if f["finding"] == Finding.eligible}
            if (outcome.key == "approve_low_income" and Category.temporary_relief.value in eligible
                    and data.get("relief_amount") is None):
                problems.append("认定符合临时救助的，请填写临时救助金额。")
        if spec.key == "one_off_relief":
            from jiuzhu.extensions import db

            grant = self._one_off_grant(db.session, case)
            if grant is None:
                problems.append("本案没有待发放的一次性临时救助金。")
            elif grant.payments[0].paid_on is not None:
                problems.append("一次性临时救助金已发放。")
        return problems

    # -- money ------------------------------------------------------------------------------------

    def per_capita_amount(self, monthly_amount: Decimal, covered: int) -> Decimal:
        """该申请对象审核确认的人均月补助标准: the monthly amount over the people it covers."""
        return (Decimal(monthly_amount) / covered).quantize(CENT, ROUND_HALF_UP)

    def _one_off_grant(self, session, case):
        """The one-off relief owed within 3 working days of confirming 特困/低保 (it has a due date)."""
        from jiuzhu.payments import services as pay
        from jiuzhu.payments.models import ReliefKind

        grants = [g for g in pay.relief_grants(session, case.id) if g.kind == ReliefKind.one_off and g.due_on]
        return grants[0] if grants else None

    def on_outcome(self, session, user, case, view, spec, outcome, data: dict, on: dt.date) -> None:
        from jiuzhu.payments import services as pay
        from jiuzhu.payments.models import ReliefKind

        if spec.key == "decision":
            # the classified review, not the categories asked for, settles whether a monthly benefit
            # starts: from the month after confirmation for 特困/低保, none for the other outcomes
            case.benefit_start = self.first_benefit_month(on) if outcome.key == "approve" else None
            if outcome.key == "deny":
                case.referral = f"{data['referral']}（{data['referral_need']}）"
        super().on_outcome(session, user, case, view, spec, outcome, data, on)
        if spec.key == "decision" and outcome.key == "approve":
            limits = self.step_limits(self.tenant_settings(case.tenant_id))
            covered = data.get("covered_count") or len(case.household.coresident)
            per_capita = self.per_capita_amount(case.monthly_amount, covered)
            each = self.tenant_settings(case.tenant_id).get("one_off_relief_basis") == "per_person"
            amount = per_capita * covered if each else per_capita
            basis = (f"按审核确认的人均月补助标准 {per_capita} 元 × 保障人数 {covered} 人" if each
                     else f"按审核确认的人均月补助标准（{covered} 人，人均 {per_capita} 元）")
            first = next(f["category"] for f in data["findings"] if f["finding"] == Finding.eligible)
            pay.grant_relief(session, case, kind=ReliefKind.one_off, total=amount, stages=[(amount, None)],
                             approved_on=on, due_on=add_workdays(on, limits.one_off_relief).due, user=user,
                             reason=f"确认为{Category(first).label}，{basis}发放一次性临时救助金")
        elif spec.key == "decision" and data.get("relief_amount") is not None:
            amount = Decimal(str(data["relief_amount"]))
            pay.grant_relief(session, case, kind=ReliefKind.one_off, total=amount, stages=[(amount, None)],
                             approved_on=on, user=user, reason="分类审核认定：符合临时救助条件")
        elif spec.key == "one_off_relief":
            grant = self._one_off_grant(session, case)
            pay.pay_relief(session, user, grant.payments[0].id, on=on, voucher_no=data["voucher_no"])

    # -- notices ----------------------------------------------------------------------------------

    def notice_basis(self, kind: str) -> str:
        quote = {"missing_materials": source.ACCEPT + source.PLATFORM, "not_accepted": source.ACCEPT,
                 "denial": source.REFERRAL, "certificate": source.BENEFITS}.get(kind)
        if quote is None:  # (a revocation: the provincial rules and the county's document, unquoted)
            return super().notice_basis(kind)
        return f"{super().notice_basis(kind)}：“{quote}”"

    def notice_text(self, kind: str, case) -> list[str]:
        paragraphs = super().notice_text(kind, case)
        if kind in ("certificate", "denial") and case.findings:
            results = "；".join(f"{f.position}. {f.category.label}：{f.finding.label}" for f in case.findings)
            paragraphs.insert(2, f"按认定顺序逐类审核确认的结果：{results}。")
        if kind == "certificate" and case.monthly_amount is not None and case.benefit_start is not None:
            paragraphs.insert(-1, "另按审核确认的人均月补助标准，于确认之日起3个工作日内发放一次性临时救助金。")
        return paragraphs

    # -- start-up checks --------------------------------------------------------------------------

    def validate(self) -> list[str]:
        problems = super().validate()
        expected = (Category.tekun, Category.dibao, Category.dibao_edge, Category.rigid_expense,
                    Category.low_income_other, Category.temporary_relief)
        if self.category_order != expected:
            problems.append("歙县的认定顺序须为特困人员→最低生活保障对象→低保边缘家庭→刚性支出困难家庭→其他低收入人口→临时救助")
        return problems


__all__ = ["ShexianPlugin", "ShexianLimits", "MAIN_CATEGORIES"]
