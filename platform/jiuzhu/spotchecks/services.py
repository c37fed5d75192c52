"""Drawing the county's spot-check sample, recording results, the kinship registry, real-name reports.

The sample is reproducible: every eligible case is ranked by SHA-256 of ``"<seed>:<case id>"`` and
the lowest ranks are taken, so the same seed over the same population always gives the same
households, on any machine and any Python version, and anyone holding the draw's record can check it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from flask import current_app
from sqlalchemy import select

from jiuzhu.audit import record
from jiuzhu.auth.models import User
from jiuzhu.auth.roles import Role
from jiuzhu.cases.categories import CaseKind, CaseStatus
from jiuzhu.cases.households import Household
from jiuzhu.cases.models import Case
from jiuzhu.clock import china_today
from jiuzhu.errors import NotFound, PermissionDenied, ValidationError
from jiuzhu.plugins.rules import SpotCheckRule
from jiuzhu.spotchecks.models import (
    CLOSE_RELATIVES,
    RealNameReport,
    ReportStatus,
    SpotCheckDraw,
    SpotCheckItem,
    SpotCheckMethod,
    SpotCheckResult,
    StaffKinship,
    StaffLevel,
)
from jiuzhu.tenancy.context import require_scope
from jiuzhu.tenancy.models import Tenant
from jiuzhu.workflow.models import Step

COUNTY_ROLES = frozenset({Role.county_staff, Role.county_admin})
COUNTY_ONLY = "抽查、近亲属关系备案和实名举报核查由县级民政部门办理，乡镇（街道）和村（社区）不能办理。"


def require_county(user: User) -> None:
    if user.role not in COUNTY_ROLES:
        raise PermissionDenied(COUNTY_ONLY, code="county_only")


def tenant_plugin(session):
    """The plugin of the tenant the current scope works in."""
    tenant = session.get(Tenant, require_scope().tenant_id)
    return current_app.extensions["jiuzhu.plugins"].get(tenant.plugin_key), tenant


def _actor(user: User) -> str:
    return f"{user.full_name}（{user.role.label}）"


# -- the sample (pure) ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    case_id: int
    related_to_staff: bool = False


@dataclass(frozen=True)
class Pick:
    case_id: int
    on_site: bool
    related_to_staff: bool


def rank(seed: str, case_id: int, purpose: str = "") -> str:
    return hashlib.sha256(f"{seed}:{purpose}{case_id}".encode()).hexdigest()


def at_least(share: Decimal, n: int) -> int:
    """The smallest whole number not below ``share`` × ``n`` (不低于…的比例)."""
    return int((Decimal(share) * n).to_integral_value(rounding=ROUND_CEILING))


def choose(candidates: Iterable[Candidate], seed: str, sample_share: Decimal, on_site_share: Decimal,
           on_site_of_new_cases: bool = False) -> list[Pick]:
    """The sample: every staff relative (on site), topped up by rank to at least ``sample_share`` of the
    population; on site: the relatives, topped up by a second rank to at least ``on_site_share`` of
    the sample — or of the population when ``on_site_of_new_cases`` (never more than the sample)."""
    pool = list(candidates)
    related = sorted((c for c in pool if c.related_to_staff), key=lambda c: c.case_id)
    others = sorted((c for c in pool if not c.related_to_staff), key=lambda c: rank(seed, c.case_id))
    size = max(at_least(sample_share, len(pool)), len(related))
    chosen = others[: size - len(related)]
    on_site_base = len(pool) if on_site_of_new_cases else size
    on_site_more = max(0, min(at_least(on_site_share, on_site_base), size) - len(related))
    on_site = {c.case_id for c in sorted(chosen, key=lambda c: rank(seed, c.case_id, "实地"))[:on_site_more]}
    picks = [Pick(c.case_id, True, True) for c in related]
    picks += [Pick(c.case_id, c.case_id in on_site, False) for c in chosen]
    return sorted(picks, key=lambda p: p.case_id)


# -- drawing -------------------------------------------------------------------------------------

def _share(value, minimum: Decimal | None, what: str, errors: list[str]) -> Decimal | None:
    if value is None:
        return minimum
    try:
        share = Decimal(str(value))
    except (InvalidOperation, ValueError):
        share = None
    if share is None or not share.is_finite():
        errors.append(f"{what}“{value}”不是有效比例（例如 0.5 表示 50%）。")
        return None
    if share <= 0 or share > 1:
        errors.append(f"{what}须大于 0 且不超过 100%。")
    elif minimum is not None and share < minimum:
        errors.append(f"{what}不能低于本地规则规定的 {minimum:.0%}。")
    return share


def new_cases(session, rule: SpotCheckRule, start: dt.date, end: dt.date) -> list[Case]:
    """New cases of the rule's categories approved from ``start`` to ``end`` and still approved."""
    wanted = {c.value for c in rule.categories}
    rows = session.scalars(select(Case).where(Case.kind == CaseKind.application, Case.status == CaseStatus.approved,
                                              Case.decided_on >= start, Case.decided_on <= end)
                           .order_by(Case.id)).all()
    return [c for c in rows if wanted & set(c.categories)]


