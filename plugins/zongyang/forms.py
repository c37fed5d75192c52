"""Zongyang's step forms, application form and settings (marshmallow, Chinese messages)."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from jiuzhu.plugins.baseline import BaselineSettings
from jiuzhu.workflow import forms as base
from jiuzhu.workflow.forms import REQUIRED, ChineseSchema
from plugins.anhui import DATE, JointApprovalForm, MeetingFields

INT = {"invalid": "须为整数。"}
MONEY = {**REQUIRED, "invalid": "金额须为数字。"}


def _money(label: str, **kw):
    return fields.Decimal(places=2, as_string=True, error_messages=MONEY, metadata={"label": label},
                          validate=validate.Range(min=0, min_inclusive=False, error=f"{label}须大于 0。"), **kw)


def _text(label: str, message: str, max_len: int = 200, **kw):
    return fields.String(error_messages=REQUIRED, metadata={"label": label},
                         validate=validate.Length(min=1, max=max_len, error=message), **kw)


class AdvanceReliefForm(ChineseSchema):
    """小金额先行救助: paid at once where the emergency happened; the paperwork follows."""

    amount = _money("先行救助金额", required=True)
    #: 急难发生地
    emergency_place = _text("急难发生地", "请填写急难发生地。", required=True)
    #: 急难情形
    emergency = _text("急难情形", "请简述急难情形。", 500, required=True)
    recipient = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50),
                              metadata={"label": "救助对象（可事后登记）"})
    voucher_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60),
                               metadata={"label": "付款凭证号"})


class PaperworkForm(ChineseSchema):
    """补齐手续: 登记救助对象、救助事由、救助金额，补齐经办人员签字、盖章."""

    recipient = _text("救助对象", "请登记救助对象。", 50, required=True)
    reason = _text("救助事由", "请登记救助事由。", 500, required=True)
    amount = _money("救助金额", required=True)
    handler_signatures = fields.List(fields.String(), required=True, error_messages=REQUIRED,
                                     validate=validate.Length(min=1, error="请补齐经办人员签字。"),
                                     metadata={"label": "经办人员签字"})
    sealed = fields.Boolean(required=True, error_messages=REQUIRED, metadata={"label": "已加盖公章"})

    @validates_schema
    def _complete(self, data, **kwargs):
        errors: dict[str, list[str]] = {}
        if not any((s or "").strip() for s in data.get("handler_signatures") or []):
            errors["handler_signatures"] = ["请补齐经办人员签字。"]
        if data.get("sealed") is False:
            errors["sealed"] = ["请补齐盖章手续。"]
        if errors:
            raise ValidationError(errors)


class StageItem(ChineseSchema):
    amount = _money("本次发放金额", required=True)
    planned_on = fields.Date(load_default=None, allow_none=True, error_messages=DATE,
                             metadata={"label": "计划发放日期"})


class ReliefApprovalForm(MeetingFields):
    """一次审批、分阶段救助: the total approved once, and the stages it is paid in."""

    total_amount = _money("批准的临时救助总额（含已先行救助）", required=True)
    reason = _text("救助事由", "请填写救助事由。", 500, required=True)
    stages = fields.List(fields.Nested(StageItem), required=True, error_messages=REQUIRED,
                         validate=validate.Length(min=1, max=12, error="请安排 1 至 12 次发放。"),
                         metadata={"label": "分阶段发放安排"})
    findings = fields.List(fields.Nested(base.FindingItem), load_default=list)


#: 特困人员的供养方式
SUPPORT_MODES = ("分散供养", "集中供养")


class ApprovalForm(JointApprovalForm):
    """联审联批确认给予; for a 特困 person how they are supported and — supported at home (分散供养) — the
    care agreement the township, the person and the carer signed (三方签订照料服务协议)."""

    support_mode = fields.String(load_default=None, allow_none=True,
                                 validate=validate.OneOf(SUPPORT_MODES, error="供养方式须为“分散供养”或“集中供养”。"),
                                 metadata={"label": "特困人员供养方式（分散供养/集中供养）"})
    care_provider = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50),
                                  metadata={"label": "照料服务人"})
    care_agreement_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60),
                                      metadata={"label": "照料服务协议编号"})
    care_agreement_signed_on = fields.Date(load_default=None, allow_none=True, error_messages=DATE,
                                           metadata={"label": "照料服务协议签订日期"})


class GradualExitForm(base.GradualExitForm):
    """渐退期: benefits continue N months (default the county's, at most 12), then stop."""

    #: 实施稳定脱贫的家庭: 12 months, and only without a seriously ill or severely disabled member
    stable_out_of_poverty = fields.Boolean(load_default=False, metadata={"label": "实施稳定脱贫的家庭"})


class ZongyangSettings(BaselineSettings):
    """The county's settings: standards, publicity, reminders, a shorter limit — never longer than
    the action plan's 20 working days — the default gradual exit and the advance ceiling."""

    advance_relief_ceiling = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True,
                                            error_messages={"invalid": "须为数字。"},
                                            validate=validate.Range(min=0, min_inclusive=False,
                                                                    error="小金额先行救助上限须大于 0 元。"),
                                            metadata={"label": "小金额先行救助金额上限（元）"})

    #: 绿色通道 “快速响应、即时救助”: the county's shorter limit for green-channel cases, and their earlier reminders
    green_channel_limit_workdays = fields.Integer(load_default=None, allow_none=True, error_messages=INT,
                                                  metadata={"label": "绿色通道办理时限（工作日，短于办理时限）"})
    green_channel_reminder_days_before = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=19, error="提前天数须在 1 至 19 之间。")),
        load_default=None, allow_none=True, metadata={"label": "绿色通道到期前提醒（提前几个工作日）"})
    #: “12345”政务服务热线交办工单: verified and decided within this many working days of the ticket's arrival
    hotline_ticket_workdays = fields.Integer(load_default=None, allow_none=True, error_messages=INT,
                                             metadata={"label": "“12345”热线工单处置时限（工作日）"})

    @validates_schema
    def _green_channel_is_shorter(self, data, **kwargs):
        green = data.get("green_channel_limit_workdays")
        limit = data.get("limit_workdays") or self.plugin.defaults()["limit_workdays"]
        if green is not None and green >= limit:
            raise ValidationError(f"绿色通道办理时限须短于办理时限（{limit} 个工作日）。",
                                  "green_channel_limit_workdays")
        ordinary = data.get("reminder_days_before") or self.plugin.defaults()["reminder_days_before"]
        sooner = data.get("green_channel_reminder_days_before")
        if sooner and max(sooner) <= max(ordinary or [0]):
            raise ValidationError(f"绿色通道的首次提醒须早于一般案件（提前 {max(ordinary or [0])} 个工作日）。",
                                  "green_channel_reminder_days_before")

    @validates_schema
    def _no_extension(self, data, **kwargs):
        if data.get("extended_limit_workdays") is not None:
            raise ValidationError("枞阳县将低保、特困办理时限压缩到 20 个工作日内，不设延长时限。",
                                  "extended_limit_workdays")
