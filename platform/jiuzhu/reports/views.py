"""The county's supervision dashboard and statistics (with Excel export)."""

from __future__ import annotations

import datetime as dt
import io

from flask import Response
from flask_admin import expose

from jiuzhu.admin.base import SecureBaseView
from jiuzhu.auth.roles import Role
from jiuzhu.clock import china_today
from jiuzhu.extensions import db
from jiuzhu.reports import queries
from jiuzhu.reports.charts import bar_chart

SUPERVISORS = frozenset({Role.county_staff, Role.county_admin, Role.township_leader})


class DashboardView(SecureBaseView):
    roles = SUPERVISORS

    @expose("/")
    def index(self):
        today = china_today()
        load = queries.load_by_township(db.session, today)
        labels, series = queries.cases_by_category_and_month(db.session, today)
        rates = queries.approval_rates(db.session, today.replace(month=1, day=1))
        load_chart = bar_chart([row.township for row in load],
                               {"已超期": [row.overdue for row in load], "3 个工作日内到期": [row.due_soon for row in load]},
                               title="各乡镇超期与即将到期")
        month_chart = bar_chart([m[5:] + "月" for m in labels], series, title="各月申请（按类别）")
        return self.render("reports/dashboard.html", load=load, load_chart=load_chart, month_chart=month_chart,
                           rates=rates, statuses=queries.status_counts(db.session), today=today,
                           total_overdue=sum(r.overdue for r in load))


class StatisticsView(SecureBaseView):
    roles = SUPERVISORS

    @expose("/")
    def index(self):
        return self.render("reports/statistics.html", rows=queries.beneficiaries(db.session),
                           statuses=queries.status_counts(db.session), today=china_today())

    @expose("/export.xlsx")
    def export(self):
        from openpyxl import Workbook

        today = china_today()
        wb = Workbook()
        ws = wb.active
        ws.title = "在保对象"
        ws.append(["乡镇（街道）", "类别", "户数", "月保障金额合计（元）"])
        for row in queries.beneficiaries(db.session):
            ws.append([row.township, row.category, row.households, float(row.monthly_total)])
        ws2 = wb.create_sheet("案件状态")
        ws2.append(["状态", "案件数"])
        for label, n in queries.status_counts(db.session).items():
            ws2.append([label, n])
        ws3 = wb.create_sheet("审核确认率")
        ws3.append(["乡镇（街道）", f"{today.year}年确认给予", "不予确认", "确认率"])
        for r in queries.approval_rates(db.session, dt.date(today.year, 1, 1)):
            ws3.append([r.township, r.approved, r.denied, round(r.rate, 4) if r.rate is not None else None])
        out = io.BytesIO()
        wb.save(out)
        return Response(out.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename=statistics-{today:%Y%m%d}.xlsx"})
