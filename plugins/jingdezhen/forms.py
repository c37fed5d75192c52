"""Jingdezhen's step forms, application form and settings (marshmallow, Chinese messages)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from jiuzhu.cases.categories import Channel
from jiuzhu.clock import china_today
from jiuzhu.plugins.baseline import BaselineSettings
from jiuzhu.workflow import forms as base
from jiuzhu.workflow.forms import REQUIRED, ChineseSchema

DATE = {**REQUIRED, "invalid": "日期格式应为 YYYY-MM-DD。"}

#: 通过入户调查、邻里访问、信函索证和其他符合法律规定的调查方式
INVESTIGATION_METHODS = ("入户调查", "邻里访问", "信函索证", "其他符合法律规定的调查方式")


class InvestigationForm(base.InvestigationForm):
    """入户调查: at least two named investigators, with the village committee's help, by the source's methods."""

    methods = fields.List(fields.String(validate=validate.OneOf(
        INVESTIGATION_METHODS, error="调查方式须为：" + "、".join(INVESTIGATION_METHODS) + "。")),
        required=True, error_messages=REQUIRED)
    #: 在村（居）民委员会的协助下: who of the village (residents') committee assisted
    village_assistance = fields.String(required=True, error_messages=REQUIRED,
                                       validate=validate.Length(min=1, max=100,
                                                                error="请填写协助调查的村（居）民委员会人员。"))

    @validates_schema
    def _home_visit(self, data, **kwargs):
        if "入户调查" not in (data.get("methods") or []):
            raise ValidationError("实地调查须包括入户调查。", "methods")


class CheckRequestForm(ChineseSchema):
    """户籍地乡镇申请信息核对 (人户分离): who at the registered township asked, and to which bureau."""

    #: the registered township's handler who filed the request
    requested_by = fields.String(required=True, error_messages=REQUIRED,
                                 validate=validate.Length(min=1, max=50, error="请填写户籍所在地乡镇（街道）经办人。"))
    #: 户籍所在地县级民政部门 — required when the household is registered outside this county
    county_bureau = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    request_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))


class CheckForm(base.EconomicCheckForm):
    """信息核对 with the county's overall assessment (综合评估) fed back to the township."""

    assessment = fields.String(required=True, error_messages=REQUIRED,
                               validate=validate.Length(min=1, error="请填写结合实地调查情况的综合评估意见。"))


class PublicityForm(base.PublicityForm):
    """受理公示: where it was posted; for 人户分离, also at the registered residence."""

    channels = fields.List(fields.String(validate=validate.Length(min=1)), required=True,
                           error_messages=REQUIRED,
                           validate=validate.Length(min=1, error="请填写公示场所（政务、村务、居务公开栏或当地网络平台）。"))
    #: posted at the registered residence too (户籍所在地和实际居住地同时公示)
    at_registered_place = fields.Boolean(load_default=False)


def application_form(plugin_categories: tuple, plugin_tags: dict[str, str]) -> type[Schema]:
    """The application a county's intake takes, for the plugin's categories and household tags."""
    category_values = [c.value for c in plugin_categories]
    tag_keys = list(plugin_tags)

    class JingdezhenApplicationForm(ChineseSchema):
        categories = fields.List(fields.String(validate=validate.OneOf(
            category_values, error="申请类别无效。")), required=True, error_messages=REQUIRED,
            validate=validate.Length(min=1, error="请至少选择一个申请类别。"))
        #: 窗口申请 (reviewed on the spot), 网络自助申请 (within 1 working day), or by the village on commission
        channel = fields.String(required=True, error_messages=REQUIRED, validate=validate.OneOf(
            [c.value for c in Channel], error="申请渠道须为窗口申请、网上申请或村（社区）代为申请。"))
        applied_on = fields.Date(required=True, error_messages=DATE)
        #: 《江西省社会救助申请及核对授权书》 signed on
        authorization_signed_on = fields.Date(required=True, error_messages=DATE)
        commitment_signed_on = fields.Date(load_default=None, allow_none=True, error_messages=DATE)
        #: 必到必访九类人群 the household belongs to
        tags = fields.List(fields.String(validate=validate.OneOf(tag_keys, error="人群类别无效。")),
                           load_default=list)

        @validates_schema
        def _dates(self, data, **kwargs):
            today = china_today()
            errors: dict[str, list[str]] = {}
            if data.get("applied_on") and data["applied_on"] > today:
                errors["applied_on"] = ["申请日期不能晚于今天。"]
            signed = data.get("authorization_signed_on")
            if signed and signed > today:
                errors["authorization_signed_on"] = ["授权书签署日期不能晚于今天。"]
            if errors:
                raise ValidationError(errors)

    return JingdezhenApplicationForm


SHARE = {"invalid": "须为 0 到 1 之间的小数（如 0.5 表示 50%）。"}


class JingdezhenSettings(BaselineSettings):
    """The county's settings: local standards, publicity days, reminders, shorter deadlines — never
    longer than 景民字〔2024〕40号 allows, spot-check shares never below it."""

    online_review_workdays = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"},
                                            metadata={"label": "网络申请材料审核时限（工作日）"})
    investigation_workdays = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"},
                                            metadata={"label": "入户调查时限（自受理之日起，工作日）"})
    check_request_workdays = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"},
                                            metadata={"label": "人户分离：户籍地乡镇申请信息核对时限（工作日）"})
    check_workdays = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"},
                                    metadata={"label": "信息核对时限（自收到核对申请之日起，工作日）"})
    opinion_workdays = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"},
                                      metadata={"label": "初审意见时限（工作日）"})
    decision_workdays = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"},
                                       metadata={"label": "确认决定时限（自提出初审意见之日起，工作日）"})
    warning_workdays = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"},
                                      metadata={"label": "预警单据处置时限（工作日）"})
    visit_interval_days = fields.Integer(load_default=None, allow_none=True, error_messages={"invalid": "须为整数。"},
                                         metadata={"label": "必到必访人群走访周期（天）"})
    spot_check_share = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True,
                                      error_messages=SHARE, metadata={"label": "新增低保家庭抽查比例"})
    spot_check_on_site_share = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True,
                                              error_messages=SHARE, metadata={"label": "其中实地抽查比例"})

    @validates_schema
    def _jingdezhen(self, data, **kwargs):
        errors: dict[str, list[str]] = {}
        if data.get("extended_limit_workdays") is not None:
            errors["extended_limit_workdays"] = [
                "景民字〔2024〕40号要求在 18 个工作日内完成受理、调查、核对、确认，不设延长时限。"]
        rule = self.plugin.spot_check_rule
        for name, minimum, what in (("spot_check_share", rule.sample_share, "抽查比例"),
                                    ("spot_check_on_site_share", rule.on_site_share, "实地抽查比例")):
            value = data.get(name)
            if value is not None and not (minimum <= value <= 1):
                errors[name] = [f"{what}须在 {minimum:.0%} 至 100% 之间（依据：{self.plugin.limit_source}）。"]
        if errors:
            raise ValidationError(errors)
