"""The screens township, village and county staff work in: the worklist (我的待办), intake, the case
page with its timeline and the form of the step at hand, the household page, the case list.

Views only read requests, call the service layer (``jiuzhu.workflow.engine``,
``jiuzhu.cases.services``) and render; every rule lives there. Each POST is one transaction: commit
on success, roll back and show the refusal otherwise.
"""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from types import SimpleNamespace

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import defer
from werkzeug.datastructures import MultiDict

from jiuzhu.admin.badges import due_badge
from jiuzhu.admin.base import SecureBaseView, date_problem, flash_refusal, perform
from jiuzhu.auth.roles import Role
from jiuzhu.calendar import workdays_between
from jiuzhu.cases.assessment import assess
from jiuzhu.cases.categories import CASE_STATUS_LABELS, CaseStatus, Category, Channel
from jiuzhu.cases.households import Health, Household, Relation, WorkAbility, household_label
from jiuzhu.cases.models import Case, unshown_in_lists
from jiuzhu.cases.services import (
    MemberInput,
    Refusals,
    SupporterInput,
    plausibility_warnings,
    register_household,
)
from jiuzhu.clock import china_today
from jiuzhu.errors import NotFound, PermissionDenied, ServiceError, ValidationError
from jiuzhu.extensions import db
from jiuzhu.i18n_terms import term
from jiuzhu.privacy.models import AccessKind
from jiuzhu.privacy.services import record_access
from jiuzhu.security.inputs import MAX_ID, parse_id
from jiuzhu.tenancy.models import OrgLevel, OrgUnit, Tenant
from jiuzhu.tenancy.services import county_place, county_places, registered_village, villages_in_scope
from jiuzhu.workflow import engine
from jiuzhu.workflow.deadlines import effective_due, is_overdue
from jiuzhu.workflow.formrender import field_views, read_form
from jiuzhu.workflow.models import Step, StepStatus
from jiuzhu.workflow.spec import StepTownship

WORKERS = frozenset({Role.township_staff, Role.township_leader, Role.county_staff})
#: the statuses in which a case is checked against the duplicate-benefit registry (open, or benefits running)
DUPLICATE_STATES = frozenset({CaseStatus.pending_acceptance, CaseStatus.in_review, CaseStatus.approved})
EVERYONE = WORKERS | {Role.village_assistant, Role.county_admin}
PAGE_SIZE = 50


def _plugin():
    from jiuzhu.tenancy.services import county_of_request

    # the county loaded with the user (one statement), else read
    tenant = county_of_request() or db.session.get(Tenant, current_user.tenant_id)
    return current_app.extensions["jiuzhu.plugins"].get(tenant.plugin_key), tenant


def _cursor(*parts) -> str:
    return base64.urlsafe_b64encode("|".join("" if p is None else str(p) for p in parts).encode()).decode()


def _uncursor(raw: str | None) -> tuple[bool, dt.date | None, int] | None:
    """The (green channel, due date, step id) a worklist page continues after; a crafted or stale
    cursor is ignored (the list starts from the top) rather than reaching the database."""
    if not raw:
        return None
    try:
        priority, due, step_id = base64.urlsafe_b64decode(raw.encode()).decode().split("|")
        if priority not in ("True", "False"):
            return None
        return priority == "True", (dt.date.fromisoformat(due) if due and due != "None" else None), int(step_id)
    except (ValueError, UnicodeDecodeError, OverflowError):
        return None


def _after_due(due: dt.date | None, last_id: int):
    """Rows after (due, id) among rows of the same green-channel standing (deadline first, none last)."""
    if due:
        return or_(Step.due_on > due, and_(Step.due_on == due, Step.id > int(last_id)), Step.due_on.is_(None))
    return and_(Step.due_on.is_(None), Step.id > int(last_id))


def _open_steps(user, *, village_id=None, step_key=None) -> list:
    """What makes a step the user's: open, of their level, in their scope; for a township only its
    own (a case shared by two townships: ``Step.township_id`` is the step's owner; the org scoping
    lets both see every step of the case, for its timeline)."""
    where = [Step.status == StepStatus.open, Step.level == user.role.org_level]
    if user.role.is_township:
        where.append(Step.township_id == user.org_unit_id)
    if village_id:
        where.append(Step.village_id == village_id)
    if step_key:
        where.append(Step.key == step_key)
    return where


