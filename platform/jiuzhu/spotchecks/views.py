"""The county's spot-check screens: draw a reproducible sample under the plugin's rule, then record
each sampled household's on-site or desk result.

Everything goes through :mod:`jiuzhu.spotchecks.services` (the rule, the shares never below it, the
county-only guard); the views only read forms and show the outcome. The rows are county-only
(``CountyOnly``): a township or village scope reads none of them even if it reached this view.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from jiuzhu.admin.base import SecureBaseView, flash_refusal
from jiuzhu.auth.roles import Role
from jiuzhu.clock import china_today
from jiuzhu.errors import NotFound, ServiceError, ValidationError
from jiuzhu.extensions import db
from jiuzhu.spotchecks import services
from jiuzhu.spotchecks.models import SpotCheckDraw, SpotCheckItem, SpotCheckResult


def _date(raw: str | None, default: dt.date) -> dt.date | None:
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


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
        return self.render("spotchecks/index.html", plugin=plugin, rule=rule, draws=draws, today=china_today(),
                           summaries={d.id: services.summarize(d) for d in draws},
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
        checked_on = _date(form.get("checked_on"), china_today())
        try:
            if checked_on is None:
                raise ValidationError("核查日期格式应为 YYYY-MM-DD。")
            services.record_result(db.session, current_user, item_id, result=form.get("result", ""),
                                   checked_on=checked_on, checker=form.get("checker", ""),
                                   finding=form.get("finding"))
            db.session.commit()
            flash("已记录抽查结果。", "success")
        except NotFound:
            db.session.rollback()
            abort(404)
        except ServiceError as exc:
            flash_refusal(exc)
        return redirect(url_for(".detail", draw_id=draw_id) + f"#item-{item_id}")
