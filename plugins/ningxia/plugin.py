"""The ningxia plugin: 宁夏回族自治区, confirmation of 低保 and other assistance delegated to townships.

自治区民政厅《关于全面推行最低生活保障等社会救助审核确认权限下放乡镇（街道）的实施方案》 moves the
confirmation (审核确认) of 城乡低保, 高龄低收入老年人, 特困人员 and 低收入家庭 from the county to the
townships (street offices). It sets no time limits of its own, so the national ones apply
(《最低生活保障审核确认办法》: 30 working days, 45 at most) and a county may shorten them.

The procedure (二、（三）):

1. 受理 (township) through 宁夏政务服务系统, "一窗受理"; the village applies only on the applicant's
   commission and no village seal is ever asked for.
2. 经济状况核对 (county, on the township's submission) and 入户核查 (township) in parallel.
3. 民主评议 (township) — not held for an applicant about whom there is no dispute (the skip and its
   reason are recorded).
4. 审核确认意见 (township) and 公示 on the village board, the township board, e-screens, WeChat —
   each channel recorded; an objection sends the case back to a new investigation.
5. 审核确认 (township): approve, or deny with a 不予批准通知书. Nobody is confirmed without an
   investigation.
6. The county checks, spot-checks on site, pays (权钱分离) and may revoke a confirmation.
7. 定期复核: continue, increase or reduce, stop, or a gradual exit — each change published.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from functools import cached_property
from typing import Any, ClassVar

from marshmallow import Schema
from marshmallow import ValidationError as SchemaError

from jiuzhu.auth.roles import Role
from jiuzhu.cases.categories import Category, Channel
from jiuzhu.clock import cn_date
from jiuzhu.errors import ValidationError
from jiuzhu.plugins.baseline import BaselinePlugin, MaterialSpec
from jiuzhu.plugins.rules import DisclosureField, DisclosureRule, PaymentRule, SpotCheckRule
from jiuzhu.tenancy.models import OrgLevel
from jiuzhu.workflow import forms as base_forms
from jiuzhu.workflow.spec import Decision, Outcome, Skip, StepSpec, Workflow
from plugins.ningxia import forms, source
from plugins.ningxia.source import cite

TOWNSHIP, COUNTY = OrgLevel.township, OrgLevel.county

#: 高龄: the plan names the category but not the age; a county sets it (80 unless it says otherwise)
DEFAULT_ELDERLY_AGE = 80
#: the review's gradual exit: "按规定" — the months are the county's (6 unless set, at most 12)
MAX_GRADUAL_EXIT_MONTHS = 12
MIN_GRADUAL_EXIT_MONTHS = 6
#: labels that would make a village committee's seal or review a precondition (不得增设…附加条件)
VILLAGE_SEAL_WORDS = ("村委会", "村（居）民委员会", "居委会", "签章", "盖章", "村级审核")


def no_dispute(case, view) -> bool:
    """对没有争议的救助申请对象: the check found the household eligible and the home visit raised no doubt."""
    return (view.data("economic_check").get("result") == "pass"
            and view.data("home_investigation").get("doubt") is False)


class NingxiaPlugin(BaselinePlugin):
    key = "ningxia"
    name = "宁夏回族自治区"
    province = "宁夏回族自治区"
    source_document = f"{source.DOC}{source.TITLE}"
    source_seed = source.SEED
    #: the plan has no time limits: the national ones are the maxima
    limit_source: ClassVar[str] = f"{source.NATIONAL}（{source.TITLE}未另行规定时限）"
    settings_schema = forms.NingxiaSettings
    DECIMAL_SETTINGS: ClassVar[tuple[str, ...]] = (*BaselinePlugin.DECIMAL_SETTINGS, "elderly_standard",
                                                   "spot_check_share")

    #: 城乡最低生活保障、高龄低收入老年人、特困人员救助供养、低收入家庭认定
    categories: ClassVar[tuple[Category, ...]] = (
        Category.dibao, Category.elderly_low_income, Category.tekun, Category.low_income_other,
        Category.dibao_edge, Category.rigid_expense, Category.temporary_relief)
    category_order = categories
    #: paid monthly by the county: 低保金, 特困供养金, and the elderly allowance
    monthly_categories: ClassVar[tuple[Category, ...]] = (Category.tekun, Category.dibao,
                                                          Category.elderly_low_income)

    #: 乡镇（街道）：负责低保等社会救助资格的审核确认工作
    deciding_level: ClassVar[OrgLevel] = TOWNSHIP

    def revoking_roles(self) -> frozenset[Role]:
        """“乡镇（街道）要加强自查，尽快整改，必要时应当撤销原确认决定”: the confirming township's leader
        may revoke its own confirmation (the scoping keeps other townships' cases out of reach), as
        may the county (“民政部门要及时查实、依法纠正”)."""
        return super().revoking_roles() | {Role.township_leader}

    #: “对收入超过低保标准暂未实现稳定脱贫或就业的，按规定落实好低保渐退期政策”: 低保 only, 6 to 12 months
    #: (the rule the plan refers to), on that condition, confirmed by staff and recorded
    gradual_exit_max_months: ClassVar[int | None] = MAX_GRADUAL_EXIT_MONTHS
    gradual_exit_min_months: ClassVar[int] = MIN_GRADUAL_EXIT_MONTHS
    gradual_exit_default_months: ClassVar[int] = 6
    gradual_exit_source: ClassVar[str] = cite(source.DYNAMIC, source.GRADUAL_EXIT)
    gradual_exit_form = forms.GradualExitForm
    gradual_exit_categories: ClassVar[tuple[Category, ...]] = (Category.dibao,)
    gradual_exit_condition: ClassVar[str] = "收入超过低保标准暂未实现稳定脱贫或就业"
    gradual_exit_confirm: ClassVar[str | None] = "暂未实现稳定脱贫或就业"

    #: the county pays (权钱分离): the core's payment functions admit county staff only
    payment_rule: ClassVar[PaymentRule] = PaymentRule(source=cite(source.COUNTY_DUTIES))
    #: 入户抽查: the county visits every sampled household; the share is the county's (no number in the plan)
    #: “举报查实、问题纠正”: a report found true is corrected, and the correction recorded, before the answer
    spot_check_rule: ClassVar[SpotCheckRule] = SpotCheckRule(
        categories=(Category.dibao, Category.tekun, Category.elderly_low_income), sample_share=None,
        on_site_share=Decimal("1"), answer_real_name_reports=True, correct_substantiated_reports=True,
        source=cite(source.COUNTY_DUTIES))
    disclosure_rule: ClassVar[DisclosureRule] = DisclosureRule(
        fields=(DisclosureField.names, DisclosureField.members_count, DisclosureField.category,
                DisclosureField.monthly_amount, DisclosureField.village),
        mask_names=True, hide_minors=True, channels=source.PUBLICITY_CHANNELS, publicity_steps=("publicity",),
        source=cite(source.OPINION))

    NOTICE_TITLES: ClassVar[dict[str, str]] = {
        "missing_materials": "社会救助申请材料一次性告知书",
        "not_accepted": "社会救助申请不予受理通知书",
        "denial": "不予批准通知书",
        "certificate": "社会救助审核确认通知书",
    }
    NOTICE_CODES: ClassVar[dict[str, str]] = {"missing_materials": "告", "not_accepted": "不受",
                                              "denial": "不批", "certificate": "确认"}

    # -- settings ---------------------------------------------------------------------------------

    def defaults(self) -> dict[str, Any]:
        return {**super().defaults(), "elderly_standard": None, "elderly_min_age": DEFAULT_ELDERLY_AGE,
                "spot_check_share": None}

    def setting_bounds(self) -> dict[str, tuple[int, int, str]]:
        return {**super().setting_bounds(), "elderly_min_age": (60, 100, "高龄低收入老年人的起始年龄")}

    # -- materials and the application -------------------------------------------------------------

    def material_specs(self, channel: Channel | str | None = None) -> list[MaterialSpec]:
        """能够通过信息共享获取的不再要求申请人提供 (``platform``); the commission letter when the
        village applies; never a village committee's seal."""
        specs = [
            MaterialSpec("application_form", "社会救助申请书"),
            MaterialSpec("id_and_register", "居民身份证、户口簿", platform=True),
            MaterialSpec("authorization", "家庭经济状况核查授权书（收入、财产、支出）"),
            MaterialSpec("income_statement", "家庭收入、财产情况说明", required=False, platform=True),
            MaterialSpec("disability_certificate", "残疾人证", required=False, platform=True),
            MaterialSpec("medical_records", "疾病诊断证明、医疗费用票据（因病申请的）", required=False),
        ]
        if channel == Channel.village_proxy:
            specs.insert(1, MaterialSpec("commission", "申请人委托村（居）民委员会代为申请的委托书"))
        return specs

    def materials_for(self, case) -> list[MaterialSpec]:
        return self.material_specs(case.channel)

    @cached_property
    def application_form(self) -> type[Schema]:
        return forms.application_form(self)

    def file_application(self, session, user, household, raw: dict):
        """Validate the application form and open the case through the engine; a village's
        application records the commission it was made on."""
        from jiuzhu.workflow import engine

        try:
            data = self.application_form().load(dict(raw or {}))
        except SchemaError as exc:
            raise ValidationError(field_errors={k: [str(m) for m in (v if isinstance(v, list) else [v])]
                                                for k, v in exc.messages.items()}) from None
        provided = list(data["provided"])
        if data.get("commissioned_on") is not None and "commission" not in provided:
            provided.append("commission")
        return engine.open_case(
            session, user, household=household, categories=data["categories"], channel=data["channel"],
            applied_on=data["applied_on"], authorization_signed_on=data["authorization_signed_on"],
            commitment_signed_on=data.get("commitment_signed_on"), provided=provided,
            via_platform=data["via_platform"])

    def check_application(self, household, categories: list[str], consent: bool, on: dt.date) -> list[str]:
        """高龄低收入老年人: a co-resident member at or above the county's age."""
        if Category.elderly_low_income not in categories:
            return []
        age = self.settings_for_household(household)["elderly_min_age"]
        if not any(m.age_on(on) >= age for m in household.coresident):
            return [f"申请“高龄低收入老年人”须有共同生活的家庭成员年满 {age} 周岁（县级设置）。"]
        return []

    def settings_for_household(self, household) -> dict[str, Any]:
        return self.tenant_settings(household.tenant_id)

    # -- the workflow -----------------------------------------------------------------------------

    def build_workflow(self, *, limit: int, extended: int | None, publicity_days: int,
                       denial_days: int) -> Workflow:
        national = super().build_workflow(limit=limit, extended=extended, publicity_days=publicity_days,
                                          denial_days=denial_days)
        publicity = national.step("publicity")
        outcomes = tuple(replace(o, label="有异议，组织人员重新调查核实", form=forms.ReinvestigationForm)
                         if o.key == "objection" else o for o in publicity.outcomes)
        acceptance = national.step("acceptance")
        accept = tuple(replace(o, next=(*o.next, "needs_assessment")) if o.key == "accept" else o
                       for o in acceptance.outcomes)
        needs = StepSpec("needs_assessment", "综合评估救助需求", TOWNSHIP, outcomes=(
            Outcome("handled", "提出措施意见，由乡镇（街道）办理", form=forms.NeedsAssessmentForm),
            Outcome("referred", "提出措施意见，转请县级相关职能部门办理", next=("referral_answer",),
                    form=forms.ReferralForm),
        ), source=cite(source.NEEDS))
        answer = StepSpec("referral_answer", "转办事项答复", TOWNSHIP, outcomes=(
            Outcome("answered", "登记县级职能部门的答复", form=forms.ReferralAnswerForm),
        ), source=cite(source.NEEDS))
        national = Workflow(steps=(*national.steps, needs, answer), start=national.start, limit=national.limit)
        return (national
                .replace_step("acceptance", outcomes=accept, source=cite(source.ACCEPT, source.NO_EXTRA_SEALS))
                .replace_step("economic_check", source=cite(source.CHECK, source.COUNTY_DUTIES))
                .replace_step("home_investigation", label="入户核查", source=cite(source.TOWNSHIP_DUTIES))
                .replace_step("appraisal", skip=Skip(when=no_dispute, condition="申请对象没有争议（核对和入户核查均无疑义）"),
                              source=cite(source.NO_APPRAISAL))
                .replace_step("review_opinion", label="审核确认意见", source=cite(source.OPINION))
                .replace_step("publicity", outcomes=outcomes, form=forms.ChannelPublicityForm,
                              source=cite(source.OPINION, source.OBJECTION))
                .replace_step("denial_notice", label="出具不予批准通知书",
                              outcomes=(Outcome("issued", "出具不予批准通知书", issues="denial"),),
                              source=cite(source.DENY))
                .replace_step("certificate", label="出具审核确认通知书",
                              outcomes=(Outcome("issued", "出具审核确认通知书", issues="certificate"),)))

    def decision_step(self) -> StepSpec:
        return super().decision_step().with_changes(
            label="审核确认（乡镇）", source=cite(source.TOWNSHIP_DUTIES, source.NO_UNVERIFIED))

    def build_review_workflow(self, *, limit: int) -> Workflow:
        """定期复核: continue; increase or reduce (增发、减发); stop (停发); or a gradual exit — every
        change then published (及时予以公示)."""
        review = super().build_review_workflow(limit=limit)
        decision = review.step("review_decision")
        published = ("change_publicity",)
        outcomes = []
        for o in decision.outcomes:
            if o.key == "continue":
                outcomes.append(replace(o, label="继续保障（金额不变）"))
                outcomes.append(Outcome("adjust", "增发或减发（调整保障金额）", decision=Decision.approve,
                                        form=base_forms.ApprovalForm, requires_reason=True, next=published))
            else:
                outcomes.append(replace(o, next=published))
        review = review.replace_step("review_decision", outcomes=tuple(outcomes),
                                     source=cite(source.DYNAMIC, source.GRADUAL_EXIT))
        change = StepSpec("change_publicity", "公示停发、减发、增发结果", TOWNSHIP, outcomes=(
            Outcome("posted", "已公示"),
        ), form=forms.PublicityForm, source=cite(source.DYNAMIC))
        return Workflow(steps=(*review.steps, change), start=review.start, limit=review.limit)

    # -- guards -----------------------------------------------------------------------------------

    def check_outcome(self, case, view, spec: StepSpec, outcome: Outcome, data: dict, on: dt.date) -> list[str]:
        problems = super().check_outcome(case, view, spec, outcome, data, on)
        if outcome.decision == Decision.approve and case.review_of_id is None:
            inv = view.latest("home_investigation")
            if inv is None or inv.outcome != "done" or view.data("economic_check").get("result") is None:
                problems.append("不得将不经过调查核实的任何群体或者个人直接确认为保障对象：入户核查和经济状况核对须已完成。")
        if spec.key == "publicity" and data.get("posted_on") and data["posted_on"] > on:
            problems.append("公示张贴日期不能晚于办理日期。")
        if spec.key == "publicity" and outcome.key == "no_objection":
            problems += self._check_publicity_ran(case, view, data, on)
        if spec.key == "referral_answer":
            problems += self._check_answers(view, data)
        if spec.key == "decision" and outcome.decision in (Decision.approve, Decision.deny):
            pending = [s for s in view.open_steps if s.key in ("needs_assessment", "referral_answer")]
            if pending:
                problems.append("综合评估救助需求、提出措施意见并办理或转办答复后，才能作出审核确认决定"
                                f"（尚未办结：{'、'.join('综合评估救助需求' if s.key == 'needs_assessment' else '转办事项答复' for s in pending)}）。")
        if spec.key == "review_decision" and outcome.key in ("continue", "adjust"):
            problems += self._check_amount_change(case, outcome.key, data)
        return problems

    def _check_publicity_ran(self, case, view, data: dict, on: dt.date) -> list[str]:
        """“按规定利用村级公示栏、乡镇（街道）公示栏、电子屏、微信公众号等进行公示”: posted on each channel the
        plan names, not before the publicity step opened nor after today, and the period has run on every one
        of them before the publicity ends without objection."""
        days = self.tenant_settings(case.tenant_id)["publicity_days"]
        step = next((s for s in view.open_steps if s.key == "publicity"), None)
        problems = []
        for key, channel in forms.CHANNEL_FIELDS.items():
            posted = data.get(key)
            if posted is None:
                continue
            if step is not None and posted < step.opened_on:
                problems.append(f"{channel}的张贴日期 {posted:%Y-%m-%d} 早于公示开始日期 {step.opened_on:%Y-%m-%d}。")
            elif posted > on:
                problems.append(f"{channel}的张贴日期 {posted:%Y-%m-%d} 晚于办理日期。")
            elif posted + dt.timedelta(days=days) > on:
                problems.append(f"{channel}于 {posted:%Y-%m-%d} 张贴，公示期 {days} 天，"
                                f"{posted + dt.timedelta(days=days):%Y-%m-%d} 前不能结束公示。")
        return problems

    def _check_answers(self, view, data: dict) -> list[str]:
        """Every department the measures were referred to has answered (its answer begins with its name)."""
        referred = view.data("needs_assessment").get("departments") or []
        answered = data.get("answers") or []
        missing = [d for d in referred if not any(a.strip().startswith(d) for a in answered)]
        problems = [f"尚未登记{'、'.join(missing)}的答复。"] if missing else []
        when = view.data("needs_assessment").get("referred_on")
        if when and data.get("answered_on") and data["answered_on"].isoformat() < when:
            problems.append(f"答复日期不能早于转办日期 {when}。")
        return problems

    def _check_amount_change(self, case, key: str, data: dict) -> list[str]:
        from jiuzhu.cases.models import Case
        from jiuzhu.extensions import db

        original = db.session.get(Case, case.review_of_id) if case.review_of_id else None
        current = original.monthly_amount if original is not None else None
        amount = data.get("monthly_amount")
        changed = amount is not None and current is not None and Decimal(str(amount)) != current
        if key == "continue" and changed:
            return [f"保障金额由 {current} 元调整为 {amount} 元，请选择“增发或减发”，调整结果须公示。"]
        if key == "adjust" and not changed:
            return [f"“增发或减发”须填写与现保障金额（{current} 元）不同的新金额。"]
        return []

    # -- notices ----------------------------------------------------------------------------------

    def township_name(self, case) -> str:
        """The confirming township as the notice names it."""
        from jiuzhu.extensions import db
        from jiuzhu.tenancy.models import OrgUnit

        unit = db.session.get(OrgUnit, case.township_id) if case.township_id else None
        return f"{unit.name}人民政府" if unit is not None and not unit.name.endswith("街道") else (
            f"{unit.name}办事处" if unit is not None else "乡镇人民政府（街道办事处）")

    def notice_text(self, kind: str, case) -> list[str]:
        """The paragraphs of a notice, quoting the plan."""
        household = case.household
        head = household.head if household is not None else None
        to = f"{head.name}：" if head else "申请人："
        applied = cn_date(case.applied_on)
        categories = "、".join(Category(c).label for c in case.categories)
        township = self.township_name(case)
        basis = f"依据{source.NATIONAL}和{source.DOC}{source.TITLE}"
        if kind == "revocation":  # “必要时应当撤销原确认决定”: the township that confirmed, or the county
            return self.revocation_text(case, to, f"{basis}：“{source.SUPERVISE}”", self.APPEAL)
        if kind == "missing_materials":
            missing = "、".join(m.label for m in case.missing_materials) or "（无）"
            return [to, f"你户于{applied}提出的{categories}申请，尚缺以下材料：{missing}。",
                    "请一次性补齐上述材料；能够通过信息共享获取的材料，不再要求你户提供。",
                    f"{basis}：“{source.NO_EXTRA_SEALS}”"]
        if kind == "not_accepted":
            return [to, f"你户于{applied}提出的{categories}申请，经审查，{township}决定不予受理。",
                    f"理由：{case.decision_reason or ''}", f"{basis}办理。", self.APPEAL]
        if kind == "denial":
            return [to, f"你户于{applied}提出的{categories}申请，经家庭经济状况核对、入户核查和公示，"
                        f"{township}于{cn_date(case.decided_on)}审核确认：你户不符合条件，不予批准。",
                    f"理由：{case.decision_reason or ''}", f"{basis}：“{source.DENY}”", self.APPEAL]
        if kind == "certificate":
            amount = f"{case.monthly_amount:.2f}" if case.monthly_amount is not None else "____"
            start = case.benefit_start
            paid = (f"自{start.year}年{start.month}月起由县级民政部门按月发放。" if start else "")
            return [to, f"你户于{applied}提出的{categories}申请，经审核，{township}于{cn_date(case.decided_on)}"
                        f"确认给予救助，家庭月救助金额 {amount} 元。{paid}",
                    f"{basis}：“{source.TOWNSHIP_DUTIES}”"]
        raise KeyError(f"没有“{kind}”类通知书的文本")

    # -- start-up checks --------------------------------------------------------------------------

    def validate(self) -> list[str]:
        problems = super().validate()
        for channel in (None, Channel.village_proxy):
            seals = [m.label for m in self.material_specs(channel)
                     if m.key != "commission" and any(w in m.label for w in VILLAGE_SEAL_WORDS)]
            if seals:
                problems.append("不得增设村（居）民委员会审核签章等附加条件：" + "、".join(seals))
        if self.deciding_level != TOWNSHIP:
            problems.append("宁夏已将审核确认权限下放乡镇（街道），确认环节须由乡镇办理")
        if self.default_workflow().step("decision").level == OrgLevel.village:
            problems.append("不得将审核权限下放到村（居）民委员会")
        return problems


__all__ = ["NingxiaPlugin", "DEFAULT_ELDERLY_AGE", "MAX_GRADUAL_EXIT_MONTHS", "MIN_GRADUAL_EXIT_MONTHS", "no_dispute"]
