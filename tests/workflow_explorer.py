"""The workflow explorer: every reachable state of a plugin's workflow, walked through the engine.

From a fresh case of a variant (an application, a consented classified review, temporary relief, a
periodic review of an approved case …) it tries, in each state, every action the workflow offers —
each outcome of each open step with answers generated from that step's own form, each skip, the
extension, a withdrawal — each inside a savepoint that is rolled back, so the search branches
without rebuilding the case. States are compared by what the engine sees (status, round, the steps
with their rounds, states and outcomes), so loops (objection → new investigation → new publicity)
are walked up to :data:`MAX_ROUND` rounds and then cut.

What it asserts is collected in an :class:`Exploration`:

* **no dead end** — every open case has at least one step action (not a withdrawal) that a
  non-village role at the step's level may take;
* **every path ends** — no path is longer than :data:`MAX_DEPTH` actions;
* **outcomes leave their traces** — an approved case has its decision date and, for a monthly
  category, its benefit schedule; a denied one its denial notice, where the plugin issues one;
* **villages never decide** — the village assistant is refused every deciding outcome tried.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from jiuzhu.audit.context import actor_for, use_actor
from jiuzhu.auth.models import User
from jiuzhu.cases.categories import CaseStatus
from jiuzhu.cases.models import Case, Notice
from jiuzhu.demo import required_materials
from jiuzhu.demo_cases import answers_for
from jiuzhu.errors import ServiceError
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.workflow import engine
from jiuzhu.workflow.models import Step
from jiuzhu.workflow.spec import Decision

MAX_ROUND = 2
MAX_DEPTH = 40
START = dt.date(2026, 3, 2)  # a Monday after the Spring Festival holiday of 2026


@dataclass
class Exploration:
    plugin: str
    variant: str
    states: int = 0
    transitions: int = 0
    refused: int = 0
    terminal: dict = field(default_factory=dict)
    dead_ends: list = field(default_factory=list)
    broken: list = field(default_factory=list)
    village_decided: list = field(default_factory=list)
    deepest: int = 0

    def summary(self) -> str:
        ends = ", ".join(f"{k} {v}" for k, v in sorted(self.terminal.items()))
        return (f"{self.plugin}/{self.variant}: {self.states} states, {self.transitions} transitions, "
                f"{self.refused} refused tries, deepest path {self.deepest}, ends: {ends or 'none'}")


def _signature(session, case: Case) -> tuple:
    steps = session.scalars(select(Step).where(Step.case_id == case.id).order_by(Step.id)).all()
    return (case.status.value, case.round, bool(case.extended),
            tuple(sorted((s.key, s.round, s.status.value, s.outcome or "") for s in steps)))


def _people(session) -> dict[str, list[User]]:
    """Who acts at each level, deciding roles first (a leader where a step asks for one)."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    by_role = {u.role.value: u for u in users}
    return {"township": [by_role["township_staff"], by_role["township_leader"]],
            "county": [by_role["county_staff"]],
            "village": [by_role["village_assistant"]]}


def _when(step: Step, on: dt.date) -> dt.date:
    return max(on, step.runs_until or on, step.opened_on)


