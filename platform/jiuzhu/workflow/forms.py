"""Marshmallow schemas of the baseline's step forms; plugins extend or replace them.

Messages are Chinese: they reach township staff on screen and API clients in ``field_errors``.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from jiuzhu.cases.categories import Category, Finding

REQUIRED = {"required": "此项必填。", "null": "此项必填。"}
LIST = {"invalid": "须为列表。"}


def _text(**kw):
    return fields.String(error_messages=REQUIRED, **kw)


class ChineseSchema(Schema):
    class Meta:
        unknown = "exclude"


class EconomicCheckForm(ChineseSchema):
    """家庭经济状况核对: the report of the county's checking agency."""

    report_no = _text(required=True, validate=validate.Length(min=1, max=60, error="请填写核对报告编号。"))
    result = fields.String(required=True, error_messages=REQUIRED, metadata={"label": "核对结果"},
                           validate=validate.OneOf(["pass", "fail"], error="核对结果须为“符合”或“不符合”。"))
    agency = _text(load_default=None, allow_none=True)
    per_capita_income = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True,
                                       error_messages={"invalid": "人均月收入须为数字。"},
                                       validate=validate.Range(min=0, max=10_000_000,
                                                               error="人均月收入须在 0 至 10,000,000 元之间。"))
    note = _text(load_default=None, allow_none=True)


class InvestigationForm(ChineseSchema):
    """入户调查: at least two named investigators."""

    investigators = fields.List(
        fields.String(validate=validate.Length(min=1, max=50)), required=True, error_messages=REQUIRED,
        validate=validate.Length(min=2, error="入户调查须有不少于 2 名调查人员，请填写每位调查人员的姓名。"))
    visited_on = fields.Date(required=True, error_messages={**REQUIRED, "invalid": "日期格式应为 YYYY-MM-DD。"})
    findings = _text(required=True, validate=validate.Length(min=1, error="请填写调查情况。"))
    #: whether anything raised doubt (a condition for skipping the democratic appraisal)
    doubt = fields.Boolean(required=True, error_messages=REQUIRED)
    neighbour_visits = fields.Integer(load_default=0, validate=validate.Range(min=0))


class AppraisalForm(ChineseSchema):
    held_on = fields.Date(required=True, error_messages={**REQUIRED, "invalid": "日期格式应为 YYYY-MM-DD。"})
    participants = fields.Integer(required=True, validate=validate.Range(min=1, error="参加人数须大于 0。"))
    result = _text(required=True, validate=validate.Length(min=1, error="请填写评议结果。"),
                   metadata={"label": "评议结果"})


class OpinionForm(ChineseSchema):
    opinion = _text(required=True, validate=validate.Length(min=1, error="请填写审核意见。"))
    proposed_amount = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True,
                                     validate=validate.Range(min=0, error="金额不能为负。"))


class PublicityForm(ChineseSchema):
    #: where the notice was posted: village board, township board, e-screen, WeChat…
    channels = fields.List(fields.String(), load_default=list, error_messages=LIST)
    objection = _text(load_default=None, allow_none=True)


class FindingItem(ChineseSchema):
    category = fields.String(required=True, validate=validate.OneOf([c.value for c in Category]))
    finding = fields.String(required=True, validate=validate.OneOf([f.value for f in Finding]))
    reason = _text(load_default=None, allow_none=True)


class ApprovalForm(ChineseSchema):
    monthly_amount = fields.Decimal(required=True, places=2, as_string=True,
                                    error_messages={**REQUIRED, "invalid": "月保障金额须为数字。"},
                                    validate=validate.Range(min=0, min_inclusive=False,
                                                            error="月保障金额须大于 0。"))
    findings = fields.List(fields.Nested(FindingItem), load_default=list, error_messages=LIST)


class DenialForm(ChineseSchema):
    findings = fields.List(fields.Nested(FindingItem), load_default=list, error_messages=LIST)
    #: the department an applicant outside civil-affairs help is referred to
    referral = _text(load_default=None, allow_none=True)


class NoticeForm(ChineseSchema):
    delivered_on = fields.Date(load_default=None, allow_none=True)
    note = _text(load_default=None, allow_none=True)


class GradualExitForm(ChineseSchema):
    """渐退期: benefits continue N months (default the county's setting), then stop."""

    months = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"},
                            metadata={"label": "渐退期（月）"})


class MeetingForm(ChineseSchema):
    """联审联批: a joint review meeting."""

    held_on = fields.Date(required=True, error_messages={**REQUIRED, "invalid": "日期格式应为 YYYY-MM-DD。"})
    participants = fields.List(fields.String(), required=True,
                               validate=validate.Length(min=1, error="请填写参会单位或人员。"))

    @validates_schema
    def _nonempty(self, data, **kwargs):
        if not any(p.strip() for p in data.get("participants", [])):
            raise ValidationError("请填写参会单位或人员。", "participants")
