"""The county's spot-check screens: draw a reproducible sample under the plugin's rule, then record
each sampled household's on-site or desk result.

Everything goes through :mod:`jiuzhu.spotchecks.services` (the rule, the shares never below it, the
county-only guard); the views only read forms and show the outcome. The rows are county-only
(``CountyOnly``): a township or village scope reads none of them even if it reached this view.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from jiuzhu.admin.base import SecureBaseView, flash_refusal, form_date, perform
from jiuzhu.auth.roles import Role
from jiuzhu.clock import china_today
from jiuzhu.errors import ServiceError, ValidationError
from jiuzhu.extensions import db
from jiuzhu.spotchecks import services
from jiuzhu.spotchecks.models import SpotCheckDraw, SpotCheckItem, SpotCheckResult


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return -1


def _percent(raw: str | None):
    """A share typed as a percentage on screen (50 → 0.50); the service validates it."""
    if raw in (None, ""):
        return None
    try:
        return str(float(raw) / 100)
    except ValueError:
        return raw


class SpotCheckView(SecureBaseView):
    """抽查: the county's draws and their results."""

    roles = frozenset({Role.county_staff, Role.county_admin})

    @expose("/")
    def index(self):
        plugin, tenant = services.tenant_plugin(db.session)
        rule = getattr(plugin, "spot_check_rule", None)
        settings = plugin.tenant_settings(tenant.id)
        draws = db.session.scalars(select(SpotCheckDraw).options(selectinload(SpotCheckDraw.items))
                                   .order_by(SpotCheckDraw.drawn_on.desc(), SpotCheckDraw.id.desc())).all()
        share = settings.get("spot_check_share") or (rule.sample_share if rule else None)
        site = settings.get("spot_check_on_site_share") or (rule.on_site_share if rule else None)
        today = china_today()
        return self.render("spotchecks/index.html", plugin=plugin, rule=rule, draws=draws, today=today,
                           summaries={d.id: services.summarize(d) for d in draws},
                           gaps=services.coverage_gaps(db.session, rule, today, draws=draws),
                           default_share=round(float(share) * 100) if share is not None else "",
                           default_site=round(float(site) * 100) if site is not None else "",
                           default_window=rule.window_days if rule and rule.window_days else 90)

    @expose("/draw", methods=["POST"])
    def draw(self):
        form = request.form
        try:
            result = services.draw(db.session, current_user, seed=form.get("seed") or None,
                                   sample_share=_percent(form.get("sample_share")),
                                   on_site_share=_percent(form.get("on_site_share")),
                                   window_days=_int(form.get("window_days")), note=form.get("note"))
            db.session.commit()
        except ServiceError as exc:
            flash_refusal(exc)
            return redirect(url_for(".index"))
        flash(f"已抽取：新增家庭 {len(result.population)} 户，抽查 {len(result.items)} 户（随机种子 {result.seed}）。",
              "success")
        return redirect(url_for(".detail", draw_id=result.id))

    @expose("/<int:draw_id>")
    def detail(self, draw_id):
        draw = db.session.scalars(select(SpotCheckDraw).where(SpotCheckDraw.id == draw_id).options(
            selectinload(SpotCheckDraw.items).selectinload(SpotCheckItem.household))).one_or_none()
        if draw is None:
            abort(404)
        return self.render("spotchecks/draw.html", draw=draw, summary=services.summarize(draw), today=china_today(),
                           pending=SpotCheckResult.pending)

    @expose("/<int:draw_id>/items/<int:item_id>", methods=["POST"])
    def record(self, draw_id, item_id):
        item = db.session.get(SpotCheckItem, item_id)
        if item is None or item.draw_id != draw_id:
            abort(404)
        form = request.form
        perform(lambda: services.record_result(
            db.session, current_user, item_id, result=form.get("result", ""), finding=form.get("finding"),
            checked_on=form_date(form.get("checked_on"), "checked_on"), checker=form.get("checker", "")),
            "已记录抽查结果。", {"checked_on": "核查日期"})
        return redirect(url_for(".detail", draw_id=draw_id) + f"#item-{item_id}")


def _household(raw: str | None):
    """The registered household of the person whose ID number was typed (or a refusal)."""
    from jiuzhu.cases.idcard import InvalidIdNumber, parse_id_number
    from jiuzhu.cases.services import household_of_person

    try:
        number = parse_id_number(raw or "", china_today()).number
    except InvalidIdNumber as exc:
        raise ValidationError(field_errors={"id_number": [str(exc)]}) from None
    household = household_of_person(db.session, number)
    if household is None:
        raise ValidationError(field_errors={"id_number": ["本县没有登记该身份证号码所在的家庭。"]})
    return household


