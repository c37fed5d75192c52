"""What Anhui's counties share: confirmation delegated to townships, the county supervising.

安徽省 delegated the confirmation (审核确认) of 低保 and 特困 (and, in Zongyang, 临时救助) to the
townships — 乡镇人民政府, 街道办事处, and the committees of industrial parks and development zones
(园区管委会, 县经开区). The county civil-affairs bureau keeps the economic check, spot checks,
payment, supervision and correction (撤销). Shexian, Zongyang and Dangtu each restate it in their own
words; what they say alike lives here, and each county's plugin subclasses :class:`AnhuiPlugin`.

Shared here:

* the township (or park) confirms; the county checks, supervises and may revoke;
* materials: what government platforms provide is never asked for (``PLATFORM_PROVIDED``); the
  applicant brings the household register and ID card and signs the check authorization;
* the joint review meeting (联审联批) as the deciding step, for counties whose document sets it up
  (``joint_review_meeting``);
* the application form, the settings' plumbing, and the notices' common wording with the provincial
  rules they cite.

This is a module, not a plugin folder: it registers no entry point and is never loaded on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import replace
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any, ClassVar

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from jiuzhu.cases.categories import CaseKind, Category, Channel
from jiuzhu.clock import china_today, cn_date
from jiuzhu.errors import ValidationError
from jiuzhu.plugins.baseline import BaselinePlugin, MaterialSpec
from jiuzhu.tenancy.models import OrgLevel
from jiuzhu.workflow import forms as base_forms
from jiuzhu.workflow.forms import REQUIRED, ChineseSchema
from jiuzhu.workflow.spec import Decision, Outcome, StepSpec, Workflow, validate_workflow

PROVINCE = "安徽省"
#: the provincial rules the county documents build on (named in Dangtu's document, 四、（二）)
PROVINCIAL_DIBAO = "《安徽省最低生活保障办法》（省政府令第268号）"
PROVINCIAL_PROCEDURE = "《安徽省最低生活保障工作操作规程》（皖民社救字〔2021〕76号）"
PROVINCIAL_TEKUN = "《安徽省特困人员认定办法》"
#: who confirms in Anhui once the power is delegated
CONFIRMING_UNIT = "乡镇人民政府（街道办事处、园区管委会）"

TOWNSHIP, COUNTY = OrgLevel.township, OrgLevel.county
DATE = {**REQUIRED, "invalid": "日期格式应为 YYYY-MM-DD。"}
CENT = Decimal("0.01")

APPEAL = ("如对本决定不服，可以自收到本通知书之日起六十日内依法申请行政复议，"
          "或者自收到本通知书之日起六个月内依法向人民法院提起行政诉讼。")


def _sentence(text: str) -> str:
    """The text as a sentence: one full stop, not a second after a quotation that ends with one."""
    return text if text.endswith(("。", "。”", "；”")) else text + "。"


def cite(document: str, *sentences: str) -> str:
    """A rule's source: the document and its sentences, quoted."""
    return f"{document}：" + "".join(f"“{s}”" for s in sentences)


def field_errors(exc: SchemaError) -> dict[str, list[str]]:
    return {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in exc.messages.items()}


# -- forms shared by the Anhui plugins -------------------------------------------------------------

class MeetingFields(ChineseSchema):
    """联审联批会议: when the joint review met and who took part — the deciding step's record."""

    meeting_held_on = fields.Date(required=True, error_messages=DATE, metadata={"label": "联审联批会议日期"})
    meeting_participants = fields.List(
        fields.String(), required=True, error_messages=REQUIRED,
        validate=validate.Length(min=1, error="请填写参加联审联批会议的单位或人员。"),
        metadata={"label": "参会单位或人员"})
    #: 会议纪要编号
    meeting_minutes_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60),
                                       metadata={"label": "会议纪要编号"})

    @validates_schema
    def _participants(self, data, **kwargs):
        if not any((p or "").strip() for p in data.get("meeting_participants") or []):
            raise SchemaError("请填写参加联审联批会议的单位或人员。", "meeting_participants")


class JointApprovalForm(MeetingFields, base_forms.ApprovalForm):
    """确认给予, decided by the joint review meeting."""


class JointDenialForm(MeetingFields, base_forms.DenialForm):
    """不予确认, decided by the joint review meeting."""