def already_considered(session, start: dt.date | None) -> set[int]:
    """Cases an earlier draw considered (each new case is considered once); ``None``: by any draw."""
    query = select(SpotCheckDraw.population)
    if start is not None:
        query = query.where(SpotCheckDraw.window_end >= start)
    return {case_id for population in session.scalars(query).all() for case_id in population}


def uncovered(session, rule: SpotCheckRule, on: dt.date) -> list:
    """New cases of the rule decided on or before ``on`` that no draw has considered, oldest first
    (rows of id, household_id, decided_on). New: confirmed through the platform's procedure — a roll
    imported as 存量在保对象 has no steps and is not a new household."""
    wanted = {c.value for c in rule.categories}
    seen = already_considered(session, None)
    through_procedure = select(Step.id).where(Step.case_id == Case.id).exists()
    rows = session.execute(select(Case.id, Case.household_id, Case.decided_on, Case.categories)
                           .where(Case.kind == CaseKind.application, Case.status == CaseStatus.approved,
                                  Case.decided_on <= on, through_procedure)
                           .order_by(Case.decided_on, Case.id)).all()
    return [r for r in rows if wanted & set(r.categories) and r.id not in seen]


def related_households(session, on: dt.date) -> set[int]:
    return set(session.scalars(select(StaffKinship.household_id).where(StaffKinship.registered_on <= on)).all())