def worklist_query(user, *, category=None, village_id=None, step_key=None, channel=None, green=None, after=None,
                   limit=None):
    """Open steps the user's level acts on, in their scope, by deadline (none last), then id, each
    with its case and the name of its household's head; after the cursor ``after`` (due date, step
    id), at most ``limit``. ``green``: only the steps of green-channel cases (True), only the others
    (False), or all (None). A page puts green-channel cases first: see :func:`worklist_rows`.

    The page of steps is chosen from the steps alone, in the order of their index, and only its
    rows are joined to their cases: joined first, PostgreSQL counted the township's selectivity
    twice (once in the query, once in the org scoping), expected a dozen rows, and joined and sorted
    every open step of the township (at 1,000,000 cases most of the page's time; 137 ms with a
    filter on the cases). A filter on the cases (category, channel) is checked step by step, each
    step's case found by its key, until the page is full. Green-channel cases are few: their steps
    are found from the cases' partial index instead."""
    order = (Step.due_on.asc().nulls_last(), Step.id)
    steps = _open_steps(user, village_id=village_id, step_key=step_key) + ([_after_due(*after)] if after else [])
    of_case = []  # what the user asked of the cases
    if category:
        # the category as typed, its % and _ plain characters (a crafted % matched every category)
        of_case.append(Case.categories.cast(db.String).contains(f'"{category}"', autoescape=True))
    if channel:
        of_case.append(Case.channel == channel)
    if green:
        # ``cases.priority`` as such: the form the partial index's predicate is proved by
        q = (select(Step, Case, head_name_column()).join(Case, Case.id == Step.case_id)
             .where(*steps, Case.priority, *of_case))
    else:
        page = select(Step.id).where(*steps)
        if green is False:  # the others, after the green channel's (see worklist_rows)
            page = page.where(Step.case_id.not_in(select(Case.id).where(Case.priority)))
        if of_case:
            # each step's case looked up by its key as the steps come, in order, until the page is
            # full: a scalar subquery, which PostgreSQL keeps per row (an EXISTS it turns into a
            # join, and it then read every case of the township of the category first)
            page = page.where(select(and_(*of_case)).where(Case.id == Step.case_id).scalar_subquery().is_(True))
        page = page.order_by(*order).limit(limit).subquery()
        q = (select(Step, Case, head_name_column()).join(page, page.c.id == Step.id)
             .join(Case, Case.id == Step.case_id))
    if limit is not None:
        q = q.limit(limit)
    # the page names each household by its head: a column of the page's one statement (neither the
    # households nor their members are loaded), and it decrypts nothing it never shows (the steps'
    # form data and reasons, the cases' reasons)
    return q.order_by(*order).options(*_worklist_options())


@lru_cache(maxsize=1)
def _worklist_options() -> tuple:
    """What the worklist never shows (the steps' form data and reasons, the cases' reasons): not
    loaded, not decrypted. Built once, not at every request: options are immutable."""
    return (defer(Step.data), defer(Step.reason), *unshown_in_lists())


def worklist_rows(user, *, green_channel: bool, after=None, limit: int, **filters) -> list:
    """Up to ``limit`` rows (step, case, head's name) of the worklist after the cursor ``after`` (green
    channel, due date, step id): green-channel cases first (枞阳 “开通绿色通道…快速响应、即时救助”),
    then by deadline. A county whose plugin has a green channel (``green_channel``) gets two
    statements, each read in the order of an index: the green-channel steps, then the others — never
    one statement that orders every open step of the township by a column of the cases (at 1,000,000
    cases that sort took 0.4 s a page); any other county one."""
    def section(green, cursor, n):
        return db.session.execute(worklist_query(user, green=green, after=cursor, limit=n, **filters)).all()

    if not green_channel:
        return section(None, after[1:] if after else None, limit)
    rows = []
    if after is None or after[0]:  # the page starts among the green-channel steps
        rows = section(True, after[1:] if after else None, limit)
        if len(rows) >= limit:
            return rows
        after = None
    return rows + section(False, after[1:] if after else None, limit - len(rows))


def head_name_column():
    """The name of the head of the case's household (``None`` when none is recorded), as a column of
    a statement that selects ``Case``: what ``str(case.household)`` shows, without loading it."""
    from jiuzhu.cases.households import Member

    return (select(Member.name).where(Member.household_id == Case.household_id, Member.relation == Relation.head)
            .order_by(Member.id).limit(1).correlate(Case).scalar_subquery().label("head_name"))


def _case_href() -> str:
    """The address of a case page without its number: a list links its rows as this followed by
    each case's id — one ``url_for`` a page instead of one a row (each a routing lookup, 25 µs)."""
    return url_for("casework.case", case_id=0).removesuffix("0")


def _pdf(data: bytes, filename: str):
    from flask import Response

    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename={filename}", "Cache-Control": "no-store"})


