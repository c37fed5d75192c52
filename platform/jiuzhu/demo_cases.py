"""Carrying demo cases through whatever workflow their plugin declares, through the engine.

Used by the demo (households and cases in every state, so a newcomer sees a living system) and by
benchmarks. It acts as the people of each step's level would, filling each step's form with plausible
answers; the engine still checks every rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from marshmallow import fields

from jiuzhu.audit.context import actor_for, use_actor
from jiuzhu.auth.models import User
from jiuzhu.cases.categories import CaseStatus
from jiuzhu.errors import ValidationError
from jiuzhu.workflow import engine
from jiuzhu.workflow.models import Step
from jiuzhu.workflow.spec import Decision

ANSWERS = {
    "report_no": "HD{year}-{case:04d}", "result": "pass", "agency": "县居民家庭经济状况核对中心",
    "investigators": ["汪敏", "胡军"], "findings": "入户核实，家中有重病、重残成员，收入低，情况属实。",
    "doubt": False, "neighbour_visits": 3, "participants": 9, "opinion": "符合条件，拟同意。",
    "channels": ["村（居）务公开栏", "乡镇（街道）公示栏"], "note": "已送达申请人。", "proposed_amount": "900",
    "monthly_amount": "900", "per_capita_income": "265",
    # the plugins' own step fields: 联审联批 (Anhui), Jingdezhen's investigation and assessment,
    # Shexian's one-off relief, Dangtu's archive
    "meeting_participants": ["镇党委", "镇民政办", "镇纪委"], "methods": ["入户调查", "邻里访问"],
    "village_assistance": "村委会委员", "assessment": "结合实地调查，人均月收入低于当地低保标准。",
    "voucher_no": "PZ{year}-{case:04d}", "archive_no": "DA{year}-{case:04d}", "system_entered": True,
    "paper_exported": True, "consistent": True, "paper_location": "镇民政办档案柜", "requested_by": "户籍地乡镇经办人",
    "referral": "县医疗保障局", "referral_need": "因病支出较大，需医疗救助",
    # temporary relief (Zongyang's emergency relief approved in stages)
    "total_amount": "1000", "stages": [{"amount": "1000"}], "reason": "家庭成员突发重病，基本生活暂时困难。",
    "emergency": "家庭成员突发重病住院，基本生活暂时困难。", "emergency_place": "本镇",
    # Zongyang's 特困 confirmation: how the person is supported
    "support_mode": "集中供养",
    # Ningxia's needs assessment, a referral and its answer
    "needs": "家庭成员患病，医疗支出较大。", "measures": ["按低保标准补差"], "departments": ["县医疗保障局"],
    "answers": ["县医疗保障局：已纳入医疗救助对象。"],
}


def findings_for(case, denying: bool = False) -> list[dict]:
    """Per-category findings: with the applicant's consent, every category in the plugin's order up
    to the first one asked for (found eligible), or all of them when denying; otherwise each category asked for."""
    last = "ineligible" if denying else "eligible"
    if not case.consent_classification:
        return [{"category": c, "finding": last} for c in case.categories]
    if denying:  # a denial answers every category of the order
        return [{"category": c.value, "finding": "ineligible"} for c in engine.plugin_for(case).category_order]
    out = []
    for category in engine.plugin_for(case).category_order:
        if category.value in case.categories:
            return [*out, {"category": category.value, "finding": last}]
        out.append({"category": category.value, "finding": "ineligible"})
    return out


def answers_for(schema_cls, case, on: dt.date, overrides: dict | None = None, *, denying: bool = False) -> dict:
    """Plausible form data for a step form: required fields, and any field we have an answer for."""
    if schema_cls is None:
        return dict(overrides or {})
    data = {}
    for name, f in schema_cls().fields.items():
        if name in (overrides or {}):
            data[name] = overrides[name]
        elif isinstance(f, fields.Date) and f.required and name.endswith("_posted_on"):
            data[name] = (on - dt.timedelta(days=7)).isoformat()  # posted as the 7-day publicity opened
        elif isinstance(f, fields.Date) and f.required:
            data[name] = on.isoformat()
        elif isinstance(f, fields.List) and isinstance(f.inner, fields.Nested) and name == "findings":
            data[name] = findings_for(case, denying)
        elif name in ANSWERS:
            value = ANSWERS[name]
            data[name] = value.format(year=on.year, case=case.id) if isinstance(value, str) else value
    return data


def _act_on(session, case, view, workflow, step: Step, people, on: dt.date, route: dict, data: dict,
            skip_when_possible: bool) -> str:
    spec = workflow.step(step.key)
    user = people(spec.level.value)
    when = max(on, step.runs_until or on, step.opened_on)
    if spec.skip is not None and skip_when_possible and step.key not in route and (
            spec.skip.when is None or spec.skip.when(case, view)):
        with use_actor(actor_for(user)):
            engine.skip(session, user, step.id, "经济状况核对和入户调查均无疑义，经研究不再评议", on=when)
        return f"{step.key}:skip"
    outcome = spec.outcome(route[step.key]) if step.key in route else spec.outcomes[0]
    form = answers_for(outcome.form or spec.form, case, when, data.get(step.key),
                       denying=outcome.decision == Decision.deny)
    reason = "经研究，依据相关规定办理。" if outcome.requires_reason else None
    with use_actor(actor_for(user)):
        engine.act(session, user, step.id, outcome.key, data=form, reason=reason, on=when)
    return f"{step.key}:{outcome.key}"


def advance(session, case, people: Callable[[str], User], on: dt.date, *, route: dict[str, str] | None = None,
            stop_at: str | None = None, data: dict[str, dict] | None = None, max_steps: int = 40,
            skip_when_possible: bool = True) -> list[str]:
    """Act on the case's open steps, oldest first, until ``stop_at`` opens, or the case ends.

    ``people(level)`` gives the user who acts at a level; ``route`` picks outcomes by step key
    (default: the first outcome); ``data`` adds form values by step key.
    """
    route, data = route or {}, data or {}
    trail = []
    for _ in range(max_steps):
        view = engine.load_view(session, case)
        workflow = engine.workflow_for(case)
        open_steps = sorted(view.open_steps, key=lambda s: (s.opened_on, s.id))
        if not open_steps or any(s.key == stop_at for s in open_steps) or not case.status.is_open and not open_steps:
            break
        refusals = []
        for step in open_steps:  # a step whose preconditions wait on another (e.g. a check that needs
            try:                 # the visit first) lets the next one go first
                trail.append(_act_on(session, case, view, workflow, step, people, on, route, data,
                                     skip_when_possible))
                break
            except ValidationError as exc:
                refusals.append(exc)
        else:
            raise refusals[0]
        if case.status not in (CaseStatus.pending_acceptance, CaseStatus.in_review) and not engine.load_view(
                session, case).open_steps:
            break
    return trail
