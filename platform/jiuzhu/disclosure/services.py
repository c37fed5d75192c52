"""Which households a publicity list shows, at which places, with exactly the rule's fields.

What is shown follows the plugin's ``DisclosureRule``:

* proposals while a publicity step of their case is open (``publicity_steps``);
* approved households until their benefits stop, when ``approved_until_stop``;
* exits (benefits stopped or revoked) for ``exit_months`` from the day they were confirmed;
* at the actual residence, and also at the registered residence for 人户分离 households when
  ``both_places_when_separated`` (a registered place outside the county is returned as an
  *external* place: the list is sent there to be posted);
* with the rule's fields only — names masked when ``mask_names``, members under 18 left out of
  names and of the hardship reasons when ``hide_minors``; never an ID number, phone, address or
  income detail.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import defer, joinedload

from jiuzhu.cases.categories import CaseKind, CaseStatus
from jiuzhu.cases.households import Health, Household, Member, WorkAbility
from jiuzhu.cases.models import Case
from jiuzhu.clock import china_today
from jiuzhu.plugins.rules import DisclosureField, DisclosureRule
from jiuzhu.tenancy.context import require_scope
from jiuzhu.tenancy.models import OrgUnit, Tenant
from jiuzhu.workflow.models import Step, StepStatus

ADULT_AGE = 18
ELDERLY_AGE = 60


class Listing(enum.StrEnum):
    proposed = "proposed"
    approved = "approved"
    exited = "exited"

    @property
    def label(self) -> str:
        return {"proposed": "公示中（拟保障）", "approved": "保障中", "exited": "已退出"}[self.value]


@dataclass(frozen=True)
class Place:
    """Where a list is posted: a unit of the county, or a registered place outside it."""

    name: str
    unit_id: int | None = None
    #: outside this county: the list goes to that place's civil-affairs office to be posted there
    external: bool = False


@dataclass(frozen=True)
class Entry:
    """What the list needs of one case (read by the loader, or built by hand in tests)."""

    case: Case
    household: Household
    residence: Place
    #: the registered residence when the household is 人户分离, else None
    registered: Place | None = None
    #: a publicity step of the case is open
    in_publicity: bool = False
    #: the amount proposed before the decision (shown while in publicity), if any
    proposed_amount: Decimal | None = None
    #: while in publicity: the first and the last day of the period (the last unknown until the step runs)
    period: tuple[dt.date, dt.date | None] | None = None
    #: the household's coresident members as read for the list (:class:`Person`); None: ``household.coresident``
    members: tuple[Person, ...] | None = None

    @property
    def coresident(self) -> list:
        return list(self.members) if self.members is not None else self.household.coresident


@dataclass(frozen=True)
class Person:
    """What a list needs of a member: read as plain rows, not as ORM objects (a village's list reads
    hundreds of members; loading them as objects was a third of its time)."""

    name: str
    birth_date: dt.date
    health: Health
    disability_grade: int
    work_ability: WorkAbility

    def age_on(self, day: dt.date) -> int:
        return Member.age_on(self, day)  # the same arithmetic as a member's (it reads birth_date only)


@dataclass(frozen=True)
class PublicityRow:
    listing: Listing
    #: (label, value) for each of the rule's fields, in the rule's order
    values: tuple[tuple[str, str], ...]
    #: 公示期 of a proposed household: what a neighbour needs to object in time ("—" for other rows)
    period: str = "—"
    #: the assistance category, when the rule's own fields do not show it already
    category: str | None = None

    def as_public(self) -> dict[str, str]:
        head = {"公示类别": self.listing.label, "公示期": self.period}
        if self.category is not None:
            head["救助类别"] = self.category
        return {**head, **dict(self.values)}


def period_text(period: tuple[dt.date, dt.date | None] | None) -> str:
    if period is None:
        return "—"
    start, end = period
    return f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}" if end else f"{start:%Y-%m-%d} 起"


def mask_name(name: str) -> str:
    """张三 → 张*, 张三丰 → 张*丰, 欧阳小明 → 欧**明."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def shown_members(entry: Entry, rule: DisclosureRule, on: dt.date) -> list:
    members = entry.coresident
    if rule.hide_minors:
        members = [m for m in members if m.age_on(on) >= ADULT_AGE]
    return members