class CaseworkView(SecureBaseView):
    roles = EVERYONE

    # -- the worklist ---------------------------------------------------------------------------

    @expose("/")
    def index(self):
        if current_user.role is Role.county_admin:
            return redirect(url_for(".cases"))
        if current_user.role.is_village:
            # a village decides nothing and has no steps of its own: its work is its open cases
            return self.cases(open_only=True)
        plugin, tenant = _plugin()
        after = _uncursor(request.args.get("after"))
        filters = {k: request.args.get(k) or None for k in ("category", "village_id", "step_key", "channel")}
        rows = worklist_rows(
            current_user, green_channel=plugin.green_channel, category=filters["category"],
            village_id=parse_id(filters["village_id"]), step_key=filters["step_key"], channel=filters["channel"],
            after=after if after and 0 < after[2] <= MAX_ID else None, limit=PAGE_SIZE + 1)
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        today = china_today()
        items = []
        # each row's cells made here, once per distinct value (a page of fifty rows has a few steps,
        # categories and deadlines): the template only places them
        labels, badges, kinds = {}, {}, {}
        for step, case, head_name in rows:
            workflow = plugin.workflow_for(case)
            due = effective_due(step, case)  # a step without its own limit runs to the case's
            left = workdays_between(today, due) if due else None
            provisional = step.due_provisional if step.due_on else case.due_provisional
            if (label := labels.get((id(workflow), step.key))) is None:
                label = labels[id(workflow), step.key] = term(workflow.step(step.key).label)
            if (badge := badges.get((left, provisional))) is None:
                badge = badges[left, provisional] = due_badge(left, provisional)
            categories = tuple(case.categories or ())
            if (kind := kinds.get(categories)) is None:
                kind = kinds[categories] = "、".join(term(c.label) for c in case.category_enums)
            items.append(SimpleNamespace(own_due=step.due_on, due=due, overdue=is_overdue(due, today), badge=badge,
                                         label=label, green=case.priority, green_reason=case.priority_reason,
                                         household=household_label(head_name, case.household_id),
                                         categories=kind, case_id=case.id))
        next_cursor = _cursor(bool(rows[-1][1].priority), rows[-1][0].due_on, rows[-1][0].id) if more and rows else None
        steps = plugin.default_workflow().steps
        return self.render("cases/worklist.html", items=items, next_cursor=next_cursor, filters=filters,
                           case_href=_case_href(),
                           villages=villages_in_scope(db.session, tenant), steps=steps, categories=plugin.categories, today=today,
                           channels=list(Channel))

    # -- the case list --------------------------------------------------------------------------

    @expose("/cases")
    def cases(self, open_only: bool = False):
        """案件查询; with ``open_only``, a village's 我的待办: the cases of its village still open."""
        # a village's 我的待办 puts green-channel cases first (keyset on green channel, id)
        q = select(Case, head_name_column()).order_by(*((Case.priority.desc(),) if open_only else ()), Case.id.desc())
        status = request.args.get("status")
        if status in CaseStatus.__members__:
            q = q.where(Case.status == status)
        elif open_only:
            q = q.where(Case.status.in_([s for s in CaseStatus if s.is_open]))
        raw_after = request.args.get("after") or ""
        after_priority = open_only and raw_after.startswith("p")
        after = parse_id(raw_after[1:] if after_priority else raw_after)
        if after and open_only:
            later = and_(Case.priority.is_(after_priority), Case.id < after)
            q = q.where(or_(later, Case.priority.is_(False)) if after_priority else later)
        elif after:
            q = q.where(Case.id < after)
        search = (request.args.get("q") or "").strip()
        rows = None
        if search:
            from jiuzhu.cases import search as by

            if by.reads_newest_first(search):  # one character: among the listing's first cases first
                rows = by.page_among_first(db.session, q, search, PAGE_SIZE + 1, unshown_in_lists())
            # an ID number exactly, through its blind index (the number is encrypted); else a name by its part
            q = q.where(Case.household_id.in_(by.households_matching(search)))
        # each row names its household by its head, a column of this one statement (no N+1, and
        # neither households nor members loaded); the reasons a list never shows are not decrypted
        q = q.options(*unshown_in_lists())
        if rows is None:
            rows = db.session.execute(q.limit(PAGE_SIZE + 1)).all()
        more = len(rows) > PAGE_SIZE
        rows = [(case, household_label(head, case.household_id)) for case, head in rows[:PAGE_SIZE]]
        next_after = None
        if more and rows:
            last = rows[-1][0]
            next_after = f"p{last.id}" if open_only and last.priority else last.id
        return self.render("cases/list.html", cases=rows, next_after=next_after, case_href=_case_href(),
                           statuses=CASE_STATUS_LABELS, status=status, search=search, open_only=open_only,
                           page_heading=_("我的待办") if open_only else _("案件查询"))

    # -- intake ---------------------------------------------------------------------------------

    def _intake_context(self, form=None, errors=None, field_errors=None, confirm=False):
        plugin, tenant = _plugin()
        user = current_user
        if user.role.is_village:
            villages = [user.org_unit]
        else:
            villages = list(db.session.scalars(select(OrgUnit).where(OrgUnit.level == OrgLevel.village)
                                               .order_by(OrgUnit.parent_id, OrgUnit.name)))
        probe = SimpleNamespace(categories=[c.value for c in plugin.categories], channel="window",
                                household=None, tenant_id=tenant.id)
        shared = getattr(plugin, "shared_townships", frozenset())
        return dict(plugin=plugin, villages=villages, materials=plugin.materials_for(probe),
                    county_villages=county_places(db.session, OrgLevel.village) if "registered" in shared else None,
                    county_townships=county_places(db.session, OrgLevel.township) if "emergency" in shared else None,
                    categories=plugin.categories, relations=list(Relation), healths=list(Health),
                    abilities=list(WorkAbility), channels=list(Channel), form=form or MultiDict(), errors=errors or [],
                    today=china_today(), member_rows=range(6), supporter_rows=range(2),
                    field_errors=field_errors or {}, confirm=confirm,
                    page_heading="代为申请" if user.role.is_village else "受理登记")

    @expose("/new", methods=["GET", "POST"])
    def new(self):
        if current_user.role not in (WORKERS | {Role.village_assistant}):
            abort(403)
        if request.method == "GET":
            return self.render("cases/intake.html", **self._intake_context())
        form = request.form
        try:
            case = self._create_case(form)
            db.session.commit()
        except NeedsConfirmation as exc:
            db.session.rollback()
            return self.render("cases/intake.html", **self._intake_context(
                form, [], exc.field_warnings, confirm=True)), 400
        except ServiceError as exc:
            db.session.rollback()
            general = list(exc.messages)
            fields = _intake_fields(exc.field_errors, getattr(exc, "rows", None))
            return self.render("cases/intake.html", **self._intake_context(form, general, fields)), 400
        flash(f"已登记：案件 {case.id}。", "success")
        if case.missing_materials:
            flash("材料不全：请在案件页出具一次性告知书，列明全部需补齐的材料。", "info")
        return redirect(url_for(".case", case_id=case.id))

    def _create_case(self, form) -> Case:
        """Everything wrong with the form is reported at once, each problem beside its field; what is
        merely unlikely (a minor as spouse, a member born after the application) is shown for the
        clerk to confirm or correct."""
        refused = Refusals()
        village = db.session.get(OrgUnit, parse_id(form.get("village_id")) or 0)
        if village is None:
            refused.add("请选择该户所在的村（社区）。", "village_id")
        members, rows = [], []
        for i in range(20):
            name, number = (form.get(f"m{i}.name") or "").strip(), (form.get(f"m{i}.id_number") or "").strip()
            if not name and not number:
                continue
            incomes = {}
            for kind in ("wage", "business", "basic_pension", "other_pension", "transfer"):
                raw = (form.get(f"m{i}.{kind}") or "").strip()
                if raw:
                    incomes[kind] = raw
            rows.append(i)
            members.append(MemberInput(
                name=name, id_number=number, relation=form.get(f"m{i}.relation") or "other",
                coresident=form.get(f"m{i}.coresident") == "y",
                disability_grade=_grade(form.get(f"m{i}.disability")),
                health=form.get(f"m{i}.health") or "healthy", work_ability=form.get(f"m{i}.ability") or "full",
                working=form.get(f"m{i}.working") == "y", incomes=incomes))
        supporters, supporter_rows = [], []
        for i in range(5):
            name = (form.get(f"s{i}.name") or "").strip()
            if not name:
                continue
            supporter_rows.append(i)
            supporters.append(SupporterInput(
                name=name, id_number=form.get(f"s{i}.id_number") or "", duty=form.get(f"s{i}.duty") or "",
                supports=form.get(f"s{i}.supports") or None, monthly_income=form.get(f"s{i}.income") or "0",
                monthly_support_paid=form.get(f"s{i}.paid") or "0", address=form.get(f"s{i}.address") or None))
        dates = {}
        for field, label in (("applied_on", "申请日期"), ("authorization_signed_on", "授权书签署日期"),
                             ("commitment_signed_on", "承诺书签署日期")):
            problem = date_problem(form.get(field), label)
            if problem:
                refused.add(problem, field)
            raw = (form.get(field) or "").strip()
            dates[field] = dt.date.fromisoformat(raw) if raw and not problem else None
        applied_on = dates["applied_on"] or china_today()
        plugin, _tenant = _plugin()
        channel = Channel.village_proxy if current_user.role.is_village else form.get("channel", "window")
        categories = form.getlist("categories")
        for message, field in engine.application_problems(current_user, plugin, categories, channel):
            refused.add(message, field)
        household = None
        registered_unit = None
        try:
            registered_unit = registered_village(db.session, plugin, form.get("registered_unit_id"),
                                                 form.get("registered_place"))
        except ValidationError as exc:
            for key, messages in exc.field_errors.items():
                for message in messages:
                    refused.add(message, key)
        emergency_township_id = form.get("emergency_township_id") or None
        if emergency_township_id is not None:
            try:
                county_place(db.session, emergency_township_id, OrgLevel.township, "emergency_township_id")
            except ValidationError as exc:
                for message in exc.field_errors["emergency_township_id"]:
                    refused.add(message, "emergency_township_id")
        if village is not None:
            try:
                household = register_household(
                    db.session, current_user, village=village, address=form.get("address", ""),
                    phone=form.get("phone") or None, members=members, supporters=supporters,
                    registered_place=form.get("registered_place") or None, registered_unit=registered_unit,
                    on=applied_on)
            except ValidationError as exc:
                for message in exc.messages:
                    refused.add(message)
                for key, messages in exc.field_errors.items():
                    for message in messages:
                        refused.add(message, key)
        if form.get("emergency") == "y" and not (form.get("emergency_reason") or "").strip():
            refused.add("请简述急难情形：发生了什么、为何须立即救助。", "emergency_reason")
        if refused:
            error = refused.error()
            error.rows = (rows, supporter_rows)
            raise error
        warnings = plausibility_warnings(members, applied_on)
        if warnings and form.get("confirm_warnings") != "y":
            raise NeedsConfirmation(_intake_fields(warnings, (rows, supporter_rows)))
        return engine.open_case(db.session, current_user, household=household, categories=categories,
                                channel=channel, applied_on=applied_on, consent_classification=form.get("consent") == "y",
                                authorization_signed_on=dates["authorization_signed_on"],
                                commitment_signed_on=dates["commitment_signed_on"],
                                provided=form.getlist("provided"), via_platform=form.getlist("via_platform"),
                                emergency_reason=(form.get("emergency_reason") if form.get("emergency") == "y" else None),
                                emergency_township_id=emergency_township_id)

    # -- the case page --------------------------------------------------------------------------

    def _load(self, case_id: int) -> Case:
        case = db.session.get(Case, case_id)
        if case is None:
            abort(404)
        return case

    @expose("/<int:case_id>")
    def case(self, case_id, posted=None, dup_posted=None):
        """The case page; ``posted`` (after a refused step form) carries the typed values and the
        problems, so that form is shown again as it was sent, each problem beside its field."""
        from jiuzhu.cases.whole import load_whole_case

        # everything the page shows of the case in one statement, however many rows (no N+1)
        whole = load_whole_case(db.session, case_id)
        if whole is None:
            abort(404)
        case = whole.case
        record_access(db.session, AccessKind.view_case, "case", case.id, household_id=case.household_id)
        plugin = engine.plugin_for(case)
        workflow = plugin.workflow_for(case)
        view = engine.CaseView(case, whole.steps)
        user = current_user
        actions = []
        for step in view.open_steps:
            spec = workflow.step(step.key)
            mine = (spec.roles is not None and user.role in spec.roles) or (
                spec.roles is None and user.role.org_level == spec.level and user.role is not Role.county_admin)
            # a case shared by two townships: each acts on its own steps (``Step.township_id``)
            mine = mine and (not user.role.is_township or step.township_id == user.org_unit_id)
            outcomes = []
            for outcome in spec.outcomes:
                if outcome.decision is not None and user.role.is_village:
                    continue  # no deciding control is ever shown to a village
                sent = posted if posted and posted.step_id == step.id and posted.outcome == outcome.key else None
                outcomes.append(SimpleNamespace(outcome=outcome, fields=field_views(outcome.form or spec.form),
                                                sent=sent,
                                                waits=(not outcome.early and step.runs_until is not None
                                                       and china_today() < step.runs_until)))
            actions.append(SimpleNamespace(step=step, spec=spec, mine=mine and bool(outcomes), outcomes=outcomes,
                                           skippable=spec.skip is not None and mine))
        def owner(s):  # the other township's steps are marked with its role (户籍所在地、急难发生地)
            if case.other_township_id is not None and s.township_id == case.other_township_id:
                return StepTownship(case.other_township_role).label
            return None

        timeline = [SimpleNamespace(step=s, label=workflow.step(s.key).label if s.key in workflow.by_key else s.key,
                                    owner=owner(s))
                    for s in sorted(view.steps, key=lambda s: (s.opened_on, s.id))]
        # what the case as a whole is handled by (extension, revocation): one township of a shared case
        at_home = not user.role.is_township or user.org_unit_id == engine.case_township(case)
        decides = not user.role.is_township or user.org_unit_id == engine.deciding_township(case)
        settings = plugin.tenant_settings(case.tenant_id)
        try:
            assessment = assess(case.household, plugin, settings, china_today())
        except ValidationError as exc:
            assessment, assessment_error = None, exc.all_messages()[0]
        else:
            assessment_error = None
        today = china_today()
        from jiuzhu.cases.models import AssistanceKind

        county = db.session.get(Tenant, case.tenant_id)
        from jiuzhu.payments import services as pay

        # payments exist once a case is decided — or, for temporary relief, from an advance (先行救助)
        paid_ever = case.decided_on is not None or "temporary_relief" in (case.categories or [])
        schedule = whole.schedule if paid_ever else None
        grants = whole.grants if paid_ever else []
        from jiuzhu.duplicates import services as dup
        from jiuzhu.duplicates.models import ResolutionKind

        # 重复享受: while the case is open or benefits run (one call of the registry's function)
        dups = (dup.case_duplicates(db.session, case)
                if case.status in DUPLICATE_STATES and not user.role.is_village else None)
        asks = dup.requests(db.session) if dups and dups.matches and user.role in dup.COUNTY_ROLES else []
        return self.render("cases/case.html", page_heading=_("案件 %(id)s", id=case.id), county=county,
                           dups=dups, dup_posted=dup_posted, resolution_kinds=list(ResolutionKind),
                           dup_requests=asks, may_request=user.role in dup.COUNTY_ROLES,
                           member_bidx={mb.id: mb.id_number_bidx for mb in case.household.members},
                           schedule=schedule, months=pay.months_due(schedule, today)[::-1] if schedule else [],
                           grants=grants,
                           may_pay_benefits=user.role in pay.BENEFIT_PAYERS,
                           may_pay_relief=user.role in pay.RELIEF_PAYERS and decides and not self._relief_step_open(
                               plugin, view.open_steps),
                           case=case, actions=actions, timeline=timeline, plugin=plugin,
                           records=plugin.case_records(case, view),
                           assistance=whole.assistance, assistance_kinds=list(AssistanceKind),
                           workflow=workflow, today=today, assessment=assessment, assessment_error=assessment_error,
                           left=workdays_between(today, case.due_on) if case.due_on else None,
                           categories={c.value: c.label for c in Category}, may_decide=not user.role.is_village,
                           finding_categories=plugin.finding_categories(case),
                           may_upload=user.role in (WORKERS | {Role.village_assistant}),
                           may_extend=(case.status.is_open and case.accepted_on and not case.extended
                                       and workflow.limit.extended_workdays and user.role in WORKERS and at_home),
                           may_revoke=user.role in plugin.revoking_roles() and decides,
                           shared_as=(StepTownship(case.other_township_role)
                                      if case.other_township_id is not None else None))

    def _post(self, case_id, fn, success: str, labels: dict[str, str] | None = None):
        try:
            perform(fn, success, labels, raise_forbidden=True)
        except PermissionDenied:
            return self.render_refusal(case_id), 403
        return redirect(url_for(".case", case_id=case_id))

    def render_refusal(self, case_id):
        return self.render("cases/refused.html", case_id=case_id)

    @expose("/<int:case_id>/act/<int:step_id>", methods=["POST"])
    def act(self, case_id, step_id):
        step = db.session.get(Step, step_id)
        if step is None or step.case_id != case_id:
            abort(404)
        case = self._load(case_id)
        spec = engine.workflow_for(case).step(step.key)
        key = request.form.get("outcome", "")
        try:
            outcome = spec.outcome(key)
        except KeyError:
            outcome = None
        prefix = f"o.{key}."
        data = read_form(outcome.form or spec.form, request.form, prefix,
                         engine.plugin_for(case).finding_categories(case)) if outcome else {}
        version = request.form.get("version", type=int)
        try:
            engine.act(db.session, current_user, step_id, key, data=data,
                       reason=request.form.get(prefix + "reason"), expected_version=version)
            db.session.commit()
        except NotFound:
            db.session.rollback()
            abort(404)
        except ValidationError as exc:
            # the form again as it was typed, every problem at once beside its field
            db.session.rollback()
            if outcome is None:
                flash_refusal(exc)
                return redirect(url_for(".case", case_id=case_id))
            flash(f"“{spec.label} · {outcome.label}”未办理：请按提示更正后再提交。", "error")
            posted = SimpleNamespace(step_id=step_id, outcome=key, form=request.form, messages=exc.messages,
                                     errors={prefix + name: msgs for name, msgs in exc.field_errors.items()})
            return self.case(case_id, posted=posted), 400
        except PermissionDenied as exc:
            flash_refusal(exc)
            return self.render_refusal(case_id), 403
        except ServiceError as exc:
            flash_refusal(exc)
        else:
            flash(f"已办理：{spec.label} · {outcome.label}。", "success")
        return redirect(url_for(".case", case_id=case_id))

    # -- 重复享受 ---------------------------------------------------------------------------------

    @expose("/<int:case_id>/duplicates/resolve", methods=["POST"])
    def resolve_duplicate(self, case_id):
        """The approver's account of a match (transfer, stopped elsewhere, a mistake, a member who left):
        refused input comes back beside its field, nothing written."""
        from jiuzhu.duplicates import services as dup

        self._load(case_id)
        form = request.form
        try:
            dup.record_resolution(db.session, current_user, case_id, member_id=form.get("member_id", type=int) or 0,
                                  other=form.get("other", ""), kind=form.get("kind", ""), note=form.get("note", ""))
            db.session.commit()
        except PermissionDenied as exc:
            db.session.rollback()
            flash_refusal(exc)
            return self.render_refusal(case_id), 403
        except NotFound:
            db.session.rollback()
            abort(404)
        except ValidationError as exc:
            db.session.rollback()
            if not exc.field_errors:
                flash_refusal(exc)
                return redirect(url_for(".case", case_id=case_id))
            flash("核实处理结果未记录：请按提示更正后再提交。", "error")
            sent = SimpleNamespace(key=f"{form.get('member_id', '')}|{form.get('other', '')}", form=form,
                                   errors=exc.field_errors)
            return self.case(case_id, dup_posted=sent), 400
        flash("已记录核实处理结果。", "success")
        return redirect(url_for(".case", case_id=case_id))

    @expose("/<int:case_id>/duplicates/request", methods=["POST"])
    def request_check(self, case_id):
        """发起跨县协查: the county asks the other county (or counties) holding this member."""
        from jiuzhu.duplicates import services as dup

        self._load(case_id)
        member_id = request.form.get("member_id", type=int) or 0
        return self._post(case_id, lambda: dup.open_request(db.session, current_user, case_id, member_id=member_id),
                          f"已发起跨县协查，对方县应在 {dup.REQUEST_WORKDAYS} 个工作日内答复。")

    # -- payments ---------------------------------------------------------------------------------

    @staticmethod
    def _relief_step_open(plugin, open_steps) -> bool:
        """Whether the rules' own relief-paying step is open (then the relief is paid there, not here)."""
        key = getattr(plugin, "relief_paid_at_step", None)
        return key is not None and any(s.key == key for s in open_steps)

    @expose("/<int:case_id>/pay/<int:year>-<int:month>", methods=["POST"])
    def pay_month(self, case_id, year, month):
        """登记发放: the county records one month of a schedule as paid (权钱分离: the county pays)."""
        from jiuzhu.payments import services as pay

        case = self._load(case_id)
        schedule = pay.schedule_of(db.session, case.id)
        if schedule is None or not 1 <= month <= 12 or not 2000 <= year <= 2100:
            abort(404)
        on = china_today()
        return self._post(case_id, lambda: pay.pay_month(db.session, current_user, schedule.id,
                                                         dt.date(year, month, 1), on=on),
                          f"已登记发放 {year} 年 {month} 月保障金。")

    @expose("/<int:case_id>/relief/<int:payment_id>/pay", methods=["POST"])
    def pay_relief(self, case_id, payment_id):
        """登记发放 of one stage of temporary relief, with its payment voucher."""
        from jiuzhu.payments import services as pay
        from jiuzhu.payments.models import ReliefPayment

        payment = db.session.get(ReliefPayment, payment_id)
        if payment is None or payment.case_id != case_id:
            abort(404)
        voucher = (request.form.get("voucher_no") or "").strip()[:60] or None
        case = self._load(case_id)
        if self._relief_step_open(engine.plugin_for(case), engine.load_view(db.session, case).open_steps):
            flash("该笔临时救助金在“发放一次性临时救助金”环节办理时登记发放（含付款凭证号）。", "error")
            return redirect(url_for(".case", case_id=case_id))
        return self._post(case_id, lambda: pay.pay_relief(db.session, current_user, payment_id, on=china_today(),
                                                          voucher_no=voucher),
                          f"已登记发放第 {payment.stage} 次临时救助金。")

    @expose("/<int:case_id>/notices/<int:notice_id>.pdf")
    def notice_pdf(self, case_id, notice_id):
        """A notice or certificate of the case, as the PDF to print and hand over."""
        from jiuzhu.cases.models import Notice
        from jiuzhu.documents import notice_pdf

        case = self._load(case_id)
        notice = db.session.get(Notice, notice_id)
        if notice is None or notice.case_id != case.id:
            abort(404)
        record_access(db.session, AccessKind.download_notice, "notice", notice.id, household_id=case.household_id,
                      detail=f"案件 {case.id} 的通知书 PDF")
        return _pdf(notice_pdf(db.session, notice), f"notice-{notice.id}.pdf")

    @expose("/<int:case_id>/materials/<key>/files", methods=["POST"])
    def upload_file(self, case_id, key):
        """A scan or photo of a material: the checklist line is ticked in the same transaction."""
        from jiuzhu.cases.files import attach_file

        upload = request.files.get("file")  # the app's MAX_CONTENT_LENGTH bounds the body; the service the file
        data = upload.read() if upload else b""
        return self._post(case_id, lambda: attach_file(db.session, current_user, case_id, key,
                                                       filename=upload.filename if upload else None, data=data),
                          "已上传材料。", {"file": "文件"})

    @expose("/<int:case_id>/files/<int:file_id>")
    def material_file(self, case_id, file_id):
        from urllib.parse import quote

        from flask import Response

        from jiuzhu.cases.files import file_of

        case = self._load(case_id)
        try:
            row = file_of(db.session, case_id, file_id)
        except NotFound:
            abort(404)
        record_access(db.session, AccessKind.download_material, "material_file", row.id,
                      household_id=case.household_id, detail=f"案件 {case.id} 的申请材料")
        disposition = "inline" if row.content_type == "application/pdf" or row.content_type.startswith("image/") \
            else "attachment"
        return Response(row.data, mimetype=row.content_type, headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(row.filename)}",
            "Cache-Control": "private, no-store"})

    @expose("/<int:case_id>/assistance", methods=["POST"])
    def assistance(self, case_id):
        """协助记录: a village assistant (or township staff) records what they did for the case."""
        from jiuzhu.cases.assistance import record_assistance

        self._load(case_id)
        form = request.form
        try:  # a missing or bad date is one more of the refusals the service lists together
            done_on = dt.date.fromisoformat(form.get("done_on") or "")
        except ValueError:
            done_on = None
        return self._post(case_id, lambda: record_assistance(db.session, current_user, case_id,
                                                             kind=form.get("kind", ""), done_on=done_on,
                                                             content=form.get("content", "")),
                          "已登记协助记录。", {"kind": "协助类别", "done_on": "协助日期", "content": "协助情况"})

    @expose("/<int:case_id>/file.pdf")
    def file_pdf(self, case_id):
        """一户一档: the case's complete file."""
        from jiuzhu.documents import case_file_pdf
        from jiuzhu.privacy import record_personal_data_access

        case = self._load(case_id)
        data = case_file_pdf(db.session, case)
        # the case file prints every member's and supporter's ID number in full (docs/design-notes.md)
        record_personal_data_access(db.session, entity_type="case", entity_id=case.id, case_id=case.id,
                                    fields=["id_number"], purpose="打印一户一档（含完整身份证号码）",
                                    household_id=case.household_id, kind=AccessKind.download_case_file)
        db.session.commit()
        return _pdf(data, f"case-{case_id}.pdf")

    @expose("/<int:case_id>/skip/<int:step_id>", methods=["POST"])
    def skip(self, case_id, step_id):
        return self._post(case_id, lambda: engine.skip(db.session, current_user, step_id,
                                                       request.form.get("reason", "")), "已跳过该环节，理由已记录。")

    @expose("/<int:case_id>/extend", methods=["POST"])
    def extend(self, case_id):
        return self._post(case_id, lambda: engine.extend(db.session, current_user, case_id,
                                                         request.form.get("reason", "")), "已延长办理时限。")

    @expose("/<int:case_id>/end/<action>", methods=["POST"])
    def end(self, case_id, action):
        fns = {"withdraw": engine.withdraw, "revoke": engine.revoke, "close": engine.close}
        if action not in fns:
            abort(404)
        return self._post(case_id, lambda: fns[action](db.session, current_user, case_id,
                                                       request.form.get("reason", "")), "已办理。")

    @expose("/<int:case_id>/material/<key>", methods=["POST"])
    def material(self, case_id, key):
        return self._post(case_id, lambda: engine.provide_material(
            db.session, current_user, case_id, key, via_platform=request.form.get("via_platform") == "y"),
            "材料已登记。")

    @expose("/<int:case_id>/notify", methods=["POST"])
    def notify(self, case_id):
        return self._post(case_id, lambda: engine.notify_missing_materials(db.session, current_user, case_id),
                          "已出具一次性告知书。")

    @expose("/<int:case_id>/review", methods=["POST"])
    def review(self, case_id):
        holder = {}

        def run():
            holder["case"] = engine.open_review(db.session, current_user, case_id)

        response = self._post(case_id, run, "已发起定期复核。")
        if "case" in holder:
            return redirect(url_for(".case", case_id=holder["case"].id))
        return response

    # -- the household page ---------------------------------------------------------------------

    @expose("/household/<int:household_id>")
    def household(self, household_id):
        household = db.session.get(Household, household_id)
        if household is None:
            abort(404)
        record_access(db.session, AccessKind.view_household, "household", household.id, household_id=household.id)
        return self._household_page(household)

    @expose("/household/<int:household_id>/reveal", methods=["POST"])
    def reveal(self, household_id):
        """显示完整号码: one member's full ID number, or the household's phone — recorded, never cached."""
        from jiuzhu.cases.households import Member
        from jiuzhu.privacy import no_store, reveal_for_request

        household = db.session.get(Household, household_id)
        what, object_id = request.form.get("what", ""), request.form.get("id", type=int) or 0
        if household is None or what not in ("member_id_number", "household_phone"):
            abort(404)
        if what == "member_id_number":
            member = db.session.get(Member, object_id)
            if member is None or member.household_id != household.id:
                abort(404)
        else:
            object_id = household.id
        revealed = reveal_for_request(what, object_id)
        return no_store(self._household_page(household, revealed={(what, object_id): revealed.value}))

    def _household_page(self, household, revealed=None):
        from jiuzhu.privacy import MAY_REVEAL

        cases = db.session.scalars(select(Case).where(Case.household_id == household.id).order_by(Case.id)).all()
        plugin, _tenant = _plugin()
        try:
            assessment = assess(household, plugin, plugin.tenant_settings(household.tenant_id), china_today())
        except ValidationError:
            assessment = None
        return self.render("cases/household.html", household=household, cases=cases, assessment=assessment,
                           today=china_today(), tags=plugin.household_tags, revealed=revealed or {},
                           may_reveal=current_user.role in MAY_REVEAL)