class Explorer:
    def __init__(self, session, case_id: int, plugin: str, variant: str):
        self.session = session
        self.case_id = case_id
        self.result = Exploration(plugin, variant)
        self.seen: set[tuple] = set()
        self.people = _people(session)

    def case(self) -> Case:
        return self.session.get(Case, self.case_id, populate_existing=True)

    def run(self) -> Exploration:
        self._visit(START, 0)
        return self.result

    def _actions(self, case: Case):
        view = engine.load_view(self.session, case)
        workflow = engine.workflow_for(case)
        for step in sorted(view.open_steps, key=lambda s: (s.opened_on, s.id)):
            spec = workflow.step(step.key)
            for outcome in spec.outcomes:
                if outcome.key == "objection" and case.round >= MAX_ROUND:
                    continue
                yield ("act", step, spec, outcome)
            if spec.skip is not None:
                yield ("skip", step, spec, None)
        if case.accepted_on and not case.extended and workflow.limit.extended_workdays:
            yield ("extend", None, None, None)

    def _try(self, kind, step, spec, outcome, on: dt.date) -> bool:
        """One action as the people of its level would take it; True if the engine took it."""
        case = self.case()
        when = _when(step, on) if step is not None else on
        candidates = self.people.get(spec.level.value, []) if spec is not None else self.people["township"]
        for user in candidates:
            nested = self.session.begin_nested()
            try:
                with use_actor(actor_for(user)):
                    if kind == "act":
                        data = answers_for(outcome.form or spec.form, case, when,
                                           denying=outcome.decision == Decision.deny)
                        reason = "经研究，依据相关规定办理。" if outcome.requires_reason else None
                        engine.act(self.session, user, step.id, outcome.key, data=data, reason=reason, on=when)
                    elif kind == "skip":
                        engine.skip(self.session, user, step.id, "经济状况核对和入户调查均无疑义，经研究不再评议",
                                    on=when)
                    else:
                        engine.extend(self.session, user, case.id, "情况复杂，需延长办理时限", on=when)
                self.session.flush()
            except ServiceError:
                nested.rollback()
                self.result.refused += 1
                continue
            return nested  # the caller explores from here, then rolls back
        return None

    def _village_may_not_decide(self, step, spec, outcome, on: dt.date) -> None:
        if outcome is None or outcome.decision is None or not self.people.get("village"):
            return
        village = self.people["village"][0]
        nested = self.session.begin_nested()
        try:
            with use_actor(actor_for(village)):
                engine.act(self.session, village, step.id, outcome.key,
                           data=answers_for(outcome.form or spec.form, self.case(), _when(step, on)),
                           reason="村代为决定", on=_when(step, on))
            self.result.village_decided.append((step.key, outcome.key))
        except ServiceError:
            pass
        finally:
            nested.rollback()

    def _visit(self, on: dt.date, depth: int) -> None:
        case = self.case()
        signature = _signature(self.session, case)
        if signature in self.seen:
            return
        self.seen.add(signature)
        self.result.states += 1
        self.result.deepest = max(self.result.deepest, depth)
        view = engine.load_view(self.session, case)
        if not view.open_steps:
            self._check_end(case)
            return
        self._overdue_agrees(case, view, on)
        if depth >= MAX_DEPTH:
            self.result.broken.append(("path longer than", MAX_DEPTH, signature))
            return
        progressed = False
        for kind, step, spec, outcome in list(self._actions(case)):
            if kind == "act":
                self._village_may_not_decide(step, spec, outcome, on)
            nested = self._try(kind, step, spec, outcome, on)
            if nested is None:
                continue
            if kind != "extend":
                progressed = True
            self.result.transitions += 1
            try:
                when = _when(step, on) if step is not None else on
                self._visit(when, depth + 1)
            finally:
                nested.rollback()
        if not progressed:
            self.result.dead_ends.append(signature)

    def _overdue_agrees(self, case: Case, view, on: dt.date) -> None:
        """The worklist's overdue marks (Python, per row) and the dashboard's count (SQL) agree, today and
        once every limit of this state has passed."""
        from sqlalchemy import func

        from jiuzhu.workflow.deadlines import effective_due, effective_due_column, is_overdue, overdue_before
        from jiuzhu.workflow.models import StepStatus

        for day in (on, on + dt.timedelta(days=60)):
            marked = sum(1 for s in view.open_steps if is_overdue(effective_due(s, case), day))
            counted = self.session.scalar(
                select(func.count()).select_from(Step).join(Case, Case.id == Step.case_id)
                .where(Step.case_id == case.id, Step.status == StepStatus.open,
                       effective_due_column() < overdue_before(day)))
            if marked != counted:
                self.result.broken.append(("worklist and dashboard disagree on overdue", case.id, day, marked,
                                           counted))

    def _check_end(self, case: Case) -> None:
        status = case.status.value
        self.result.terminal[status] = self.result.terminal.get(status, 0) + 1
        plugin = engine.plugin_for(case)
        if case.status == CaseStatus.approved:
            if case.decided_on is None:
                self.result.broken.append(("approved without a decision date", case.id))
            monthly = {c.value for c in plugin.monthly_categories}
            if monthly & set(case.categories) and case.kind.value == "application":
                from jiuzhu.payments.models import BenefitSchedule

                if not self.session.scalars(select(BenefitSchedule).where(BenefitSchedule.case_id == case.id)).first():
                    self.result.broken.append(("approved monthly category without a benefit schedule", case.id))
        if case.status == CaseStatus.denied and case.kind.value == "application":
            notices = {n.kind for n in self.session.scalars(select(Notice).where(Notice.case_id == case.id))}
            if not notices & {"denial"} and any(s.key.endswith("notice") for s in engine.workflow_for(case).steps):
                self.result.broken.append(("denied without a denial notice", case.id, sorted(notices)))


def workflow_shape(workflow) -> tuple:
    return tuple((s.key, s.level.value, tuple(o.key for o in s.outcomes), s.skip is not None) for s in workflow.steps)


def explore(app, county: dict, plugin_key: str, variant: str, *, categories=("dibao",), consent: bool = False,
            review: bool = False, emergency: bool = False, walked: set | None = None) -> Exploration | None:
    """Open a case of ``variant`` in ``county`` (a :class:`tests.conftest.World` county) and walk it;
    nothing it does is kept (the whole walk is rolled back). With ``walked``, a variant whose case
    runs a workflow of the same shape as one walked already is not walked again (None)."""
    from jiuzhu.extensions import db
    from tests.factories import household_of_four, village_of

    with app.app_context(), use_scope(Scope(county["id"])):
        session = db.session
        people = _people(session)
        clerk = people["township"][0]
        outer = session.begin_nested()
        try:
            with use_actor(actor_for(clerk)):
                household = household_of_four(session, clerk, village_of(clerk), seq=1)
                materials = required_materials(plugin_key)
                case = engine.open_case(session, clerk, household=household, categories=list(categories),
                                        channel="window", applied_on=START, authorization_signed_on=START,
                                        commitment_signed_on=START, consent_classification=consent,
                                        provided=materials, via_platform=materials,
                                        emergency_reason="突发重病，无力支付医疗费用，须立即救助" if emergency else None)
                if review:
                    from jiuzhu.demo_cases import advance

                    advance(session, case, lambda level: _people(session)[level][0], START)
                    if case.status != CaseStatus.approved:
                        raise AssertionError(f"{plugin_key}: the application was not approved ({case.status})")
                    case = engine.open_review(session, clerk, case.id, on=START + dt.timedelta(days=200))
            session.flush()
            if walked is not None:
                shape = (consent, workflow_shape(engine.workflow_for(case)))
                if shape in walked:
                    return None
                walked.add(shape)
            return Explorer(session, case.id, plugin_key, variant).run()
        finally:
            outer.rollback()
            session.rollback()
            db.session.remove()
