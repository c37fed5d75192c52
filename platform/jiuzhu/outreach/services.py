"""The visit schedule of must-visit households and recording a visit.

A household carrying any of the plugin's must-visit tags (``VisitRule.tags``) is due for a visit one
period (the county's ``visit_interval_days``, else the rule's) after its last visit — or, never visited,
after it was registered; past that day it is overdue and listed for the township (its own households),
the village (its own) and the county (all). Recording a visit starts the next period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from jiuzhu.auth.models import User
from jiuzhu.auth.roles import Role
from jiuzhu.cases.households import Household
from jiuzhu.clock import CHINA_TZ
from jiuzhu.errors import NotFound, PermissionDenied, ValidationError
from jiuzhu.outreach.models import OutreachVisit
from jiuzhu.plugins.rules import VisitRule

#: who visits: the township's staff, the village's assistant (协理员、网格员), the county's staff
VISITORS = frozenset({Role.township_staff, Role.township_leader, Role.village_assistant, Role.county_staff,
                      Role.county_admin})


@dataclass(frozen=True)
class Due:
    household_id: int
    township_id: int
    village_id: int | None
    groups: tuple[str, ...]
    last_visit: dt.date | None
    due_on: dt.date
    overdue: bool


def interval(rule: VisitRule, settings: dict) -> int:
    return int(settings.get("visit_interval_days") or rule.interval_days)


def schedule(session, rule: VisitRule, settings: dict, on: dt.date) -> list[Due]:
    """Every must-visit household in the user's scope with its next visit day, the overdue first."""
    wanted = set(rule.tags)
    period = dt.timedelta(days=interval(rule, settings))
    last = dict(session.execute(select(OutreachVisit.household_id, func.max(OutreachVisit.visited_on))
                                .group_by(OutreachVisit.household_id)).all())
    rows = session.execute(select(Household.id, Household.township_id, Household.village_id, Household.tags,
                                  Household.created_at).order_by(Household.id)).all()
    out = []
    for household_id, township_id, village_id, tags, created_at in rows:
        groups = tuple(t for t in (tags or []) if t in wanted)
        if not groups:
            continue
        since = last.get(household_id)
        if since is None:  # never visited: one period from its registration
            registered = created_at if created_at.tzinfo else created_at.replace(tzinfo=dt.UTC)
            due_on = registered.astimezone(CHINA_TZ).date() + period
        else:
            due_on = since + period
        out.append(Due(household_id, township_id, village_id, groups, since, due_on, due_on < on))
    return sorted(out, key=lambda d: (d.due_on, d.household_id))


def record_visit(session, user: User, rule: VisitRule | None, household_id: int, *, visited_on: dt.date,
                 visitors: str, finding: str, needs_assistance: bool = False, on: dt.date) -> OutreachVisit:
    """Record a visit to a must-visit household in the user's scope (one transaction, nothing half-written)."""
    if rule is None:
        raise ValidationError("本地规则未规定必到必访人群的走访。")
    if user.role not in VISITORS:
        raise PermissionDenied("您的角色不能登记走访。")
    household = session.get(Household, household_id)
    if household is None:
        raise NotFound("该家庭不存在，或不在您的管辖范围内。")
    groups = [t for t in (household.tags or []) if t in set(rule.tags)]
    errors: dict[str, list[str]] = {}
    if not groups:
        errors.setdefault("household_id", []).append("该户不属于必到必访人群，无需登记走访。")
    if visited_on > on:
        errors.setdefault("visited_on", []).append("走访日期不能晚于今天。")
    if not (visitors or "").strip():
        errors.setdefault("visitors", []).append("请填写走访人员。")
    elif len(visitors.strip()) > 200:
        errors.setdefault("visitors", []).append("走访人员不能超过 200 个字符。")
    if not (finding or "").strip():
        errors.setdefault("finding", []).append("请填写走访发现的情况。")
    if errors:
        raise ValidationError(field_errors=errors)
    visit = OutreachVisit(household_id=household.id, township_id=household.township_id,
                          village_id=household.village_id, visited_on=visited_on, visitors=visitors.strip(),
                          groups=groups, finding=finding.strip(), needs_assistance=bool(needs_assistance),
                          recorded_by_id=user.id)
    session.add(visit)
    session.flush()  # audited on insert (the finding redacted)
    return visit


__all__ = ["VISITORS", "Due", "interval", "schedule", "record_visit"]
