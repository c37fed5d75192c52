"""Duplicate benefits: a case's matches in the registry, the resolution an approver records, 协查
between counties, and the nightly sweep.

On PostgreSQL every cross-county fact comes from the ``jiuzhu_registry_*`` and ``jiuzhu_request_*``
functions (migration 0070), which read the caller's county from the signed setting and answer only
another county's name, the category, the state and the month benefits began. On the demo's SQLite (one
process, no roles) the same answers are computed from the cases themselves, by the same rules.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, select, text

from jiuzhu.audit import record
from jiuzhu.auth.models import User
from jiuzhu.auth.roles import Role
from jiuzhu.calendar import add_workdays
from jiuzhu.cases.categories import CATEGORY_LABELS, CaseKind, CaseStatus, Category, Finding
from jiuzhu.cases.households import Member
from jiuzhu.cases.models import Case, CategoryFinding
from jiuzhu.clock import china_today
from jiuzhu.duplicates.models import DuplicateFinding, DuplicateResolution, ResolutionKind, county_requests
from jiuzhu.errors import NotFound, PermissionDenied, ValidationError
from jiuzhu.tenancy.context import require_scope
from jiuzhu.tenancy.models import Tenant

#: working days the other county has to answer a 协查 request (a platform rule: the sources set none;
#: the same order as a monitoring warning's 5 to 20)
REQUEST_WORKDAYS = 10

COUNTY_ROLES = frozenset({Role.county_staff, Role.county_admin})
DECIDING_ROLES = COUNTY_ROLES | {Role.township_staff, Role.township_leader}

ANSWERS = {"confirmed": "确认仍在本县享受", "stopped": "本县已停发", "not_ours": "本县无此人享受记录"}
STATES = {"pending": "申请中", "active": "享受中"}


def _label(category: str) -> str:
    try:
        return CATEGORY_LABELS[Category(category)]
    except ValueError:
        return category


@dataclass(frozen=True)
class Match:
    """One member of a case found elsewhere: in another county (its name only) or in another
    household of this county (its case)."""

    member_id: int
    member_name: str
    county: str
    same_county: bool
    case_id: int | None
    category: str
    state: str
    since: dt.date | None

    @property
    def other(self) -> str:
        return f"本县案件 {self.case_id}" if self.same_county else self.county

    @property
    def category_label(self) -> str:
        return _label(self.category)

    @property
    def describe(self) -> str:
        where = f"本县另一户（案件 {self.case_id}）" if self.same_county else self.county
        if self.state == "active":
            started = f"，{self.since:%Y年%m月}起" if self.since else ""
            return f"在{where}享受{self.category_label}{started}"
        return f"在{where}申请{self.category_label}（审核中）"


def _pg(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# ---------------------------------------------------------------------------------------------------
# the registry's answers (PostgreSQL: the functions; SQLite: the same rules over the cases)

def _sqlite_registry(session, *, bidx: list[str] | None = None, county: int | None = None) -> list[dict]:
    """The registry's rows, computed (the demo's SQLite has no triggers keeping one)."""
    c, m, t = Case.__table__, Member.__table__, Tenant.__table__
    query = (select(m.c.id_number_bidx, c.c.tenant_id, c.c.id, c.c.household_id, c.c.township_id, c.c.status,
                    c.c.categories, c.c.benefit_start, c.c.decided_on, c.c.applied_on, t.c.name)
             .join(m, and_(m.c.tenant_id == c.c.tenant_id, m.c.household_id == c.c.household_id))
             .join(t, t.c.id == c.c.tenant_id)
             .where(c.c.kind == CaseKind.application.value,
                    c.c.status.in_([CaseStatus.pending_acceptance.value, CaseStatus.in_review.value,
                                    CaseStatus.approved.value])))
    if bidx is not None:
        query = query.where(m.c.id_number_bidx.in_(bidx))
    if county is not None:
        query = query.where(c.c.tenant_id == county)
    conn = session.connection()
    rows = conn.execute(query).all()
    f = CategoryFinding.__table__
    eligible: dict[int, set[str]] = defaultdict(set)
    ids = [r[2] for r in rows]
    for start in range(0, len(ids), 500):
        for case_id, category in conn.execute(select(f.c.case_id, f.c.category).where(
                f.c.case_id.in_(ids[start:start + 500]), f.c.finding == Finding.eligible.value)):
            eligible[case_id].add(category)
    out = []
    for bi, county_id, case_id, household_id, township_id, status, categories, start, decided, applied, name in rows:
        active = status == CaseStatus.approved.value
        cats = eligible[case_id] if active and eligible[case_id] else set(categories or [])
        since = None
        if active:
            day = start or decided or applied
            since = day.replace(day=1) if day else None
        for category in sorted(cats - {Category.temporary_relief.value}):
            out.append({"person_bidx": bi, "county_id": county_id, "county": name, "case_id": case_id,
                        "household_id": household_id, "township_id": township_id, "category": category,
                        "state": "active" if active else "pending", "since": since})
    return out


def lookup(session, bidx: list[str]) -> list[dict]:
    """For the blind indexes the current county holds: every registry row with the same index — in
    another county only its name, category, state and month; in this county also case and household."""
    bidx = sorted(set(b for b in bidx if b))
    if not bidx:
        return []
    if _pg(session):
        return [dict(r._mapping) for r in session.execute(
            text("SELECT * FROM jiuzhu_registry_lookup(CAST(:b AS text[]))"), {"b": bidx})]
    me = require_scope().tenant_id
    m = Member.__table__
    held = set(session.connection().execute(select(m.c.id_number_bidx).where(
        m.c.tenant_id == me, m.c.id_number_bidx.in_(bidx))).scalars())
    out = []
    for r in _sqlite_registry(session, bidx=sorted(held)):
        same = r["county_id"] == me
        out.append({"person_bidx": r["person_bidx"], "county": r["county"], "same_county": same,
                    "case_id": r["case_id"] if same else None, "household_id": r["household_id"] if same else None,
                    "category": r["category"], "state": r["state"], "since": r["since"]})
    return out


def matches_for_case(session, case: Case) -> list[Match]:
    """The case's members drawing or asking for a periodic benefit elsewhere: in another county, or in
    another household of this county (the same household's other cases are not duplicates)."""
    members = {m.id_number_bidx: m for m in case.household.members}
    out = []
    for r in lookup(session, list(members)):
        if r["same_county"] and (r["case_id"] == case.id or r["household_id"] == case.household_id):
            continue
        member = members.get(r["person_bidx"])
        if member is None:
            continue
        out.append(Match(member_id=member.id, member_name=member.name, county=r["county"],
                         same_county=r["same_county"], case_id=r["case_id"], category=r["category"],
                         state=r["state"], since=r["since"]))
    return out


def _resolutions(session, case: Case) -> dict[tuple[int, str], DuplicateResolution]:
    return {(r.member_id, r.other): r for r in session.scalars(
        select(DuplicateResolution).where(DuplicateResolution.case_id == case.id))}


@dataclass
class CaseDuplicates:
    """What the case page shows: the matches by member and other place, each with its resolution."""

    matches: list[Match]
    resolutions: dict[tuple[int, str], DuplicateResolution]

    @property
    def groups(self) -> list[tuple[Match, list[Match], DuplicateResolution | None]]:
        """(first match, all its categories, resolution) per member and other place."""
        grouped: dict[tuple[int, str], list[Match]] = {}
        for m in self.matches:
            grouped.setdefault((m.member_id, m.other), []).append(m)
        return [(ms[0], ms, self.resolutions.get(key)) for key, ms in grouped.items()]

    @property
    def unresolved(self) -> list[Match]:
        return [first for first, _all, resolution in self.groups if resolution is None]


def resolved_keys(session, case_ids) -> set[tuple[int, int, str]]:
    """(case, member, other place) of every recorded resolution of these cases."""
    ids = sorted(set(case_ids))
    if not ids:
        return set()
    return {(c, m, o) for c, m, o in session.execute(
        select(DuplicateResolution.case_id, DuplicateResolution.member_id, DuplicateResolution.other)
        .where(DuplicateResolution.case_id.in_(ids)))}


def case_duplicates(session, case: Case) -> CaseDuplicates:
    matches = matches_for_case(session, case)
    return CaseDuplicates(matches, _resolutions(session, case) if matches else {})


def approval_problems(session, case: Case) -> list[str]:
    """Before approving: every match must have its recorded resolution."""
    found = case_duplicates(session, case)
    return [f"家庭成员{m.member_name}{m.describe}（重复享受比对），须先记录核实处理结果，才能确认。"
            for m in found.unresolved]


def record_resolution(session, user: User, case_id: int, *, member_id: int, other: str, kind: str,
                      note: str, on: dt.date | None = None) -> DuplicateResolution:
    """The approver's account of a match: a transfer, a stop elsewhere, a mistake, a member who left."""
    on = on or china_today()
    if user.role not in DECIDING_ROLES:
        raise PermissionDenied("重复享受比对的处理结果由乡镇（街道）或县级记录；村（社区）不能办理。")
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("该案件不存在，或不在您的管辖范围内。")
    errors: dict[str, list[str]] = {}
    if kind not in ResolutionKind.__members__:
        errors["kind"] = ["请选择核实处理结果。"]
    if not (note or "").strip():
        errors["note"] = ["请写明核实情况（如迁移手续、对方停发月份、比对错误的原因）。"]
    elif len(note.strip()) > 500:
        errors["note"] = ["核实情况不能超过 500 字。"]
    current = {(m.member_id, m.other) for m in matches_for_case(session, case)}
    if (member_id, other) not in current:
        raise ValidationError("该比对结果已不存在（对方可能已停发或已更正），请刷新页面。")
    if errors:
        raise ValidationError(*[e for v in errors.values() for e in v], field_errors=errors)
    existing = session.scalar(select(DuplicateResolution).where(
        DuplicateResolution.case_id == case.id, DuplicateResolution.member_id == member_id,
        DuplicateResolution.other == other))
    resolution = existing or DuplicateResolution(case_id=case.id, member_id=member_id, other=other,
                                                 tenant_id=case.tenant_id)
    resolution.kind, resolution.note = ResolutionKind(kind), note.strip()
    resolution.recorded_on, resolution.recorded_by_id = on, user.id
    resolution.case = case
    session.add(resolution)
    session.flush()
    record(session, entity_type="duplicate_resolution", entity_id=resolution.id, action="resolve",
           case_id=case.id, after={"member_id": member_id, "other": other, "kind": kind})
    return resolution


# ---------------------------------------------------------------------------------------------------
# 协查 between counties

@dataclass(frozen=True)
class CountyRequest:
    id: int
    direction: str  # "out": this county asked; "in": asked of this county
    county: str  # the other county
    case_id: int  # this county's own case
    township_id: int | None
    person_bidx: str
    category: str
    opened_on: dt.date
    due_on: dt.date
    answer: str | None
    stopped_month: dt.date | None
    answered_on: dt.date | None

    @property
    def category_label(self) -> str:
        return _label(self.category)

    @property
    def answer_label(self) -> str:
        if self.answer is None:
            return "待答复"
        label = ANSWERS[self.answer]
        return f"{label}（{self.stopped_month:%Y年%m月}起）" if self.stopped_month else label

    def overdue_on(self, day: dt.date) -> bool:
        """Unanswered past its deadline, or answered after it."""
        return (self.answered_on or day) > self.due_on


def requests(session) -> list[CountyRequest]:
    """This county's 协查 requests, both ways, by deadline."""
    if _pg(session):
        rows = [dict(r._mapping) for r in session.execute(text("SELECT * FROM jiuzhu_requests()"))]
    else:
        me = require_scope().tenant_id
        q, t = county_requests, Tenant.__table__
        conn = session.connection()
        names = dict(conn.execute(select(t.c.id, t.c.name)).all())
        rows = []
        for r in conn.execute(select(q).where((q.c.from_county == me) | (q.c.to_county == me))).mappings():
            out = r["from_county"] == me
            rows.append({"id": r["id"], "direction": "out" if out else "in",
                         "county": names.get(r["to_county"] if out else r["from_county"]),
                         "my_case_id": r["from_case_id"] if out else r["to_case_id"],
                         "my_township_id": None if out else r["to_township_id"], "person_bidx": r["person_bidx"],
                         "category": r["category"], "opened_on": r["opened_on"], "due_on": r["due_on"],
                         "answer": r["answer"], "stopped_month": r["stopped_month"], "answered_on": r["answered_on"]})
        rows.sort(key=lambda r: (r["due_on"], r["id"]))
    return [CountyRequest(id=r["id"], direction=r["direction"], county=r["county"], case_id=r["my_case_id"],
                          township_id=r["my_township_id"], person_bidx=r["person_bidx"], category=r["category"],
                          opened_on=r["opened_on"], due_on=r["due_on"], answer=r["answer"],
                          stopped_month=r["stopped_month"], answered_on=r["answered_on"]) for r in rows]


def _require_county(user: User) -> None:
    if user.role not in COUNTY_ROLES:
        raise PermissionDenied("跨县协查由县级社会救助部门发起和答复。")


def open_request(session, user: User, case_id: int, *, member_id: int, on: dt.date | None = None) -> int:
    """Ask every other county holding this member to verify (协查); returns how many requests went.
    The answer is due in REQUEST_WORKDAYS working days."""
    on = on or china_today()
    _require_county(user)
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("该案件不存在，或不在您的管辖范围内。")
    member = next((m for m in case.household.members if m.id == member_id), None)
    elsewhere = [m for m in matches_for_case(session, case) if m.member_id == member_id and not m.same_county]
    if member is None or not elsewhere:
        raise ValidationError("该成员没有其他县的比对结果，无需协查。")
    due = add_workdays(on, REQUEST_WORKDAYS).due
    if _pg(session):
        opened = session.execute(text("SELECT jiuzhu_request_open(:c, :b, :o, :d)"),
                                 {"c": case.id, "b": member.id_number_bidx, "o": on, "d": due}).scalar()
    else:
        opened = _sqlite_open(session, case, member.id_number_bidx, on, due)
    if not opened:
        raise ValidationError("已向对方县发出协查请求，正在等待答复。")
    record(session, entity_type="county_request", entity_id=case.id, action="open", case_id=case.id,
           after={"member_id": member_id, "counties": sorted({m.county for m in elsewhere}), "opened_on": on.isoformat(),
                  "due_on": due.isoformat(), "requests": opened})
    return opened


def _sqlite_open(session, case: Case, bidx: str, on: dt.date, due: dt.date) -> int:
    me, q = case.tenant_id, county_requests
    conn = session.connection()
    opened = 0
    seen = set()
    for r in sorted(_sqlite_registry(session, bidx=[bidx]), key=lambda r: (r["county_id"], r["state"], r["case_id"])):
        if r["county_id"] == me or r["county_id"] in seen:
            continue
        seen.add(r["county_id"])
        waiting = conn.execute(select(q.c.id).where(q.c.from_county == me, q.c.to_county == r["county_id"],
                                                     q.c.from_case_id == case.id, q.c.person_bidx == bidx,
                                                     q.c.answer.is_(None))).first()
        if waiting:
            continue
        conn.execute(q.insert().values(from_county=me, to_county=r["county_id"], person_bidx=bidx, from_case_id=case.id,
                                       to_case_id=r["case_id"], to_township_id=r["township_id"], category=r["category"],
                                       opened_on=on, due_on=due))
        opened += 1
    return opened


def answer_request(session, user: User, request_id: int, *, answer: str, stopped_month: dt.date | None = None,
                   on: dt.date | None = None) -> CountyRequest:
    """The asked county's answer: the person still draws here, was stopped (from a month), or is not ours."""
    on = on or china_today()
    _require_county(user)
    errors: dict[str, list[str]] = {}
    if answer not in ANSWERS:
        errors["answer"] = ["请选择答复结果。"]
    if answer == "stopped" and stopped_month is None:
        errors["stopped_month"] = ["答复“已停发”须填写停发月份。"]
    if answer != "stopped":
        stopped_month = None
    if errors:
        raise ValidationError(*[e for v in errors.values() for e in v], field_errors=errors)
    if _pg(session):
        done = session.execute(text("SELECT jiuzhu_request_answer(:i, :a, :s, :o)"),
                               {"i": request_id, "a": answer, "s": stopped_month, "o": on}).scalar()
    else:
        q = county_requests
        done = session.connection().execute(
            q.update().where(q.c.id == request_id, q.c.to_county == require_scope().tenant_id, q.c.answer.is_(None),
                             q.c.opened_on <= on)
            .values(answer=answer, stopped_month=stopped_month.replace(day=1) if stopped_month else None,
                    answered_on=on)).rowcount == 1
    if not done:
        raise NotFound("该协查请求不存在、不是发给本县的，或已经答复。")
    found = next(r for r in requests(session) if r.id == request_id and r.direction == "in")
    record(session, entity_type="county_request", entity_id=request_id, action="answer", case_id=found.case_id,
           after={"answer": answer, "stopped_month": stopped_month.isoformat() if stopped_month else None,
                  "answered_on": on.isoformat(), "late": on > found.due_on})
    return found


def members_by_case(session, pairs) -> dict[tuple[int, str], tuple[int, str]]:
    """This county's own members as (id, name), by (case, blind index): for its lists and the sweep."""
    case_ids = sorted({c for c, _ in pairs})
    out: dict[tuple[int, str], tuple[int, str]] = {}
    for start in range(0, len(case_ids), 1000):
        for c, b, i, name in session.execute(select(Case.id, Member.id_number_bidx, Member.id, Member.name)
                                             .join(Member, Member.household_id == Case.household_id)
                                             .where(Case.id.in_(case_ids[start:start + 1000]))):
            out[(c, b)] = (i, name)
    return out


# ---------------------------------------------------------------------------------------------------
# the nightly sweep

def refresh(session) -> int:
    """The nightly pass over the whole registry (PostgreSQL: one self-join, kept for the counties' jobs;
    the demo's SQLite computes each county's slice when asked). Returns the number of pairs."""
    if _pg(session):
        return session.execute(text("SELECT jiuzhu_registry_refresh()")).scalar()
    return 0


def _duplicates(session) -> list[dict]:
    if _pg(session):
        return [dict(r._mapping) for r in session.execute(text("SELECT * FROM jiuzhu_registry_duplicates()"))]
    me = require_scope().tenant_id
    mine = _sqlite_registry(session, county=me)
    others = _sqlite_registry(session, bidx=sorted({r["person_bidx"] for r in mine}))
    out, seen = [], set()
    for a in mine:
        for o in others:
            if o["person_bidx"] != a["person_bidx"]:
                continue
            if o["county_id"] == me and o["household_id"] == a["household_id"]:
                continue
            same = o["county_id"] == me
            row = (a["case_id"], a["person_bidx"], o["county"], same, o["case_id"] if same else None, o["category"],
                   o["state"], o["since"])
            if row not in seen:
                seen.add(row)
                out.append(dict(zip(("case_id", "person_bidx", "county", "same_county", "other_case_id", "category",
                                     "state", "since"), row, strict=True)))
    return out


def sweep_county(session, today: dt.date | None = None) -> dict:
    """The county's duplicates as of the last :func:`refresh`, against what was found before: new ones recorded and reported to
    the county's staff, those no longer there marked gone; reminders planned for unanswered 协查
    requests to this county. Runs in the county's scope (one job per county)."""
    from jiuzhu.reminders.models import Notification
    from jiuzhu.reminders.planner import sync_county_request

    today = today or china_today()
    me = require_scope().tenant_id
    rows = _duplicates(session)
    members = members_by_case(session, {(r["case_id"], r["person_bidx"]) for r in rows})
    known = {(f.case_id, f.member_id, f.other, f.category): f
             for f in session.scalars(select(DuplicateFinding).where(DuplicateFinding.gone_on.is_(None)))}
    seen, new = set(), []
    for r in rows:
        member = members.get((r["case_id"], r["person_bidx"]))
        if member is None:
            continue
        member_id = member[0]
        other = f"本县案件 {r['other_case_id']}" if r["same_county"] else r["county"]
        key = (r["case_id"], member_id, other, r["category"])
        if key in seen:
            continue
        seen.add(key)
        finding = known.get(key)
        if finding is None:
            finding = DuplicateFinding(tenant_id=me, case_id=r["case_id"], member_id=member_id, other=other,
                                       category=r["category"], first_seen_on=today)
            session.add(finding)
            new.append(finding)
        finding.state, finding.since, finding.last_seen_on = r["state"], r["since"], today
    gone = [f for key, f in known.items() if key not in seen]
    for f in gone:
        f.gone_on = today
    session.flush()
    if new:
        people = session.scalars(select(User).where(User.active.is_(True), User.role.in_(COUNTY_ROLES))).all()
        for user in people:
            session.add(Notification(tenant_id=me, user_id=user.id, title=f"重复享受比对：新发现 {len(new)} 条",
                                     body=f"{today:%Y年%m月%d日}全平台比对发现本县 {len(new)} 条新的重复享受线索，"
                                          f"请在“重复享受核查”中核实处理。"))
    planned = 0
    waiting = [q for q in requests(session) if q.direction == "in" and q.answer is None]
    if waiting:
        from jiuzhu.spotchecks.services import tenant_plugin

        plugin, tenant = tenant_plugin(session)
        settings = plugin.settings(tenant.plugin_settings)
        for q in waiting:
            planned += sync_county_request(session, q, settings, today)
    session.flush()
    return {"found": len(seen), "new": len(new), "gone": len(gone), "requests": planned}


def waiting_requests(session) -> dict[int, dt.date]:
    """The 协查 requests asked of this county and not yet answered, by id, with their deadlines: a
    reminder about one is due while it is here with the same deadline."""
    return {q.id: q.due_on for q in requests(session) if q.direction == "in" and q.answer is None}


__all__ = ["ANSWERS", "CaseDuplicates", "CountyRequest", "Match", "REQUEST_WORKDAYS", "answer_request",
           "approval_problems", "case_duplicates", "lookup", "matches_for_case", "members_by_case", "open_request", "record_resolution",
           "refresh", "requests", "resolved_keys", "sweep_county", "waiting_requests"]
