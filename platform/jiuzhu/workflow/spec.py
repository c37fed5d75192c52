"""How a plugin declares its workflow: steps, who acts, what each step may decide, deadlines.

Plain frozen dataclasses, so a plugin's workflow reads like the source document it implements, and
the engine (``jiuzhu.workflow.engine``) can check it at start-up (``validate_workflow``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from jiuzhu.auth.roles import Role
from jiuzhu.cases.categories import CaseStatus
from jiuzhu.tenancy.models import OrgLevel

if TYPE_CHECKING:
    from marshmallow import Schema

    from jiuzhu.cases.models import Case


class Decision(enum.StrEnum):
    """Decisions on a case. Every one of them is forbidden to villages, whatever a plugin says."""

    accept = "accept"
    refuse_acceptance = "refuse_acceptance"
    approve = "approve"
    deny = "deny"
    revoke = "revoke"
    close = "close"

    @property
    def label(self) -> str:
        return {"accept": "受理", "refuse_acceptance": "不予受理", "approve": "确认给予救助",
                "deny": "不予确认", "revoke": "撤销", "close": "终止"}[self.value]


class Unit(enum.StrEnum):
    workdays = "workdays"
    calendar = "calendar"


@dataclass(frozen=True)
class Due:
    """A time limit: ``days`` working (or calendar) days counted from the day after ``start``.

    ``start``: ``opened`` (the step opened), ``accepted`` or ``applied`` (the case), or
    ``closed:<step>`` (the latest instance of another step closed).
    """

    days: int
    unit: Unit = Unit.workdays
    start: str = "opened"

    def describe(self) -> str:
        unit = "个工作日" if self.unit == Unit.workdays else "日"
        start = {"opened": "环节开始", "accepted": "受理", "applied": "申请"}.get(self.start, self.start)
        return f"自{start}之日起 {self.days} {unit}" if self.days else f"{start}当日"


@dataclass(frozen=True)
class Outcome:
    key: str
    label: str
    #: steps to open next (several open in parallel; a step with ``join`` waits for its partners)
    next: tuple[str, ...] = ()
    #: the decision this outcome makes on the case, if any
    decision: Decision | None = None
    requires_reason: bool = False
    #: start a new round: an objection sends the case back (the ``next`` steps open again)
    loop: bool = False
    #: may be taken before the step's minimum run (``StepSpec.runs``) is over
    early: bool = True
    #: the case's status after this outcome (decisions set it by themselves)
    status: CaseStatus | None = None
    #: a marshmallow schema for this outcome's data (overrides the step's)
    form: type[Schema] | None = None
    #: the kind of numbered notice this outcome issues (e.g. ``denial``), if any
    issues: str | None = None


@dataclass(frozen=True)
class Skip:
    """A step that may be skipped, with a recorded reason, when ``when`` holds."""

    #: a predicate over the case and the engine's view of its steps; None: always skippable
    when: Callable[[Case, Any], bool] | None = None
    #: the condition in words, quoted from the source where it has one
    condition: str = ""
    #: the steps to open after a skip; defaults to the ``next`` of the step's first outcome
    then: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Applies:
    """A step that exists for some cases only (Jingdezhen's registered-township check request runs
    for 人户分离 households). Where ``when`` is false the engine passes the step over: it records
    it as skipped with ``condition`` as the reason and opens what would follow a skip."""

    when: Callable[[Case], bool]
    #: the condition in words (the reason recorded when the step is passed over)
    condition: str = ""


class StepTownship(enum.StrEnum):
    """Which township of a case owns a township-level step. A case is handled by the township where
    the household lives (``Case.township_id``); a case may also have a second township of the county
    (``Case.other_township_id``, with its role), and a step declared for that role belongs to it —
    only its staff act on it, and it is on their worklist. Where the case has no such township, the
    step stays with the residence township (e.g. a household registered outside the county)."""

    #: 实际居住地 (受理地): the case's own township
    residence = "residence"
    #: 户籍所在地: the household's registered township, when it is another township of the county
    registered = "registered"
    #: 急难发生地: the township where the emergency happened (temporary relief)
    emergency = "emergency"

    @property
    def label(self) -> str:
        return {"residence": "实际居住地乡镇（街道）", "registered": "户籍所在地乡镇（街道）",
                "emergency": "急难发生地乡镇（街道）"}[self.value]


@dataclass(frozen=True)
class StepSpec:
    key: str
    label: str
    #: the level that acts on this step
    level: OrgLevel
    outcomes: tuple[Outcome, ...]
    #: the step's own time limit (or a function of the case, e.g. by channel)
    due: Due | Callable[[Case], Due | None] | None = None
    #: the minimum time the step runs (publicity): outcomes with ``early=False`` wait for it
    runs: Due | None = None
    #: opens only when the latest instance of each of these steps is closed
    join: tuple[str, ...] = ()
    skip: Skip | None = None
    #: while open, the case's overall clock stands still (e.g. Dangtu's publicity period)
    pauses_clock: bool = False
    form: type[Schema] | None = None
    #: roles allowed, narrower than the level (None: every role of the level)
    roles: frozenset[Role] | None = None
    #: where in the source document the step comes from, for the rule tables
    source: str = ""
    #: the step runs only for cases this holds for (None: every case)
    applies: Applies | None = None
    #: the township of the case that owns this township-level step (see ``StepTownship``)
    township: StepTownship = StepTownship.residence

    def outcome(self, key: str) -> Outcome:
        for o in self.outcomes:
            if o.key == key:
                return o
        raise KeyError(key)

    @property
    def deciding(self) -> bool:
        return any(o.decision is not None for o in self.outcomes)

    def with_changes(self, **changes) -> StepSpec:
        return replace(self, **changes)


@dataclass(frozen=True)
class OverallLimit:
    """The case's time limit (办理时限): working days from acceptance (or application), one extension
    allowed. The due date is set once the case is accepted."""

    workdays: int
    extended_workdays: int | None = None
    source: str = ""
    #: counted from ``accepted`` (national) or ``applied`` (Jingdezhen counts 受理 in its 18 days)
    start: str = "accepted"


@dataclass(frozen=True)
class Workflow:
    steps: tuple[StepSpec, ...]
    #: steps opened when a case is created
    start: tuple[str, ...]
    limit: OverallLimit
    by_key: dict[str, StepSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "by_key", {s.key: s for s in self.steps})

    def step(self, key: str) -> StepSpec:
        return self.by_key[key]

    def replace_step(self, key: str, **changes) -> Workflow:
        """A copy with one step changed — how a plugin adjusts the baseline."""
        steps = tuple(s.with_changes(**changes) if s.key == key else s for s in self.steps)
        return replace(self, steps=steps)

    def with_steps(self, *steps: StepSpec, start: tuple[str, ...] | None = None,
                   limit: OverallLimit | None = None) -> Workflow:
        return Workflow(steps=steps, start=start or self.start, limit=limit or self.limit)


def validate_workflow(workflow: Workflow) -> list[str]:
    """Problems that make a workflow unusable; the village rule among them."""
    problems = []
    keys = [s.key for s in workflow.steps]
    for dup in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(f"环节键重复：{dup}")
    known = set(keys)
    for key in workflow.start:
        if key not in known:
            problems.append(f"起始环节“{key}”未定义")
    for step in workflow.steps:
        for o in step.outcomes:
            for nxt in o.next:
                if nxt not in known:
                    problems.append(f"环节“{step.key}”的结果“{o.key}”指向未定义的环节“{nxt}”")
        for j in step.join:
            if j not in known:
                problems.append(f"环节“{step.key}”等待未定义的环节“{j}”")
        if step.skip and step.skip.then:
            for nxt in step.skip.then:
                if nxt not in known:
                    problems.append(f"环节“{step.key}”跳过后指向未定义的环节“{nxt}”")
        if not step.outcomes:
            problems.append(f"环节“{step.key}”没有任何结果")
        village_acts = step.level == OrgLevel.village or (
            step.roles is not None and any(r.is_village for r in step.roles))
        if village_acts and step.deciding:
            decisions = "、".join(o.decision.label for o in step.outcomes if o.decision)
            problems.append(
                f"环节“{step.label}（{step.key}）”让村（社区）作出决定（{decisions}）："
                "村（社区）不能受理、不予受理、审核确认、不予确认、撤销或终止，任何插件都不能改变这一点")
        if step.township != StepTownship.residence and step.level != OrgLevel.township:
            problems.append(f"环节“{step.key}”属于{step.township.label}，须由乡镇（街道）层级办理")
        if step.roles is not None:
            wrong = [r for r in step.roles if r.org_level != step.level]
            if wrong:
                problems.append(f"环节“{step.key}”的角色与层级不符：{', '.join(r.value for r in wrong)}")
    limit = workflow.limit
    if limit.start not in ("accepted", "applied"):
        problems.append(f"办理时限的起算点“{limit.start}”无效（应为 accepted 或 applied）")
    if limit.extended_workdays is not None and limit.extended_workdays < limit.workdays:
        problems.append("延长后的办理时限不能短于原时限")
    return problems