LABELS = {"id_number": "身份证号码", "registered_on": "备案日期", "received_on": "受理日期", "verified_on": "核实日期",
          "answered_on": "反馈日期", "corrected_on": "纠正日期"}


class KinshipView(SecureBaseView):
    """近亲属关系备案: households with a close relative among the staff handling 低保 (all checked on site)."""

    roles = frozenset({Role.county_staff, Role.county_admin})

    @expose("/", methods=["GET", "POST"])
    def index(self):
        from jiuzhu.spotchecks.models import CLOSE_RELATIVES, StaffKinship, StaffLevel

        if request.method == "POST":
            form = request.form
            if perform(lambda: services.register_kinship(
                    db.session, current_user, household=_household(form.get("id_number")),
                    staff_name=form.get("staff_name", ""), staff_level=form.get("staff_level", ""),
                    staff_unit=form.get("staff_unit", ""), relation=form.get("relation", ""),
                    registered_on=form_date(form.get("registered_on"), "registered_on"), note=form.get("note")),
                    "已备案；该户被抽中时一律实地核查。", LABELS):
                return redirect(url_for(".index"))
        rows = db.session.scalars(select(StaffKinship).options(selectinload(StaffKinship.household))
                                  .order_by(StaffKinship.registered_on.desc(), StaffKinship.id.desc())).all()
        return self.render("spotchecks/kinship.html", rows=rows, levels=list(StaffLevel), relatives=CLOSE_RELATIVES,
                           form=request.form, today=china_today())


class ReportView(SecureBaseView):
    """实名举报: every report recorded, verified one by one, the result answered to the reporter."""

    roles = frozenset({Role.county_staff, Role.county_admin})

    @expose("/", methods=["GET", "POST"])
    def index(self, revealed: dict[int, str] | None = None):
        from jiuzhu.spotchecks.models import RealNameReport

        if request.method == "POST" and revealed is None:
            form = request.form
            if perform(lambda: services.receive_report(
                    db.session, current_user, reporter_name=form.get("reporter_name", ""),
                    reporter_contact=form.get("reporter_contact", ""), channel=form.get("channel", ""),
                    received_on=form_date(form.get("received_on"), "received_on"), subject=form.get("subject", ""),
                    content=form.get("content", ""),
                    household=_household(form.get("id_number")) if form.get("id_number") else None),
                    "已登记实名举报，请逐一核实并向举报人反馈。", LABELS):
                return redirect(url_for(".index"))
        reports = db.session.scalars(select(RealNameReport).order_by(RealNameReport.received_on.desc(),
                                                                     RealNameReport.id.desc()).limit(500)).all()
        from jiuzhu.privacy import MAY_REVEAL

        return self.render("spotchecks/reports.html", reports=reports, form={} if revealed else request.form,
                           today=china_today(), revealed=revealed or {}, may_reveal=current_user.role in MAY_REVEAL)

    @expose("/<int:report_id>/reveal", methods=["POST"])
    def reveal(self, report_id):
        """The reporter's full contact, to answer them — recorded, never cached (county staff only)."""
        from jiuzhu.privacy import no_store, reveal_for_request

        revealed = reveal_for_request("reporter_contact", report_id)
        return no_store(self.index(revealed={report_id: revealed.value}))

    def _act(self, fn, success: str):
        perform(fn, success, LABELS)
        return redirect(url_for(".index"))

    @expose("/<int:report_id>/verify", methods=["POST"])
    def verify(self, report_id):
        form = request.form
        return self._act(lambda: services.verify_report(
            db.session, current_user, report_id, verified_on=form_date(form.get("verified_on"), "verified_on"),
            substantiated=form.get("substantiated") == "yes", verification=form.get("verification", "")),
            "已记录核实情况。")

    @expose("/<int:report_id>/correct", methods=["POST"])
    def correct(self, report_id):
        form = request.form
        return self._act(lambda: services.correct_report(
            db.session, current_user, report_id, corrected_on=form_date(form.get("corrected_on"), "corrected_on"),
            correction=form.get("correction", "")), "已登记纠正情况。")

    @expose("/<int:report_id>/answer", methods=["POST"])
    def answer(self, report_id):
        form = request.form
        return self._act(lambda: services.answer_report(
            db.session, current_user, report_id, answered_on=form_date(form.get("answered_on"), "answered_on"),
            answer=form.get("answer", ""), via=form.get("via", "")), "已向举报人反馈核实结果。")
