"""The national baseline: 民政部《最低生活保障审核确认办法》（民发〔2021〕57号）.

Every jurisdiction plugin extends this class and changes what its own document changes. A county
whose province has published nothing beyond the national rules can run it as it is (key
``baseline``).

The national procedure, as implemented here:

1. 受理 (township): complete materials → accept; incomplete → one written notice listing every
   missing item (一次性告知); refusal to accept needs a reason and a written notice.
2. 家庭经济状况核对 (county) and 入户调查 (township, at least 2 investigators) in parallel.
3. 民主评议 (township) — may be skipped, with a recorded reason, when the check and the
   investigation raised no doubt.
4. 审核意见 (township): propose to approve (→ publicity) or to deny (→ decision).
5. 公示 (township), 7 days; an objection returns the case to investigation and a new publicity follows.
6. 审核确认 (county): approve (monthly amount, benefits from the month after) or deny (reasons).
7. 不予确认 notice within 3 working days of the decision; 最低生活保障证 for the approved.
Overall: 30 working days from acceptance, extendable once to 45.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from jiuzhu.auth.roles import Role
from jiuzhu.cases.categories import CaseKind, Category
from jiuzhu.errors import ValidationError
from jiuzhu.plugins.base import JurisdictionPlugin
from jiuzhu.plugins.rules import (
    BenefitStart,
    DisclosureRule,
    PaymentRule,
    SpotCheckRule,
    VisitRule,
    WarningRule,
)
from jiuzhu.tenancy.models import OrgLevel
from jiuzhu.workflow import forms
from jiuzhu.workflow.spec import Decision, Due, Outcome, OverallLimit, Skip, StepSpec, Unit, Workflow

NATIONAL = "《最低生活保障审核确认办法》（民发〔2021〕57号）"


@dataclass(frozen=True)
class MaterialSpec:
    key: str
    label: str
    required: bool = True
    #: obtainable from a government platform: never asked for again when found there
    platform: bool = False


def _no_doubt(case, view) -> bool:
    """Checks and investigation raised no doubt (the condition for skipping the appraisal)."""
    inv = view.data("home_investigation")
    check = view.data("economic_check")
    return inv.get("doubt") is False and check.get("result") == "pass"


class BaselineSettings(Schema):
    """What a county admin may set. Bounds come from the plugin (``limits``); messages are Chinese."""

    class Meta:
        unknown = "raise"

    dibao_standard = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True,
                                    error_messages={"invalid": "须为数字。"},
                                    validate=validate.Range(min=0, min_inclusive=False,
                                                            error="低保标准须大于 0 元/人·月。"),
                                    metadata={"label": "城乡低保标准（元/人·月）"})
    tekun_standard = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True,
                                    error_messages={"invalid": "须为数字。"},
                                    validate=validate.Range(min=0, min_inclusive=False,
                                                            error="特困供养标准须大于 0 元/人·月。"),
                                    metadata={"label": "特困人员基本生活标准（元/人·月）"})
    limit_workdays = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"},
                                    metadata={"label": "办理时限（工作日）"})
    extended_limit_workdays = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"},
                                             metadata={"label": "延长后的办理时限（工作日）"})
    publicity_days = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"}, metadata={"label": "公示天数"})
    denial_notice_workdays = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"},
                                            metadata={"label": "不予确认告知时限（工作日）"})
    reminder_days_before = fields.List(fields.Integer(validate=validate.Range(min=0, max=30,
                                                                              error="提前天数须在 0 至 30 之间。")),
                                       load_default=None, allow_none=True,
                                       metadata={"label": "到期前提醒（提前几个工作日）"})
    overdue_repeat_workdays = fields.Integer(load_default=None, allow_none=True,
                                             validate=validate.Range(min=1, max=10,
                                                                     error="超期重复提醒间隔须在 1 至 10 个工作日之间。"),
                                             metadata={"label": "超期后每隔几个工作日重复提醒"})
    remind_on_non_workdays = fields.Boolean(load_default=None, allow_none=True,
                                            metadata={"label": "节假日也发送提醒"})
    gradual_exit_months = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"},
                                         metadata={"label": "渐退期默认月数"})

    def __init__(self, plugin: BaselinePlugin, **kwargs):
        super().__init__(**kwargs)
        self.plugin = plugin

    @validates_schema
    def _bounds(self, data, **kwargs):
        errors: dict[str, list[str]] = {}
        if data.get("gradual_exit_months") is not None and self.plugin.gradual_exit_max_months is None:
            errors["gradual_exit_months"] = ["本地规则没有渐退期，不能设置渐退期月数。"]
        for name, (low, high, what) in self.plugin.setting_bounds().items():
            value = data.get(name)
            if value is None:
                continue
            if value < low or value > high:
                errors.setdefault(name, []).append(f"{what}须在 {low} 至 {high} 之间（依据：{self.plugin.limit_source}）。")
        limit = data.get("limit_workdays") or self.plugin.defaults()["limit_workdays"]
        ext = data.get("extended_limit_workdays")
        if ext is not None and ext < limit:
            errors.setdefault("extended_limit_workdays", []).append("延长后的办理时限不能短于办理时限。")
        if errors:
            raise SchemaError(errors)


class BaselinePlugin(JurisdictionPlugin):
    key = "baseline"
    name = "全国基本规则"
    province = "全国"
    source_document = NATIONAL

    categories: ClassVar[tuple[Category, ...]] = (
        Category.tekun, Category.dibao, Category.dibao_edge, Category.rigid_expense,
        Category.low_income_other, Category.temporary_relief)
    #: the order categories are determined in (Shexian fixes it; elsewhere it is just display order)
    category_order: ClassVar[tuple[Category, ...]] = categories

    #: the legal maxima of the time limits (working days) and the minimum publicity
    max_limit_workdays: ClassVar[int] = 30
    max_extended_workdays: ClassVar[int | None] = 45
    min_publicity_days: ClassVar[int] = 7
    max_denial_notice_workdays: ClassVar[int] = 3
    limit_source: ClassVar[str] = NATIONAL

    settings_schema: ClassVar[type[Schema]] = BaselineSettings
    #: settings held as money or shares (saved as strings, converted to Decimal when read)
    DECIMAL_SETTINGS: ClassVar[tuple[str, ...]] = ("dibao_standard", "tekun_standard")

    # Declarative rules read by the core's payment, spot-check, disclosure and warning modules.
    payment_rule: ClassVar[PaymentRule] = PaymentRule(
        BenefitStart.month_after, source=f"{NATIONAL}：从作出确认同意决定之日下月起发放")
    spot_check_rule: ClassVar[SpotCheckRule | None] = None
    #: regular visits to households of must-visit groups (走访摸排), where the rules have them
    visit_rule: ClassVar[VisitRule | None] = None
    disclosure_rule: ClassVar[DisclosureRule] = DisclosureRule(source=f"{NATIONAL}：公示中应当保护个人隐私")
    warning_rule: ClassVar[WarningRule | None] = None
    #: household tags the county uses (e.g. Jingdezhen's nine must-visit groups), key → label
    household_tags: ClassVar[dict[str, str]] = {}
    #: the categories paid monthly: confirming one opens a benefit schedule in :mod:`jiuzhu.payments`
    monthly_categories: ClassVar[tuple[Category, ...]] = (Category.tekun, Category.dibao)
    #: 渐退期: the longest gradual exit a review may grant (None: the plugin's document has none), the
    #: default a county starts with, and the sentence it comes from
    gradual_exit_max_months: ClassVar[int | None] = None
    gradual_exit_min_months: ClassVar[int] = 1
    gradual_exit_default_months: ClassVar[int] = 6
    gradual_exit_source: ClassVar[str] = ""
    gradual_exit_form: ClassVar[type[Schema]] = forms.GradualExitForm
    #: the categories a gradual exit is for (the benefit schedule's category), as the rules name them
    gradual_exit_categories: ClassVar[tuple[Category, ...]] = (Category.dibao,)
    #: the rules' condition for a gradual exit, in their words (recorded on the review's decision), and the
    #: part of it staff must confirm with what they found (None: the income check is the whole condition)
    gradual_exit_condition: ClassVar[str] = "家庭人均收入超过低保标准"
    gradual_exit_confirm: ClassVar[str | None] = None

    # -- settings ---------------------------------------------------------------------------------

    def defaults(self) -> dict[str, Any]:
        return {"dibao_standard": None, "tekun_standard": None, "limit_workdays": self.max_limit_workdays,
                "extended_limit_workdays": self.max_extended_workdays, "publicity_days": self.min_publicity_days,
                "denial_notice_workdays": self.max_denial_notice_workdays, "reminder_days_before": [3, 1],
                "overdue_repeat_workdays": 2, "remind_on_non_workdays": False,
                "gradual_exit_months": self.gradual_exit_default_months if self.gradual_exit_max_months else None}

    def setting_bounds(self) -> dict[str, tuple[int, int, str]]:
        bounds = {"limit_workdays": (1, self.max_limit_workdays, "办理时限"),
                  "publicity_days": (self.min_publicity_days, 30, "公示天数"),
                  "denial_notice_workdays": (1, self.max_denial_notice_workdays, "不予确认告知时限")}
        if self.max_extended_workdays is not None:
            bounds["extended_limit_workdays"] = (1, self.max_extended_workdays, "延长后的办理时限")
        if self.gradual_exit_max_months is not None:
            bounds["gradual_exit_months"] = (self.gradual_exit_min_months, self.gradual_exit_max_months, "渐退期默认月数")
        return bounds

    def validate_settings(self, raw: dict | None) -> dict[str, Any]:
        """Validated settings (raises :class:`ValidationError` with a Chinese message per field)."""
        try:
            loaded = self.settings_schema(self).load(dict(raw or {}))
        except SchemaError as exc:
            fields_ = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in exc.messages.items()}
            raise ValidationError(field_errors=fields_) from None
        return {k: v for k, v in loaded.items() if v is not None}

    def settings(self, raw: dict | None) -> dict[str, Any]:
        """Defaults overlaid with the county's saved settings."""
        merged = self.defaults()
        merged.update({k: v for k, v in (raw or {}).items() if v is not None})
        for name in self.DECIMAL_SETTINGS:  # money and shares are saved as strings, read as Decimal
            if merged.get(name) is not None:
                merged[name] = Decimal(str(merged[name]))
        return merged

    def tenant_settings(self, tenant_id: int) -> dict[str, Any]:
        """The county's settings, merged once per transaction and scope (a worklist asks for them
        once per row); forgotten with the settings row when the transaction ends or they change."""
        from jiuzhu.extensions import db
        from jiuzhu.tenancy.context import current_scope
        from jiuzhu.tenancy.models import _SETTINGS_CACHE, Tenant

        cache = db.session.info.setdefault(_SETTINGS_CACHE, {})
        key = ("merged", self.key, current_scope(), tenant_id)
        if key not in cache:
            tenant = db.session.get(Tenant, tenant_id)
            cache[key] = self.settings(tenant.plugin_settings if tenant else None)
        return dict(cache[key])

    # -- the workflow -----------------------------------------------------------------------------

    def finding_categories(self, case) -> list[str]:
        """The categories a decision's findings table asks about, in the determination order: every
        category the county determines when the applicant consented to a classified review (一次申请、
        分类审核认定), else those applied for."""
        order = [c.value for c in self.category_order]
        if getattr(case, "consent_classification", False):
            return order
        asked = list(case.categories)
        return sorted(asked, key=lambda c: order.index(c) if c in order else len(order))

    def case_settings(self, case) -> dict[str, Any]:
        """The settings a case runs under: the county's, unless the rules give some cases their own
        (枞阳's 绿色通道: a shorter limit and earlier reminders). The workflow and the reminders read these."""
        return self.tenant_settings(case.tenant_id)

    def workflow_for(self, case) -> Workflow:
        s = self.case_settings(case)
        if case.kind == CaseKind.review:
            return self._review_workflow(s["limit_workdays"])
        return self._workflow(s["limit_workdays"], s.get("extended_limit_workdays"), s["publicity_days"],
                              s["denial_notice_workdays"])

    @lru_cache(maxsize=16)  # noqa: B019
    def _review_workflow(self, limit: int) -> Workflow:
        return self.build_review_workflow(limit=limit)

    def build_review_workflow(self, *, limit: int) -> Workflow:
        """定期复核: re-check and re-visit an approved household, then continue, adjust or stop — or,
        where the plugin's document has one, grant a gradual exit (渐退期)."""
        workflow = self._national_review_workflow(limit)
        if self.gradual_exit_max_months is None:
            return workflow
        decision = workflow.step("review_decision")
        gradual = Outcome("gradual_exit", "给予渐退期（继续发放期满后退出）", decision=Decision.approve,
                          requires_reason=True, form=self.gradual_exit_form)
        return workflow.replace_step("review_decision", outcomes=(*decision.outcomes, gradual),
                                     source=self.gradual_exit_source or decision.source)

    def _national_review_workflow(self, limit: int) -> Workflow:
        return Workflow(
            steps=(
                StepSpec("economic_check", "家庭经济状况核对", OrgLevel.county, outcomes=(
                    Outcome("reported", "出具核对报告", next=("review_decision",)),
                ), form=forms.EconomicCheckForm),
                StepSpec("home_investigation", "入户复核", OrgLevel.township, outcomes=(
                    Outcome("done", "完成复核调查", next=("review_decision",)),
                ), form=forms.InvestigationForm),
                StepSpec("review_decision", "复核决定", self.deciding_level, outcomes=(
                    Outcome("continue", "继续保障（可调整金额）", decision=Decision.approve, form=forms.ApprovalForm),
                    Outcome("stop", "停发", decision=Decision.close, requires_reason=True),
                ), join=("economic_check", "home_investigation"),
                    source=f"{NATIONAL}：定期复核，及时办理停发、减发或者增发手续"),
            ),
            start=("economic_check", "home_investigation"),
            limit=OverallLimit(limit, None),
        )

    def default_workflow(self) -> Workflow:
        s = self.defaults()
        return self._workflow(s["limit_workdays"], s.get("extended_limit_workdays"), s["publicity_days"],
                              s["denial_notice_workdays"])

    @lru_cache(maxsize=64)  # noqa: B019 — plugins are process-wide singletons
    def _workflow(self, limit: int, extended: int | None, publicity_days: int, denial_days: int) -> Workflow:
        return self.build_workflow(limit=limit, extended=extended, publicity_days=publicity_days,
                                   denial_days=denial_days)

    def build_workflow(self, *, limit: int, extended: int | None, publicity_days: int,
                       denial_days: int) -> Workflow:
        """The national steps. Subclasses call this and change what their document changes."""
        return Workflow(
            steps=(
                StepSpec("acceptance", "受理", OrgLevel.township, outcomes=(
                    Outcome("accept", "受理", next=("economic_check", "home_investigation"),
                            decision=Decision.accept),
                    Outcome("refuse", "不予受理", decision=Decision.refuse_acceptance, requires_reason=True,
                            issues="not_accepted"),
                ), source=f"{NATIONAL}：材料齐备的，予以受理；材料不齐备的，一次性告知补齐所有规定材料"),
                StepSpec("economic_check", "家庭经济状况核对", OrgLevel.county, outcomes=(
                    Outcome("reported", "出具核对报告", next=("appraisal",)),
                ), form=forms.EconomicCheckForm, source=f"{NATIONAL}：县级民政部门开展家庭经济状况信息核对"),
                StepSpec("home_investigation", "入户调查", OrgLevel.township, outcomes=(
                    Outcome("done", "完成调查", next=("appraisal",)),
                ), form=forms.InvestigationForm, source=f"{NATIONAL}：调查人员不少于 2 人"),
                StepSpec("appraisal", "民主评议", OrgLevel.township, outcomes=(
                    Outcome("done", "完成评议", next=("review_opinion",)),
                ), join=("economic_check", "home_investigation"), form=forms.AppraisalForm,
                    skip=Skip(when=_no_doubt, condition="家庭经济状况核对和入户调查均无疑义"),
                    source=f"{NATIONAL}：民主评议"),
                StepSpec("review_opinion", "审核意见", OrgLevel.township, outcomes=(
                    Outcome("propose_approve", "拟同意", next=("publicity",)),
                    Outcome("propose_deny", "拟不同意", next=("decision",), requires_reason=True),
                ), form=forms.OpinionForm, source=f"{NATIONAL}：乡镇人民政府（街道办事处）提出审核意见"),
                StepSpec("publicity", "公示", OrgLevel.township, outcomes=(
                    Outcome("no_objection", "公示期满无异议", next=("decision",), early=False),
                    Outcome("objection", "有异议，重新调查", next=("home_investigation",), loop=True,
                            requires_reason=True),
                ), runs=Due(publicity_days, Unit.calendar), due=Due(publicity_days, Unit.calendar),
                    form=forms.PublicityForm, source=f"{NATIONAL}：公示期为 7 天；有异议的，重新组织调查核实"),
                self.decision_step(),
                StepSpec("denial_notice", "不予确认告知", self.deciding_level, outcomes=(
                    Outcome("issued", "出具不予确认通知书", issues="denial"),
                ), due=Due(denial_days), form=forms.NoticeForm,
                    source=f"{NATIONAL}：不予确认的，自作出决定之日起 3 个工作日内书面告知并说明理由"),
                StepSpec("certificate", "发放证书", self.deciding_level, outcomes=(
                    Outcome("issued", "发放最低生活保障证", issues="certificate"),
                ), form=forms.NoticeForm, source=f"{NATIONAL}：确认同意的，发放最低生活保障证"),
            ),
            start=("acceptance",),
            limit=OverallLimit(limit, extended, source=f"{NATIONAL}：自受理之日起 30 个工作日内完成，"
                                                      "特殊情况可延长至 45 个工作日"),
        )

    #: who decides: the county in the national rules; delegating plugins move it to the township
    deciding_level: ClassVar[OrgLevel] = OrgLevel.county
    def revoking_roles(self) -> frozenset[Role]:
        """Who may revoke a confirmation (撤销原确认决定): the county, unless a county's rules give the
        confirming township that power too (宁夏)."""
        return frozenset({Role.county_staff, Role.county_admin})

    #: the step that files a decided case (一户一档), where the rules have one: the county's 督办看板 lists the
    #: cases still waiting for it
    archive_step: ClassVar[str | None] = None
    #: the county's acknowledgement of a township's result (备案), listed on the county's dashboard with its deadline
    filing_step: ClassVar[str | None] = None

    #: the rules have a simplified emergency path for temporary relief (急难), chosen at intake with a reason
    emergency_path: ClassVar[bool] = False

    #: the second townships a case may have (``StepTownship`` values other than ``residence``): intake
    #: asks for them (``registered``: the registered village among the county's; ``emergency``: the
    #: township where the emergency happened), and the workflow's steps declared for them belong there
    shared_townships: ClassVar[frozenset[str]] = frozenset()

    #: where the rules pay temporary relief through a step of their own (its form takes the voucher), that
    #: step's key: while it is open, the relief is paid there and not on the case page's 保障金发放
    relief_paid_at_step: ClassVar[str | None] = None

    def decision_step(self) -> StepSpec:
        return StepSpec("decision", "审核确认", self.deciding_level, outcomes=(
            Outcome("approve", "确认给予", next=("certificate",), decision=Decision.approve,
                    form=forms.ApprovalForm),
            Outcome("deny", "不予确认", next=("denial_notice",), decision=Decision.deny, requires_reason=True,
                    form=forms.DenialForm),
        ), source=f"{NATIONAL}：审核确认")

    # -- applications and materials ---------------------------------------------------------------

    def materials_for(self, case) -> list[MaterialSpec]:
        return [
            MaterialSpec("application_form", "低收入人口申请认定表（申请书）"),
            MaterialSpec("id_and_register", "居民身份证、户口簿", platform=True),
            MaterialSpec("authorization", "家庭经济状况核查授权书"),
            MaterialSpec("commitment", "承诺书"),
            MaterialSpec("income_statement", "家庭收入情况说明", required=False),
            MaterialSpec("disability_certificate", "残疾人证", required=False, platform=True),
            MaterialSpec("medical_records", "疾病诊断证明、医疗费用票据", required=False),
        ]

    def check_application(self, household, categories: list[str], consent: bool, on: dt.date) -> list[str]:
        return []

    def check_outcome(self, case, view, spec: StepSpec, outcome: Outcome, data: dict, on: dt.date) -> list[str]:
        if spec.key == "review_decision" and outcome.key == "gradual_exit":
            return self.check_gradual_exit(case, view, data, on)
        return []

    def gradual_exit_months(self, case, data: dict) -> int:
        return data.get("months") or self.tenant_settings(case.tenant_id)["gradual_exit_months"]

    def check_gradual_exit(self, case, view, data: dict, on: dt.date) -> list[str]:
        """渐退期: only when the review finds income above the local standard, for the plugin's minimum to
        maximum months, only for a household paid under the categories the rules name, and — where the
        rules attach a condition staff must confirm — with that confirmed and what was found recorded."""
        from jiuzhu.extensions import db
        from jiuzhu.payments import services as pay

        settings = self.tenant_settings(case.tenant_id)
        standard = settings.get("dibao_standard")
        if standard is None:
            return ["县级管理员尚未设置本地低保标准，无法认定家庭人均收入是否超过低保标准。"]
        problems = []
        income = self.review_income(case, view, settings, on)
        if income <= standard:
            problems.append(f"复核认定家庭人均月收入 {income} 元未超过低保标准 {standard} 元，不适用渐退期。")
        months = self.gradual_exit_months(case, data)
        low, high = self.gradual_exit_min_months, self.gradual_exit_max_months or 0
        if not low <= months <= high:
            problems.append(f"渐退期须为 {low} 至 {high} 个月（{self.gradual_exit_source}）")
        schedule = pay.schedule_of(db.session, case.review_of_id)
        if schedule is None:
            problems.append("原案件没有保障金发放计划，无法安排渐退期。")
        elif schedule.category not in self.gradual_exit_categories:
            named = "、".join(c.label for c in self.gradual_exit_categories)
            problems.append(f"渐退期只适用于{named}对象，该户按{Category(schedule.category).label}发放，"
                            f"不适用渐退期（{self.gradual_exit_source}）")
        if self.gradual_exit_confirm:
            if not data.get("condition_met"):
                problems.append(f"给予渐退期须经核实“{self.gradual_exit_confirm}”，请勾选并写明情况。")
            elif not (data.get("condition_detail") or "").strip():
                problems.append(f"请写明“{self.gradual_exit_confirm}”的具体情况。")
        return problems

    def review_income(self, case, view, settings: dict, on: dt.date) -> Decimal:
        """The per-capita monthly income the review found: the check report's, or the assessment's."""
        from jiuzhu.cases.assessment import assess

        reported = view.data("economic_check").get("per_capita_income")
        if reported not in (None, ""):
            return Decimal(str(reported))
        return assess(case.household, self, settings, on).per_capita

    def priority_reason(self, household, on: dt.date) -> str | None:
        return None

    @property
    def green_channel(self) -> bool:
        """Whether this plugin puts some cases in a green channel (it answers ``priority_reason``):
        the worklist then reads green-channel cases first, in a statement of their own."""
        return type(self).priority_reason is not BaselinePlugin.priority_reason

    def case_records(self, case, view) -> list[tuple[str, str]]:
        """What the rules require the case page to keep in sight (label, text), beyond the core's fields."""
        return []

    #: where tickets for the warnings flow (预警处置) come from, key → label
    TICKET_ORIGINS: ClassVar[dict[str, str]] = {"monitoring": "低收入人口监测预警", "hotline_12345": "“12345”热线工单"}

    def ticket_rules(self, settings: dict[str, Any]) -> dict[str, WarningRule]:
        """The tickets the county's warnings flow takes, by origin, each with its deadline: the monitoring
        platform's where the rules set one (``warning_rule``); a plugin may add others (枞阳's 12345 tickets)."""
        return {"monitoring": self.warning_rule} if self.warning_rule is not None else {}

    # -- money ------------------------------------------------------------------------------------

    def benefit_start(self, case, decided_on: dt.date) -> dt.date | None:
        """From the month after the decision (national), or the same month (``payment_rule``); only
        the monthly categories have a start month."""
        if not any(c in self.monthly_categories for c in case.categories):
            return None
        return self.first_benefit_month(decided_on)

    def first_benefit_month(self, decided_on: dt.date) -> dt.date:
        """The first day of the month a benefit confirmed on ``decided_on`` is first paid for."""
        if self.payment_rule.start == BenefitStart.same_month:
            return decided_on.replace(day=1)
        return first_of_next_month(decided_on)

    def benefit_category(self, case, data: dict) -> str:
        """The category a confirmed monthly benefit is paid under: the eligible finding, or the
        first monthly category asked for."""
        from jiuzhu.cases.categories import Finding

        for item in data.get("findings") or []:
            if item.get("finding") == Finding.eligible and item.get("category") in self.monthly_categories:
                return item["category"]
        return next((c for c in case.categories if c in self.monthly_categories), case.categories[0])

    def on_outcome(self, session, user, case, view, spec, outcome, data: dict, on: dt.date) -> None:
        """An approved monthly benefit opens a schedule; a review adjusts it, stops it, or grants a
        gradual exit."""
        from jiuzhu.payments import services as pay

        if outcome.decision is None:
            return
        if case.kind == CaseKind.application:
            if (outcome.decision == Decision.approve and case.benefit_start is not None
                    and case.monthly_amount is not None):
                pay.start_benefits(session, case, category=self.benefit_category(case, data), on=on,
                                   pay_by_day=self.payment_rule.pay_by_day,
                                   paid_through=self.payment_rule.paid_through or None)
            return
        schedule = pay.schedule_of(session, case.review_of_id) if case.review_of_id else None
        if schedule is None:
            return
        if outcome.key == "gradual_exit":
            months = self.gradual_exit_months(case, data)
            exit_on = pay.grant_gradual_exit(session, schedule, months=months,
                                             max_months=self.gradual_exit_max_months or 0, decided_on=on,
                                             reason=case.decision_reason or outcome.label,
                                             min_months=self.gradual_exit_min_months)
            step = view.latest("review_decision")
            income = self.review_income(case, view, self.tenant_settings(case.tenant_id), on)
            step.data = {**(step.data or {}), "months": months, "exit_on": exit_on.isoformat(),
                         "condition": self.gradual_exit_condition, "per_capita_income": str(income)}
        elif outcome.decision == Decision.approve:
            amount = data.get("monthly_amount")
            if amount is not None and Decimal(str(amount)) != schedule.monthly_amount:
                pay.adjust_amount(session, schedule, Decimal(str(amount)))
        elif outcome.decision == Decision.close:
            pay.stop_benefits(session, schedule, decided_on=on, reason=case.decision_reason or outcome.label)

    def excluded_income_kinds(self, settings: dict) -> set:
        return set()

    def income_deductions(self, household, settings: dict, standard: Decimal, on: dt.date) -> list:
        return []

    # -- notices ----------------------------------------------------------------------------------

    NOTICE_TITLES: ClassVar[dict[str, str]] = {
        "missing_materials": "社会救助申请材料一次性告知书",
        "not_accepted": "社会救助申请不予受理通知书",
        "denial": "不予确认通知书",
        "certificate": "最低生活保障证",
        "revocation": "撤销确认决定通知书",
    }
    NOTICE_CODES: ClassVar[dict[str, str]] = {"missing_materials": "告", "not_accepted": "不受",
                                              "denial": "不确", "certificate": "低保证", "revocation": "撤"}

    APPEAL: ClassVar[str] = ("如对本决定不服，可以自收到本通知书之日起六十日内依法申请行政复议，"
                             "或者自收到本通知书之日起六个月内依法向人民法院提起行政诉讼。")

    def notice_text(self, kind: str, case) -> list[str]:
        """The paragraphs of a notice under the national rules (plugins quote their own documents)."""
        from jiuzhu.clock import cn_date

        head = case.household.head if case.household is not None else None
        to = f"{head.name}：" if head else "申请人："
        if kind == "revocation":
            return self.revocation_text(case, to, f"依据{NATIONAL}。", self.APPEAL)
        if kind not in self.NOTICE_TITLES:
            raise KeyError(f"没有“{kind}”类通知书的文本")
        applied = cn_date(case.applied_on)
        categories = "、".join(Category(c).label for c in case.categories)
        if kind == "missing_materials":
            missing = "、".join(m.label for m in case.missing_materials) or "（无）"
            return [to, f"你户于{applied}提出的{categories}申请，尚缺以下材料：{missing}。",
                    "请一次性补齐上述材料；能够通过政务服务平台获取的材料，不再要求你户提供。", f"依据{NATIONAL}。"]
        if kind == "not_accepted":
            return [to, f"你户于{applied}提出的{categories}申请，经审查，决定不予受理。",
                    f"理由：{case.decision_reason or ''}", f"依据{NATIONAL}。", self.APPEAL]
        if kind == "denial":
            return [to, f"你户于{applied}提出的{categories}申请，经家庭经济状况核对、入户调查和审核，"
                        f"于{cn_date(case.decided_on)}决定不予确认。", f"理由：{case.decision_reason or ''}",
                    f"依据{NATIONAL}。", self.APPEAL]
        amount = f"{case.monthly_amount:.2f}" if case.monthly_amount is not None else "____"
        start = case.benefit_start
        paid = f"自{start.year}年{start.month}月起按月发放。" if start else ""
        return [to, f"经审核确认，你户符合{categories}条件，于{cn_date(case.decided_on)}确认给予救助，"
                    f"家庭月保障金额 {amount} 元。{paid}", f"依据{NATIONAL}。"]

    def revocation_text(self, case, to: str, basis: str, appeal: str) -> list[str]:
        """撤销原确认决定: the notice every plugin gives when a confirmation is revoked — what was confirmed
        and when, that it is revoked and why, the basis and the remedies (plugins pass their own basis)."""
        from jiuzhu.clock import cn_date

        categories = "、".join(Category(c).label for c in case.categories)
        confirmed = f"于{cn_date(case.decided_on)}" if case.decided_on else ""
        revoked = cn_date(case.closed_on) if case.closed_on else ""
        return [to, f"你户{confirmed}经审核确认给予的{categories}，经核查，于{revoked}决定撤销原确认决定，"
                    f"自撤销之日起停止发放。", f"理由：{case.decision_reason or ''}", basis, appeal]

    def notice_title(self, kind: str) -> str:
        return self.NOTICE_TITLES.get(kind) or BaselinePlugin.NOTICE_TITLES.get(kind, kind)

    def notice_number(self, case, kind: str, year: int, n: int) -> str:
        """e.g. 救告〔2026〕0007号 — numbered per county, per kind, per year."""
        code = self.NOTICE_CODES.get(kind) or BaselinePlugin.NOTICE_CODES.get(kind, kind)
        return f"救{code}〔{year}〕{n:04d}号"

    # -- start-up checks --------------------------------------------------------------------------

    def validate(self) -> list[str]:
        from jiuzhu.workflow.spec import validate_workflow

        problems = super().validate()
        problems += validate_workflow(self.default_workflow())
        try:
            self.validate_settings({})
        except ValidationError as exc:
            problems.append("默认设置无效：" + "；".join(exc.all_messages()))
        return problems


def first_of_next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


plugin = BaselinePlugin()

__all__ = ["BaselinePlugin", "MaterialSpec", "plugin", "first_of_next_month"]
