"""The workflow engine: every action on a case goes through one of these functions.

Each function checks who may act (the village rule first), validates the input, applies the
transition with its audit event, and flushes; the caller commits, so a refused action or an error
leaves nothing behind. Concurrent actions on one case are serialised by locking the case row; the
second actor then finds the step closed and gets a clear message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from marshmallow import ValidationError as SchemaError
from sqlalchemy import select

from jiuzhu.audit import record
from jiuzhu.auth.models import User
from jiuzhu.auth.roles import Role
from jiuzhu.cases.categories import CaseKind, CaseStatus, Category, Channel, Finding
from jiuzhu.cases.models import Case, CaseMaterial, CategoryFinding, Notice
from jiuzhu.cases.numbering import next_number
from jiuzhu.clock import china_today
from jiuzhu.errors import NotFound, PermissionDenied, ServiceError, ValidationError
from jiuzhu.tenancy.models import OrgLevel
from jiuzhu.tenancy.services import county_place, county_places
from jiuzhu.workflow import deadlines
from jiuzhu.workflow.models import Step, StepStatus
from jiuzhu.workflow.spec import Decision, Outcome, StepSpec, StepTownship, Workflow

VILLAGE_RULE = ("村（社区）不能作出受理、不予受理、审核确认、不予确认、撤销或终止的决定；"
                "可以代为申请、上传材料、协助调查和公示。")


class Conflict(ServiceError):
    """Someone else acted first."""

    code = "conflict"


# -- who may act -------------------------------------------------------------------------------

def check_may_decide(user: User, decision: Decision | None) -> None:
    """The core's village rule: whatever a plugin declares, a village never decides."""
    if decision is not None and user.role.is_village:
        raise PermissionDenied(VILLAGE_RULE, code="village_rule")


def check_level(user: User, level: OrgLevel, roles: frozenset[Role] | None = None, what: str = "") -> None:
    if roles is not None:
        if user.role not in roles:
            allowed = "、".join(r.label for r in sorted(roles))
            raise PermissionDenied(f"{what or '该操作'}只能由{allowed}办理。")
        return
    if user.role.org_level != level:
        raise PermissionDenied(f"{what or '该环节'}由{level.label}办理，{user.role.label}不能办理。")


def owning_township(case: Case, spec: StepSpec) -> int:
    """The township that owns ``spec`` on ``case``: the case's other township where the step is
    declared for its role (``StepSpec.township``), else the case's own (residence) township."""
    if (spec.township != StepTownship.residence and case.other_township_id is not None
            and case.other_township_role == spec.township.value):
        return case.other_township_id
    return case.township_id


def check_township(user: User, case: Case, township_id: int, spec: StepSpec | None = None,
                   what: str = "") -> None:
    """A township user acts only on what belongs to their township (a case shared by two townships:
    each acts on its own steps). County users act anywhere in the county; villages are held by the
    level and the village rule."""
    if not user.role.is_township or user.org_unit_id == township_id:
        return
    if spec is not None:
        owner = (spec.township.label if township_id == case.other_township_id
                 else StepTownship.residence.label)
        raise PermissionDenied(f"“{spec.label}”由{owner}办理，本乡镇（街道）不能办理。", code="other_township")
    raise PermissionDenied(f"{what or '该操作'}由受理该案件的乡镇（街道）办理，本乡镇（街道）不能办理。",
                           code="other_township")


def case_township(case: Case) -> int:
    """The township that handles the case as a whole (the one-time notice, materials, extension,
    withdrawal, closing, review): the owner of its acceptance step (受理机关)."""
    workflow = workflow_for(case)
    spec = workflow.by_key.get("acceptance")
    return owning_township(case, spec) if spec is not None else case.township_id


def deciding_township(case: Case) -> int:
    """The township that confirms or denies the case (and so may revoke where townships do)."""
    workflow = workflow_for(case)
    spec = next((s for s in workflow.steps if any(o.decision == Decision.approve for o in s.outcomes)), None)
    return owning_township(case, spec) if spec is not None else case.township_id


# -- reading a case -----------------------------------------------------------------------------

def plugin_for(case: Case):
    return current_app.extensions["jiuzhu.plugins"].get(case.plugin_key)


def workflow_for(case: Case) -> Workflow:
    return plugin_for(case).workflow_for(case)


@dataclass
class CaseView:
    """A case with its steps, as the engine and the plugins' predicates see it."""

    case: Case
    steps: list[Step]

    def latest(self, key: str) -> Step | None:
        found = [s for s in self.steps if s.key == key]
        return max(found, key=lambda s: (s.round, s.id)) if found else None

    def closed(self, key: str) -> bool:
        s = self.latest(key)
        return s is not None and s.status in (StepStatus.done, StepStatus.skipped)

    @property
    def open_steps(self) -> list[Step]:
        return [s for s in self.steps if s.status == StepStatus.open]

    def data(self, key: str) -> dict[str, Any]:
        s = self.latest(key)
        return dict(s.data or {}) if s is not None else {}