def application_form(plugin: AnhuiPlugin) -> type[Schema]:
    """The one application form of an Anhui county (categories, channel, dates, consent, materials)."""
    category_values = [c.value for c in plugin.categories]
    specs = plugin.material_specs()
    material_keys = [m.key for m in specs]
    platform_keys = [m.key for m in specs if m.platform]
    commitment_required = plugin.commitment_required

    class AnhuiApplicationForm(ChineseSchema):
        categories = fields.List(fields.String(validate=validate.OneOf(category_values, error="申请类别无效。")),
                                 required=True, error_messages=REQUIRED,
                                 validate=validate.Length(min=1, error="请至少选择一个申请类别。"),
                                 metadata={"label": "申请类别"})
        channel = fields.String(required=True, error_messages=REQUIRED, validate=validate.OneOf(
            [c.value for c in Channel], error="申请渠道须为窗口申请、网上申请或村（社区）代为申请。"),
            metadata={"label": "申请渠道"})
        applied_on = fields.Date(required=True, error_messages=DATE, metadata={"label": "申请日期"})
        #: 家庭经济状况核查授权书 signed on
        authorization_signed_on = fields.Date(required=True, error_messages=DATE,
                                              metadata={"label": "核查授权书签署日期"})
        commitment_signed_on = (fields.Date(required=True, error_messages=DATE, metadata={"label": "承诺书签署日期"})
                                if commitment_required else
                                fields.Date(load_default=None, allow_none=True, error_messages=DATE,
                                            metadata={"label": "承诺书签署日期"}))
        #: the applicant agrees that staff determine every category in the fixed order
        consent_classification = fields.Boolean(load_default=False, metadata={"label": "同意分类审核认定"})
        #: 急难: why a temporary relief takes the simplified emergency path (where the plugin has one)
        emergency_reason = fields.String(load_default=None, allow_none=True,
                                         validate=validate.Length(max=500, error="急难情形说明不能超过 500 字。"),
                                         metadata={"label": "急难情形（简化核对、评议和公示的理由）"})
        #: 急难发生地: the county's township that handles and pays the relief (where the plugin has one)
        emergency_township_id = fields.Integer(load_default=None, allow_none=True, strict=False,
                                               error_messages={"invalid": "请从本县（区）的乡镇（街道）中选择。"},
                                               metadata={"label": "急难发生地（乡镇、街道）"})
        provided = fields.List(fields.String(validate=validate.OneOf(material_keys, error="材料项目无效。")),
                               load_default=list, metadata={"label": "已提交的材料"})
        via_platform = fields.List(fields.String(validate=validate.OneOf(
            platform_keys, error="该材料不能通过政务服务平台获取。")), load_default=list,
            metadata={"label": "经政务服务平台获取的材料"})

        @validates_schema
        def _dates(self, data, **kwargs):
            today = china_today()
            errors: dict[str, list[str]] = {}
            applied = data.get("applied_on")
            if applied and applied > today:
                errors["applied_on"] = ["申请日期不能晚于今天。"]
            for name, what in (("authorization_signed_on", "授权书"), ("commitment_signed_on", "承诺书")):
                signed = data.get(name)
                if signed and signed > today:
                    errors[name] = [f"{what}签署日期不能晚于今天。"]
            if errors:
                raise SchemaError(errors)

    return AnhuiApplicationForm


# -- the base class --------------------------------------------------------------------------------

