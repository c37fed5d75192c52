"""The zongyang plugin: 枞阳县 (安徽省), 《枞阳县社会救助工作便民惠民优化服务行动方案》 (2021).

* 低保、特困: confirmed by the township (or the county development zone, 县经开区) at its joint
  review meeting (联审联批), within 20 working days; no democratic appraisal when the check and the
  investigation raised no doubt; nothing asked that a government platform provides.
* Income: 30% of the local 低保 standard deducted for each working member's necessary costs; the
  residents' basic pension is not income.
* Review: income above the standard may earn a gradual exit (渐退期) — benefits continue 6 months by
  default, at most 12; stable out-of-poverty households without a seriously ill or severely disabled
  member leave after 12.
* 临时救助 (a case for temporary relief alone): applied for and paid where the emergency happened, no
  household-registration limit; approved once, paid in stages. Only a 急难 case — staff record why at
  intake (``Case.emergency_reason``) — runs the simplified ``emergency`` workflow: a small amount paid
  first (up to the county's ceiling), the person, reason, amount, signatures and seal registered
  afterwards, the check, appraisal and publicity simplified away. Any other takes the ordinary
  ``relief`` procedure (check, investigation, appraisal unless without doubt, publicity).
* Green channel: households with someone aged 60 or over or severely disabled are marked and put
  first (``priority_reason``); households from a 12345 hotline ticket or found by grid workers are
  tagged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from jiuzhu.cases.assessment import Line
from jiuzhu.cases.categories import CaseKind, Category
from jiuzhu.cases.households import Health, IncomeKind
from jiuzhu.plugins.rules import WarningRule
from jiuzhu.workflow import forms as base_forms
from jiuzhu.workflow.spec import Decision, Due, Outcome, OverallLimit, Skip, StepSpec, StepTownship, Workflow
from plugins.anhui import TOWNSHIP, AnhuiPlugin, JointDenialForm, cite
from plugins.zongyang import forms, source

SOURCE = source.DOC
D = source.DOCUMENT
#: “为60周岁以上的老年人、重度残疾人等困难群体…开通绿色通道”
GREEN_CHANNEL_AGE = 60
#: “可给予6个月的渐退期，最多不超过12个月”
MAX_GRADUAL_EXIT_MONTHS = 12
#: “做好“12345”政务服务热线交办社会救助热线工单处置”: the plan gives no number; 5 working days unless
#: the county sets another (1 to the plan's 20)
DEFAULT_HOTLINE_WORKDAYS = 5


@dataclass(frozen=True)
class ZongyangLimits:
    limit: int = 20
    publicity_days: int = 7
    denial_days: int = 3


class ZongyangPlugin(AnhuiPlugin):
    key = "zongyang"
    name = "枞阳县"
    source_document = f"{SOURCE}（2021年9月18日）"
    source_seed = source.SEED
    document = D
    confirming_unit: ClassVar[str] = "乡镇人民政府（县经开区）"

    #: 将低保、特困办理时限压缩到20个工作日内 — no extension
    max_limit_workdays: ClassVar[int] = 20
    max_extended_workdays: ClassVar[int | None] = None
    limit_source: ClassVar[str] = D
    settings_schema = forms.ZongyangSettings
    #: “对农村低保对象…对家庭人均收入超过我市低保标准的，可给予6个月的渐退期，最多不超过12个月”: 低保 only,
    #: 6 to 12 months, on that condition (checked against the review's income and recorded)
    gradual_exit_max_months: ClassVar[int | None] = MAX_GRADUAL_EXIT_MONTHS
    gradual_exit_min_months: ClassVar[int] = 6
    gradual_exit_default_months: ClassVar[int] = 6
    gradual_exit_categories: ClassVar[tuple[Category, ...]] = (Category.dibao,)
    gradual_exit_condition: ClassVar[str] = "家庭人均收入超过我市低保标准"
    gradual_exit_form = forms.GradualExitForm
    gradual_exit_source: ClassVar[str] = cite(D, source.DYNAMIC, source.GRADUAL_EXIT, source.STABLE_EXIT)
    DECIMAL_SETTINGS: ClassVar[tuple[str, ...]] = (*AnhuiPlugin.DECIMAL_SETTINGS, "advance_relief_ceiling")
    WORKFLOW_VARIANTS: ClassVar[tuple[str, ...]] = ("main", "relief")

    joint_review_meeting: ClassVar[bool] = True
    joint_approval_form = forms.ApprovalForm
    delegation_source: ClassVar[str] = cite(D, source.DELEGATION)

    #: 12345 hotline tickets and the grid workers' visits bring households in
    household_tags: ClassVar[dict[str, str]] = {
        "hotline_12345": "“12345”政务服务热线交办工单",
        "grid_found": "网格员走访主动发现",
    }

    #: "对参加劳动就业、外出务工等必需支出，在核算其家庭收入时，按当地低保标准的30%扣减。"
    work_cost_share = Decimal("0.30")

    # -- settings ---------------------------------------------------------------------------------

    def defaults(self) -> dict[str, Any]:
        return {**super().defaults(), "extended_limit_workdays": None, "advance_relief_ceiling": None,
                "green_channel_limit_workdays": None, "green_channel_reminder_days_before": [5, 3, 1],
                "hotline_ticket_workdays": DEFAULT_HOTLINE_WORKDAYS}

    def setting_bounds(self) -> dict[str, tuple[int, int, str]]:
        return {**super().setting_bounds(),
                "green_channel_limit_workdays": (1, self.max_limit_workdays - 1, "绿色通道办理时限"),
                "hotline_ticket_workdays": (1, self.max_limit_workdays, "“12345”热线工单处置时限")}

    def case_settings(self, case) -> dict[str, Any]:
        """绿色通道 “快速响应、即时救助”: a green-channel application runs under the county's shorter limit
        (when it set one) and is reminded of its deadlines sooner."""
        s = super().case_settings(case)
        if case.kind == CaseKind.application and getattr(case, "priority", False):
            if s.get("green_channel_limit_workdays"):
                s["limit_workdays"] = min(s["limit_workdays"], s["green_channel_limit_workdays"])
            s["reminder_days_before"] = sorted({*(s.get("reminder_days_before") or []),
                                                *(s.get("green_channel_reminder_days_before") or [])}, reverse=True)
        return s

    def ticket_rules(self, settings: dict[str, Any]) -> dict[str, WarningRule]:
        """“12345” hotline tickets come into the warnings flow (入户核查, 确认决定, overdue to the county)
        with the county's deadline; the plan sets none for the monitoring platform's warnings."""
        return {"hotline_12345": WarningRule(due=Due(settings["hotline_ticket_workdays"]),
                                             source=cite(D, source.HOTLINE))}

    def step_limits(self, s: dict[str, Any]) -> ZongyangLimits:
        return ZongyangLimits(limit=s["limit_workdays"], publicity_days=s["publicity_days"],
                              denial_days=s["denial_notice_workdays"])

    # -- income -----------------------------------------------------------------------------------

    def excluded_income_kinds(self, settings: dict) -> set:
        """"城乡及居民基本养老保险基础养老金不计收入。" """
        return {IncomeKind.basic_pension}

    def income_deductions(self, household, settings: dict, standard: Decimal, on) -> list[Line]:
        amount = (standard * self.work_cost_share).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return [Line(f"{m.name}务工必要支出（按低保标准的 30% 扣减）", amount)
                for m in household.coresident if m.working]

    # -- applications -----------------------------------------------------------------------------

    def priority_reason(self, household, on: dt.date) -> str | None:
        """绿色通道: someone aged 60 or over, or severely disabled (grade 1 or 2)."""
        reasons = []
        for m in household.coresident:
            if m.age_on(on) >= GREEN_CHANNEL_AGE:
                reasons.append(f"{m.name}（{m.age_on(on)}周岁）为60周岁以上老年人")
            if m.severely_disabled:
                reasons.append(f"{m.name}为重度残疾人（{'一二'[m.disability_grade - 1]}级）")
        return ("绿色通道：" + "；".join(reasons))[:200] if reasons else None

    def check_application(self, household, categories: list[str], consent: bool, on: dt.date) -> list[str]:
        """No household-registration limit (临时救助 where the emergency happened, 低保 where a
        residence-permit holder lives); only the household's tags are checked."""
        unknown = [t for t in (household.tags or []) if t not in self.household_tags]
        return [f"户的来源标签无效：{'、'.join(unknown)}。"] if unknown else []

    # -- the workflows ----------------------------------------------------------------------------

    #: “强化急难救助功能，可以简化申请人家庭经济状况核对、民主评议和公示等环节”: an emergency path exists
    emergency_path: ClassVar[bool] = True
    #: “由急难发生地审核并发放临时救助金”: temporary relief may be handled by the emergency's township
    shared_townships: ClassVar[frozenset[str]] = frozenset({"emergency"})

    def workflow_variant(self, case) -> str:
        """Temporary relief alone: the simplified emergency path when staff recorded why it is 急难 (at
        intake), else the ordinary relief procedure (check, investigation, appraisal, publicity)."""
        if list(case.categories) != [Category.temporary_relief.value]:
            return "main"
        return "emergency" if getattr(case, "emergency_reason", None) else "relief"

    def build_variant(self, variant: str, d: ZongyangLimits) -> Workflow:
        base = self.build_workflow(limit=d.limit, extended=None, publicity_days=d.publicity_days,
                                   denial_days=d.denial_days)
        limit = OverallLimit(d.limit, None, source=cite(D, source.LIMIT))
        if variant == "main":
            steps = tuple(
                s.with_changes(source=cite(D, source.NO_APPRAISAL)) if s.key == "appraisal" else
                s.with_changes(source=cite(D, source.LIMIT)) if s.key == "acceptance" else s
                for s in base.steps)
            return Workflow(steps=steps, start=base.start, limit=limit)
        if variant == "relief":
            return self._at_emergency_place(self._ordinary_relief(base, limit))
        return self._at_emergency_place(self._emergency_relief(base, limit))

    @staticmethod
    def _at_emergency_place(workflow: Workflow) -> Workflow:
        """“由急难发生地审核并发放临时救助金”: where the emergency happened in another township of the
        county (chosen at intake), that township handles and pays — every township step of temporary
        relief is its own; the household's township sees the case."""
        return replace(workflow, steps=tuple(
            s.with_changes(township=StepTownship.emergency) if s.level == TOWNSHIP else s for s in workflow.steps))

    def _emergency_relief(self, base: Workflow, limit: OverallLimit) -> Workflow:
        acceptance = base.step("acceptance")
        steps = (
            acceptance.with_changes(
                label="受理（临时救助）", source=cite(D, source.RELIEF_DELEGATED, source.RELIEF_PLACE),
                outcomes=(replace(acceptance.outcome("accept"), next=("home_investigation",)),
                          acceptance.outcome("refuse"))),
            StepSpec("advance_relief", "小金额先行救助", TOWNSHIP, outcomes=(
                Outcome("paid", "先行发放（事后补齐手续）", next=("advance_paperwork",), form=forms.AdvanceReliefForm),
            ), skip=Skip(condition="非急难情形，无需先行救助", then=()), source=cite(D, source.RELIEF_ADVANCE)),
            StepSpec("advance_paperwork", "补齐先行救助手续", TOWNSHIP, outcomes=(
                Outcome("completed", "已登记救助对象、事由、金额，补齐签字、盖章", form=forms.PaperworkForm),
            ), source=cite(D, source.RELIEF_ADVANCE)),
            StepSpec("home_investigation", "核实急难情况", TOWNSHIP, outcomes=(
                Outcome("done", "完成核实", next=("relief_decision",)),
            ), form=base_forms.InvestigationForm, source=cite(D, source.RELIEF_ADVANCE)),
            self._relief_decision(),
            base.step("denial_notice"),
        )
        return Workflow(steps=steps, start=("acceptance", "advance_relief"), limit=limit)

    def _relief_decision(self) -> StepSpec:
        return StepSpec("relief_decision", "临时救助审核确认（联审联批）", self.deciding_level, outcomes=(
            Outcome("approve", "给予临时救助（一次审批、分阶段救助）", decision=Decision.approve,
                    form=forms.ReliefApprovalForm),
            Outcome("deny", "不予救助", next=("denial_notice",), decision=Decision.deny, requires_reason=True,
                    form=JointDenialForm),
        ), source=cite(D, source.DELEGATION, source.RELIEF_STAGED))

    def _ordinary_relief(self, base: Workflow, limit: OverallLimit) -> Workflow:
        """Temporary relief that is not 急难: the ordinary procedure — the household's economic check,
        the home investigation, the appraisal (skipped without doubt), the opinion and the publicity —
        then the relief decision (once, paid in stages); no certificate."""
        def to_decision(step: StepSpec) -> StepSpec:
            return step.with_changes(outcomes=tuple(
                replace(o, next=tuple("relief_decision" if n == "decision" else n for n in o.next))
                for o in step.outcomes))

        keep = ("acceptance", "economic_check", "home_investigation", "appraisal", "review_opinion", "publicity")
        steps = tuple(to_decision(base.step(k)) for k in keep) + (self._relief_decision(),
                                                                   base.step("denial_notice"))
        return Workflow(steps=steps, start=base.start, limit=limit)

    # -- guards -----------------------------------------------------------------------------------

    def _advances(self, session, case):
        from jiuzhu.payments import services as pay
        from jiuzhu.payments.models import ReliefKind

        return [g for g in pay.relief_grants(session, case.id) if g.kind == ReliefKind.advance]

    def check_outcome(self, case, view, spec: StepSpec, outcome: Outcome, data: dict, on: dt.date) -> list[str]:
        from jiuzhu.extensions import db

        problems = super().check_outcome(case, view, spec, outcome, data, on)
        if spec.key == "advance_relief":
            ceiling = self.tenant_settings(case.tenant_id).get("advance_relief_ceiling")
            if ceiling is None:
                problems.append("县级民政部门尚未设定小金额先行救助的金额上限，不能先行救助。")
            elif data["amount"] > ceiling:
                problems.append(f"先行救助金额 {data['amount']} 元超过县级设定的上限 {ceiling} 元，请按临时救助程序审批。")
        if spec.key == "advance_paperwork":
            pending = [g for g in self._advances(db.session, case) if g.paperwork_pending]
            if pending and data["amount"] != pending[0].total_amount:
                problems.append(f"登记的救助金额 {data['amount']} 元与先行发放的 {pending[0].total_amount} 元不一致。")
        if spec.key == "decision" and outcome.decision == Decision.approve:
            problems += self._check_care_agreement(case, data, on)
        if spec.key == "relief_decision" and outcome.key == "approve":
            advances = self._advances(db.session, case)
            if any(g.paperwork_pending for g in advances):
                problems.append("先行救助的登记和签字、盖章手续尚未补齐，不能审批。")
            advanced = sum((g.total_amount for g in advances), Decimal("0"))
            staged = sum((s["amount"] for s in data["stages"]), Decimal("0"))
            if advanced + staged != data["total_amount"]:
                problems.append(f"各次发放金额合计（{staged} 元）加已先行救助的 {advanced} 元，须等于批准的救助总额 "
                                f"{data['total_amount']} 元。")
        return problems

    def _check_care_agreement(self, case, data: dict, on: dt.date) -> list[str]:
        """“全面落实乡镇人民政府（县经开区）与分散供养特困人员、照料服务人三方签订照料服务协议”: a 特困 person is
        confirmed with the way they are supported; supported at home, only with the signed care agreement."""
        if self.benefit_category(case, data) != Category.tekun.value:
            return []
        mode = data.get("support_mode")
        if mode is None:
            return ["确认特困人员须登记供养方式（分散供养或集中供养）。"]
        if mode != "分散供养":
            return []
        missing = [label for key, label in (("care_provider", "照料服务人"), ("care_agreement_no", "协议编号"),
                                            ("care_agreement_signed_on", "签订日期"))
                   if not (str(data.get(key) or "")).strip()]
        if missing:
            return [f"分散供养特困人员须由乡镇人民政府（县经开区）与本人、照料服务人三方签订照料服务协议，"
                    f"请登记协议的{'、'.join(missing)}。"]
        if data["care_agreement_signed_on"] > on:
            return ["照料服务协议签订日期不能晚于办理日期。"]
        return []

    def case_records(self, case, view) -> list[tuple[str, str]]:
        """The care agreement of a person supported at home, kept in sight on the case page."""
        data = view.data("decision")
        if data.get("support_mode") != "分散供养":
            return []
        head = case.household.head if case.household is not None else None
        person = head.name if head is not None else "特困人员"
        return [("三方照料服务协议", f"{self.confirming_unit}、{person}、照料服务人{data.get('care_provider')}于 "
                                     f"{data.get('care_agreement_signed_on')} 签订，协议编号 {data.get('care_agreement_no')}")]

    def check_gradual_exit(self, case, view, data: dict, on: dt.date) -> list[str]:
        """A stable out-of-poverty household gets the 12 months, and only without a seriously ill or
        severely disabled member."""
        problems = super().check_gradual_exit(case, view, data, on)
        if data.get("stable_out_of_poverty"):
            if self.gradual_exit_months(case, data) != MAX_GRADUAL_EXIT_MONTHS:
                problems.append("实施稳定脱贫的家庭，渐退期为 12 个月。")
            ill = [m.name for m in case.household.coresident if m.health == Health.serious or m.severely_disabled]
            if ill:
                problems.append(f"家庭有重病、重残对象（{'、'.join(ill)}），不按稳定脱贫家庭退出低保范围。")
        return problems

    # -- what follows an outcome ------------------------------------------------------------------

    def on_outcome(self, session, user, case, view, spec, outcome, data: dict, on: dt.date) -> None:
        from jiuzhu.payments import services as pay
        from jiuzhu.payments.models import ReliefKind

        super().on_outcome(session, user, case, view, spec, outcome, data, on)
        settings = self.tenant_settings(case.tenant_id)
        if spec.key == "advance_relief":
            pay.pay_advance(session, user, case, amount=data["amount"], ceiling=settings.get("advance_relief_ceiling"),
                            on=on, recipient=data.get("recipient"), reason=data["emergency"],
                            emergency_place=data["emergency_place"], voucher_no=data.get("voucher_no"))
        elif spec.key == "advance_paperwork":
            grant = next(g for g in self._advances(session, case) if g.paperwork_pending)
            pay.complete_paperwork(session, user, grant.id, recipient=data["recipient"], reason=data["reason"],
                                   amount=data["amount"], signatures=data["handler_signatures"],
                                   sealed=data["sealed"], on=on)
        elif spec.key == "relief_decision" and outcome.key == "approve":
            advanced = sum((g.total_amount for g in self._advances(session, case)), Decimal("0"))
            stages = [(s["amount"], s.get("planned_on")) for s in data["stages"]]
            pay.grant_relief(session, case, kind=ReliefKind.staged if len(stages) > 1 else ReliefKind.one_off,
                             total=data["total_amount"], stages=stages, approved_on=on, reason=data["reason"],
                             counted_advance=advanced, user=user)

    # -- notices ----------------------------------------------------------------------------------

    def notice_basis(self, kind: str) -> str:
        quote = {"missing_materials": source.LIMIT, "not_accepted": source.DELEGATION,
                 "denial": source.DELEGATION, "certificate": source.DELEGATION}.get(kind)
        if quote is None:  # (a revocation: the provincial rules and the county's document, unquoted)
            return super().notice_basis(kind)
        return f"{super().notice_basis(kind)}：“{quote}”"


__all__ = ["ZongyangPlugin", "ZongyangLimits", "GREEN_CHANNEL_AGE", "MAX_GRADUAL_EXIT_MONTHS"]