def load_view(session, case: Case) -> CaseView:
    steps = session.scalars(select(Step).where(Step.case_id == case.id).order_by(Step.id)
                            .execution_options(populate_existing=True)).all()
    return CaseView(case, list(steps))


def lock_case(session, case_id: int) -> Case:
    case = session.scalars(select(Case).where(Case.id == case_id).with_for_update()
                           .execution_options(populate_existing=True)).one_or_none()
    if case is None:
        raise NotFound("案件不存在，或不在您的管辖范围内。")
    return case


def _actor_name(user: User) -> str:
    return f"{user.full_name}（{user.role.label}）"


def _validated(schema_cls, data: dict | None, case: Case, on: dt.date) -> dict:
    """The step form loaded by its schema, its dates checked against the case: every problem at once."""
    if schema_cls is None:
        return dict(data or {})
    try:
        clean = schema_cls().load(data or {})
    except SchemaError as exc:
        fields = {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in exc.messages.items()}
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        for name, messages in _date_problems(case, valid, on).items():
            fields.setdefault(name, messages)
        raise ValidationError(field_errors=fields) from None
    return clean


def _date_problems(case: Case, clean: dict, on: dt.date) -> dict[str, list[str]]:
    """A date typed on a step's form is of something that happened in this case: not after the day it is
    recorded and not before the application — except in temporary relief, where help in an emergency
    may come first and the paperwork after (先行救助，事后补充说明情况)."""
    problems: dict[str, list[str]] = {}
    lower = None if "temporary_relief" in (case.categories or []) else case.applied_on
    for name, value in clean.items():
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            continue
        if value > on:
            problems[name] = [f"不能晚于办理当日（{on:%Y-%m-%d}）。"]
        elif lower and value < lower:
            problems[name] = [f"不能早于申请日期（{lower:%Y-%m-%d}）。"]
    return problems


def _json_ready(data: dict) -> dict:
    return {k: _json_value(v) for k, v in data.items()}


def _json_value(v):
    """Dates and Decimals as strings, also inside lists and nested forms (e.g. payment stages)."""
    if isinstance(v, dt.date):
        return v.isoformat()
    if hasattr(v, "as_tuple"):  # Decimal
        return str(v)
    if isinstance(v, dict):
        return _json_ready(v)
    if isinstance(v, list | tuple):
        return [_json_value(x) for x in v]
    return v


# -- opening steps ------------------------------------------------------------------------------

def _open_step(session, view: CaseView, spec: StepSpec, on: dt.date) -> Step | None:
    case = view.case
    if any(s.key == spec.key and s.is_open for s in view.steps):
        return None
    if any(not view.closed(j) for j in spec.join):
        return None  # a partner is still running; the last one to close opens this step
    step = Step(case_id=case.id, tenant_id=case.tenant_id, township_id=owning_township(case, spec),
                village_id=case.village_id, key=spec.key, round=case.round, level=spec.level,
                status=StepStatus.open, opened_on=on, data={})
    step.case = case
    if spec.applies is not None and not spec.applies.when(case):
        # not this case's step: recorded as passed over, never open
        step.status, step.closed_on, step.closed_at = StepStatus.skipped, on, dt.datetime.now(dt.UTC)
        step.reason = f"不适用：{spec.applies.condition}" if spec.applies.condition else "不适用"
        session.add(step)
        view.steps.append(step)
        return step
    due = deadlines.step_deadline(spec, case, step, view.steps)
    if due is not None:
        step.due_on, step.due_provisional = due.due, due.provisional
    step.runs_until = deadlines.step_run_end(spec, step)
    session.add(step)
    view.steps.append(step)
    return step


def _after_skip(spec: StepSpec) -> tuple[str, ...]:
    """The steps that follow a skipped (or passed-over) step."""
    if spec.skip is not None and spec.skip.then is not None:
        return spec.skip.then
    return spec.outcomes[0].next


def _open_next(session, view: CaseView, workflow: Workflow, keys: Iterable[str], on: dt.date) -> list[Step]:
    opened = []
    for key in keys:
        spec = workflow.step(key)
        step = _open_step(session, view, spec, on)
        if step is None:
            continue
        if step.status == StepStatus.skipped:  # passed over (``StepSpec.applies``)
            opened += _open_next(session, view, workflow, _after_skip(spec), on)
        else:
            if spec.pauses_clock and step.runs_until is not None:
                # the clock stops for the period itself: the limit moves by it as the period opens
                case = view.case
                case.paused_workdays = (case.paused_workdays or 0) + deadlines.paused_between(
                    step.opened_on, step.runs_until)
                _refresh_case_due(case, workflow)
            opened.append(step)
    return opened


