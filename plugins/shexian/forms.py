"""Shexian's step forms and settings (marshmallow, Chinese messages)."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from jiuzhu.plugins.baseline import BaselineSettings
from jiuzhu.workflow import forms as base
from jiuzhu.workflow.forms import REQUIRED, ChineseSchema
from plugins.anhui import MeetingFields

INT = {"invalid": "须为整数。"}
MONEY = {**REQUIRED, "invalid": "金额须为数字。"}


def _findings():
    """每一类的认定结果, in the fixed order (checked by the plugin against the application)."""
    return fields.List(fields.Nested(base.FindingItem), required=True, error_messages=REQUIRED,
                       validate=validate.Length(min=1, error="请按认定顺序逐类填写认定结果。"),
                       metadata={"label": "分类认定结果"})


def _relief_amount(required: bool):
    optional = {} if required else {"load_default": None, "allow_none": True}
    return fields.Decimal(required=required, places=2, as_string=True, error_messages=MONEY,
                          validate=validate.Range(min=0, min_inclusive=False, error="临时救助金额须大于 0。"),
                          metadata={"label": "临时救助金额（元）"}, **optional)


class MonthlyApprovalForm(MeetingFields, base.ApprovalForm):
    """确认为特困人员或最低生活保障对象: the monthly amount and how many it covers."""

    findings = _findings()
    #: 保障人数: the per-capita monthly amount (and so the one-off relief) divides by it
    covered_count = fields.Integer(load_default=None, allow_none=True, error_messages=INT,
                                   validate=validate.Range(min=1, error="保障人数须至少 1 人。"),
                                   metadata={"label": "保障人数"})


class LowIncomeApprovalForm(MeetingFields):
    """认定为低保边缘家庭、刚性支出困难家庭或其他低收入人口 (and any temporary relief)."""

    findings = _findings()
    relief_amount = _relief_amount(required=False)


class ReliefApprovalForm(MeetingFields):
    """给予临时救助 (no other category found)."""

    findings = _findings()
    relief_amount = _relief_amount(required=True)


class DenialForm(MeetingFields, base.DenialForm):
    """不予认定, with the referral to the department that fits the difficulty (recorded)."""

    findings = _findings()
    referral = fields.String(required=True, error_messages=REQUIRED,
                             validate=validate.Length(min=1, max=100, error="请填写转介的社会救助管理部门。"),
                             metadata={"label": "转介部门"})
    #: 困难类型和救助需求, the ground of the referral
    referral_need = fields.String(required=True, error_messages=REQUIRED,
                                  validate=validate.Length(min=1, max=200, error="请填写困难类型和救助需求。"),
                                  metadata={"label": "困难类型和救助需求"})


class OneOffPaidForm(ChineseSchema):
    """一次性临时救助金已发放: the payment voucher."""

    voucher_no = fields.String(required=True, error_messages=REQUIRED,
                               validate=validate.Length(min=1, max=60, error="请填写付款凭证号。"),
                               metadata={"label": "付款凭证号"})


class BigDataEntryForm(ChineseSchema):
    """录入社会救助大数据信息系统: the system's record number."""

    record_no = fields.String(required=True, error_messages=REQUIRED,
                              validate=validate.Length(min=1, max=60, error="请填写系统录入编号。"),
                              metadata={"label": "系统录入编号"})


#: how 一次性临时救助金 is reckoned from the confirmed monthly amount
RELIEF_BASIS_LABELS = {"per_capita": "人均月补助标准（一人份）", "per_person": "人均月补助标准 × 保障人数"}


class ShexianSettings(BaselineSettings):
    """The county's settings: standards, publicity, reminders, and shorter limits — never longer than
    歙民〔2024〕57号 allows."""

    initial_opinion_workdays = fields.Integer(load_default=None, allow_none=True, error_messages=INT,
                                              metadata={"label": "初核意见时限（自受理之日起，工作日）"})
    one_off_relief_workdays = fields.Integer(load_default=None, allow_none=True, error_messages=INT,
                                             metadata={"label": "一次性临时救助金发放时限（自确认之日起，工作日）"})
    big_data_entry_workdays = fields.Integer(load_default=None, allow_none=True, error_messages=INT,
                                             metadata={"label": "录入社会救助大数据信息系统时限（工作日）"})
    warning_workdays = fields.Integer(load_default=None, allow_none=True, error_messages=INT,
                                      metadata={"label": "预警信息处置时限（工作日）"})
    #: “按照该申请对象审核确认的人均月补助标准发放临时救助金”: one per-capita amount (the plugin's
    #: reading, see docs/plugins/shexian.md) or that amount for each person the confirmation covers
    one_off_relief_basis = fields.String(
        load_default=None, allow_none=True,
        validate=validate.OneOf(list(RELIEF_BASIS_LABELS), error="计算口径须为“人均月补助标准”或“人均月补助标准 × 保障人数”。"),
        metadata={"label": "一次性临时救助金的计算口径", "choices": RELIEF_BASIS_LABELS})

    @validates_schema
    def _initial_within_limit(self, data, **kwargs):
        limit = data.get("limit_workdays") or self.plugin.defaults()["limit_workdays"]
        initial = data.get("initial_opinion_workdays")
        if initial is not None and initial > limit:
            raise ValidationError("初核意见时限不能长于办理时限。", "initial_opinion_workdays")
