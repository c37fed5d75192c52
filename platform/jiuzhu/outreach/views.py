"""必访走访: the must-visit households of the user's area with their next visit day, the overdue marked,
and the form to record a visit. Townships see their own, a village its own, the county all; another
county's households are out of scope like any row."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from jiuzhu.admin.base import SecureBaseView, form_date, perform
from jiuzhu.clock import china_today
from jiuzhu.extensions import db
from jiuzhu.outreach import services
from jiuzhu.reports.queries import townships

LABELS = {"visited_on": "走访日期", "visitors": "走访人员", "finding": "走访情况", "household_id": "家庭"}


class OutreachView(SecureBaseView):
    """必到必访人群走访: scheduled per the county's period, the overdue first."""

    roles = services.VISITORS

    @expose("/", methods=["GET", "POST"])
    def index(self):
        from jiuzhu.spotchecks.services import tenant_plugin

        plugin, tenant = tenant_plugin(db.session)
        rule = getattr(plugin, "visit_rule", None)
        today = china_today()
        if request.method == "POST":
            form = request.form
            try:
                household_id = int(form.get("household_id", ""))
            except ValueError:
                household_id = -1
            if perform(lambda: services.record_visit(
                    db.session, current_user, rule, household_id,
                    visited_on=form_date(form.get("visited_on"), "visited_on"), visitors=form.get("visitors", ""),
                    finding=form.get("finding", ""), needs_assistance=form.get("needs_assistance") == "yes",
                    on=today), "已登记走访，下次走访日期已顺延。", LABELS):
                return redirect(url_for(".index"))
        settings = plugin.tenant_settings(tenant.id)
        due = services.schedule(db.session, rule, settings, today) if rule else []
        households = {}  # the head's name, masked (张*丰户)
        if due:
            from jiuzhu.cases.households import Member, Relation
            from jiuzhu.disclosure.services import mask_name

            households = {household_id: f"{mask_name(name)}户" for household_id, name in db.session.execute(
                select(Member.household_id, Member.name).where(
                    Member.relation == Relation.head, Member.household_id.in_([d.household_id for d in due])))}
        return self.render("outreach/index.html", rule=rule, plugin=plugin, due=due, households=households,
                           period=services.interval(rule, settings) if rule else None, today=today,
                           names=townships(db.session), form=request.form,
                           overdue=sum(d.overdue for d in due))