def hardship_reasons(members: Iterable[Member], on: dt.date) -> list[str]:
    """困难原因 in the standard words of publicity lists, from the members' recorded facts (never
    free text: what is published is a category, not a person's story)."""
    members = list(members)
    reasons = []
    if any(m.age_on(on) >= ELDERLY_AGE for m in members):
        reasons.append("年老")
    if any(m.health in (Health.serious, Health.chronic) for m in members):
        reasons.append("因病")
    if any(m.disability_grade for m in members):
        reasons.append("因残")
    if any(m.work_ability != WorkAbility.full and ADULT_AGE <= m.age_on(on) < ELDERLY_AGE for m in members):
        reasons.append("缺乏劳动能力")
    return reasons or ["家庭收入低"]


def listing_of(rule: DisclosureRule, entry: Entry, on: dt.date) -> Listing | None:
    """Whether (and as what) the case is on the list on ``on``."""
    case = entry.case
    if rule.categories is not None and not {c.value for c in rule.categories} & set(case.categories):
        return None
    if case.kind != CaseKind.application:
        return None
    if case.status == CaseStatus.in_review:
        return Listing.proposed if entry.in_publicity else None
    if case.status == CaseStatus.approved:
        return Listing.approved if rule.approved_until_stop and case.decided_on and case.decided_on <= on else None
    exited = case.status in (CaseStatus.closed, CaseStatus.revoked) and case.benefit_start is not None
    if exited and rule.exit_months and case.closed_on and case.closed_on <= on <= add_months(case.closed_on,
                                                                                            rule.exit_months):
        return Listing.exited
    return None


def _value(rule: DisclosureRule, field: DisclosureField, entry: Entry, listing: Listing, on: dt.date) -> str:
    case = entry.case
    if field == DisclosureField.names:
        names = [mask_name(m.name) if rule.mask_names else m.name for m in shown_members(entry, rule, on)]
        return "、".join(names) if names else "（未成年人信息不予公开）"
    if field == DisclosureField.members_count:
        return str(getattr(case, "covered_count", None) or len(entry.coresident))
    if field == DisclosureField.reason:
        return "、".join(hardship_reasons(shown_members(entry, rule, on), on))
    if field == DisclosureField.monthly_amount:
        amount = case.monthly_amount if listing != Listing.proposed else entry.proposed_amount
        return f"{Decimal(amount):.2f} 元" if amount is not None else "待核定"
    if field == DisclosureField.village:
        return entry.residence.name
    if field == DisclosureField.category:
        wanted = [c for c in case.category_enums if rule.categories is None or c in rule.categories]
        return "、".join(c.label for c in wanted)
    raise ValueError(f"unknown disclosure field {field!r}")


def row_of(rule: DisclosureRule, entry: Entry, listing: Listing, on: dt.date) -> PublicityRow:
    """The row of a household: the rule's fields, the publicity period of a proposed one, and always
    the assistance category (a neighbour objects to a household *for* something)."""
    category = (None if DisclosureField.category in rule.fields
                else _value(rule, DisclosureField.category, entry, listing, on))
    return PublicityRow(listing, tuple((f.label, _value(rule, f, entry, listing, on)) for f in rule.fields),
                        period_text(entry.period) if listing == Listing.proposed else "—", category)


def places_of(rule: DisclosureRule, entry: Entry) -> list[Place]:
    places = [entry.residence]
    if rule.both_places_when_separated and entry.registered is not None and entry.registered != entry.residence:
        places.append(entry.registered)
    return places


def public_list(rule: DisclosureRule, entries: Iterable[Entry], on: dt.date) -> dict[Place, list[PublicityRow]]:
    """The rows to post at each place on ``on`` (a pure function of its arguments)."""
    out: dict[Place, list[PublicityRow]] = {}
    order = list(Listing)
    for entry in entries:
        listing = listing_of(rule, entry, on)
        if listing is None:
            continue
        row = row_of(rule, entry, listing, on)
        for place in places_of(rule, entry):
            out.setdefault(place, []).append(row)
    for rows in out.values():
        rows.sort(key=lambda r: (order.index(r.listing), r.values))
    return dict(sorted(out.items(), key=lambda kv: (kv[0].external, kv[0].name)))


# -- reading the cases --------------------------------------------------------------------------

def _place(unit: OrgUnit | None) -> Place | None:
    return Place(unit.name, unit.id) if unit is not None else None


#: a list shows none of these: never read (nor decrypted) for it
_PUBLIC_ONLY = tuple(defer(c) for c in (Case.extension_reason, Case.priority_reason, Case.emergency_reason,
                                        Case.decision_reason, Case.referral))


