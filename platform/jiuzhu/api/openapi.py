"""The OpenAPI 3 document of ``/api/v1``, built with apispec from the marshmallow schemas."""

from __future__ import annotations

import json
from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from jiuzhu.api import schemas
from jiuzhu.api.views import MAX_BODY

#: codes every authenticated operation may answer
COMMON = {"401": "缺少或无效的令牌 / missing or invalid token",
          "404": "不存在或不在管辖范围内 / not found or outside the token's jurisdiction",
          "413": "请求体过大 / body too large",
          "429": "超过频率限制 / rate limited (see Retry-After)",
          "503": "数据库暂时无法连接，未保存；按 Retry-After 重试 / database unreachable, nothing saved; retry "
                 "after Retry-After"}
WRITE = {"400": "请求体不是 JSON 对象或幂等键无效 / malformed body or Idempotency-Key",
         "403": "令牌的角色不能进行此操作 / the token's role may not do this",
         "409": "冲突或幂等键被用于不同请求 / conflict, or Idempotency-Key reused",
         "415": "须为 application/json / must be application/json",
         "422": "校验失败，按字段列出 / validation failed, by field"}

IDEMPOTENCY = {"in": "header", "name": "Idempotency-Key", "required": True,
               "description": "同一键与同一请求体的重试返回首次的响应 / a retry with the same key and body "
                              "returns the first response",
               "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]{1,200}$"}}


