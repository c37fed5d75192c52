"""The API's one error shape:
``{"error": {"code", "message_zh", "message_en", "fields": {name: [messages]}}}``."""

from __future__ import annotations

import re

from flask import jsonify

from jiuzhu.errors import ServiceError

#: machine code → (HTTP status, Chinese, English)
CODES: dict[str, tuple[int, str, str]] = {
    "validation_error": (422, "请求内容有误，请按字段提示修改。", "The request is invalid; see the field messages."),
    "malformed_json": (400, "请求体不是有效的 JSON 对象。", "The request body is not a valid JSON object."),
    "unauthorized": (401, "缺少或无效的接口令牌。", "Missing or invalid API token."),
    "forbidden": (403, "令牌的角色不能进行此操作。", "The token's role may not do this."),
    "village_rule": (403, "村（社区）不能作出审核确认类决定。", "A village may not make deciding decisions."),
    "other_township": (403, "该环节或操作属于案件的另一乡镇（街道）。",
                       "This step or action belongs to the case's other township."),
    "township_acts": (403, "预警单据由乡镇（街道）处置。", "Warning tickets are handled by townships."),
    "not_found": (404, "未找到，或不在令牌的管辖范围内。", "Not found, or outside the token's jurisdiction."),
    "conflict": (409, "已由他人处理，请重新读取后再试。", "Someone else acted first; read again and retry."),
    "idempotency_key_reused": (409, "该幂等键已用于内容不同的请求。",
                               "This Idempotency-Key was already used with a different request."),
    "idempotency_key_invalid": (400, "幂等键须为 1–200 个可见字符。",
                                "The Idempotency-Key must be 1–200 printable characters."),
    "payload_too_large": (413, "请求体过大。", "The request body is too large."),
    "unsupported_media_type": (415, "请求体须为 application/json。", "The request body must be application/json."),
    "rate_limited": (429, "请求过于频繁，请稍后再试。", "Too many requests; retry later."),
    "method_not_allowed": (405, "不支持此请求方法。", "Method not allowed."),
    "internal_error": (500, "系统错误，所做的修改未保存。", "Internal error; nothing was saved."),
    "service_unavailable": (503, "数据库暂时无法连接，所做的修改未保存；请按 Retry-After 稍后重试（写入请求带同一幂等键）。",
                            "The database is unreachable; nothing was saved. Retry after Retry-After seconds "
                            "(writes with the same Idempotency-Key)."),
}


FALLBACK = {403: "forbidden", 404: "not_found", 409: "conflict"}


class ApiError(Exception):
    def __init__(self, code: str, *, message_zh: str | None = None, fields: dict[str, list[str]] | None = None,
                 status: int | None = None, headers: dict[str, str] | None = None):
        default_status, zh, en = CODES.get(code) or CODES[FALLBACK.get(status, "validation_error")]
        self.code = code
        self.status = status or default_status
        self.message_zh = message_zh or zh
        self.message_en = en
        self.fields = fields or {}
        self.headers = headers or {}
        super().__init__(self.message_zh)

    def body(self) -> dict:
        return {"error": {"code": self.code, "message_zh": self.message_zh, "message_en": self.message_en,
                          "fields": self.fields}}

    def response(self):
        resp = jsonify(self.body())
        resp.status_code = self.status
        for k, v in self.headers.items():
            resp.headers[k] = v
        return resp


def from_service_error(exc: ServiceError) -> ApiError:
    """A refusal of the service layer in the API's shape: its Chinese messages, its code."""
    from jiuzhu.errors import NotFound, PermissionDenied
    from jiuzhu.workflow.engine import Conflict

    status = 403 if isinstance(exc, PermissionDenied) else 404 if isinstance(exc, NotFound) else \
        409 if isinstance(exc, Conflict) else 422
    code = "validation_error" if exc.code == "invalid" or status == 422 else exc.code
    message = "；".join(exc.all_messages()) or None
    fields = dict(exc.field_errors)
    if exc.messages and code == "validation_error":
        fields.setdefault("_schema", list(exc.messages))
    return ApiError(code, message_zh=message, fields=fields, status=status)


#: marshmallow's English messages → the Chinese the API answers with
_ZH = [(re.compile(p), zh) for p, zh in (
    (r"^Missing data for required field\.$", "此项必填。"),
    (r"^Unknown field\.$", "没有这个字段。"),
    (r"^Field may not be null\.$", "此项不能为 null。"),
    (r"^Not a valid string\.$", "须为字符串。"),
    (r"^Not a valid integer\.$", "须为整数。"),
    (r"^Not a valid number\.$", "须为数字。"),
    (r"^Not a valid boolean\.$", "须为 true 或 false。"),
    (r"^Not a valid date\.$", "日期格式应为 YYYY-MM-DD。"),
    (r"^Not a valid list\.$", "须为数组。"),
    (r"^Not a valid mapping type\.$", "须为对象。"),
    (r"^Invalid input type\.$", "须为对象。"),
    (r"^Invalid type\.$", "类型不对。"),
    (r"^Special numeric values \(nan or infinity\) are not permitted\.$", "不能为 NaN 或无穷大。"),
    (r"^Length must be between (\d+) and (\d+)\.$", r"长度须在 \1 到 \2 之间。"),
    (r"^Shorter than minimum length (\d+)\.$", r"长度不能少于 \1。"),
    (r"^Longer than maximum length (\d+)\.$", r"长度不能超过 \1。"),
    (r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$", r"须在 \1 到 \2 之间。"),
    (r"^Must be greater than or equal to (\S+)\.$", r"不能小于 \1。"),
    (r"^Must be less than or equal to (\S+)\.$", r"不能大于 \1。"),
    (r"^Must be one of: (.*)\.$", r"须为以下之一：\1。"),
)]


def chinese(message: str) -> str:
    for pattern, zh in _ZH:
        if pattern.match(message):
            return pattern.sub(zh, message)
    return message


def marshmallow_fields(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages flattened to ``{"members.0.id_number": [...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for k, v in messages.items():
            name = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict):
                out.update(marshmallow_fields(v, name))
            else:
                out[name] = [chinese(str(m)) for m in (v if isinstance(v, list) else [v])]
    else:
        out[prefix or "_schema"] = [chinese(str(m)) for m in (messages if isinstance(messages, list) else [messages])]
    return out