def draw(session, user: User, *, on: dt.date | None = None, seed: str | int | None = None,
         sample_share=None, on_site_share=None, window_days: int | None = None,
         note: str | None = None) -> SpotCheckDraw:
    """Draw the county's sample of new cases under the plugin's ``SpotCheckRule``.

    Shares default to the county's settings (``spot_check_share``, ``spot_check_on_site_share``) or
    the rule's minimum, and may never be set below the rule."""
    on = on or china_today()
    require_county(user)
    plugin, tenant = tenant_plugin(session)
    rule: SpotCheckRule | None = getattr(plugin, "spot_check_rule", None)
    if rule is None:
        raise ValidationError(f"{plugin.name}的规则未规定抽查，无法按规则抽取。")
    settings = plugin.tenant_settings(tenant.id)
    errors: list[str] = []
    sample = _share(sample_share if sample_share is not None else settings.get("spot_check_share"),
                    rule.sample_share, "抽查比例", errors)
    site = _share(on_site_share if on_site_share is not None else settings.get("spot_check_on_site_share"),
                  rule.on_site_share, "实地抽查比例", errors)
    if sample is None and not errors:
        errors.append("本地规则未规定抽查比例，请填写抽查比例。")
    if site is None and not errors:
        site = Decimal("0")
    if rule.on_site_of_new_cases and sample is not None and site is not None and not errors and site > sample:
        errors.append(f"实地抽查是抽查的一部分：实地抽查比例（{site:.0%}）不能高于抽查比例（{sample:.0%}）。")
    days = window_days if window_days is not None else rule.window_days
    if days is None:
        errors.append("本地规则未规定抽查范围的天数，请填写。")
    elif days <= 0 or (rule.window_days is not None and days > rule.window_days):
        errors.append(f"抽查范围须为确认决定作出后 1 至 {rule.window_days or 366} 天内的新增家庭。")
    seed = str(seed).strip() if seed is not None else secrets.token_hex(8)
    if not seed or len(seed) > 64:
        errors.append("随机种子须为 1 至 64 个字符。")
    if errors:
        raise ValidationError(*errors)

    start = on - dt.timedelta(days=days)
    if rule.complete_coverage:
        # every new case no draw has considered, however long ago it was confirmed: none escapes
        cases = sorted(uncovered(session, rule, on), key=lambda c: c.id)
        start = min([start] + [c.decided_on for c in cases])
    else:
        seen = already_considered(session, start)
        cases = [c for c in new_cases(session, rule, start, on) if c.id not in seen]
    labels = "、".join(c.label for c in rule.categories)
    if not cases:
        raise ValidationError(f"{start:%Y-%m-%d} 至 {on:%Y-%m-%d} 没有尚未抽查过的新增{labels}家庭，无需抽取。")
    related = related_households(session, on)
    picks = choose([Candidate(c.id, c.household_id in related) for c in cases], seed, sample, site,
                   rule.on_site_of_new_cases)
    by_id = {c.id: c for c in cases}
    result = SpotCheckDraw(drawn_on=on, drawn_by_id=user.id, drawn_by_name=_actor(user), seed=seed,
                           plugin_key=plugin.key, window_start=start, window_end=on, sample_share=sample,
                           on_site_share=site, population=[c.id for c in cases], note=(note or "").strip() or None,
                           rule={"categories": [c.value for c in rule.categories],
                                 "sample_share": str(rule.sample_share) if rule.sample_share is not None else None,
                                 "on_site_share": str(rule.on_site_share) if rule.on_site_share is not None else None,
                                 "window_days": rule.window_days, "on_site_of_new_cases": rule.on_site_of_new_cases,
                                 "complete_coverage": rule.complete_coverage, "related_staff_all_on_site":
                                     rule.related_staff_all_on_site, "source": rule.source})
    for p in picks:
        result.items.append(SpotCheckItem(case_id=p.case_id, household_id=by_id[p.case_id].household_id,
                                          related_to_staff=p.related_to_staff,
                                          method=SpotCheckMethod.on_site if p.on_site else SpotCheckMethod.desk))
    session.add(result)
    session.flush()
    record(session, entity_type="spotcheck_draw", entity_id=result.id, action="draw",
           after={"seed": seed, "population": len(cases), "sampled": len(picks),
                  "on_site": sum(p.on_site for p in picks), "window": [start.isoformat(), on.isoformat()]})
    return result


def record_result(session, user: User, item_id: int, *, result: str, checked_on: dt.date, checker: str,
                  finding: str | None = None, on: dt.date | None = None) -> SpotCheckItem:
    """The result of checking one sampled household (a problem needs what was found)."""
    on = on or china_today()
    require_county(user)
    item = session.get(SpotCheckItem, item_id)
    if item is None:
        raise NotFound("该抽查记录不存在。")
    errors = []
    if item.result != SpotCheckResult.pending:
        errors.append(f"该户的抽查结果已于 {item.checked_on:%Y-%m-%d} 记录，不能重复记录。")
    if result not in (SpotCheckResult.conforms, SpotCheckResult.irregular):
        errors.append("抽查结果须为“情况属实、符合条件”或“发现问题”。")
    finding = (finding or "").strip() or None
    if result == SpotCheckResult.irregular and not finding:
        errors.append("发现问题的，须写明发现的问题。")
    if not (checker or "").strip():
        errors.append("请填写核查人员。")
    if checked_on < item.draw.drawn_on:
        errors.append(f"核查日期不能早于抽取日期 {item.draw.drawn_on:%Y-%m-%d}。")
    if checked_on > on:
        errors.append("核查日期不能晚于今天。")
    if errors:
        raise ValidationError(*errors)
    item.result = SpotCheckResult(result)
    item.checked_on, item.checker, item.finding, item.recorded_by_id = checked_on, checker.strip(), finding, user.id
    session.flush()
    record(session, entity_type="spotcheck_item", entity_id=item.id, action="result", case_id=item.case_id,
           after={"result": item.result.value, "checked_on": checked_on.isoformat(), "method": item.method.value})
    return item