def _release_clock(case: Case, step: Step, spec, workflow: Workflow, on: dt.date) -> None:
    """A clock-pausing step closes: a period's working days were counted as it opened, so one ended early
    (an objection) gives back what it did not run and one closed late holds the clock no longer than its
    period; a pausing step without a period held it until now."""
    if not spec.pauses_clock:
        return
    if step.runs_until is not None:
        ran = deadlines.paused_between(step.opened_on, min(on, step.runs_until))
        planned = deadlines.paused_between(step.opened_on, step.runs_until)
        case.paused_workdays = (case.paused_workdays or 0) + ran - planned
    else:
        case.paused_workdays = (case.paused_workdays or 0) + deadlines.paused_between(step.opened_on, on)
    _refresh_case_due(case, workflow)


def _refresh_case_due(case: Case, workflow: Workflow) -> None:
    due = deadlines.case_deadline(case, workflow)
    if due is not None:
        case.limit_workdays = (workflow.limit.extended_workdays if case.extended and workflow.limit.extended_workdays
                               else workflow.limit.workdays)
        case.due_on, case.due_provisional = due.due, due.provisional


def _after_change(session, case: Case, view: CaseView | None, on: dt.date) -> None:
    """Keep the reminder outbox in step with the case's open deadlines."""
    from jiuzhu.reminders.planner import sync_case

    view = view or load_view(session, case)
    plugin = plugin_for(case)
    sync_case(session, case, view, plugin.workflow_for(case), plugin.case_settings(case), on)


# -- notices ------------------------------------------------------------------------------------

NOTICE_TITLES = {
    "missing_materials": "一次性告知书",
    "not_accepted": "不予受理通知书",
    "denial": "不予确认通知书",
    "certificate": "最低生活保障证",
    "referral": "转介告知书",
}


def issue_notice(session, user: User | None, case: Case, kind: str, on: dt.date, content: dict) -> Notice:
    plugin = plugin_for(case)
    number = plugin.notice_number(case, kind, on.year, next_number(session, kind, on.year))
    title = plugin.notice_title(kind)
    notice = Notice(case_id=case.id, tenant_id=case.tenant_id, kind=kind, number=number, issued_on=on,
                    content={"title": title, **content}, issued_by_id=user.id if user else None)
    notice.case = case
    session.add(notice)
    session.flush()
    record(session, entity_type="notice", entity_id=notice.id, action="issue", case_id=case.id,
           after={"kind": kind, "number": number, "title": title, "issued_on": on.isoformat()})
    return notice


# -- the transitions ----------------------------------------------------------------------------

def _locked_open_step(session, step_id: int):
    """The step's case locked, its steps re-read, and the step still open — or a clear refusal."""
    probe = session.get(Step, step_id)
    if probe is None:
        raise NotFound("该办理环节不存在，或不在您的管辖范围内。")
    case = lock_case(session, probe.case_id)
    view = load_view(session, case)
    step = next(s for s in view.steps if s.id == step_id)
    workflow = workflow_for(case)
    spec = workflow.step(step.key)
    if step.status != StepStatus.open:
        who = f"已由{step.actor_name}于 {step.closed_on:%Y-%m-%d} 处理" if step.actor_name else "已结束"
        raise Conflict(f"“{spec.label}”{who}，请刷新页面查看最新状态。")
    return case, view, step, workflow, spec


