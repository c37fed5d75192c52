"""The platform operator's calendar screen: published years, and entering a new year's schedule."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from jiuzhu.admin.base import SecureBaseView
from jiuzhu.auth.roles import Role
from jiuzhu.calendar.models import CalendarYear
from jiuzhu.calendar.schedulefile import parse_schedule
from jiuzhu.calendar.services import enter_year, year_schedule
from jiuzhu.errors import ValidationError
from jiuzhu.extensions import db

EXAMPLE = "日期,类型,名称\n2027-01-01~2027-01-03,休,元旦\n2027-02-20,班,春节调休\n"


class CalendarView(SecureBaseView):
    roles = frozenset({Role.platform_operator})

    @expose("/")
    def index(self):
        years = db.session.scalars(select(CalendarYear).order_by(CalendarYear.year.desc())).all()
        shown = request.args.get("year", type=int) or (years[0].year if years else None)
        schedule = year_schedule(db.session, shown) if shown else None
        return self.render("jiuzhu/calendar.html", years=years, schedule=schedule, example=EXAMPLE,
                           form={}, errors=[])

    @expose("/enter", methods=["POST"])
    def enter(self):
        form = request.form
        errors: list[str] = []
        year = form.get("year", type=int)
        if not year:
            errors.append("请填写年份。")
        try:
            parsed = parse_schedule(form.get("schedule", ""))
            errors += parsed.errors
        except ValidationError as exc:
            parsed, errors = None, errors + exc.all_messages()
        if not errors and parsed is not None:
            try:
                enter_year(db.session, year, parsed.holidays, parsed.workdays, entered_by=current_user.username,
                           note=form.get("note") or None, replace=form.get("replace") == "y")
                db.session.commit()
                flash(f"{year} 年节假日安排已录入，在办案件的期限已按新安排重新计算。", "success")
                return redirect(url_for(".index", year=year))
            except ValidationError as exc:
                db.session.rollback()
                errors = exc.all_messages()
        years = db.session.scalars(select(CalendarYear).order_by(CalendarYear.year.desc())).all()
        return self.render("jiuzhu/calendar.html", years=years, schedule=None, example=EXAMPLE, form=form,
                           errors=errors), 400
