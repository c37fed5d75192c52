"""保障金发放: the county's payment screen — every month of benefit not paid by its pay-by day, across
the county (the case page shows one case's months; this lists them all).

County staff only: monthly benefits are paid by the county (权钱分离), so the list of what it has not
paid in time is the county's own. A township or village user is refused; another county's rows are
out of scope like any row.
"""

from __future__ import annotations

from flask import Response, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from jiuzhu.admin.base import SecureBaseView, flash_refusal
from jiuzhu.auth.roles import Role
from jiuzhu.clock import china_today
from jiuzhu.extensions import db
from jiuzhu.payments import services
from jiuzhu.reports.queries import townships


class PaymentsView(SecureBaseView):
    """逾期未发放: months unpaid past their pay-by day, the longest overdue first."""

    roles = frozenset({Role.county_staff, Role.county_admin})

    @expose("/")
    def index(self):
        from jiuzhu.spotchecks.services import tenant_plugin

        today = china_today()
        plugin, _tenant = tenant_plugin(db.session)
        rule = getattr(plugin, "payment_rule", None)
        late = services.late_months(db.session, today)
        return self.render("payments/index.html", late=late, today=today, names=townships(db.session),
                           rule=rule, plugin=plugin, this_month=today.strftime("%Y-%m"))

    @expose("/bank-file", methods=["POST"])
    def bank_file(self):
        """The month's file for the entrusted bank (full ID numbers): made only on this explicit request,
        recorded in the audit chain and the access log, never cached."""
        from jiuzhu.errors import ServiceError
        from jiuzhu.payments.bankfile import bank_file, parse_month
        from jiuzhu.privacy import no_store
        from jiuzhu.tenancy.models import Tenant

        try:
            county = db.session.get(Tenant, current_user.tenant_id)
            made = bank_file(db.session, current_user, parse_month(request.form.get("month")), on=china_today(),
                             county_code=county.code)
            db.session.commit()
        except ServiceError as exc:
            flash_refusal(exc, {"month": "发放月份"})
            return redirect(url_for(".index"))
        from urllib.parse import quote

        response = no_store(Response(made.content, mimetype="text/csv"))
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(made.filename)}"
        return response