class AnhuiPlugin(BaselinePlugin):
    """The rules Anhui's counties share; each county subclasses it."""

    province = PROVINCE

    #: 审核确认权限下放: the township (street office, park committee) confirms …
    deciding_level: ClassVar[OrgLevel] = TOWNSHIP
    #: … and the county supervises: economic checks, spot checks, payment, revocation
    supervising_level: ClassVar[OrgLevel] = COUNTY
    #: who confirms, as the notices name it
    confirming_unit: ClassVar[str] = CONFIRMING_UNIT
    #: the county document's sentence delegating confirmation (each county quotes its own)
    delegation_source: ClassVar[str] = ""
    #: the county document as notices cite it, e.g. 歙民〔2024〕57号《…》
    document: ClassVar[str] = ""

    #: the deciding step is a joint review meeting (联审联批) whose date and members are recorded
    joint_review_meeting: ClassVar[bool] = False
    #: the form of the joint review's approval (a county adds what its rules require on approval)
    joint_approval_form: ClassVar[type[Schema]] = JointApprovalForm
    #: the commitment letter (承诺书) is a required material and a required date of the application
    commitment_required: ClassVar[bool] = True

    #: what government platforms provide: never on the checklist, never in a one-time notice
    #: (取消可以通过政务服务平台查询的相关证明材料)
    PLATFORM_PROVIDED: ClassVar[dict[str, str]] = {
        "disability_certificate": "残疾人证（残联信息系统）",
        "income_statement": "收入、财产证明（居民家庭经济状况核对平台）",
        "household_certificate": "户籍证明（公安部门信息共享）",
        "marriage_certificate": "婚姻状况证明（婚姻登记信息系统）",
        "social_insurance": "社会保险参保、领取证明（人社部门信息共享）",
    }
    #: workflow variants this plugin builds (all are validated at start-up)
    WORKFLOW_VARIANTS: ClassVar[tuple[str, ...]] = ("main",)

    # -- materials and the application -------------------------------------------------------

    def material_specs(self) -> list[MaterialSpec]:
        """The checklist: the application, the household register and ID card, the authorization
        (and the commitment where the county asks for it). Nothing a platform provides."""
        specs = [
            MaterialSpec("application_form", "社会救助申请书（低收入人口申请认定表）"),
            MaterialSpec("id_and_register", "户口簿和居民身份证", platform=True),
            MaterialSpec("authorization", "家庭经济状况核查授权书"),
        ]
        if self.commitment_required:
            specs.append(MaterialSpec("commitment", "承诺书"))
        specs.append(MaterialSpec("medical_records", "疾病诊断证明、医疗费用票据（因病申请的）", required=False))
        return specs

    def materials_for(self, case) -> list[MaterialSpec]:
        return self.material_specs()

    def build_application_form(self) -> type[Schema]:
        return application_form(self)

    @cached_property
    def application_form(self) -> type[Schema]:
        """The county's application form (a marshmallow schema, Chinese messages)."""
        return self.build_application_form()

    def load_application(self, raw: dict) -> dict[str, Any]:
        try:
            return self.application_form().load(dict(raw or {}))
        except SchemaError as exc:
            raise ValidationError(field_errors=field_errors(exc)) from None

    def file_application(self, session, user, household, raw: dict):
        """Validate the application form and open the case through the engine."""
        from jiuzhu.workflow import engine

        data = self.load_application(raw)
        return engine.open_case(
            session, user, household=household, categories=data["categories"], channel=data["channel"],
            applied_on=data["applied_on"], consent_classification=data["consent_classification"],
            authorization_signed_on=data["authorization_signed_on"],
            commitment_signed_on=data.get("commitment_signed_on"), provided=data["provided"],
            via_platform=data["via_platform"], emergency_reason=data.get("emergency_reason"),
            emergency_township_id=data.get("emergency_township_id"))

    # -- settings -----------------------------------------------------------------------------

    # -- the workflow -------------------------------------------------------------------------

    def step_limits(self, settings: dict[str, Any]) -> Hashable:
        """The settings the workflow depends on, as a hashable value (the cache key)."""
        return (settings["limit_workdays"], settings.get("extended_limit_workdays"), settings["publicity_days"],
                settings["denial_notice_workdays"])

    def workflow_variant(self, case) -> str:
        return "main"

    def build_variant(self, variant: str, limits) -> Workflow:
        limit, extended, publicity_days, denial_days = limits
        return self.build_workflow(limit=limit, extended=extended, publicity_days=publicity_days,
                                   denial_days=denial_days)

    @lru_cache(maxsize=64)  # noqa: B019 — plugins are process-wide singletons
    def _anhui_workflow(self, variant: str, limits) -> Workflow:
        return self.build_variant(variant, limits)

    def workflow_for(self, case) -> Workflow:
        s = self.case_settings(case)
        if case.kind == CaseKind.review:
            return self._review_workflow(s["limit_workdays"])
        return self._anhui_workflow(self.workflow_variant(case), self.step_limits(s))

    def default_workflow(self, variant: str = "main") -> Workflow:
        return self._anhui_workflow(variant, self.step_limits(self.settings({})))

    def decision_step(self) -> StepSpec:
        """The township's confirmation; a joint review meeting where the county set one up."""
        base = super().decision_step()
        if not self.joint_review_meeting:
            return base.with_changes(label="审核确认", source=self.delegation_source or base.source)
        outcomes = tuple(
            o if o.decision not in (Decision.approve, Decision.deny) else
            replace(o, form=self.joint_approval_form if o.decision == Decision.approve else JointDenialForm)
            for o in base.outcomes)
        return base.with_changes(label="联审联批（审核确认）", outcomes=outcomes,
                                 source=self.delegation_source or base.source)

    # -- guards -------------------------------------------------------------------------------

    def check_outcome(self, case, view, spec: StepSpec, outcome: Outcome, data: dict, on: dt.date) -> list[str]:
        problems = list(super().check_outcome(case, view, spec, outcome, data, on))
        held = data.get("meeting_held_on")
        if held is not None:
            if held > on:
                problems.append("联审联批会议日期不能晚于办理日期。")
            if case.accepted_on is not None and held < case.accepted_on:
                problems.append(f"联审联批会议日期不能早于受理日期 {case.accepted_on:%Y-%m-%d}。")
        return problems

    # -- notices ------------------------------------------------------------------------------

    NOTICE_TITLES: ClassVar[dict[str, str]] = {
        "missing_materials": "社会救助申请材料一次性告知书",
        "not_accepted": "社会救助申请不予受理通知书",
        "denial": "社会救助不予确认通知书",
        "certificate": "社会救助确认通知书",
    }

    def notice_basis(self, kind: str) -> str:
        """The legal basis a notice quotes (each county adds its own document)."""
        provincial = f"{PROVINCIAL_DIBAO}、{PROVINCIAL_PROCEDURE}、{PROVINCIAL_TEKUN}"
        return f"依据{provincial}及{self.document}"

    def notice_text(self, kind: str, case) -> list[str]:
        """The paragraphs of a notice, quoting its legal basis."""
        household = case.household
        head = household.head if household is not None else None
        to = f"{head.name}：" if head else "申请人："
        if kind == "revocation":
            return self.revocation_text(case, to, _sentence(self.notice_basis(kind)), APPEAL)
        if kind not in self.NOTICE_TITLES:
            raise KeyError(f"没有“{kind}”类通知书的文本")
        applied = cn_date(case.applied_on)
        categories = "、".join(Category(c).label for c in case.categories)
        basis = self.notice_basis(kind)
        if kind == "missing_materials":
            missing = "、".join(m.label for m in case.missing_materials) or "（无）"
            return [to, f"你户于{applied}提出的{categories}申请，尚缺以下材料：{missing}。",
                    "请一次性补齐上述材料。可以通过政务服务平台查询获取的材料，不再要求你户提交。",
                    _sentence(basis)]
        if kind == "not_accepted":
            return [to, f"你户于{applied}提出的{categories}申请，经审查，决定不予受理。",
                    f"理由：{case.decision_reason or ''}", _sentence(basis), APPEAL]
        if kind == "denial":
            paragraphs = [to, f"你户于{applied}提出的{categories}申请，经家庭经济状况核对和入户调查，"
                              f"{self.confirming_unit}于{cn_date(case.decided_on)}决定不予确认。",
                          f"理由：{case.decision_reason or ''}"]
            if case.referral:
                paragraphs.append(f"你户的困难情况已转介至{case.referral}，请与该部门联系。")
            return paragraphs + [_sentence(basis), APPEAL]
        amount = f"{case.monthly_amount:.2f}" if case.monthly_amount is not None else None
        start = case.benefit_start
        paragraphs = [to, f"你户于{applied}提出的{categories}申请，经审核，{self.confirming_unit}于"
                          f"{cn_date(case.decided_on)}确认给予救助。"]
        if amount and start:
            paragraphs.append(f"家庭月保障金额 {amount} 元，自{start.year}年{start.month}月起发放。")
        return paragraphs + [_sentence(basis)]

    # -- start-up checks ----------------------------------------------------------------------

    def validate(self) -> list[str]:
        problems = super().validate()
        for variant in self.WORKFLOW_VARIANTS:
            if variant == "main":
                continue
            problems += [f"（{variant}）{p}" for p in validate_workflow(self.default_workflow(variant))]
        if self.deciding_level != TOWNSHIP:
            problems.append("安徽省已将审核确认权限下放至乡镇（园区），确认环节须由乡镇办理")
        clash = {m.key for m in self.material_specs()} & set(self.PLATFORM_PROVIDED)
        if clash:
            problems.append("材料清单不得要求政务服务平台可查询的材料：" + "、".join(sorted(clash)))
        if self.province != PROVINCE:
            problems.append("安徽省的县须声明省份为安徽省")
        return problems


__all__ = ["AnhuiPlugin", "MeetingFields", "JointApprovalForm", "JointDenialForm", "application_form", "cite",
           "cn_date", "PROVINCE", "CONFIRMING_UNIT", "PROVINCIAL_DIBAO",
           "PROVINCIAL_PROCEDURE", "PROVINCIAL_TEKUN", "APPEAL", "TOWNSHIP", "COUNTY"]
