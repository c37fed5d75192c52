"""marshmallow schemas of the API: what a request may carry (validated before anything is written)
and what a response contains (documented in the OpenAPI document)."""

from __future__ import annotations

import datetime as dt

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from jiuzhu.cases.categories import CaseStatus
from jiuzhu.cases.households import Health, IncomeKind, Relation, WorkAbility
from jiuzhu.clock import china_today

MAX_ID = 2**31 - 1
ID = validate.Range(min=1, max=MAX_ID)
FIRST_DAY = dt.date(2004, 1, 1)


def _no_control(value) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError("不能含有空字符（\\u0000）。")
    elif isinstance(value, dict):
        for k, v in value.items():
            _no_control(k)
            _no_control(v)
    elif isinstance(value, list):
        for v in value:
            _no_control(v)


def _past_date(value: dt.date) -> None:
    if value < FIRST_DAY:
        raise ValidationError("日期不能早于 2004-01-01。")
    if value > china_today():
        raise ValidationError("日期不能晚于今天。")


class In(Schema):
    """Request bodies: unknown fields are refused by name; no NUL characters anywhere."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _clean(self, data, **kwargs):
        _no_control(data)
        return data


def _text(max_len: int, *, required: bool = True, min_len: int = 1, **kw):
    return fields.String(required=required, validate=validate.Length(min=min_len, max=max_len), **kw)




class MemberIn(In):
    name = _text(50, metadata={"description": "姓名"})
    id_number = _text(18, min_len=15, metadata={"description": "居民身份证号码"})
    relation = fields.String(required=True, validate=validate.OneOf([r.name for r in Relation]),
                             metadata={"description": "与户主关系"})
    coresident = fields.Boolean(load_default=True)
    disability_grade = fields.Integer(load_default=0, validate=validate.Range(min=0, max=4))
    health = fields.String(load_default="healthy", validate=validate.OneOf([h.name for h in Health]))
    work_ability = fields.String(load_default="full", validate=validate.OneOf([w.name for w in WorkAbility]))
    working = fields.Boolean(load_default=False)
    incomes = fields.Dict(keys=fields.String(validate=validate.OneOf([k.name for k in IncomeKind])),
                          values=fields.Decimal(places=2, allow_nan=False,
                                                validate=validate.Range(min=0, max=10**8)),
                          load_default=dict, metadata={"description": "月收入（元），按收入类别"})


class SupporterIn(In):
    name = _text(50)
    id_number = _text(18, min_len=15)
    duty = fields.String(required=True, validate=validate.OneOf(["赡养", "抚养", "扶养"]))
    supports = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=18),
                             metadata={"description": "被供养成员的身份证号码"})
    monthly_income = fields.Decimal(places=2, allow_nan=False, load_default="0",
                                    validate=validate.Range(min=0, max=10**8))
    monthly_support_paid = fields.Decimal(places=2, allow_nan=False, load_default="0",
                                          validate=validate.Range(min=0, max=10**8))
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class PropertyIn(In):
    kind = _text(40)
    value = fields.Decimal(places=2, allow_nan=False, required=True,
                           validate=validate.Range(min=0, max=10**10))


class ApplicationIn(In):
    """An application with the household it is for (the plugin's intake form)."""

    village_id = fields.Integer(required=True, strict=True, validate=ID, metadata={"description": "所在村（社区）"})
    address = _text(200)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    registered_place = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    registered_unit_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ID,
                                        metadata={"description": "户籍所在地：本县（区）的村（社区），人户分离时（本地规则有此项时）"})
    emergency_township_id = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ID,
                                           metadata={"description": "急难发生地：本县（区）的乡镇（街道），单独申请临时救助时（本地规则有此项时）"})
    members = fields.List(fields.Nested(MemberIn), required=True, validate=validate.Length(min=1, max=20))
    supporters = fields.List(fields.Nested(SupporterIn), load_default=list, validate=validate.Length(max=10))
    properties = fields.List(fields.Nested(PropertyIn), load_default=list, validate=validate.Length(max=20))
    categories = fields.List(fields.String(validate=validate.Length(min=1, max=40)), required=True,
                             validate=validate.Length(min=1, max=10), metadata={"description": "申请类别"})
    tags = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list,
                       validate=validate.Length(max=20), metadata={"description": "人群类别（本地规则定义的键）"})
    applied_on = fields.Date(load_default=None, allow_none=True, validate=_past_date)
    channel = fields.String(load_default="online", validate=validate.OneOf(["online", "window"]),
                            metadata={"description": "online: 网上申请 (default); a village token always files village_proxy"})
    consent_classification = fields.Boolean(load_default=False)
    emergency_reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500),
                                     metadata={"description": "急难情形：临时救助按简化的急难程序办理的理由（本地规则有此程序时）"})
    authorization_signed_on = fields.Date(load_default=None, allow_none=True, validate=_past_date)
    commitment_signed_on = fields.Date(load_default=None, allow_none=True, validate=_past_date)
    provided = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list,
                           validate=validate.Length(max=50), metadata={"description": "已提交材料的键"})
    via_platform = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list,
                               validate=validate.Length(max=50), metadata={"description": "可通过平台核查获取的材料键"})


