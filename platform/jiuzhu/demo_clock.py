"""演示时钟: the demo's clock runs ahead by whole days (see jiuzhu.clock), so publicity periods end and
deadlines arrive while a newcomer watches. Registered only when the demo set its clock file."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user

from jiuzhu.clock import china_today, demo_offset_days, set_demo_offset_days


class DemoClockView(BaseView):
    def is_accessible(self):
        return current_user.is_authenticated

    @expose("/", methods=["GET", "POST"])
    def index(self):
        if request.method == "POST":
            action = request.form.get("days", "")
            days = 0 if action == "reset" else demo_offset_days() + (int(action) if action.isdigit() else 0)
            set_demo_offset_days(days)
            flash(f"演示日期已调整为 {china_today():%Y年%m月%d日}（比真实日期晚 {demo_offset_days()} 天）。", "success")
            return redirect(url_for(".index"))
        return self.render("jiuzhu/demo_clock.html", today=china_today(), offset=demo_offset_days())
