"""Ningxia's application form, step forms and settings (marshmallow, Chinese messages)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from jiuzhu.cases.categories import Channel
from jiuzhu.clock import china_today
from jiuzhu.plugins.baseline import BaselineSettings
from jiuzhu.workflow import forms as base
from jiuzhu.workflow.forms import REQUIRED, ChineseSchema
from plugins.ningxia.source import COUNTY_DEPARTMENTS, PUBLICITY_CHANNELS

DATE = {**REQUIRED, "invalid": "日期格式应为 YYYY-MM-DD。"}
INT = {"invalid": "须为整数。"}
MONEY = {"invalid": "须为数字。"}
SHARE = {"invalid": "须为 0 到 1 之间的小数（如 0.3 表示 30%）。"}


class PublicityForm(base.PublicityForm):
    """公示: posted on at least one of the source's channels (村级公示栏、乡镇（街道）公示栏、电子屏、微信公众号),
    each recorded; "等" lets a county name another place, written out."""

    channels = fields.List(fields.String(validate=validate.Length(min=1, max=40, error="公示渠道名称须为 1 至 40 个字。")),
                           required=True, error_messages=REQUIRED,
                           validate=validate.Length(min=1, error="请至少选择一种公示渠道：" + "、".join(PUBLICITY_CHANNELS) + "。"),
                           metadata={"label": "公示渠道", "choices": PUBLICITY_CHANNELS})
    posted_on = fields.Date(required=True, error_messages=DATE, metadata={"label": "张贴（发布）日期"})


#: the channels the plan names for publicity (“按规定利用村级公示栏、乡镇（街道）公示栏、电子屏、微信公众号等进行公示”),
#: each with the field recording its posting date
CHANNEL_FIELDS = {"village_board_posted_on": "村级公示栏", "township_board_posted_on": "乡镇（街道）公示栏",
                  "e_screen_posted_on": "电子屏", "wechat_posted_on": "微信公众号"}


def _posted_on(channel: str):
    return fields.Date(required=True, error_messages={**DATE, "required": f"请填写{channel}的张贴（发布）日期。",
                                                      "null": f"请填写{channel}的张贴（发布）日期。"},
                       metadata={"label": f"{channel}张贴（发布）日期"})


class ChannelPublicityForm(ChineseSchema):
    """公示 on every channel the plan names, each with the day it was posted there; the channels are
    recorded by name (``channels``) and the period runs from each posting (the plugin's guard)."""

    village_board_posted_on = _posted_on("村级公示栏")
    township_board_posted_on = _posted_on("乡镇（街道）公示栏")
    e_screen_posted_on = _posted_on("电子屏")
    wechat_posted_on = _posted_on("微信公众号")
    objection = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500),
                              metadata={"label": "异议内容"})

    @post_load
    def _channels(self, data, **kwargs):
        data["channels"] = [CHANNEL_FIELDS[k] for k in CHANNEL_FIELDS]
        return data


class NeedsAssessmentForm(ChineseSchema):
    """综合评估救助需求: what the household needs, and the measures the township takes itself."""

    needs = fields.String(required=True, error_messages=REQUIRED,
                          validate=validate.Length(min=1, max=1000, error="请填写综合评估的救助需求（1000 字以内）。"),
                          metadata={"label": "综合评估的救助需求"})
    measures = fields.List(fields.String(validate=validate.Length(min=1, max=200, error="每项措施不超过 200 字。")),
                           required=True, error_messages=REQUIRED,
                           validate=validate.Length(min=1, error="请至少填写一项综合实施社会救助措施的意见。"),
                           metadata={"label": "综合实施社会救助措施的意见（每行一项）"})


class ReferralForm(NeedsAssessmentForm):
    """转请县级相关职能部门办理: the departments, by name, and what each is asked to do."""

    departments = fields.List(
        fields.String(validate=validate.OneOf(COUNTY_DEPARTMENTS,
                                              error="转办部门须为：" + "、".join(COUNTY_DEPARTMENTS) + "。")),
        required=True, error_messages=REQUIRED,
        validate=validate.Length(min=1, error="请填写转请办理的县级职能部门。"),
        metadata={"label": "转请办理的县级职能部门（每行一个）", "choices": COUNTY_DEPARTMENTS})
    referred_on = fields.Date(required=True, error_messages=DATE, metadata={"label": "转办日期"})


class ReferralAnswerForm(ChineseSchema):
    """转办答复: each department's answer, one line each, beginning with the department's name."""

    answers = fields.List(fields.String(validate=validate.Length(min=1, max=500, error="每条答复不超过 500 字。")),
                          required=True, error_messages=REQUIRED,
                          validate=validate.Length(min=1, error="请登记县级职能部门的答复。"),
                          metadata={"label": "部门答复（每行一条，以部门名称开头，如：县医疗保障局：已纳入医疗救助）"})
    answered_on = fields.Date(required=True, error_messages=DATE, metadata={"label": "答复日期"})