def entries_for(session, rule: DisclosureRule, on: dt.date, unit_ids: Collection[int] | None = None) -> list[Entry]:
    """Every case that may be on a list on ``on``, with its places, read in the current scope;
    with ``unit_ids``, only households living or registered at one of those units (a narrowing for
    speed: the lists of those units are the same either way)."""
    exit_since = on - dt.timedelta(days=31 * (rule.exit_months or 0) + 1)
    steps = select(Step.case_id, Step.opened_on, Step.runs_until).where(
        Step.key.in_(rule.publicity_steps), Step.status == StepStatus.open, Step.opened_on <= on)
    query = select(Case)
    if unit_ids is not None:
        ids = list(unit_ids)
        # a household with a village lives there, not at its township's own place: the township
        # matches only households with no village (so a township's page reads its own, not all)
        households = select(Household.id).where(or_(
            Household.village_id.in_(ids), and_(Household.village_id.is_(None), Household.township_id.in_(ids)),
            Household.registered_unit_id.in_(ids)))
        steps = steps.where(Step.case_id.in_(select(Case.id).where(Case.household_id.in_(households))))
        query = query.where(Case.household_id.in_(households))
    periods = {case_id: (opened, runs_until) for case_id, opened, runs_until in session.execute(steps)}
    in_publicity = set(periods)
    query = (query.where(Case.kind == CaseKind.application, or_(
        Case.id.in_(in_publicity) if in_publicity else false(),
        Case.status == CaseStatus.approved,
        (Case.status.in_([CaseStatus.closed, CaseStatus.revoked]) & (Case.closed_on >= exit_since))))
        .options(*_PUBLIC_ONLY, joinedload(Case.household).options(defer(Household.phone)))
        .order_by(Case.id))
    cases = session.scalars(query).all()
    members: dict[int, list[Person]] = {}
    if cases:
        for household_id, *person in session.execute(
                select(Member.household_id, Member.name, Member.birth_date, Member.health, Member.disability_grade,
                       Member.work_ability)
                .where(Member.household_id.in_({c.household_id for c in cases}), Member.coresident.is_(True))
                .order_by(Member.id)):
            members.setdefault(household_id, []).append(Person(*person))
    unit_ids = {u for c in cases for u in (c.household.village_id, c.household.township_id,
                                          c.household.registered_unit_id) if u}
    units = {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(unit_ids)))} if unit_ids else {}
    proposed = _proposed_amounts(session, [c.id for c in cases if c.id in in_publicity])
    entries = []
    for case in cases:
        h = case.household
        residence = _place(units.get(h.village_id or h.township_id)) or Place(f"户 {h.id} 所在地")
        registered = None
        if h.separated:
            registered = (_place(units.get(h.registered_unit_id)) if h.registered_unit_id
                          else Place(h.registered_place, None, external=True))
        entries.append(Entry(case, h, residence, registered, case.id in in_publicity, proposed.get(case.id),
                             periods.get(case.id), tuple(members.get(h.id, ()))))
    return entries


def _proposed_amounts(session, case_ids: list[int]) -> dict[int, Decimal]:
    """The latest amount proposed on a closed step of each case (e.g. the review opinion's)."""
    if not case_ids:
        return {}
    out: dict[int, Decimal] = {}
    steps = session.scalars(select(Step).where(Step.case_id.in_(case_ids), Step.status == StepStatus.done)
                            .options(defer(Step.reason)).order_by(Step.id)).all()
    for s in steps:
        amount = (s.data or {}).get("proposed_amount")
        if amount not in (None, ""):
            out[s.case_id] = Decimal(str(amount))
    return out


def publicity_list(session, on: dt.date | None = None, *, plugin=None, township_id: int | None = None,
                   unit_ids: Collection[int] | None = None) -> dict[Place, list[PublicityRow]]:
    """The current tenant's lists by place; ``township_id`` keeps the places of one township,
    ``unit_ids`` those of the given units (a village's page reads that village's households only)."""
    on = on or china_today()
    if plugin is None:
        tenant = session.get(Tenant, require_scope().tenant_id)
        plugin = current_app.extensions["jiuzhu.plugins"].get(tenant.plugin_key)
    rule: DisclosureRule = plugin.disclosure_rule
    if township_id is None and unit_ids is None:
        return public_list(rule, entries_for(session, rule, on), on)
    inside = set(unit_ids) if unit_ids is not None else set(session.scalars(select(OrgUnit.id).where(
        or_(OrgUnit.id == township_id, OrgUnit.parent_id == township_id))).all())
    lists = public_list(rule, entries_for(session, rule, on, inside), on)
    return {p: rows for p, rows in lists.items() if p.unit_id in inside}


__all__ = ["Listing", "Place", "Entry", "Person", "PublicityRow", "period_text", "mask_name", "hardship_reasons", "listing_of", "row_of",
           "places_of", "public_list", "entries_for", "publicity_list", "add_months"]
