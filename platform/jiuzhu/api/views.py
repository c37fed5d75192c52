"""``/api/v1``: bearer tokens, one error shape, idempotent POSTs, per-token rate limits.

Every action goes through the service layer as the user the token stands for, in that user's scope,
with the token's name on the audit trail; one transaction per request.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import zlib
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import ValidationError as SchemaError
from sqlalchemy import String, select, text
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from jiuzhu.api import schemas
from jiuzhu.api.errors import ApiError, from_service_error, marshmallow_fields
from jiuzhu.api.limits import hit
from jiuzhu.api.models import IdempotentRequest
from jiuzhu.api.tokens import authenticate
from jiuzhu.audit.context import set_actor
from jiuzhu.cases.categories import Channel
from jiuzhu.cases.households import IncomeKind, Relation
from jiuzhu.cases.models import Case, unshown_in_lists
from jiuzhu.cases.services import MemberInput, SupporterInput, register_household
from jiuzhu.clock import china_today
from jiuzhu.errors import PermissionDenied, ServiceError
from jiuzhu.extensions import csrf, db
from jiuzhu.tenancy.context import ScopeError, require_scope, set_scope
from jiuzhu.tenancy.models import OrgLevel, OrgUnit, Tenant
from jiuzhu.warnings.models import WarningTicket
from jiuzhu.workflow import engine
from jiuzhu.workflow.models import Step, StepStatus

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

#: largest JSON body accepted
MAX_BODY = 1024 * 1024
KEY_RE = re.compile(r"^[!-~]{1,200}$")
PUBLIC_ENDPOINTS = {"api.openapi"}


# -- every request ----------------------------------------------------------------------------

@bp.before_request
def _enter():
    set_scope(None)  # never the session's user: only the bearer token counts
    set_actor(None)
    request.max_content_length = MAX_BODY
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError("payload_too_large", message_zh=f"请求体超过 {MAX_BODY // 1024} KiB 上限。")
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    principal = authenticate(db.session, secret.strip()) if scheme.lower() == "bearer" else None
    if principal is None:
        raise ApiError("unauthorized", headers={"WWW-Authenticate": 'Bearer realm="jiuzhu"'})
    allowed, remaining, retry_after = hit(current_app, principal.token_id)
    g.api_rate = (current_app.config.get("JIUZHU_API_RATE_PER_MINUTE") or 120, remaining)
    if not allowed:
        raise ApiError("rate_limited", headers={"Retry-After": str(retry_after)})
    g.principal = principal
    set_scope(principal.scope)
    set_actor(principal.actor)
    return None


@bp.after_request
def _headers(response):
    rate = g.get("api_rate")
    if rate:
        response.headers["X-RateLimit-Limit"] = str(rate[0])
        response.headers["X-RateLimit-Remaining"] = str(rate[1])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    db.session.rollback()
    return exc.response()


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    db.session.rollback()
    return from_service_error(exc).response()


@bp.errorhandler(ScopeError)
def _scope_error(exc: ScopeError):
    db.session.rollback()
    return ApiError("forbidden", message_zh="该记录不在令牌的管辖范围内。").response()


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    db.session.rollback()
    return http_error(exc.code or 500)


def http_error(code: int):
    """A Werkzeug error (routing 404/405, 413 while reading) in the API's shape."""
    name = {400: "malformed_json", 401: "unauthorized", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
            429: "rate_limited"}.get(code, "internal_error" if code >= 500 else "validation_error")
    return ApiError(name, status=code if code != 500 else 500).response()


def principal():
    return g.principal


def user():
    return g.principal.user


def _id(value: int, what: str) -> int:
    if not 1 <= value <= schemas.MAX_ID:
        raise ApiError("not_found", message_zh=f"{what}不存在，或不在令牌的管辖范围内。")
    return value


def _load(schema_cls, data):
    try:
        return schema_cls().load(data)
    except SchemaError as exc:
        raise ApiError("validation_error", fields=marshmallow_fields(exc.messages)) from None


def _json_body() -> dict:
    if not request.is_json:
        raise ApiError("unsupported_media_type")
    try:
        data = json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested absurdly deep
        raise ApiError("malformed_json") from None
    if not isinstance(data, dict):
        raise ApiError("malformed_json")
    return data


# -- idempotency ------------------------------------------------------------------------------

