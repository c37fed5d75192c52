"""Monitoring warnings (预警单据) on screen: the township's list by deadline, the home visit, the
point-to-point look it may ask of the county, and the decision; the county sees every township's
tickets, enters tickets by hand and answers the questions.

Every action goes through :mod:`jiuzhu.warnings.services` (roles, the plugin's deadline, one
transaction); tickets are org-scoped, so a township's list holds its own tickets only.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from jiuzhu.admin.base import SecureBaseView, flash_refusal, form_date, perform
from jiuzhu.auth.roles import Role
from jiuzhu.calendar import workdays_between
from jiuzhu.clock import china_today
from jiuzhu.errors import ServiceError
from jiuzhu.extensions import db
from jiuzhu.security.inputs import parse_id
from jiuzhu.tenancy.models import OrgLevel, OrgUnit
from jiuzhu.warnings import services
from jiuzhu.warnings.models import WarningDecision, WarningStatus, WarningTicket

TOWNSHIP = frozenset({Role.township_staff, Role.township_leader})
COUNTY = frozenset({Role.county_staff, Role.county_admin})


LABELS = {"visited_on": "入户核查日期", "decided_on": "确认决定日期", "received_on": "单据返回日期", "origin": "单据来源"}


class WarningView(SecureBaseView):
    """预警处置: township staff act; the county supervises and answers."""

    roles = TOWNSHIP | COUNTY

    def _plugin_rules(self):
        """The plugin and the tickets its rules take, by origin (each with its deadline)."""
        from jiuzhu.spotchecks.services import tenant_plugin

        plugin, tenant = tenant_plugin(db.session)
        return plugin, plugin.ticket_rules(plugin.tenant_settings(tenant.id))

    @expose("/")
    def index(self):
        today = china_today()
        show = request.args.get("show", "open")
        query = select(WarningTicket).order_by(WarningTicket.due_on, WarningTicket.id)
        if show == "open":
            query = query.where(WarningTicket.status != WarningStatus.decided)
        elif show == "overdue":
            tickets = services.overdue_tickets(db.session, today)
            query = None
        if query is not None:
            tickets = db.session.scalars(query.limit(500)).all()
        plugin, rules = self._plugin_rules()
        townships = db.session.scalars(select(OrgUnit).where(OrgUnit.level == OrgLevel.township)
                                       .order_by(OrgUnit.name)).all()
        return self.render("warnings/index.html", tickets=tickets, today=today, show=show, rules=rules, plugin=plugin,
                           origins=plugin.TICKET_ORIGINS,
                           left={t.id: workdays_between(today, t.due_on) for t in tickets}, townships=townships,
                           township_names={u.id: u.name for u in townships},
                           show_township=current_user.role in COUNTY, may_enter=current_user.role in COUNTY | TOWNSHIP)

    @expose("/new", methods=["POST"])
    def new(self):
        form = request.form
        try:
            township = db.session.get(OrgUnit, parse_id(form.get("township_id")) or 0)
            ticket = services.receive(db.session, current_user, township=township, id_number=form.get("id_number", ""),
                                      source_ref=form.get("source_ref", ""), summary=form.get("summary", ""),
                                      received_on=form_date(form.get("received_on"), "received_on"),
                                      origin=form.get("origin") or "monitoring")
            db.session.commit()
        except ServiceError as exc:
            flash_refusal(exc, LABELS)
            return redirect(url_for(".index"))
        what = "预警单据" if ticket.origin == "monitoring" else ticket.origin_label
        flash(f"已登记{what} {ticket.source_ref}，须于 {ticket.due_on:%Y-%m-%d} 前核查并作出确认决定。", "success")
        return redirect(url_for(".detail", ticket_id=ticket.id))

    @expose("/<int:ticket_id>")
    def detail(self, ticket_id, revealed: str | None = None):
        from jiuzhu.privacy import MAY_REVEAL

        ticket = db.session.get(WarningTicket, ticket_id)
        if ticket is None:
            abort(404)
        today = china_today()
        role = current_user.role
        return self.render("warnings/detail.html", t=ticket, today=today, left=workdays_between(today, ticket.due_on),
                           township_acts=role in TOWNSHIP and ticket.status != WarningStatus.decided,
                           county_answers=role in COUNTY and bool(ticket.clarification)
                           and "answer" not in (ticket.clarification or {}),
                           decisions=list(WarningDecision), statuses=WarningStatus, revealed=revealed,
                           may_reveal=role in MAY_REVEAL)

    @expose("/<int:ticket_id>/reveal", methods=["POST"])
    def reveal(self, ticket_id):
        """The ticket's full ID number — recorded, never cached."""
        from jiuzhu.privacy import no_store, reveal_for_request

        revealed = reveal_for_request("warning_id_number", ticket_id)
        return no_store(self.detail(ticket_id, revealed=revealed.value))

    def _post(self, ticket_id, fn, success: str):
        perform(fn, success, LABELS)
        return redirect(url_for(".detail", ticket_id=ticket_id))

    @expose("/<int:ticket_id>/visit", methods=["POST"])
    def visit(self, ticket_id):
        form = request.form
        return self._post(ticket_id, lambda: services.record_visit(
            db.session, current_user, ticket_id, visited_on=form_date(form.get("visited_on"), "visited_on"),
            visitors=(form.get("visitors") or "").replace("，", "\n").replace("、", "\n").splitlines(),
            findings=form.get("findings", "")), "已记录入户核查。")

    @expose("/<int:ticket_id>/ask", methods=["POST"])
    def ask(self, ticket_id):
        return self._post(ticket_id, lambda: services.request_clarification(
            db.session, current_user, ticket_id, question=request.form.get("question", "")),
            "已向县级申请点对点查看；处置时限不变。")

    @expose("/<int:ticket_id>/answer", methods=["POST"])
    def answer(self, ticket_id):
        return self._post(ticket_id, lambda: services.answer_clarification(
            db.session, current_user, ticket_id, answer=request.form.get("answer", "")), "已答复乡镇（街道）。")

    @expose("/<int:ticket_id>/decide", methods=["POST"])
    def decide(self, ticket_id):
        form = request.form
        return self._post(ticket_id, lambda: services.decide(
            db.session, current_user, ticket_id, decision=form.get("decision", ""),
            online_check=form.get("online_check", ""), reason=form.get("reason", ""),
            decided_on=form_date(form.get("decided_on"), "decided_on")), "已作出确认决定。")