class GradualExitForm(base.GradualExitForm):
    """渐退期 “对收入超过低保标准暂未实现稳定脱贫或就业的”: staff confirm the household has not yet left
    poverty for good or found stable work, and say what they found (recorded on the review's decision)."""

    condition_met = fields.Boolean(required=True, error_messages={**REQUIRED, "invalid": "请勾选。"},
                                   validate=validate.Equal(True, error="渐退期只适用于暂未实现稳定脱贫或就业的家庭。"),
                                   metadata={"label": "经核实暂未实现稳定脱贫或就业"})
    condition_detail = fields.String(required=True, error_messages=REQUIRED,
                                     validate=validate.Length(min=1, max=500,
                                                              error="请写明暂未实现稳定脱贫或就业的具体情况（500 字以内）。"),
                                     metadata={"label": "暂未实现稳定脱贫或就业的情况"})


class ReinvestigationForm(base.PublicityForm):
    """公示有异议: what the objection was, so the re-investigation knows what to verify."""

    objection = fields.String(required=True, error_messages={"required": "请填写异议内容。", "null": "请填写异议内容。"},
                              validate=validate.Length(min=1, error="请填写异议内容。"),
                              metadata={"label": "异议内容"})


def application_form(plugin) -> type[Schema]:
    """The application a Ningxia township takes (at the window, through 宁夏政务服务系统 / 宁夏民政APP, or
    from the village committee on the applicant's commission)."""
    category_values = [c.value for c in plugin.categories]
    material_keys = [m.key for m in plugin.material_specs(Channel.village_proxy)]

    class NingxiaApplicationForm(ChineseSchema):
        categories = fields.List(fields.String(validate=validate.OneOf(category_values, error="申请类别无效。")),
                                 required=True, error_messages=REQUIRED,
                                 validate=validate.Length(min=1, error="请至少选择一个申请类别。"),
                                 metadata={"label": "申请类别"})
        channel = fields.String(required=True, error_messages=REQUIRED, validate=validate.OneOf(
            [c.value for c in Channel], error="申请渠道须为窗口申请、网上申请或村（社区）代为申请。"),
            metadata={"label": "申请渠道"})
        applied_on = fields.Date(required=True, error_messages=DATE, metadata={"label": "申请日期"})
        #: the applicant's authorization of the economic check (授权核查收入、财产、支出)
        authorization_signed_on = fields.Date(required=True, error_messages=DATE,
                                              metadata={"label": "家庭经济状况核查授权书签署日期"})
        commitment_signed_on = fields.Date(load_default=None, allow_none=True, error_messages=DATE,
                                           metadata={"label": "承诺书签署日期"})
        #: 受救助申请对象委托，代为提出救助申请: the commission, when the village applies
        commissioned_on = fields.Date(load_default=None, allow_none=True, error_messages=DATE,
                                      metadata={"label": "申请人委托村（居）委会代为申请的日期"})
        provided = fields.List(fields.String(validate=validate.OneOf(material_keys, error="材料项目无效。")),
                               load_default=list, metadata={"label": "已提交的材料"})
        via_platform = fields.List(fields.String(validate=validate.OneOf(material_keys, error="材料项目无效。")),
                                   load_default=list, metadata={"label": "经信息共享获取的材料"})

        @validates_schema
        def _checks(self, data, **kwargs):
            today = china_today()
            errors: dict[str, list[str]] = {}
            applied = data.get("applied_on")
            for name, what in (("applied_on", "申请日期"), ("authorization_signed_on", "授权书签署日期"),
                               ("commitment_signed_on", "承诺书签署日期"), ("commissioned_on", "委托日期")):
                if data.get(name) and data[name] > today:
                    errors[name] = [f"{what}不能晚于今天。"]
            if data.get("channel") == Channel.village_proxy:
                commissioned = data.get("commissioned_on")
                if commissioned is None:
                    errors.setdefault("commissioned_on", []).append(
                        "村（居）民委员会须受申请人委托才能代为提出申请：请填写委托日期。")
                elif applied and commissioned > applied:
                    errors.setdefault("commissioned_on", []).append("委托日期不能晚于申请日期。")
            elif data.get("commissioned_on") is not None:
                errors.setdefault("commissioned_on", []).append("只有村（社区）代为申请才需填写委托日期。")
            if errors:
                raise ValidationError(errors)

    return NingxiaApplicationForm


class NingxiaSettings(BaselineSettings):
    """What a Ningxia county sets. The plan gives no numbers: the national time limits are the
    maxima, and the county may shorten them (validated by the baseline's bounds)."""

    elderly_standard = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True,
                                      error_messages=MONEY,
                                      validate=validate.Range(min=0, min_inclusive=False,
                                                              error="高龄低收入老年人补贴标准须大于 0 元/人·月。"),
                                      metadata={"label": "高龄低收入老年人补贴标准（元/人·月）"})
    elderly_min_age = fields.Integer(load_default=None, allow_none=True, error_messages=INT,
                                     metadata={"label": "高龄低收入老年人的起始年龄（周岁）"})
    spot_check_share = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True,
                                      error_messages=SHARE, metadata={"label": "县级入户抽查比例"})

    @validates_schema
    def _ningxia(self, data, **kwargs):
        share = data.get("spot_check_share")
        if share is not None and not (0 < share <= 1):
            raise ValidationError({"spot_check_share": ["入户抽查比例须大于 0 且不超过 100%。"]})
