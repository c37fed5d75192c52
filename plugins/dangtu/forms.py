"""Dangtu's step forms and settings (marshmallow, Chinese messages)."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import ValidationError, fields, validate, validates_schema

from jiuzhu.plugins.baseline import BaselineSettings
from jiuzhu.workflow import forms as base
from jiuzhu.workflow.forms import REQUIRED, ChineseSchema
from plugins.anhui import DATE


class EntrustedCheckForm(base.EconomicCheckForm):
    """家庭经济状况核对 through the county's entrusted agency, with the report it issued."""

    #: 县民政局委托核对机构
    agency = fields.String(required=True, error_messages=REQUIRED,
                           validate=validate.Length(min=1, max=100, error="请填写县民政局委托的核对机构。"),
                           metadata={"label": "委托核对机构"})
    report_issued_on = fields.Date(required=True, error_messages=DATE, metadata={"label": "核对报告出具日期"})


class InvestigationForm(base.InvestigationForm):
    """入户调查 with neighbour visits (注重入户调查和邻里访问) and letters where needed (信函索证)."""

    neighbour_visits = fields.Integer(required=True, error_messages={**REQUIRED, "invalid": "须为整数。"},
                                      validate=validate.Range(min=1, error="请走访邻里：邻里访问至少 1 户。"),
                                      metadata={"label": "邻里访问户数"})
    letters = fields.Integer(load_default=0, error_messages={"invalid": "须为整数。"},
                             validate=validate.Range(min=0, error="信函索证份数不能为负。"),
                             metadata={"label": "信函索证份数"})


class FilingForm(ChineseSchema):
    """备案: the township's result received by the county bureau."""

    #: 汇总上报的批次或文号
    batch_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60),
                             metadata={"label": "汇总上报批次"})
    note = fields.String(load_default=None, allow_none=True, metadata={"label": "监督检查意见"})


class ArchiveForm(ChineseSchema):
    """一户一档: entered into the province's system, exported to paper, the two alike, kept by the
    township that confirmed."""

    archive_no = fields.String(required=True, error_messages=REQUIRED,
                               validate=validate.Length(min=1, max=60, error="请填写档案号。"),
                               metadata={"label": "档案号"})
    system_entered = fields.Boolean(required=True, error_messages=REQUIRED,
                                    metadata={"label": "已录入安徽省最低生活保障信息系统"})
    paper_exported = fields.Boolean(required=True, error_messages=REQUIRED, metadata={"label": "已导出纸质档案保存"})
    consistent = fields.Boolean(required=True, error_messages=REQUIRED, metadata={"label": "电子档案与纸质档案一致"})
    #: 按照谁确认谁存档: where the confirming township keeps the paper file
    paper_location = fields.String(required=True, error_messages=REQUIRED,
                                   validate=validate.Length(min=1, max=100, error="请填写纸质档案的存放位置。"),
                                   metadata={"label": "纸质档案存放位置"})

    @validates_schema
    def _complete(self, data, **kwargs):
        messages = {"system_entered": "须先录入安徽省最低生活保障信息系统。",
                    "paper_exported": "须将纸质档案导出保存。",
                    "consistent": "电子档案与纸质档案须一致。"}
        errors = {k: [m] for k, m in messages.items() if data.get(k) is False}
        if errors:
            raise ValidationError(errors)


class DangtuSettings(BaselineSettings):
    """The county's settings: standards, publicity days, reminders, a shorter limit (never beyond the
    20 working days without the publicity period), the entrusted agency and the spot-check share."""

    entrusted_check_agency = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100),
                                           metadata={"label": "县民政局委托的核对机构"})
    spot_check_share = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True,
                                      error_messages={"invalid": "须为 0 到 1 之间的小数（如 0.3 表示 30%）。"},
                                      metadata={"label": "新审核确认对象入户抽查比例"})
    filing_workdays = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"},
                                     metadata={"label": "县民政局备案时限（自乡镇确认之日起，工作日）"})

    @validates_schema
    def _dangtu(self, data, **kwargs):
        errors: dict[str, list[str]] = {}
        if data.get("extended_limit_workdays") is not None:
            errors["extended_limit_workdays"] = ["当涂县将办理时限压缩到 20 个工作日内（不含公示期），不设延长时限。"]
        share = data.get("spot_check_share")
        if share is not None and not (Decimal("0") < share <= Decimal("1")):
            errors["spot_check_share"] = ["抽查比例须大于 0、不超过 100%。"]
        if errors:
            raise ValidationError(errors)