@dataclass
class DrawSummary:
    population: int
    sampled: int
    on_site: int
    related: int
    related_on_site: int
    pending: int
    problems: list[str] = field(default_factory=list)

    @property
    def meets_rule(self) -> bool:
        return not self.problems


def summarize(draw_: SpotCheckDraw, rule: SpotCheckRule | None = None) -> DrawSummary:
    """Counts of a draw, and every way it falls short of the rule (empty when it complies)."""
    items = draw_.items
    s = DrawSummary(population=len(draw_.population), sampled=len(items), on_site=sum(i.on_site for i in items),
                    related=sum(i.related_to_staff for i in items),
                    related_on_site=sum(i.related_to_staff and i.on_site for i in items),
                    pending=sum(i.result == SpotCheckResult.pending for i in items))
    sample_min = Decimal(draw_.rule["sample_share"]) if draw_.rule.get("sample_share") else None
    site_min = Decimal(draw_.rule["on_site_share"]) if draw_.rule.get("on_site_share") else None
    if sample_min is not None and s.sampled < at_least(sample_min, s.population):
        s.problems.append(f"抽查 {s.sampled} 户，低于新增家庭 {s.population} 户的 {sample_min:.0%}。")
    if draw_.rule.get("on_site_of_new_cases"):
        if site_min is not None and s.on_site < at_least(site_min, s.population):
            s.problems.append(f"实地抽查 {s.on_site} 户，低于新增家庭 {s.population} 户的 {site_min:.0%}。")
    elif site_min is not None and s.on_site < at_least(site_min, s.sampled):
        s.problems.append(f"实地抽查 {s.on_site} 户，低于抽查户数的 {site_min:.0%}。")
    if draw_.rule.get("related_staff_all_on_site") and s.related_on_site < s.related:
        s.problems.append("与经办人员有近亲属关系的家庭未全部实地核查。")
    return s


@dataclass(frozen=True)
class CoverageGap:
    """A warning for the county: new households past the window no draw has considered, or a short draw."""

    kind: str  # "missing" | "short"
    message: str
    draw_id: int | None = None
    count: int = 0


def coverage_gaps(session, rule: SpotCheckRule | None, on: dt.date, draws=None) -> list[CoverageGap]:
    """What the county must be told (rules with ``complete_coverage`` only): new households confirmed more
    than ``window_days`` ago that no draw has considered (the draw is missing), and draws whose sample or
    on-site share falls short of the rule (the draw is short)."""
    if rule is None or not rule.complete_coverage:
        return []
    gaps: list[CoverageGap] = []
    labels = "、".join(c.label for c in rule.categories)
    late = [c for c in uncovered(session, rule, on)
            if rule.window_days is not None and c.decided_on + dt.timedelta(days=rule.window_days) < on]
    if late:
        gaps.append(CoverageGap("missing", (
            f"{len(late)} 户新增{labels}家庭确认已超过 {rule.window_days} 天仍未纳入任何抽查（最早于 "
            f"{late[0].decided_on:%Y-%m-%d} 确认），请尽快抽取：下次抽取将包括这些家庭。"), count=len(late)))
    if draws is None:
        from sqlalchemy.orm import selectinload

        draws = session.scalars(select(SpotCheckDraw).options(selectinload(SpotCheckDraw.items))
                                .order_by(SpotCheckDraw.drawn_on, SpotCheckDraw.id)).all()
    for d in draws:
        problems = summarize(d).problems
        if problems:
            gaps.append(CoverageGap("short", f"{d.drawn_on:%Y-%m-%d} 的抽取不足："
                                    + "".join(problems), draw_id=d.id, count=len(problems)))
    return gaps