def act(session, user: User, step_id: int, outcome_key: str, *, data: dict | None = None,
        reason: str | None = None, on: dt.date | None = None, expected_version: int | None = None) -> Step:
    """Close an open step with one of its outcomes, apply its decision and open what follows."""
    on = on or china_today()
    case, view, step, workflow, spec = _locked_open_step(session, step_id)
    if expected_version is not None and step.version != expected_version:
        raise Conflict(f"“{spec.label}”在您打开之后已被他人修改，请刷新页面后再办理。")
    try:
        outcome = spec.outcome(outcome_key)
    except KeyError:
        allowed = "、".join(o.label for o in spec.outcomes)
        raise ValidationError(f"“{spec.label}”没有这一结果；可选：{allowed}。") from None
    check_may_decide(user, outcome.decision)
    check_level(user, spec.level, spec.roles, f"“{spec.label}”")
    check_township(user, case, step.township_id, spec)
    if on < step.opened_on:
        raise ValidationError(f"办理日期不能早于本环节开始日期 {step.opened_on:%Y-%m-%d}。")
    if not outcome.early and step.runs_until and on < step.runs_until:
        raise ValidationError(f"“{spec.label}”至 {step.runs_until:%Y-%m-%d} 期满，期满前不能“{outcome.label}”。")
    reason = (reason or "").strip() or None
    if outcome.requires_reason and not reason:
        raise ValidationError(f"“{outcome.label}”须填写理由。", field_errors={"reason": ["请填写理由。"]})
    clean = _validated(outcome.form or spec.form, data, case, on)
    problems = _core_guards(case, view, spec, outcome, clean, on) + plugin_for(case).check_outcome(
        case, view, spec, outcome, clean, on)
    if outcome.decision == Decision.approve and not problems:
        # 重复享受: a member drawing or asking elsewhere needs the approver's recorded resolution first
        from jiuzhu.duplicates.services import approval_problems

        problems += approval_problems(session, case)
    dates = _date_problems(case, clean, on)
    if problems or dates:
        raise ValidationError(*problems, field_errors=dates)

    before = {"step": step.key, "status": step.status.value, "case_status": case.status.value}
    step.status = StepStatus.done
    step.outcome = outcome.key
    step.closed_on = on
    step.closed_at = dt.datetime.now(dt.UTC)
    step.actor_id = user.id
    step.actor_name = _actor_name(user)
    step.data = _json_ready(clean)
    step.reason = reason
    _release_clock(case, step, spec, workflow, on)
    _apply_decision(session, user, case, view, outcome, clean, reason, on)
    plugin_for(case).on_outcome(session, user, case, view, spec, outcome, clean, on)
    if outcome.status is not None:
        case.status = outcome.status
    if outcome.issues:
        issue_notice(session, user, case, outcome.issues, on, _notice_content(case, view, outcome.issues))
    if outcome.loop:
        case.round += 1
    if case.status.is_open:
        _open_next(session, view, workflow, outcome.next, on)
    else:
        if outcome.decision is not None:  # the decision that ends the case ends what still runs; the
            _cancel_open(view, on, keep=())  # follow-up steps it opens (notice, payment, filing) run side by side
        _open_next(session, view, workflow, outcome.next, on)
    session.flush()
    _after_change(session, case, view, on)
    record(session, entity_type="case_step", entity_id=step.id, action=f"outcome:{outcome.key}",
           case_id=case.id, reason=reason,
           before=before, after={"step": step.key, "status": step.status.value, "outcome": outcome.key,
                                 "case_status": case.status.value, "data": step.data})
    return step


def _core_guards(case: Case, view: CaseView, spec: StepSpec, outcome: Outcome, data: dict,
                 on: dt.date) -> list[str]:
    problems = []
    if outcome.decision == Decision.accept:
        missing = [m.label for m in case.missing_materials]
        if missing:
            problems.append("材料不全，不能受理：缺少" + "、".join(missing) + "。请先出具一次性告知书。")
        if case.authorization_signed_on is None:
            problems.append("申请人尚未签署家庭经济状况核查授权书，不能受理。")
    if outcome.decision == Decision.approve and not case.status.is_open:
        problems.append("案件已结束，不能再确认。")
    return problems


def _apply_decision(session, user: User, case: Case, view: CaseView, outcome: Outcome, data: dict,
                    reason: str | None, on: dt.date) -> None:
    decision = outcome.decision
    if decision is None:
        return
    plugin = plugin_for(case)
    if decision == Decision.accept:
        case.accepted_on = on
        case.status = CaseStatus.in_review
        _refresh_case_due(case, workflow_for(case))
    elif decision == Decision.refuse_acceptance:
        case.status = CaseStatus.not_accepted
        case.decided_on = case.closed_on = on
        case.decision_reason = reason
    elif decision == Decision.approve:
        case.status = CaseStatus.approved
        case.decided_on = on
        case.decision_reason = reason
        if data.get("monthly_amount") is not None:
            case.monthly_amount = data["monthly_amount"]
        if case.review_of_id is not None:  # a review that continues benefits, maybe at a new amount
            original = lock_case(session, case.review_of_id)
            original.monthly_amount = case.monthly_amount or original.monthly_amount
        else:
            case.benefit_start = plugin.benefit_start(case, on)
        _record_findings(session, case, data, on)
    elif decision == Decision.deny:
        case.status = CaseStatus.denied
        case.decided_on = on
        case.decision_reason = reason
        _record_findings(session, case, data, on)
        if data.get("referral"):
            case.referral = data["referral"]
    elif decision in (Decision.close, Decision.revoke):
        case.status = CaseStatus.closed if decision == Decision.close else CaseStatus.revoked
        case.decided_on = case.closed_on = on
        case.decision_reason = reason
        if case.review_of_id is not None:  # a review that stops benefits ends the original case
            original = lock_case(session, case.review_of_id)
            original.status, original.closed_on, original.decision_reason = CaseStatus.closed, on, reason


def _record_findings(session, case: Case, data: dict, on: dt.date) -> None:
    """Per-category findings, in the plugin's determination order (Shexian's classified review)."""
    findings = data.get("findings") or []
    order = [c.value for c in plugin_for(case).category_order]
    existing = {f.category.value: f for f in case.findings}
    for item in findings:
        category = item["category"]
        f = existing.get(category)
        if f is None:
            f = CategoryFinding(case_id=case.id, tenant_id=case.tenant_id, category=category,
                                position=order.index(category) + 1 if category in order else len(order) + 1,
                                finding=Finding(item["finding"]), reason=item.get("reason"), decided_on=on)
            f.case = case
            session.add(f)
        else:
            f.finding, f.reason, f.decided_on = Finding(item["finding"]), item.get("reason"), on