def idempotent(fn):
    """A POST that writes: needs an ``Idempotency-Key``; the response is stored with the write, in one
    transaction, and a retry with the same key and body gets it back; another body → 409."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None or not KEY_RE.match(key):
            raise ApiError("idempotency_key_invalid", fields={"Idempotency-Key": ["须为 1–200 个可见 ASCII 字符。"]})
        body = _json_body()
        digest = hashlib.sha256(json.dumps([request.method, request.path, body], sort_keys=True,
                                           ensure_ascii=False).encode()).hexdigest()
        token_id = principal().token_id
        _hold_key(token_id, key)
        stored = _stored(token_id, key)
        if stored is not None:
            return _replay(stored, digest)
        status, payload = fn(body, *args, **kwargs)
        db.session.add(IdempotentRequest(token_id=token_id, key=key, request_hash=digest, status=status,
                                         body=payload))
        try:
            db.session.commit()
        except IntegrityError:  # the same key raced in from a parallel retry: that one won
            db.session.rollback()
            stored = _stored(token_id, key)
            if stored is None:
                raise ApiError("conflict") from None
            return _replay(stored, digest)
        return jsonify(payload), status

    return wrapper


#: the class half of a key's lock, ``pg_advisory_xact_lock(KEY_LOCK, hash of token and key)``
KEY_LOCK = zlib.crc32(b"jiuzhu api idempotency key") & 0x7FFFFFFF


def _hold_key(token_id: int, key: str) -> None:
    """PostgreSQL: hold the key for this transaction, so that a parallel delivery of the same key waits
    for this one to end and then finds its answer. Without it the second could run the write while
    the first was committing, and be refused by what the first had just written (a household
    registered twice: 422) instead of getting the first's answer. Two different keys may share a
    lock (the hash): they then only wait for each other."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"),
                           {"c": KEY_LOCK, "k": zlib.crc32(f"{token_id}:{key}".encode()) & 0x7FFFFFFF})


def _stored(token_id: int, key: str) -> IdempotentRequest | None:
    return db.session.scalar(select(IdempotentRequest).where(IdempotentRequest.token_id == token_id,
                                                             IdempotentRequest.key == key))


def _replay(stored: IdempotentRequest, digest: str):
    if stored.request_hash != digest:
        raise ApiError("idempotency_key_reused", fields={"Idempotency-Key": ["该键已用于内容不同的请求。"]})
    response = jsonify(stored.body)
    response.status_code = stored.status
    response.headers["Idempotent-Replayed"] = "true"
    return response


# -- serialisation ----------------------------------------------------------------------------

