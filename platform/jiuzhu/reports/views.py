"""The county's supervision dashboard and statistics (with Excel export)."""

from __future__ import annotations

import datetime as dt
import io

from flask import Response
from flask_admin import expose
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from jiuzhu.admin.base import SecureBaseView
from jiuzhu.auth.roles import Role
from jiuzhu.clock import china_today
from jiuzhu.extensions import db
from jiuzhu.i18n_terms import term
from jiuzhu.reports import queries
from jiuzhu.reports.charts import bar_chart

SUPERVISORS = frozenset({Role.county_staff, Role.county_admin, Role.township_leader})
COUNTY_ROLES = frozenset({Role.county_staff, Role.county_admin})
#: the largest roll file taken (a 50,000-row roll is a few MB)
MAX_UPLOAD = 10 * 1024 * 1024


def month_labels(months: list[str]) -> list[str]:
    """“YYYY-MM” as the chart says it: 12月, with the year under the first month and under each January."""
    out = []
    for i, m in enumerate(months):
        label = format_date(dt.date(int(m[:4]), int(m[5:]), 1), "MMM")  # 11月, or Nov in English
        year = _("%(year)s年", year=m[:4])
        out.append(f"{label}\n{year}" if i == 0 or m.endswith("-01") else label)
    return out


class DashboardView(SecureBaseView):
    roles = SUPERVISORS

    @expose("/")
    def index(self):
        today = china_today()
        load = queries.load_by_township(db.session, today)
        labels, series = queries.cases_by_category_and_month(db.session, today)
        rates = queries.approval_rates(db.session, today.replace(month=1, day=1))
        load_chart = bar_chart([row.township for row in load],
                               {_("已超期"): [row.overdue for row in load],
                                _("3 个工作日内到期"): [row.due_soon for row in load]},
                               title=_("各乡镇超期与即将到期"))
        month_chart = bar_chart(month_labels(labels), {term(name): values for name, values in series.items()},
                                title=_("各月申请（按类别）"))
        from jiuzhu.spotchecks.services import tenant_plugin

        plugin, _tenant = tenant_plugin(db.session)
        archive = queries.unarchived(db.session, plugin.archive_step) if plugin.archive_step else None
        filing = queries.unfiled(db.session, plugin.filing_step, today) if plugin.filing_step else None
        spot_gaps = []
        if current_user.role in COUNTY_ROLES:  # the spot checks are the county's own files
            from jiuzhu.spotchecks.services import coverage_gaps

            spot_gaps = coverage_gaps(db.session, getattr(plugin, "spot_check_rule", None), today)
        return self.render("reports/dashboard.html", load=load, load_chart=load_chart, month_chart=month_chart,
                           rates=rates, statuses=queries.status_counts(db.session), today=today,
                           total_overdue=sum(r.overdue for r in load), archive=archive, spot_gaps=spot_gaps,
                           filing=filing)


class StatisticsView(SecureBaseView):
    roles = SUPERVISORS

    @expose("/")
    def index(self):
        return self.render("reports/statistics.html", rows=queries.beneficiaries(db.session),
                           statuses=queries.status_counts(db.session), today=china_today())

    @expose("/export.xlsx")
    def export(self):
        """The statistics as a workbook a county would file: each sheet titled with the county, the
        period and the day it was made; amounts as money, rates as percentages; text neutralised."""
        from flask_login import current_user
        from openpyxl import Workbook
        from openpyxl.styles import Font

        from jiuzhu.clock import cn_date
        from jiuzhu.security.spreadsheet import neutralise_row
        from jiuzhu.tenancy.models import Tenant

        today = china_today()
        county = db.session.get(Tenant, current_user.tenant_id).name
        wb = Workbook()

        def sheet(ws, title: str, period: str, header: list[str], rows, formats: dict[int, str]):
            ws.append([f"{county}社会救助统计 · {title}"])
            ws.append([f"统计范围：{period}　　制表日期：{cn_date(today)}"])
            ws.append(header)
            ws["A1"].font = Font(bold=True, size=14)
            for cell in ws[3]:
                cell.font = Font(bold=True)
            for values in rows:
                ws.append(neutralise_row(values))
                for col, fmt in formats.items():
                    ws.cell(row=ws.max_row, column=col).number_format = fmt
            for col, width in zip("ABCD", (18, 16, 14, 20), strict=False):
                ws.column_dimensions[col].width = width

        ws = wb.active
        ws.title = "在保对象"
        sheet(ws, "在保对象", f"截至{cn_date(today)}", ["乡镇（街道）", "类别", "户数", "月保障金额合计（元）"],
              ([r.township, r.category, r.households, r.monthly_total] for r in queries.beneficiaries(db.session)),
              {3: "0", 4: "#,##0.00"})
        sheet(wb.create_sheet("案件状态"), "案件状态", f"截至{cn_date(today)}", ["状态", "案件数"],
              queries.status_counts(db.session).items(), {2: "0"})
        since = dt.date(today.year, 1, 1)
        sheet(wb.create_sheet("审核确认率"), "审核确认率", f"{cn_date(since)}至{cn_date(today)}",
              ["乡镇（街道）", "确认给予", "不予确认", "确认率"],
              ([r.township, r.approved, r.denied, r.rate] for r in queries.approval_rates(db.session, since)),
              {2: "0", 3: "0", 4: "0.0%"})
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
        content = upload.read(MAX_UPLOAD + 1)
        if len(content) > MAX_UPLOAD:
            flash(f"文件超过 {MAX_UPLOAD // 1024 // 1024} MB，未导入。请拆分后分批上传。", "error")
            return redirect(url_for(".index"))
        imp = RollImport(filename=upload.filename[:200], uploaded_by_id=current_user.id, content=content)
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