def _notice_content(case: Case, view: CaseView, kind: str) -> dict:
    content: dict[str, Any] = {"case_id": case.id}
    if kind in ("denial", "not_accepted"):
        content["reason"] = case.decision_reason
        if case.referral:
            content["referral"] = case.referral
    if kind == "certificate":
        content["monthly_amount"] = str(case.monthly_amount) if case.monthly_amount is not None else None
        content["benefit_start"] = case.benefit_start.isoformat() if case.benefit_start else None
    return content


def _cancel_open(view: CaseView, on: dt.date, keep: Iterable[str]) -> None:
    for s in view.open_steps:
        if s.key not in keep:
            s.status = StepStatus.cancelled
            s.closed_on = on
            s.closed_at = dt.datetime.now(dt.UTC)


def skip(session, user: User, step_id: int, reason: str, *, on: dt.date | None = None) -> Step:
    """Skip a skippable step whose condition holds, recording why."""
    on = on or china_today()
    case, view, step, workflow, spec = _locked_open_step(session, step_id)
    check_level(user, spec.level, spec.roles, f"“{spec.label}”")
    check_township(user, case, step.township_id, spec)
    if spec.skip is None:
        raise ValidationError(f"“{spec.label}”不能跳过。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("跳过环节须填写理由。", field_errors={"reason": ["请填写理由。"]})
    if spec.skip.when is not None and not spec.skip.when(case, view):
        raise ValidationError(f"不满足跳过“{spec.label}”的条件：{spec.skip.condition}。")
    step.status = StepStatus.skipped
    step.closed_on = on
    _release_clock(case, step, spec, workflow, on)
    step.closed_at = dt.datetime.now(dt.UTC)
    step.actor_id, step.actor_name, step.reason = user.id, _actor_name(user), reason
    then = spec.skip.then if spec.skip.then is not None else spec.outcomes[0].next
    _open_next(session, view, workflow, then, on)
    session.flush()
    _after_change(session, case, view, on)
    record(session, entity_type="case_step", entity_id=step.id, action="skip", case_id=case.id, reason=reason,
           before={"step": step.key, "status": "open"}, after={"step": step.key, "status": "skipped"})
    return step


def extend(session, user: User, case_id: int, reason: str, *, on: dt.date | None = None) -> Case:
    """Use the case's one extension of the overall time limit, with a reason."""
    on = on or china_today()
    check_may_decide(user, None)
    case = lock_case(session, case_id)
    workflow = workflow_for(case)
    if user.role.is_village:
        raise PermissionDenied("村（社区）不能延长办理时限。")
    check_township(user, case, case_township(case), what="延长办理时限")
    reason = (reason or "").strip()
    errors = []
    if not case.status.is_open or case.accepted_on is None:
        errors.append("只有已受理、尚未办结的案件可以延长办理时限。")
    if workflow.limit.extended_workdays is None:
        errors.append("本地规则不允许延长办理时限。")
    if case.extended:
        errors.append("办理时限只能延长一次，本案已延长过。")
    if not reason:
        errors.append("延长办理时限须填写理由。")
    if errors:
        raise ValidationError(*errors)
    before = {"due_on": case.due_on.isoformat() if case.due_on else None, "extended": False}
    case.extended = True
    case.extension_reason = reason
    _refresh_case_due(case, workflow)
    session.flush()
    _after_change(session, case, None, on)
    record(session, entity_type="case", entity_id=case.id, action="extend", case_id=case.id, reason=reason,
           before=before, after={"due_on": case.due_on.isoformat(), "extended": True,
                                 "limit_workdays": case.limit_workdays})
    return case


def _end_case(session, user: User, case_id: int, reason: str, on: dt.date | None, *, decision: Decision | None,
              status: CaseStatus, allowed: Iterable[CaseStatus], action: str, roles: frozenset[Role]) -> Case:
    on = on or china_today()
    check_may_decide(user, decision)
    if user.role not in roles:
        raise PermissionDenied(f"{user.role.label}不能{action}案件。")
    case = lock_case(session, case_id)
    check_township(user, case, deciding_township(case) if decision == Decision.revoke else case_township(case),
                   what=f"{action}案件")
    reason = (reason or "").strip()
    errors = []
    if case.status not in allowed:
        errors.append(f"案件当前状态为“{case.status.label}”，不能{action}。")
    if not reason:
        errors.append(f"{action}须填写理由。")
    if errors:
        raise ValidationError(*errors)
    view = load_view(session, case)
    before = {"status": case.status.value}
    _cancel_open(view, on, keep=())
    case.status = status
    case.closed_on = on
    case.decision_reason = reason
    session.flush()
    _after_change(session, case, view, on)
    record(session, entity_type="case", entity_id=case.id, action=action_key(status), case_id=case.id,
           reason=reason, before=before, after={"status": status.value, "closed_on": on.isoformat()})
    return case


def action_key(status: CaseStatus) -> str:
    return {CaseStatus.withdrawn: "withdraw", CaseStatus.revoked: "revoke", CaseStatus.closed: "close"}[status]


TOWNSHIP_AND_COUNTY = frozenset({Role.township_staff, Role.township_leader, Role.county_staff, Role.county_admin})
COUNTY = frozenset({Role.county_staff, Role.county_admin})


def withdraw(session, user: User, case_id: int, reason: str, *, on: dt.date | None = None) -> Case:
    """The applicant withdraws (recorded by township or county staff); open steps are cancelled."""
    return _end_case(session, user, case_id, reason, on, decision=None, status=CaseStatus.withdrawn,
                     allowed=(CaseStatus.pending_acceptance, CaseStatus.in_review), action="撤回",
                     roles=TOWNSHIP_AND_COUNTY)


def revoke(session, user: User, case_id: int, reason: str, *, on: dt.date | None = None) -> Case:
    """A wrong decision revoked (撤销原确认决定): by the county, or by the township that confirmed it
    where townships confirm (the plugin's ``revoking_roles``); the 撤销确认决定通知书 is issued."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("案件不存在，或不在您的管辖范围内。")
    case = _end_case(session, user, case_id, reason, on, decision=Decision.revoke, status=CaseStatus.revoked,
                     allowed=(CaseStatus.approved,), action="撤销", roles=plugin_for(case).revoking_roles())
    # the household is told in writing, with the reason and its remedies (撤销确认决定通知书)
    issue_notice(session, user, case, "revocation", case.closed_on, {"reason": case.decision_reason})
    return case


def close(session, user: User, case_id: int, reason: str, *, on: dt.date | None = None) -> Case:
    """End a case for another reason (death, moving away, benefits stopped after review)."""
    return _end_case(session, user, case_id, reason, on, decision=Decision.close, status=CaseStatus.closed,
                     allowed=(CaseStatus.pending_acceptance, CaseStatus.in_review, CaseStatus.approved),
                     action="终止", roles=TOWNSHIP_AND_COUNTY)


def notify_missing_materials(session, user: User, case_id: int, *, on: dt.date | None = None) -> Notice:
    """The one-time written notice (一次性告知) listing every missing item, all at once."""
    on = on or china_today()
    case = lock_case(session, case_id)
    check_may_decide(user, None)
    if user.role.is_village:
        raise PermissionDenied("一次性告知书由受理机关出具，村（社区）不能出具。")
    check_township(user, case, case_township(case), what="出具一次性告知书")
    if case.status != CaseStatus.pending_acceptance:
        raise ValidationError("只有待受理的案件需要出具一次性告知书。")
    missing = case.missing_materials
    if not missing:
        raise ValidationError("材料已齐全，无需一次性告知，请直接受理。")
    return issue_notice(session, user, case, "missing_materials", on,
                        {"missing": [{"key": m.key, "label": m.label} for m in missing]})


def provide_material(session, user: User, case_id: int, key: str, *, via_platform: bool = False,
                     note: str | None = None) -> CaseMaterial:
    """Tick a material as provided (villages may do this when they upload for an applicant)."""
    case = lock_case(session, case_id)
    material = next((m for m in case.materials if m.key == key), None)
    if material is None:
        raise ValidationError(f"材料清单中没有“{key}”。")
    if not case.status.is_open:
        raise ValidationError("案件已结束，不能再补充材料。")
    before = {"provided": material.provided, "via_platform": material.via_platform}
    material.provided = material.provided or not via_platform
    material.via_platform = material.via_platform or via_platform
    material.note = note or material.note
    session.flush()
    record(session, entity_type="case_material", entity_id=material.id, action="provide", case_id=case.id,
           before=before, after={"key": key, "provided": material.provided, "via_platform": material.via_platform})
    return material


# -- creating a case ----------------------------------------------------------------------------

def application_problems(user: User, plugin, categories: Iterable[str], channel: Channel | str
                         ) -> list[tuple[str, str]]:
    """What is wrong with an application's channel and categories, as (message, field) pairs —
    checked before the household is registered, so a screen reports them with the household's own."""
    out: list[tuple[str, str]] = []
    try:
        channel = Channel(channel)
    except ValueError:
        return [(f"申请渠道“{channel}”无效。", "channel")]
    if user.role.is_village and channel != Channel.village_proxy:
        out.append(("村（社区）只能受申请人委托代为提出申请（渠道：村（社区）代为申请）。", "channel"))
    if channel == Channel.village_proxy and not user.role.is_village and user.role.org_level != OrgLevel.township:
        out.append(("“村（社区）代为申请”须由村（社区）协理员或乡镇经办人员录入。", "channel"))
    if user.role.is_county and user.role is not Role.county_staff:
        out.append((f"{user.role.label}不能录入申请。", "channel"))
    wanted = [str(c) for c in categories]
    unknown = [c for c in wanted if c not in [c.value for c in plugin.categories]]
    if not wanted:
        out.append(("请至少选择一个申请类别。", "categories"))
    if unknown:
        out.append(("本地规则不受理这些类别：" + "、".join(unknown) + "。", "categories"))
    return out


def open_case(session, user: User, *, household, categories: Iterable[str], channel: Channel | str,
              applied_on: dt.date | None = None, consent_classification: bool = False,
              authorization_signed_on: dt.date | None = None, commitment_signed_on: dt.date | None = None,
              provided: Iterable[str] = (), via_platform: Iterable[str] = (),
              emergency_reason: str | None = None, emergency_township_id: int | str | None = None) -> Case:
    """A new application, with its materials checklist and its first steps open. ``emergency_reason``:
    why a temporary relief takes the plugin's simplified emergency path (急难), where it has one."""
    from jiuzhu.tenancy.context import require_scope
    from jiuzhu.tenancy.models import Tenant

    applied_on = applied_on or china_today()
    tenant = session.get(Tenant, require_scope().tenant_id)
    plugin = current_app.extensions["jiuzhu.plugins"].get(tenant.plugin_key)
    problems = application_problems(user, plugin, categories, channel)
    errors = [message for message, _ in problems]
    wanted = [str(c) for c in categories]
    if household.village_id is None and user.role.is_village:
        errors.append("该户不在您所在的村（社区）。")
    if not problems:
        errors += plugin.check_application(household, wanted, consent_classification, applied_on)
    emergency_reason = (emergency_reason or "").strip() or None
    field_errors = {}
    if emergency_reason is not None:
        if not getattr(plugin, "emergency_path", False):
            field_errors["emergency_reason"] = ["本地规则没有简化办理的急难程序。"]
        elif wanted != [Category.temporary_relief.value]:
            field_errors["emergency_reason"] = ["急难程序只用于单独申请临时救助的案件。"]
        elif len(emergency_reason) > 500:
            field_errors["emergency_reason"] = ["急难情形说明不能超过 500 字。"]
    emergency_township = None
    if emergency_township_id not in (None, ""):
        if StepTownship.emergency.value not in getattr(plugin, "shared_townships", ()):
            field_errors["emergency_township_id"] = ["本地规则的临时救助不由急难发生地另行办理。"]
        elif wanted != [Category.temporary_relief.value]:
            field_errors["emergency_township_id"] = ["急难发生地只用于单独申请临时救助的案件。"]
        else:
            try:
                emergency_township = county_place(session, emergency_township_id, OrgLevel.township,
                                                  "emergency_township_id")
            except ValidationError as exc:
                field_errors.update(exc.field_errors)
    if errors or field_errors:
        raise ValidationError(*errors, field_errors=field_errors)
    channel = Channel(channel)
    order = [c.value for c in plugin.category_order]
    wanted = sorted(set(wanted), key=lambda c: order.index(c) if c in order else len(order))
    case = Case(tenant_id=tenant.id, township_id=household.township_id, village_id=household.village_id,
                household_id=household.id, channel=channel, categories=wanted, plugin_key=plugin.key,
                status=CaseStatus.pending_acceptance, consent_classification=consent_classification,
                authorization_signed_on=authorization_signed_on, commitment_signed_on=commitment_signed_on,
                applied_on=applied_on, round=1, submitted_by_id=user.id, paused_workdays=0,
                emergency_reason=emergency_reason)
    case.household = household
    _share(session, plugin, case, household, emergency_township)
    priority = plugin.priority_reason(household, applied_on)
    case.priority, case.priority_reason = priority is not None, priority
    provided, via_platform = set(provided), set(via_platform)
    for spec in plugin.materials_for(case):
        m = CaseMaterial(key=spec.key, label=spec.label, required=spec.required,
                         provided=spec.key in provided, via_platform=spec.platform and spec.key in via_platform)
        case.materials.append(m)
    session.add(case)
    session.flush()
    for m in case.materials:
        m.tenant_id = case.tenant_id
    workflow = plugin.workflow_for(case)
    view = CaseView(case, [])
    _open_next(session, view, workflow, workflow.start, applied_on)
    session.flush()
    _after_change(session, case, view, applied_on)
    record(session, entity_type="case", entity_id=case.id, action="open", case_id=case.id,
           after={"categories": wanted, "channel": channel.value, "applied_on": applied_on.isoformat(),
                  "priority": case.priority, "household_id": household.id,
                  "other_township_id": case.other_township_id, "other_township_role": case.other_township_role})
    return case


def _share(session, plugin, case: Case, household, emergency_township) -> None:
    """The case's second township, where the rules give it steps: where the emergency happened, or the
    household's registered township when that is another township of the county (人户分离)."""
    roles = {s.township for s in plugin.workflow_for(case).steps} - {StepTownship.residence}
    other, role = None, None
    if emergency_township is not None and StepTownship.emergency in roles:
        other, role = emergency_township.township_id, StepTownship.emergency
    elif StepTownship.registered in roles and household.registered_unit_id is not None:
        place = next(iter(county_places(session, OrgLevel.village, household.registered_unit_id)
                          or county_places(session, OrgLevel.township, household.registered_unit_id)), None)
        if place is not None:
            other, role = place.township_id, StepTownship.registered
    if other is not None and other != case.township_id:
        case.other_township_id, case.other_township_role = other, role.value


def open_review(session, user: User, case_id: int, *, on: dt.date | None = None) -> Case:
    """A periodic review (定期复核) of an approved case: its own steps, its own decision."""
    on = on or china_today()
    if user.role not in TOWNSHIP_AND_COUNTY:
        raise PermissionDenied(f"{user.role.label}不能发起定期复核。")
    original = lock_case(session, case_id)
    check_township(user, original, case_township(original), what="发起定期复核")
    if original.status != CaseStatus.approved:
        raise ValidationError("只有正在享受救助的案件可以复核。")
    running = session.scalar(select(Case.id).where(Case.review_of_id == original.id,
                                                   Case.status == CaseStatus.in_review))
    if running:
        raise ValidationError(f"该案件已有进行中的复核（案件 {running}）。")
    review = Case(tenant_id=original.tenant_id, township_id=original.township_id, village_id=original.village_id,
                  household_id=original.household_id, other_township_id=original.other_township_id,
                  other_township_role=original.other_township_role, kind=CaseKind.review, channel=original.channel,
                  categories=list(original.categories), plugin_key=original.plugin_key, status=CaseStatus.in_review,
                  applied_on=on, accepted_on=on, round=1, review_of_id=original.id, submitted_by_id=user.id,
                  authorization_signed_on=original.authorization_signed_on, paused_workdays=0,
                  monthly_amount=original.monthly_amount)
    session.add(review)
    session.flush()
    workflow = workflow_for(review)
    _refresh_case_due(review, workflow)
    view = CaseView(review, [])
    _open_next(session, view, workflow, workflow.start, on)
    session.flush()
    _after_change(session, review, view, on)
    record(session, entity_type="case", entity_id=review.id, action="open_review", case_id=review.id,
           after={"review_of": original.id, "opened_on": on.isoformat()})
    return review


def recompute_open_deadlines(session, since: dt.date | None = None) -> int:
    """Recompute the due dates of the current tenant's open cases and steps (after a new year's
    holiday schedule is entered). ``since``: only deadlines on or after that day, or provisional
    ones, can have changed. Returns how many dates changed."""
    open_statuses = [CaseStatus.pending_acceptance, CaseStatus.in_review]
    query = select(Case).where(Case.status.in_(open_statuses))
    if since is not None:
        steps_affected = select(Step.case_id).where(
            Step.status == StepStatus.open,
            (Step.due_on >= since) | Step.due_provisional.is_(True) | (Step.runs_until >= since))
        query = query.where((Case.due_on >= since) | Case.due_provisional.is_(True) | Case.id.in_(steps_affected))
    changed = 0
    for case in session.scalars(query).all():
        workflow = workflow_for(case)
        view = load_view(session, case)
        old = (case.due_on, case.due_provisional)
        _refresh_case_due(case, workflow)
        changed += old != (case.due_on, case.due_provisional)
        for step in view.open_steps:
            spec = workflow.step(step.key)
            due = deadlines.step_deadline(spec, case, step, view.steps)
            if due is not None and (step.due_on, step.due_provisional) != (due.due, due.provisional):
                step.due_on, step.due_provisional = due.due, due.provisional
                changed += 1
            run_end = deadlines.step_run_end(spec, step)
            if run_end != step.runs_until:
                step.runs_until = run_end
        session.flush()
        _after_change(session, case, view, china_today())
    session.flush()
    return changed


def on_schedule_entered(year: int, session, replaced: bool = False, **_) -> None:
    """Receiver of ``calendar.schedule_entered``: recompute every county's open deadlines that the
    new year can move, in the transaction that enters the year."""
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.models import Tenant

    tenant_ids = session.scalars(select(Tenant.id).where(Tenant.active.is_(True)).order_by(Tenant.id)).all()
    for tenant_id in tenant_ids:
        with use_scope(Scope(tenant_id)):
            recompute_open_deadlines(session, since=dt.date(year - 1, 12, 1))