# -- the kinship registry ------------------------------------------------------------------------

def register_kinship(session, user: User, *, household: Household, staff_name: str, staff_level: str,
                     staff_unit: str, relation: str, registered_on: dt.date | None = None,
                     note: str | None = None) -> StaffKinship:
    """如实备案: a household with a close relative among the four levels of handling staff."""
    registered_on = registered_on or china_today()
    require_county(user)
    errors = []
    if not (staff_name or "").strip():
        errors.append("请填写经办人员姓名。")
    if staff_level not in StaffLevel.__members__:
        errors.append("经办人员层级须为市级、县级、乡镇（街道）或村（居）。")
    if not (staff_unit or "").strip():
        errors.append("请填写经办人员所在单位及职务。")
    if relation not in CLOSE_RELATIVES:
        errors.append("近亲属关系须为：" + "、".join(CLOSE_RELATIVES) + "。")
    if errors:
        raise ValidationError(*errors)
    row = StaffKinship(household_id=household.id, staff_name=staff_name.strip(), staff_level=StaffLevel(staff_level),
                       staff_unit=staff_unit.strip(), relation=relation, registered_on=registered_on,
                       registered_by_id=user.id, note=(note or "").strip() or None)
    session.add(row)
    session.flush()
    record(session, entity_type="staff_kinship", entity_id=row.id, action="register",
           after={"household_id": household.id, "staff_level": staff_level, "relation": relation})
    return row


# -- real-name reports ---------------------------------------------------------------------------

def receive_report(session, user: User, *, reporter_name: str, reporter_contact: str, channel: str,
                   received_on: dt.date, subject: str, content: str, household: Household | None = None,
                   case: Case | None = None) -> RealNameReport:
    """Record a real-name report on receipt (每件实名举报均登记)."""
    require_county(user)
    errors = []
    if not (reporter_name or "").strip():
        errors.append("实名举报须登记举报人姓名。")
    if not (reporter_contact or "").strip():
        errors.append("请登记举报人的联系方式，以便反馈核实结果。")
    elif len(reporter_contact.strip()) > 100:
        errors.append("举报人的联系方式不能超过 100 个字符。")
    if not (subject or "").strip():
        errors.append("请填写被举报的对象或事项。")
    if not (content or "").strip():
        errors.append("请填写举报内容。")
    if not (channel or "").strip():
        errors.append("请填写举报渠道（来信、来电、来访、网络等）。")
    if errors:
        raise ValidationError(*errors)
    report = RealNameReport(reporter_name=reporter_name.strip(), reporter_contact=reporter_contact.strip(),
                            channel=channel.strip(), received_on=received_on, subject=subject.strip(),
                            content=content.strip(), household_id=household.id if household else None,
                            case_id=case.id if case else None, received_by_id=user.id)
    session.add(report)
    session.flush()
    record(session, entity_type="realname_report", entity_id=report.id, action="receive",
           after={"received_on": received_on.isoformat(), "channel": report.channel})
    return report


def _report(session, report_id: int) -> RealNameReport:
    report = session.get(RealNameReport, report_id)
    if report is None:
        raise NotFound("该举报记录不存在。")
    return report


def verify_report(session, user: User, report_id: int, *, verified_on: dt.date, substantiated: bool,
                  verification: str) -> RealNameReport:
    """逐一核实: what the verification found and whether the report proved true."""
    require_county(user)
    report = _report(session, report_id)
    errors = []
    if report.status != ReportStatus.received:
        errors.append("该举报已核实，不能重复核实。")
    if verified_on < report.received_on:
        errors.append(f"核实日期不能早于受理日期 {report.received_on:%Y-%m-%d}。")
    if not (verification or "").strip():
        errors.append("请填写核实情况。")
    if errors:
        raise ValidationError(*errors)
    report.status, report.verified_on = ReportStatus.verified, verified_on
    report.substantiated, report.verification = bool(substantiated), verification.strip()
    session.flush()
    record(session, entity_type="realname_report", entity_id=report.id, action="verify",
           after={"verified_on": verified_on.isoformat(), "substantiated": report.substantiated})
    return report