class FileIn(In):
    """A scan or photo: PDF, JPEG or PNG (recognised by its bytes), base64-encoded; the request body's
    1 MiB limit bounds it (about 750 KiB of file)."""

    filename = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    content_base64 = fields.String(required=True, validate=validate.Length(min=4, max=1_100_000),
                                   metadata={"description": "文件内容（base64）"})


class MaterialIn(In):
    key = _text(40, metadata={"description": "材料清单中的键"})
    via_platform = fields.Boolean(load_default=False)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    file = fields.Nested(FileIn, load_default=None, allow_none=True,
                         metadata={"description": "材料扫描件或照片（可选）"})


class ActionIn(In):
    action = _text(40, metadata={"description": "环节结果的键，或 skip（跳过）"})
    data = fields.Dict(keys=fields.String(validate=validate.Length(max=60)), load_default=dict,
                       validate=validate.Length(max=50), metadata={"description": "环节表单的数据"})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    expected_version = fields.Integer(load_default=None, allow_none=True, strict=True, validate=ID)


class WarningIn(In):
    township_id = fields.Integer(required=True, strict=True, validate=ID)
    id_number = _text(18, min_len=15)
    source_ref = _text(64, metadata={"description": "监测平台的预警单据编号"})
    summary = _text(2000)
    received_on = fields.Date(load_default=None, allow_none=True, validate=_past_date)
    origin = fields.String(load_default="monitoring", validate=validate.OneOf(["monitoring", "hotline_12345"]),
                           metadata={"description": "单据来源：监测预警（monitoring）或“12345”热线工单（hotline_12345，本地规则受理的）"})


class ResolutionIn(In):
    member_id = fields.Integer(required=True, strict=True, validate=ID, metadata={"description": "本案家庭成员"})
    other = _text(120, metadata={"description": "比对结果中的另一处：县名，或“本县案件 N”"})
    kind = fields.String(required=True, validate=validate.OneOf(["transfer", "stopped", "mistake", "left"]),
                         metadata={"description": "transfer 迁移 · stopped 对方停发 · mistake 比对有误 · left 已从另一户移出"})
    note = _text(500, metadata={"description": "核实情况"})


class CountyRequestIn(In):
    case_id = fields.Integer(required=True, strict=True, validate=ID)
    member_id = fields.Integer(required=True, strict=True, validate=ID)


class CountyAnswerIn(In):
    answer = fields.String(required=True, validate=validate.OneOf(["confirmed", "stopped", "not_ours"]),
                           metadata={"description": "confirmed 仍在本县享受 · stopped 本县已停发 · not_ours 本县无此人"})
    stopped_month = fields.Date(load_default=None, allow_none=True,
                                metadata={"description": "停发月份（answer 为 stopped 时必填；取所在月）"})


# -- responses --------------------------------------------------------------------------------

class Out(Schema):
    pass


class ErrorBody(Out):
    code = fields.String(required=True)
    message_zh = fields.String(required=True)
    message_en = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)


class ErrorOut(Out):
    error = fields.Nested(ErrorBody, required=True)


class FileOut(Out):
    id = fields.Integer(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)


class MaterialOut(Out):
    key = fields.String(required=True)
    label = fields.String(required=True)
    required = fields.Boolean(required=True)
    provided = fields.Boolean(required=True)
    via_platform = fields.Boolean(required=True)
    note = fields.String(allow_none=True, required=True)
    files = fields.List(fields.Nested(FileOut), required=True)


class StepOut(Out):
    id = fields.Integer(required=True)
    key = fields.String(required=True)
    label = fields.String(required=True)
    round = fields.Integer(required=True)
    level = fields.String(required=True)
    status = fields.String(required=True)
    opened_on = fields.Date(required=True)
    due_on = fields.Date(allow_none=True, required=True)
    due_provisional = fields.Boolean(required=True)
    runs_until = fields.Date(allow_none=True, required=True)
    closed_on = fields.Date(allow_none=True, required=True)
    outcome = fields.String(allow_none=True, required=True)
    actor_name = fields.String(allow_none=True, required=True)
    reason = fields.String(allow_none=True, required=True)
    version = fields.Integer(required=True)
    actions = fields.List(fields.String(), required=True,
                          metadata={"description": "open steps: the outcomes (and skip) the token's role may take"})