class NeedsConfirmation(ServiceError):
    """Nothing is wrong, but something is unlikely: the clerk confirms it (or corrects it)."""

    def __init__(self, field_warnings: dict[str, list[str]]):
        self.field_warnings = field_warnings
        super().__init__("请核实以下情况；确认无误后勾选“以上情况已核实无误”再提交。")


#: a service's field names → the intake form's (``members.<k>.x`` ↦ ``m<row>.y``)
_MEMBER_FIELDS = {"name": "name", "id_number": "id_number", "relation": "relation", "disability_grade": "disability",
                  "health": "health", "work_ability": "ability", "incomes": "wage"}
_SUPPORTER_FIELDS = {"name": "name", "id_number": "id_number", "duty": "duty", "supports": "supports",
                     "monthly_income": "income", "monthly_support_paid": "paid", "address": "address"}


def _intake_fields(fields: dict[str, list[str]], rows) -> dict[str, list[str]]:
    """A service's refusals by field, named as the intake form names its inputs."""
    member_rows, supporter_rows = rows or ([], [])
    out: dict[str, list[str]] = {}
    for key, messages in fields.items():
        parts = key.split(".")
        name = key
        if parts[0] in ("members", "supporters") and len(parts) >= 3 and parts[1].isdigit():
            index, field = int(parts[1]), parts[2]
            if parts[0] == "members" and index < len(member_rows):
                name = f"m{member_rows[index]}." + (parts[3] if field == "incomes" and len(parts) > 3
                                                    else _MEMBER_FIELDS.get(field, field))
            elif parts[0] == "supporters" and index < len(supporter_rows):
                name = f"s{supporter_rows[index]}.{_SUPPORTER_FIELDS.get(field, field)}"
        out.setdefault(name, []).extend(messages)
    return out


def _grade(raw: str | None) -> int:
    """A disability grade as typed (blank: none); anything but a small whole number is passed on as
    -1, which the service refuses with its own message."""
    text = (raw or "").strip()
    return int(text) if text.isdigit() and len(text) < 3 else (0 if not text else -1)


def money(value) -> str:
    try:
        return f"{Decimal(value):,.2f}"
    except (InvalidOperation, TypeError):
        return ""