def _d(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def case_summary(case: Case) -> dict:
    return {"id": case.id, "status": case.status.value, "status_label": case.status.label, "kind": case.kind.value,
            "channel": case.channel.value, "categories": list(case.categories or []),
            "township_id": case.township_id, "village_id": case.village_id, "household_id": case.household_id,
            "applied_on": _d(case.applied_on), "due_on": _d(case.due_on), "due_provisional": bool(case.due_provisional),
            "decided_on": _d(case.decided_on), "priority": bool(case.priority)}


def _allowed_actions(step: Step, spec) -> list[str]:
    if step.status != StepStatus.open:
        return []
    out = []
    if user().role.is_township and step.township_id != user().org_unit_id:
        return out  # the other township's step of a case shared by two
    for outcome in spec.outcomes:
        try:
            engine.check_may_decide(user(), outcome.decision)
            engine.check_level(user(), spec.level, spec.roles)
        except PermissionDenied:
            continue
        out.append(outcome.key)
    if spec.skip is not None:
        try:
            engine.check_level(user(), spec.level, spec.roles)
            out.append("skip")
        except PermissionDenied:
            pass
    return out


def case_detail(case: Case) -> dict:
    view = engine.load_view(db.session, case)
    workflow = engine.workflow_for(case)
    timeline = []
    for s in view.steps:
        spec = workflow.by_key.get(s.key)
        timeline.append({"id": s.id, "key": s.key, "label": spec.label if spec else s.key, "round": s.round,
                         "level": s.level.value, "status": s.status.value, "opened_on": _d(s.opened_on),
                         "due_on": _d(s.due_on), "due_provisional": bool(s.due_provisional),
                         "runs_until": _d(s.runs_until), "closed_on": _d(s.closed_on), "outcome": s.outcome,
                         "actor_name": s.actor_name, "reason": s.reason, "version": s.version,
                         "actions": _allowed_actions(s, spec) if spec else []})
    return {**case_summary(case), "accepted_on": _d(case.accepted_on), "round": case.round,
            "decision_reason": case.decision_reason,
            "monthly_amount": str(case.monthly_amount) if case.monthly_amount is not None else None,
            "materials": [{"key": m.key, "label": m.label, "required": m.required, "provided": m.provided,
                           "via_platform": m.via_platform, "note": m.note,
                           "files": [{"id": f.id, "filename": f.filename, "content_type": f.content_type,
                                      "size": f.size, "sha256": f.sha256} for f in m.files]}
                          for m in case.materials],
            "missing_materials": [m.key for m in case.missing_materials], "timeline": timeline}


def warning_out(t: WarningTicket) -> dict:
    return {"id": t.id, "township_id": t.township_id, "village_id": t.village_id, "source_ref": t.source_ref,
            "summary": t.summary, "household_id": t.household_id, "received_on": _d(t.received_on),
            "due_on": _d(t.due_on), "due_provisional": bool(t.due_provisional), "due_rule": t.due_rule,
            "origin": t.origin,
            "status": t.status.value, "decision": t.decision.value if t.decision else None}


def _case(case_id: int) -> Case:
    case = db.session.get(Case, _id(case_id, "案件"))
    if case is None:
        raise ApiError("not_found", message_zh="案件不存在，或不在令牌的管辖范围内。")
    return case


def _plugin():
    tenant = db.session.get(Tenant, require_scope().tenant_id)
    return current_app.extensions["jiuzhu.plugins"].get(tenant.plugin_key)


# -- the document -----------------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi():
    from jiuzhu.api.openapi import document

    return jsonify(document())


# -- applications -----------------------------------------------------------------------------

@bp.get("/application-form")
def application_form():
    from types import SimpleNamespace

    plugin = _plugin()
    probe = SimpleNamespace(categories=[c.value for c in plugin.categories], channel="online", household=None,
                            tenant_id=require_scope().tenant_id)
    villages = db.session.scalars(select(OrgUnit).where(OrgUnit.level == OrgLevel.village).order_by(OrgUnit.id))
    return jsonify({"plugin": plugin.key,
                    "categories": [{"key": c.value, "label": c.label} for c in plugin.categories],
                    "materials": [{"key": m.key, "label": m.label, "required": m.required, "platform": m.platform}
                                  for m in plugin.materials_for(probe)],
                    "villages": [{"id": v.id, "name": v.name, "township_id": v.parent_id} for v in villages],
                    "relations": [r.value for r in Relation], "income_kinds": [k.value for k in IncomeKind]})


def _plugin_form_check(body: dict, channel: Channel) -> None:
    """The county's own application form (a plugin's marshmallow schema, where it has one) over the
    application part of the body: its required dates, its categories and materials, in its words."""
    form_cls = getattr(_plugin(), "application_form", None)
    if not isinstance(form_cls, type):
        return
    declared = form_cls().fields
    raw = {k: v for k, v in body.items() if k in declared and v is not None}
    raw["channel"] = channel.value
    try:
        form_cls().load(raw)
    except SchemaError as exc:
        raise ApiError("validation_error", fields=marshmallow_fields(exc.messages)) from None


@bp.post("/applications")
@idempotent
def submit_application(body):
    data = _load(schemas.ApplicationIn, body)
    channel = Channel.village_proxy if user().role.is_village else Channel(data["channel"])
    _plugin_form_check(body, channel)
    village = db.session.get(OrgUnit, data["village_id"])
    if village is None or village.level != OrgLevel.village:
        raise ApiError("validation_error", fields={"village_id": ["村（社区）不存在，或不在令牌的管辖范围内。"]})
    applied_on = data["applied_on"] or china_today()
    registered_unit = _registered_unit(data)
    members = [MemberInput(name=m["name"], id_number=m["id_number"], relation=m["relation"],
                           coresident=m["coresident"], disability_grade=m["disability_grade"], health=m["health"],
                           work_ability=m["work_ability"], working=m["working"], incomes=dict(m["incomes"]))
               for m in data["members"]]
    supporters = [SupporterInput(name=s["name"], id_number=s["id_number"], duty=s["duty"], supports=s["supports"],
                                 monthly_income=s["monthly_income"], monthly_support_paid=s["monthly_support_paid"],
                                 address=s["address"]) for s in data["supporters"]]
    household = register_household(db.session, user(), village=village, address=data["address"],
                                   phone=data["phone"], members=members, supporters=supporters,
                                   properties=[(p["kind"], p["value"]) for p in data["properties"]],
                                   registered_place=data["registered_place"], registered_unit=registered_unit,
                                   tags=data["tags"], on=applied_on)
    case = engine.open_case(db.session, user(), household=household, categories=data["categories"],
                            channel=channel, applied_on=applied_on,
                            consent_classification=data["consent_classification"],
                            authorization_signed_on=data["authorization_signed_on"],
                            commitment_signed_on=data["commitment_signed_on"], provided=data["provided"],
                            via_platform=data["via_platform"], emergency_reason=data["emergency_reason"],
                            emergency_township_id=data["emergency_township_id"])
    return 201, case_detail(case)


def _registered_unit(data: dict):
    """The registered village (户籍所在地) in the county, where the rules share a case with it."""
    from jiuzhu.tenancy.services import registered_village

    return registered_village(db.session, _plugin(), data["registered_unit_id"], data["registered_place"])


@bp.post("/cases/<int:case_id>/materials")
@idempotent
def attach_material(body, case_id):
    data = _load(schemas.MaterialIn, body)
    case = _case(case_id)
    if data["file"] is not None:
        from jiuzhu.cases.files import attach_file

        try:
            content = base64.b64decode(data["file"]["content_base64"], validate=True)
        except ValueError:
            raise ApiError("validation_error", fields={"file.content_base64": ["不是有效的 base64 内容。"]}) from None
        attach_file(db.session, user(), case.id, data["key"], filename=data["file"]["filename"], data=content)
    if data["via_platform"] or data["note"] or data["file"] is None:
        engine.provide_material(db.session, user(), case.id, data["key"], via_platform=data["via_platform"],
                                note=data["note"])
    return 200, case_detail(case)


# -- cases ------------------------------------------------------------------------------------

def _cursor(case_id: int) -> str:
    return base64.urlsafe_b64encode(f"c{case_id}".encode()).decode().rstrip("=")


def _uncursor(raw: str) -> int:
    try:
        text = base64.urlsafe_b64decode((raw + "=" * (-len(raw) % 4)).encode()).decode()
        value = int(text[1:]) if text.startswith("c") else None
    except (ValueError, UnicodeDecodeError):
        value = None
    if value is None or not 0 <= value <= schemas.MAX_ID:
        raise ApiError("validation_error", fields={"after": ["分页游标无效。"]})
    return value


@bp.get("/cases")
def list_cases():
    args = _load(schemas.CaseListQuery, request.args.to_dict())
    q = select(Case)
    if "status" in args:
        q = q.where(Case.status == args["status"])
    if "category" in args:
        q = q.where(Case.categories.cast(String).like(f'%"{args["category"].replace("%", "")}"%'))
    if "channel" in args:
        q = q.where(Case.channel == args["channel"])
    if "township_id" in args:
        q = q.where(Case.township_id == args["township_id"])
    if "village_id" in args:
        q = q.where(Case.village_id == args["village_id"])
    if "after" in args:
        q = q.where(Case.id > _uncursor(args["after"]))
    limit = args["limit"]
    rows = list(db.session.scalars(q.order_by(Case.id).limit(limit + 1).options(*unshown_in_lists())))
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify({"items": [case_summary(c) for c in rows], "next": _cursor(rows[-1].id) if more else None})


@bp.get("/cases/<int:case_id>")
def read_case(case_id):
    from jiuzhu.privacy.models import AccessKind
    from jiuzhu.privacy.services import record_access

    case = _case(case_id)
    record_access(db.session, AccessKind.view_case, "case", case.id, household_id=case.household_id, detail="接口")
    return jsonify(case_detail(case))


@bp.post("/cases/<int:case_id>/steps/<int:step_id>/actions")
@idempotent
def step_action(body, case_id, step_id):
    data = _load(schemas.ActionIn, body)
    case = _case(case_id)
    step = db.session.get(Step, _id(step_id, "办理环节"))
    if step is None or step.case_id != case.id:
        raise ApiError("not_found", message_zh="该办理环节不存在，或不在令牌的管辖范围内。")
    if data["action"] == "skip":
        engine.skip(db.session, user(), step.id, data["reason"] or "")
    else:
        engine.act(db.session, user(), step.id, data["action"], data=data["data"], reason=data["reason"],
                   expected_version=data["expected_version"])
    return 200, case_detail(case)


# -- warnings ---------------------------------------------------------------------------------

@bp.post("/warnings")
@idempotent
def post_warning(body):
    from jiuzhu.warnings.services import TOWNSHIP_ACTS, receive

    data = _load(schemas.WarningIn, body)
    if user().role.is_village:  # refused as the service refuses it, before the township (out of its sight) is looked up
        raise PermissionDenied(TOWNSHIP_ACTS, code="township_acts")
    scope = require_scope()
    township = db.session.get(OrgUnit, data["township_id"])
    if township is None or township.level != OrgLevel.township or (
            scope.township_id is not None and township.id != scope.township_id):
        raise ApiError("validation_error", fields={"township_id": ["乡镇（街道）不存在，或不在令牌的管辖范围内。"]})
    ticket = receive(db.session, user(), township=township, id_number=data["id_number"],
                     source_ref=data["source_ref"], summary=data["summary"], received_on=data["received_on"],
                     origin=data["origin"])
    return 201, warning_out(ticket)


@bp.get("/warnings/<int:ticket_id>")
def read_warning(ticket_id):
    ticket = db.session.get(WarningTicket, _id(ticket_id, "预警单据"))
    if ticket is None:
        raise ApiError("not_found", message_zh="该预警单据不存在，或不在令牌的管辖范围内。")
    return jsonify(warning_out(ticket))


# -- duplicate benefits (重复享受) and 协查 ---------------------------------------------------------

def duplicates_out(case: Case) -> dict:
    from jiuzhu.duplicates.services import case_duplicates

    found = case_duplicates(db.session, case)
    matches = []
    for _first, group, resolution in found.groups:
        for m in group:
            matches.append({"member_id": m.member_id, "county": m.county, "same_county": m.same_county,
                            "case_id": m.case_id, "category": m.category, "state": m.state, "since": _d(m.since),
                            "other": m.other, "resolution": resolution.kind.value if resolution else None})
    return {"case_id": case.id, "matches": matches, "unresolved": len(found.unresolved)}


def _village_refused() -> None:
    if user().role.is_village:
        raise PermissionDenied("重复享受比对的结果只向乡镇（街道）和县级提供；村（社区）不能办理。")


@bp.get("/cases/<int:case_id>/duplicates")
def case_duplicates(case_id):
    _village_refused()
    return jsonify(duplicates_out(_case(case_id)))


@bp.post("/cases/<int:case_id>/duplicates/resolutions")
@idempotent
def resolve_duplicate(body, case_id):
    from jiuzhu.duplicates.services import record_resolution

    data = _load(schemas.ResolutionIn, body)
    case = _case(case_id)
    record_resolution(db.session, user(), case.id, member_id=data["member_id"], other=data["other"],
                      kind=data["kind"], note=data["note"])
    return 200, duplicates_out(case)


def request_out(q) -> dict:
    return {"id": q.id, "direction": q.direction, "county": q.county, "case_id": q.case_id, "category": q.category,
            "opened_on": _d(q.opened_on), "due_on": _d(q.due_on), "answer": q.answer,
            "stopped_month": _d(q.stopped_month), "answered_on": _d(q.answered_on)}


@bp.get("/county-requests")
def county_requests():
    from jiuzhu.duplicates.services import COUNTY_ROLES, requests

    if user().role not in COUNTY_ROLES:
        raise PermissionDenied("跨县协查由县级社会救助部门发起和答复。")
    return jsonify({"items": [request_out(q) for q in requests(db.session)]})


@bp.post("/county-requests")
@idempotent
def open_county_request(body):
    from jiuzhu.duplicates.services import open_request, requests

    data = _load(schemas.CountyRequestIn, body)
    case = _case(data["case_id"])
    open_request(db.session, user(), case.id, member_id=data["member_id"])
    return 201, {"items": [request_out(q) for q in requests(db.session)
                           if q.direction == "out" and q.case_id == case.id]}


@bp.post("/county-requests/<int:request_id>/answer")
@idempotent
def answer_county_request(body, request_id):
    from jiuzhu.duplicates.services import answer_request

    data = _load(schemas.CountyAnswerIn, body)
    answered = answer_request(db.session, user(), _id(request_id, "协查请求"), answer=data["answer"],
                              stopped_month=data["stopped_month"])
    return 200, request_out(answered)


# -- publicity --------------------------------------------------------------------------------

@bp.get("/publicity")
def publicity():
    from jiuzhu.disclosure.services import publicity_list

    scope = require_scope()
    on = china_today()
    lists = publicity_list(db.session, on, township_id=scope.township_id)
    places = []
    for place, rows in lists.items():
        if scope.village_id is not None and place.unit_id != scope.village_id:
            continue
        places.append({"name": place.name, "unit_id": place.unit_id, "external": place.external,
                       "rows": [{k: str(v) for k, v in r.as_public().items()} for r in rows]})
    return jsonify({"on": on.isoformat(), "places": places})