class CaseSummaryOut(Out):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    kind = fields.String(required=True)
    channel = fields.String(required=True)
    categories = fields.List(fields.String(), required=True)
    township_id = fields.Integer(required=True)
    village_id = fields.Integer(allow_none=True, required=True)
    household_id = fields.Integer(required=True)
    applied_on = fields.Date(required=True)
    due_on = fields.Date(allow_none=True, required=True)
    due_provisional = fields.Boolean(required=True)
    decided_on = fields.Date(allow_none=True, required=True)
    priority = fields.Boolean(required=True)


class CaseOut(CaseSummaryOut):
    accepted_on = fields.Date(allow_none=True, required=True)
    round = fields.Integer(required=True)
    decision_reason = fields.String(allow_none=True, required=True)
    monthly_amount = fields.String(allow_none=True, required=True)
    materials = fields.List(fields.Nested(MaterialOut), required=True)
    missing_materials = fields.List(fields.String(), required=True)
    timeline = fields.List(fields.Nested(StepOut), required=True)


class CaseListOut(Out):
    items = fields.List(fields.Nested(CaseSummaryOut), required=True)
    next = fields.String(allow_none=True, required=True,
                         metadata={"description": "cursor of the next page (pass as ?after=), null on the last"})


class WarningOut(Out):
    id = fields.Integer(required=True)
    township_id = fields.Integer(required=True)
    village_id = fields.Integer(allow_none=True, required=True)
    source_ref = fields.String(required=True)
    summary = fields.String(required=True)
    household_id = fields.Integer(allow_none=True, required=True)
    received_on = fields.Date(required=True)
    due_on = fields.Date(required=True)
    due_provisional = fields.Boolean(required=True)
    due_rule = fields.String(required=True)
    origin = fields.String(required=True)
    status = fields.String(required=True)
    decision = fields.String(allow_none=True, required=True)


class CategoryOut(Out):
    key = fields.String(required=True)
    label = fields.String(required=True)


class FormMaterialOut(Out):
    key = fields.String(required=True)
    label = fields.String(required=True)
    required = fields.Boolean(required=True)
    platform = fields.Boolean(required=True)


class UnitOut(Out):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    township_id = fields.Integer(required=True)


class ApplicationFormOut(Out):
    plugin = fields.String(required=True)
    categories = fields.List(fields.Nested(CategoryOut), required=True)
    materials = fields.List(fields.Nested(FormMaterialOut), required=True)
    villages = fields.List(fields.Nested(UnitOut), required=True)
    relations = fields.List(fields.String(), required=True)
    income_kinds = fields.List(fields.String(), required=True)


class PublicityPlaceOut(Out):
    name = fields.String(required=True)
    unit_id = fields.Integer(allow_none=True, required=True)
    external = fields.Boolean(required=True)
    rows = fields.List(fields.Dict(keys=fields.String(), values=fields.String()), required=True)


class PublicityOut(Out):
    on = fields.Date(required=True)
    places = fields.List(fields.Nested(PublicityPlaceOut), required=True)


class CaseListQuery(In):
    status = fields.String(validate=validate.OneOf([s.value for s in CaseStatus]))
    category = fields.String(validate=validate.Length(max=40))
    channel = fields.String(validate=validate.OneOf(["window", "online", "village_proxy"]))
    township_id = fields.Integer(validate=ID)
    village_id = fields.Integer(validate=ID)
    after = fields.String(validate=validate.Length(max=200), metadata={"description": "opaque cursor"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class DuplicateMatchOut(Out):
    member_id = fields.Integer(required=True)
    county = fields.String(required=True, metadata={"description": "另一县（区）的名称；本县时为本县名称"})
    same_county = fields.Boolean(required=True)
    case_id = fields.Integer(allow_none=True, required=True, metadata={"description": "本县另一户的案件；其他县为 null"})
    category = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": "pending 申请中 · active 享受中"})
    since = fields.Date(allow_none=True, required=True, metadata={"description": "享受起始月份（享受中时）"})
    other = fields.String(required=True)
    resolution = fields.String(allow_none=True, required=True, metadata={"description": "已记录的核实处理结果"})


class CaseDuplicatesOut(Out):
    case_id = fields.Integer(required=True)
    matches = fields.List(fields.Nested(DuplicateMatchOut), required=True)
    unresolved = fields.Integer(required=True, metadata={"description": "尚未记录核实结果的比对（确认前须为 0）"})


class CountyRequestOut(Out):
    id = fields.Integer(required=True)
    direction = fields.String(required=True, metadata={"description": "out 本县发出 · in 发给本县"})
    county = fields.String(required=True)
    case_id = fields.Integer(required=True, metadata={"description": "本县的案件"})
    category = fields.String(required=True)
    opened_on = fields.Date(required=True)
    due_on = fields.Date(required=True)
    answer = fields.String(allow_none=True, required=True)
    stopped_month = fields.Date(allow_none=True, required=True)
    answered_on = fields.Date(allow_none=True, required=True)


class CountyRequestListOut(Out):
    items = fields.List(fields.Nested(CountyRequestOut), required=True)