def _id_param(name: str) -> dict:
    return {"in": "path", "name": name, "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_ID}}


def _responses(ok: dict, *extra: dict) -> dict:
    out = dict(ok)
    for group in (COMMON, *extra):
        for code, text in group.items():
            out[code] = {"description": text,
                         "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return out


def _ok(code: str, schema: str, text: str) -> dict:
    return {code: {"description": text,
                   "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}}


def _body(schema: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


@cache
def document() -> dict:
    spec = APISpec(title="Jiuzhu 救助 API", version="1", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "县（区）社会救助的集成接口。令牌由县级管理员创建；错误统一为 "
                                        "{error: {code, message_zh, message_en, fields}}。请求体上限 "
                                        f"{MAX_BODY // 1024} KiB。"},
                   servers=[{"url": "/api/v1"}])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name, cls in [("Error", schemas.ErrorOut), ("Application", schemas.ApplicationIn),
                      ("Material", schemas.MaterialIn), ("Action", schemas.ActionIn), ("WarningIn", schemas.WarningIn),
                      ("Case", schemas.CaseOut), ("CaseList", schemas.CaseListOut), ("Warning", schemas.WarningOut),
                      ("ApplicationForm", schemas.ApplicationFormOut), ("Publicity", schemas.PublicityOut),
                      ("ResolutionIn", schemas.ResolutionIn), ("CountyRequestIn", schemas.CountyRequestIn),
                      ("CountyAnswerIn", schemas.CountyAnswerIn), ("CaseDuplicates", schemas.CaseDuplicatesOut),
                      ("CountyRequest", schemas.CountyRequestOut), ("CountyRequestList", schemas.CountyRequestListOut)]:
        spec.components.schema(name, schema=cls)
    secured = [{"bearer": []}]
    spec.path("/application-form", operations={"get": {
        "summary": "本县的申请表：类别、材料清单、村（社区） / the plugin's application form",
        "security": secured, "responses": _responses(_ok("200", "ApplicationForm", "the form"))}})
    spec.path("/applications", operations={"post": {
        "summary": "提交申请（连同家庭登记） / submit an application with its household",
        "security": secured, "parameters": [IDEMPOTENCY], "requestBody": _body("Application"),
        "responses": _responses(_ok("201", "Case", "the new case"), WRITE)}})
    spec.path("/cases", operations={"get": {
        "summary": "案件列表，按 id 键集分页 / cases, keyset pages by id",
        "security": secured,
        "parameters": [{"in": "query", "schema": schemas.CaseListQuery}],
        "responses": _responses(_ok("200", "CaseList", "a page"),
                                {"422": "查询参数有误 / invalid query parameters"})}})
    spec.path("/cases/{case_id}", operations={"get": {
        "summary": "案件及其办理过程 / a case and its timeline",
        "security": secured, "parameters": [_id_param("case_id")],
        "responses": _responses(_ok("200", "Case", "the case"))}})
    spec.path("/cases/{case_id}/materials", operations={"post": {
        "summary": "登记已提交的材料 / record a material as provided",
        "security": secured, "parameters": [_id_param("case_id"), IDEMPOTENCY], "requestBody": _body("Material"),
        "responses": _responses(_ok("200", "Case", "the case"), WRITE)}})
    spec.path("/cases/{case_id}/steps/{step_id}/actions", operations={"post": {
        "summary": "办理一个环节：结果或跳过 / take a step's outcome or skip it",
        "security": secured, "parameters": [_id_param("case_id"), _id_param("step_id"), IDEMPOTENCY],
        "requestBody": _body("Action"), "responses": _responses(_ok("200", "Case", "the case"), WRITE)}})
    spec.path("/warnings", operations={"post": {
        "summary": "登记监测预警单据 / post a warning ticket",
        "security": secured, "parameters": [IDEMPOTENCY], "requestBody": _body("WarningIn"),
        "responses": _responses(_ok("201", "Warning", "the ticket with its deadline"), WRITE)}})
    spec.path("/warnings/{ticket_id}", operations={"get": {
        "summary": "预警单据 / a warning ticket", "security": secured, "parameters": [_id_param("ticket_id")],
        "responses": _responses(_ok("200", "Warning", "the ticket"))}})
    spec.path("/cases/{case_id}/duplicates", operations={"get": {
        "summary": "重复享受比对：本案成员在其他县或本县另一户享受或申请的情况（其他县只有县名、类别、起始月份） / "
                   "duplicate-benefit matches of the case's members",
        "security": secured, "parameters": [_id_param("case_id")],
        "responses": _responses(_ok("200", "CaseDuplicates", "the matches"),
                                {"403": "村（社区）令牌不能查看 / not for a village's token"})}})
    spec.path("/cases/{case_id}/duplicates/resolutions", operations={"post": {
        "summary": "记录比对结果的核实处理结果（确认前须逐条记录） / record how a match was resolved",
        "security": secured, "parameters": [_id_param("case_id"), IDEMPOTENCY], "requestBody": _body("ResolutionIn"),
        "responses": _responses(_ok("200", "CaseDuplicates", "the matches"), WRITE)}})
    spec.path("/county-requests", operations={
        "get": {"summary": "跨县协查请求（发出的和收到的） / 协查 requests both ways",
                "security": secured,
                "responses": _responses(_ok("200", "CountyRequestList", "the requests"),
                                        {"403": "仅县级令牌 / county tokens only"})},
        "post": {"summary": "向持有同一成员的其他县发起协查 / ask the other county to verify",
                 "security": secured, "parameters": [IDEMPOTENCY], "requestBody": _body("CountyRequestIn"),
                 "responses": _responses(_ok("201", "CountyRequestList", "the case's requests"), WRITE)}})
    spec.path("/county-requests/{request_id}/answer", operations={"post": {
        "summary": "答复发给本县的协查请求 / answer a 协查 request asked of this county",
        "security": secured, "parameters": [_id_param("request_id"), IDEMPOTENCY], "requestBody": _body("CountyAnswerIn"),
        "responses": _responses(_ok("200", "CountyRequest", "the answered request"), WRITE)}})
    spec.path("/publicity", operations={"get": {
        "summary": "公示名单（已按本地规则隐去敏感信息） / the public publicity lists",
        "security": secured, "responses": _responses(_ok("200", "Publicity", "the lists by place"))}})
    spec.path("/openapi.json", operations={"get": {
        "summary": "本文档 / this document", "security": [],
        "responses": {"200": {"description": "OpenAPI 3", "content": {"application/json": {"schema": {"type": "object"}}}},
                      "413": {"description": "请求体过大 / body too large",
                              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}})
    # apispec copies Decimal bounds as Decimals (Flask would serve them as strings): plain JSON numbers
    return json.loads(json.dumps(spec.to_dict(), default=float))
