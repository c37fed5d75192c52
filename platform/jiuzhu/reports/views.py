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


class RollImportView(SecureBaseView):
    """Upload an existing beneficiary roll; an RQ job checks and imports it, with progress."""

    roles = frozenset({Role.county_staff, Role.county_admin})

    @expose("/")
    def index(self):
        from sqlalchemy import select

        from jiuzhu.reports.rollimport import RollImport

        imports = db.session.scalars(select(RollImport).order_by(RollImport.id.desc()).limit(50)).all()
        return self.render("reports/rolls.html", imports=imports)

    @expose("/upload", methods=["POST"])
    def upload(self):
        from flask import current_app, flash, redirect, request, url_for
        from flask_login import current_user

        from jiuzhu.instance import enqueue
        from jiuzhu.reports.rollimport import RollImport, run_import_job

        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("请选择要上传的 Excel 文件（.xlsx）。", "error")
            return redirect(url_for(".index"))
        if not upload.filename.lower().endswith(".xlsx"):
            flash("只接受 .xlsx 格式的 Excel 文件。", "error")
            return redirect(url_for(".index"))
        imp = RollImport(filename=upload.filename[:200], uploaded_by_id=current_user.id, content=upload.read())
        db.session.add(imp)
        db.session.commit()
        import_id, tenant_id = imp.id, current_user.tenant_id
        try:
            enqueue(current_app._get_current_object(), run_import_job, import_id, tenant_id, tenant_id=tenant_id,
                    job_timeout=3600)
        except Exception:  # no Redis (the demo): run it here and now
            run_import_job(import_id, tenant_id)
        return redirect(url_for(".detail", import_id=import_id))

    def _get(self, import_id):
        from flask import abort

        from jiuzhu.reports.rollimport import RollImport

        imp = db.session.get(RollImport, import_id)
        if imp is None:
            abort(404)
        return imp

    @expose("/<int:import_id>")
    def detail(self, import_id):
        return self.render("reports/roll.html", imp=self._get(import_id))

    @expose("/<int:import_id>/progress.json")
    def progress(self, import_id):
        from flask import jsonify

        imp = self._get(import_id)
        return jsonify({"status": imp.status.value, "label": imp.status.label, "percent": imp.percent,
                        "created": imp.created_cases, "errors": len(imp.errors or [])})
