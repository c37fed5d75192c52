"""The jingdezhen plugin: 景德镇市 (江西省), 景民字〔2024〕40号.

The procedure follows the source's order (三、（一）1–6):

1. 受理 (township) — material review on the spot at the window; online within 1 working day.
2. 入户调查 (township) — within 3 working days of acceptance, ≥ 2 investigators, with the village
   committee's help.
3. 信息核对 (county) — within 7 working days of receiving the check request, assessed together
   with the field investigation and fed back to the township. For 人户分离 households the
   registered township first requests the check within 1 working day (a step that exists only for
   them: ``check_request``).
4. 受理公示 (township, from acceptance), 家庭经济状况评估 (the county's feedback) and 民主评议
   (township; skippable when the publicity drew no objection and nothing is in doubt); when all
   three have ended, the 初审意见 within 2 working days, and the 确认决定 (township) within 2 more.
5. Approved: amount set, 《最低生活保障证》; denied: 不予同意告知书 within 3 working days.
6. Benefits from the month of confirmation, paid by the 10th of each month.
All of it within 18 working days, counted from the application (受理 is one of the four tasks).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any, ClassVar

from jiuzhu.cases.categories import CaseKind, Category, Channel
from jiuzhu.cases.households import Health, Household, WorkAbility
from jiuzhu.clock import cn_date
from jiuzhu.plugins.baseline import BaselinePlugin
from jiuzhu.plugins.rules import (
    BenefitStart,
    DisclosureField,
    DisclosureRule,
    PaymentRule,
    SpotCheckRule,
    VisitRule,
    WarningRule,
)
from jiuzhu.tenancy.models import OrgLevel
from jiuzhu.workflow import forms as base_forms
from jiuzhu.workflow.spec import (
    Applies,
    Decision,
    Due,
    Outcome,
    OverallLimit,
    Skip,
    StepSpec,
    StepTownship,
    Unit,
    Workflow,
)
from plugins.jingdezhen import forms, source
from plugins.jingdezhen.source import cite

TOWNSHIP, COUNTY = OrgLevel.township, OrgLevel.county
#: 申请人户籍所在地乡镇（街道）: the registered township's steps (人户分离 within the county)
REGISTERED = StepTownship.registered

#: 必到必访九类人群 (三、（二）2), in the source's order and words
NINE_GROUPS: dict[str, str] = {
    "elderly_disabled_ill": "家庭成员中有年老、残疾、生活不能自理、患有重大疾病的家庭",
    "weak_work_ability": "无劳动能力或弱劳动能力家庭",
    "unstable_out_of_poverty": "收入不稳定、持续增收能力较弱、返贫风险较高的脱贫不稳定人口",
    "applied_before": "曾经申请过社会救助、暂时不符合救助条件但存在一定困难的人员或家庭",
    "hotline_petition": "通过社会救助热线等信访渠道反映救助诉求的人员或家庭",
    "disaster_epidemic": "受灾疫情影响比较严重地区的困难群众",
    "hardship_after_aid": "经救助后生活仍存在较大困难且自身发展能力不足的困难群众",
    "prisoners_families": "各类服刑期内人员的家庭、刑满释放后生活存在较大困难且自身发展能力不足的人员",
    "county_designated": "县级民政部门规定的其他重点对象",
}


@dataclass(frozen=True)
class StepLimits:
    """The step deadlines in working days: the source's maxima, or a county's shorter settings."""

    online_review: int = 1
    investigation: int = 3
    check_request: int = 1
    check: int = 7
    opinion: int = 2
    decision: int = 2

    @classmethod
    def from_settings(cls, s: dict[str, Any]) -> StepLimits:
        keys = {"online_review": "online_review_workdays", "investigation": "investigation_workdays",
                "check_request": "check_request_workdays", "check": "check_workdays",
                "opinion": "opinion_workdays", "decision": "decision_workdays"}
        given = {f: s.get(k) for f, k in keys.items() if s.get(k) is not None}
        return cls(**given)


def separated(case) -> bool:
    """人户分离: the household applied where it lives, registered elsewhere."""
    return case.household.separated


def registered_outside_county(case) -> bool:
    return bool(case.household.registered_place) and case.household.registered_unit_id is None


def appraisal_skippable(case, view) -> bool:
    """受理公示无异议, and neither the check nor the investigation raised doubt."""
    publicity = view.latest("publicity")
    return (publicity is not None and publicity.outcome == "no_objection"
            and view.data("home_investigation").get("doubt") is False
            and view.data("economic_check").get("result") == "pass")


def acceptance_due(online_days: int):
    """当场 at the window (0 working days: the day of application); otherwise ``online_days``."""
    def due(case) -> Due:
        return Due(0) if case.channel == Channel.window else Due(online_days)
    return due


def first_payment_by(decided_on: dt.date, pay_day: int = 10) -> dt.date:
    """The first pay day (the ``pay_day``-th of a month) on or after the confirmation: the benefit of
    the month of confirmation is paid then at the latest."""
    this_month = decided_on.replace(day=pay_day)
    if decided_on <= this_month:
        return this_month
    return dt.date(decided_on.year + (decided_on.month == 12), decided_on.month % 12 + 1, pay_day)


class JingdezhenPlugin(BaselinePlugin):
    key = "jingdezhen"
    name = "景德镇市"
    province = "江西省"
    source_document = ("景民字〔2024〕40号《关于全面提升社会救助服务能力的工作方案》"
                       "（seeds/jingdezhen-2024-service-capacity-plan.txt）")

    #: 在18个工作日内完成社会救助受理、调查、核对、确认工作 — no extension
    max_limit_workdays: ClassVar[int] = 18
    max_extended_workdays: ClassVar[int | None] = None
    max_denial_notice_workdays: ClassVar[int] = 3
    #: 受理公示: the source gives no length; the provincial rules' 7 days, at most 10 so the whole
    #: procedure still fits in the 18 working days
    min_publicity_days: ClassVar[int] = 7
    max_publicity_days: ClassVar[int] = 10
    limit_source: ClassVar[str] = f"{source.DOC}{source.TITLE}"
    settings_schema = forms.JingdezhenSettings

    #: 申请人户籍所在地乡镇（街道）…作出确认决定: townships confirm
    deciding_level: ClassVar[OrgLevel] = TOWNSHIP
    #: 人户分离 within the county: the registered township requests the check, gives the initial opinion
    #: and decides (with the decision's notice or certificate); the residence township investigates
    shared_townships: ClassVar[frozenset[str]] = frozenset({REGISTERED.value})

    payment_rule: ClassVar[PaymentRule] = PaymentRule(BenefitStart.same_month, pay_by_day=10,
                                                      source=cite(source.PAY))
    spot_check_rule: ClassVar[SpotCheckRule] = SpotCheckRule(
        categories=(Category.dibao,), sample_share=Decimal("0.50"), on_site_share=Decimal("0.30"), window_days=90,
        on_site_of_new_cases=True, complete_coverage=True, related_staff_all_on_site=True, answer_real_name_reports=True,
        source=cite(source.SPOT_CHECK + source.KINSHIP + source.REPORTS))
    disclosure_rule: ClassVar[DisclosureRule] = DisclosureRule(
        fields=(DisclosureField.names, DisclosureField.members_count, DisclosureField.reason,
                DisclosureField.monthly_amount, DisclosureField.village),
        mask_names=True, hide_minors=True, approved_until_stop=True, exit_months=6, both_places_when_separated=True,
        channels=("政务公开栏", "村务公开栏", "居务公开栏", "当地网络平台"), publicity_steps=("publicity",),
        categories=(Category.dibao,),
        source=cite(source.PUBLICITY_PLACES + source.PUBLICITY_BOTH + source.PUBLICITY_FIELDS
                    + source.PUBLICITY_PRIVACY + source.PUBLICITY_APPROVED + source.PUBLICITY_EXIT))
    warning_rule: ClassVar[WarningRule] = WarningRule(due=Due(20), source=cite(source.WARNING))
    household_tags: ClassVar[dict[str, str]] = NINE_GROUPS
    #: 必到必访 + 定期摸排: every household of the nine groups is visited each period the county sets
    #: (``visit_interval_days``; the source names no period — a quarter until the county sets one)
    visit_rule: ClassVar[VisitRule] = VisitRule(tags=tuple(NINE_GROUPS), interval_days=90, max_interval_days=366,
                                                source=cite(source.NINE_GROUPS + source.SURVEY))

    NOTICE_TITLES: ClassVar[dict[str, str]] = {
        "missing_materials": "社会救助申请材料一次性告知书",
        "not_accepted": "社会救助申请不予受理告知书",
        "denial": "不予同意告知书",
        "certificate": "最低生活保障证",
    }
    NOTICE_CODES: ClassVar[dict[str, str]] = {"missing_materials": "告", "not_accepted": "不受",
                                              "denial": "不同意", "certificate": "低保证"}

    # -- settings ---------------------------------------------------------------------------------

    def defaults(self) -> dict[str, Any]:
        limits = StepLimits()
        return {**super().defaults(), "extended_limit_workdays": None,
                "online_review_workdays": limits.online_review, "investigation_workdays": limits.investigation,
                "check_request_workdays": limits.check_request, "check_workdays": limits.check,
                "opinion_workdays": limits.opinion, "decision_workdays": limits.decision,
                "warning_workdays": self.warning_rule.due.days,
                "spot_check_share": self.spot_check_rule.sample_share,
                "spot_check_on_site_share": self.spot_check_rule.on_site_share,
                "visit_interval_days": self.visit_rule.interval_days}

    def setting_bounds(self) -> dict[str, tuple[int, int, str]]:
        limits = StepLimits()
        return {
            "limit_workdays": (1, self.max_limit_workdays, "办理时限"),
            "publicity_days": (self.min_publicity_days, self.max_publicity_days, "受理公示天数"),
            "denial_notice_workdays": (1, self.max_denial_notice_workdays, "不予同意告知时限"),
            "online_review_workdays": (0, limits.online_review, "网络申请材料审核时限"),
            "investigation_workdays": (1, limits.investigation, "入户调查时限"),
            "check_request_workdays": (0, limits.check_request, "户籍地乡镇申请信息核对时限"),
            "check_workdays": (1, limits.check, "信息核对时限"),
            "opinion_workdays": (1, limits.opinion, "初审意见时限"),
            "decision_workdays": (1, limits.decision, "确认决定时限"),
            "warning_workdays": (1, self.warning_rule.due.days, "预警单据处置时限"),
            "visit_interval_days": (1, self.visit_rule.max_interval_days, "必到必访人群走访周期"),
        }

    @cached_property
    def application_form(self):
        """The application schema (categories, channel, dates, the nine groups)."""
        return forms.application_form(self.categories, self.household_tags)

    # -- the workflow -----------------------------------------------------------------------------

    def workflow_for(self, case) -> Workflow:
        s = self.case_settings(case)
        if case.kind == CaseKind.review:
            return self._review_workflow(s["limit_workdays"])
        return self._jingdezhen_workflow(s["limit_workdays"], s["publicity_days"], s["denial_notice_workdays"],
                                         StepLimits.from_settings(s))

    def default_workflow(self) -> Workflow:
        s = self.defaults()
        return self._jingdezhen_workflow(s["limit_workdays"], s["publicity_days"], s["denial_notice_workdays"],
                                         StepLimits.from_settings(s))

    @lru_cache(maxsize=64)  # noqa: B019 — plugins are process-wide singletons
    def _jingdezhen_workflow(self, limit: int, publicity_days: int, denial_days: int,
                             limits: StepLimits) -> Workflow:
        return self.build_workflow(limit=limit, extended=None, publicity_days=publicity_days,
                                   denial_days=denial_days, limits=limits)

    def build_workflow(self, *, limit: int, extended: int | None, publicity_days: int, denial_days: int,
                       limits: StepLimits | None = None) -> Workflow:
        d = limits or StepLimits()
        return Workflow(
            steps=(
                StepSpec("acceptance", "受理（材料审核）", TOWNSHIP, outcomes=(
                    Outcome("accept", "受理", next=("home_investigation", "check_request", "publicity"),
                            decision=Decision.accept),
                    Outcome("refuse", "不予受理", decision=Decision.refuse_acceptance, requires_reason=True,
                            issues="not_accepted"),
                ), due=acceptance_due(d.online_review), source=cite(source.ACCEPT)),
                StepSpec("home_investigation", "入户调查", TOWNSHIP, outcomes=(
                    Outcome("done", "完成实地调查", next=("appraisal",)),
                ), due=Due(d.investigation, start="accepted"), form=forms.InvestigationForm,
                    source=cite(source.INVESTIGATE)),
                StepSpec("check_request", "户籍地乡镇申请信息核对", TOWNSHIP, outcomes=(
                    Outcome("requested", "已向户籍所在地县级民政部门申请信息核对", next=("economic_check",)),
                ), due=Due(d.check_request), form=forms.CheckRequestForm,
                    applies=Applies(separated, "申请人在户籍所在地申请，非人户分离"),
                    township=REGISTERED, source=cite(source.CHECK_REQUEST)),
                StepSpec("economic_check", "信息核对与综合评估", COUNTY, outcomes=(
                    Outcome("reported", "反馈评估结果", next=("appraisal",)),
                ), due=Due(d.check), form=forms.CheckForm, source=cite(source.CHECK)),
                StepSpec("publicity", "受理公示", TOWNSHIP, outcomes=(
                    Outcome("no_objection", "公示期满无异议", next=("appraisal",), early=False),
                    Outcome("objection", "公示期满有异议（须民主评议）", next=("appraisal",), early=False,
                            requires_reason=True),
                ), runs=Due(publicity_days, Unit.calendar), due=Due(publicity_days, Unit.calendar),
                    form=forms.PublicityForm, source=cite(source.OPINION + source.PUBLICITY_BOTH)),
                StepSpec("appraisal", "民主评议", TOWNSHIP, outcomes=(
                    Outcome("done", "完成民主评议", next=("initial_opinion",)),
                ), join=("home_investigation", "economic_check", "publicity"), form=base_forms.AppraisalForm,
                    skip=Skip(when=appraisal_skippable, condition="受理公示无异议，且信息核对和入户调查均无疑义"),
                    source=cite(source.OPINION)),
                StepSpec("initial_opinion", "初审意见", TOWNSHIP, outcomes=(
                    Outcome("propose_approve", "拟同意", next=("decision",)),
                    Outcome("propose_deny", "拟不同意", next=("decision",), requires_reason=True),
                ), due=Due(d.opinion), form=base_forms.OpinionForm, township=REGISTERED, source=cite(source.OPINION)),
                self.decision_step(d.decision),
                StepSpec("denial_notice", "出具不予同意告知书", TOWNSHIP, outcomes=(
                    Outcome("issued", "出具不予同意告知书", issues="denial"),
                ), due=Due(denial_days), form=base_forms.NoticeForm, township=REGISTERED, source=cite(source.DENY)),
                StepSpec("certificate", "发放《最低生活保障证》", TOWNSHIP, outcomes=(
                    Outcome("issued", "发放《最低生活保障证》", issues="certificate"),
                ), form=base_forms.NoticeForm, township=REGISTERED, source=cite(source.APPROVE)),
            ),
            start=("acceptance",),
            limit=OverallLimit(limit, None, source=cite(source.LIMIT), start="applied"),
        )

    def decision_step(self, days: int = 2) -> StepSpec:
        return StepSpec("decision", "确认决定", self.deciding_level, outcomes=(
            Outcome("approve", "同意给予最低生活保障", next=("certificate",), decision=Decision.approve,
                    form=base_forms.ApprovalForm),
            Outcome("deny", "不予同意", next=("denial_notice",), decision=Decision.deny, requires_reason=True,
                    form=base_forms.DenialForm),
        ), due=Due(days), township=REGISTERED, source=cite(source.OPINION + source.APPROVE))

    # -- guards -----------------------------------------------------------------------------------

    def check_outcome(self, case, view, spec: StepSpec, outcome: Outcome, data: dict, on: dt.date) -> list[str]:
        problems = []
        if spec.key == "home_investigation":
            visited = data.get("visited_on")
            if visited and case.accepted_on and visited < case.accepted_on:
                problems.append(f"入户调查日期不能早于受理日期 {case.accepted_on:%Y-%m-%d}。")
            if visited and visited > on:
                problems.append("入户调查日期不能晚于办理日期。")
        if spec.key == "check_request" and registered_outside_county(case) and not data.get("county_bureau"):
            problems.append(f"户籍在县外（{case.household.registered_place}）：请填写受理核对申请的户籍所在地县级民政部门。")
        if spec.key == "economic_check":
            if not view.closed("home_investigation"):
                problems.append("信息核对须结合实地调查情况综合评估：入户调查尚未完成，不能反馈评估结果。")
            if registered_outside_county(case) and not data.get("agency"):
                problems.append("户籍在县外：请填写出具核对结果的户籍所在地县级民政部门。")
        if spec.key == "publicity" and separated(case) and not data.get("at_registered_place"):
            problems.append("人户分离的，应当在户籍所在地和实际居住地同时公示：请确认已在户籍所在地公示。")
        return problems

    # -- money ------------------------------------------------------------------------------------

    def first_payment_by(self, case) -> dt.date | None:
        """最低生活保障金…于每月10日前发放: the latest day the first payment (which includes the month
        of confirmation) reaches the household."""
        if case.decided_on is None:
            return None
        return first_payment_by(case.decided_on, self.payment_rule.pay_by_day or 10)

    # -- the nine groups --------------------------------------------------------------------------

    def suggest_tags(self, household: Household, on: dt.date) -> list[str]:
        """Which of the nine groups the register already shows (staff confirm the rest on visits)."""
        members = household.coresident
        tags = []
        if any(m.age_on(on) >= 60 or m.disability_grade or m.health == Health.serious
               or m.work_ability == WorkAbility.none for m in members):
            tags.append("elderly_disabled_ill")
        working_age = [m for m in members if 18 <= m.age_on(on) < 60]
        if members and not any(m.work_ability == WorkAbility.full for m in working_age):
            tags.append("weak_work_ability")
        return tags

    def check_application(self, household, categories: list[str], consent: bool, on: dt.date) -> list[str]:
        unknown = [t for t in (household.tags or []) if t not in self.household_tags]
        return [f"户的人群标签无效：{'、'.join(unknown)}。"] if unknown else []

    # -- notices ----------------------------------------------------------------------------------

    APPEAL = ("如对本决定不服，可以自收到本告知书之日起六十日内依法申请行政复议，"
              "或者自收到本告知书之日起六个月内依法向人民法院提起行政诉讼。")

    def clock_paragraph(self, case) -> str:
        """The 18 working days as the applicant is told them on the one-time notice: counted from the
        application, not stopped while materials are supplied (docs/plugins/jingdezhen.md, decisions)."""
        from jiuzhu.calendar import add_workdays

        limit = self.max_limit_workdays
        if getattr(case, "tenant_id", None) is not None:
            limit = self.tenant_settings(case.tenant_id).get("limit_workdays") or limit
        due = add_workdays(case.applied_on, limit).due
        return (f"受理、调查、核对、确认工作自你户提出申请之日（{cn_date(case.applied_on)}）起 {limit} 个工作日内办结，"
                f"即不晚于{cn_date(due)}；补齐材料期间不中止计算。依据{source.DOC}：“{source.LIMIT}”")

    def notice_text(self, kind: str, case) -> list[str]:
        """The paragraphs of a notice, quoting its legal basis."""
        head = case.household.head if case.household is not None else None
        to = f"{head.name}：" if head else "申请人："
        applied = cn_date(case.applied_on)
        basis_province = f"依据{source.PROVINCIAL}和{source.DOC}{source.TITLE}"
        if kind == "revocation":
            return self.revocation_text(case, to, f"{basis_province}办理。", self.APPEAL)
        if kind == "missing_materials":
            missing = "、".join(m.label for m in case.missing_materials) or "（无）"
            return [to, f"你户于{applied}提出的社会救助申请，经材料审核，尚缺以下材料：{missing}。",
                    "请一次性补齐上述材料；能够通过部门信息共享获取的材料，不再要求你户提供。",
                    f"{basis_province}：“{source.ACCEPT}”", self.clock_paragraph(case)]
        if kind == "not_accepted":
            return [to, f"你户于{applied}提出的社会救助申请，经材料审核，决定不予受理。",
                    f"理由：{case.decision_reason or ''}", f"{basis_province}办理。", self.APPEAL]
        if kind == "denial":
            return [to, f"你户于{applied}提出的最低生活保障申请，经入户调查、信息核对、受理公示和综合评估，"
                        f"于{cn_date(case.decided_on)}作出不予同意的确认决定。",
                    f"理由：{case.decision_reason or ''}",
                    f"{basis_province}：“{source.DENY}”", self.APPEAL]
        if kind == "certificate":
            covered = getattr(case, "covered_count", None) or (len(case.household.coresident) if case.household else 0)
            amount = f"{case.monthly_amount:.2f}" if case.monthly_amount is not None else "____"
            start = case.benefit_start
            return [to, f"经审核确认，你户符合最低生活保障条件，于{cn_date(case.decided_on)}同意给予最低生活保障，"
                        f"保障人数 {covered} 人，家庭月保障金额 {amount} 元。",
                    f"最低生活保障金自{start.year}年{start.month}月起计发，于每月10日前发放到你户账户，"
                    f"首次发放不晚于{cn_date(self.first_payment_by(case))}。" if start else "最低生活保障金按月发放。",
                    f"依据{source.DOC}：“{source.APPROVE}”“{source.PAY}”"]
        raise KeyError(f"没有“{kind}”类告知书的文本")

    # -- start-up checks --------------------------------------------------------------------------

    def validate(self) -> list[str]:
        problems = super().validate()
        if set(self.household_tags) != set(NINE_GROUPS) or len(NINE_GROUPS) != 9:
            problems.append("必到必访人群须为九类")
        if {f.name for f in fields(StepLimits)} - {k.removesuffix("_workdays") for k in self.setting_bounds()}:
            problems.append("每个环节时限都须有设置上限")
        return problems


__all__ = ["JingdezhenPlugin", "NINE_GROUPS", "StepLimits", "first_payment_by"]