def correct_report(session, user: User, report_id: int, *, corrected_on: dt.date, correction: str,
                   on: dt.date | None = None) -> RealNameReport:
    """问题纠正: what was done about a report found true (a benefit stopped, a confirmation revoked, money
    recovered…), recorded by the county."""
    from jiuzhu.clock import china_today

    on = on or china_today()
    require_county(user)
    report = _report(session, report_id)
    errors = []
    if report.status == ReportStatus.received:
        errors.append("须先核实，再登记纠正情况。")
    elif not report.substantiated:
        errors.append("举报不属实，无须纠正。")
    elif report.corrected_on is not None:
        errors.append("已登记纠正情况。")
    elif corrected_on < report.verified_on:
        errors.append(f"纠正日期不能早于核实日期 {report.verified_on:%Y-%m-%d}。")
    if corrected_on > on:
        errors.append("纠正日期不能晚于今天。")
    if not (correction or "").strip():
        errors.append("请填写纠正情况。")
    elif len(correction.strip()) > 2000:
        errors.append("纠正情况不超过 2000 字。")
    if errors:
        raise ValidationError(*errors)
    report.corrected_on, report.correction = corrected_on, correction.strip()
    session.flush()
    record(session, entity_type="realname_report", entity_id=report.id, action="correct",
           after={"corrected_on": corrected_on.isoformat()})
    return report


def answer_report(session, user: User, report_id: int, *, answered_on: dt.date, answer: str,
                  via: str) -> RealNameReport:
    """及时向举报人反馈核实结果 — only after the report has been verified, and — where the rules say a report
    found true is corrected (宁夏 “举报查实、问题纠正”) — after its correction is recorded."""
    require_county(user)
    report = _report(session, report_id)
    plugin, _tenant = tenant_plugin(session)
    rule = getattr(plugin, "spot_check_rule", None)
    errors = []
    if report.status == ReportStatus.received:
        errors.append("须先核实，再向举报人反馈核实结果。")
    elif (report.status == ReportStatus.verified and report.substantiated and report.corrected_on is None
          and rule is not None and rule.correct_substantiated_reports):
        errors.append(f"举报属实：须先纠正问题并登记纠正情况，再向举报人反馈（{rule.source}）。")
    elif report.status == ReportStatus.answered:
        errors.append("已向举报人反馈过核实结果。")
    elif answered_on < report.verified_on:
        errors.append(f"反馈日期不能早于核实日期 {report.verified_on:%Y-%m-%d}。")
    if not (answer or "").strip():
        errors.append("请填写反馈给举报人的核实结果。")
    if not (via or "").strip():
        errors.append("请填写反馈方式（电话、书面、当面等）。")
    if errors:
        raise ValidationError(*errors)
    report.status, report.answered_on = ReportStatus.answered, answered_on
    report.answer, report.answered_via, report.answered_by_id = answer.strip(), via.strip(), user.id
    session.flush()
    record(session, entity_type="realname_report", entity_id=report.id, action="answer",
           after={"answered_on": answered_on.isoformat(), "via": report.answered_via})
    return report


def unanswered_reports(session) -> list[RealNameReport]:
    """Reports not yet answered, oldest first (the county's to-do list)."""
    return list(session.scalars(select(RealNameReport).where(RealNameReport.status != ReportStatus.answered)
                                .order_by(RealNameReport.received_on, RealNameReport.id)))


__all__ = ["draw", "choose", "rank", "at_least", "Candidate", "Pick", "record_result", "summarize", "DrawSummary",
           "register_kinship", "receive_report", "verify_report", "correct_report", "answer_report",
           "unanswered_reports", "require_county", "tenant_plugin", "new_cases", "uncovered", "coverage_gaps",
           "CoverageGap"]
