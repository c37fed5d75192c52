"""重复享受核查 on screen (county staff): what the nightly sweep found for this county's people, and 协查
requests both ways — those asked of this county answered here, with their deadline.

Every action goes through :mod:`jiuzhu.duplicates.services`; what another county is shown of this
county's people is only this county's name, the category and the month benefits began.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from jiuzhu.admin.base import SecureBaseView, flash_refusal
from jiuzhu.calendar import workdays_between
from jiuzhu.cases.categories import Category
from jiuzhu.cases.models import Case
from jiuzhu.clock import china_today
from jiuzhu.duplicates import services
from jiuzhu.duplicates.models import DuplicateFinding
from jiuzhu.errors import ServiceError, ValidationError
from jiuzhu.extensions import db
from jiuzhu.tenancy.models import OrgUnit


def _month(raw: str | None) -> dt.date | None:
    """A month typed as YYYY-MM (or a date in it); None when blank or not a month."""
    raw = (raw or "").strip()
    try:
        return dt.date.fromisoformat(raw[:7] + "-01") if len(raw) >= 7 else None
    except ValueError:
        return None


class DuplicateView(SecureBaseView):
    """重复享受核查: the county's findings and its 协查 requests."""

    roles = services.COUNTY_ROLES

    @expose("/")
    def index(self, posted=None):
        today = china_today()
        show = request.args.get("show", "open")
        query = (select(DuplicateFinding).options(selectinload(DuplicateFinding.case).selectinload(Case.household))
                 .order_by(DuplicateFinding.first_seen_on.desc(), DuplicateFinding.id))
        if show == "open":
            query = query.where(DuplicateFinding.gone_on.is_(None))
        findings = db.session.scalars(query.limit(500)).all()
        resolved = services.resolved_keys(db.session, [f.case_id for f in findings])
        asks = services.requests(db.session)
        names = services.members_by_case(db.session, {(q.case_id, q.person_bidx) for q in asks})
        townships = {u.id: u.name for u in db.session.scalars(select(OrgUnit))}
        return self.render("duplicates/index.html", findings=findings, resolved=resolved, show=show, today=today,
                           incoming=[q for q in asks if q.direction == "in"],
                           outgoing=[q for q in asks if q.direction == "out"],
                           names={k: v[1] for k, v in names.items()}, townships=townships,
                           left={q.id: workdays_between(today, q.due_on) for q in asks}, answers=services.ANSWERS,
                           posted=posted, workdays=services.REQUEST_WORKDAYS,
                           category_labels={c.value: c.label for c in Category})

    @expose("/requests/<int:request_id>/answer", methods=["POST"])
    def answer(self, request_id):
        """The county's answer to a 协查 request asked of it: refused input comes back beside its field."""
        form = request.form
        try:
            services.answer_request(db.session, current_user, request_id, answer=form.get("answer", ""),
                                    stopped_month=_month(form.get("stopped_month")))
            db.session.commit()
        except ValidationError as exc:
            db.session.rollback()
            flash("协查答复未提交：请按提示更正后再提交。", "error")
            return self.index(posted=SimpleNamespace(request_id=request_id, form=form, errors=exc.field_errors)), 400
        except ServiceError as exc:  # not this county's request, or answered already
            db.session.rollback()
            flash_refusal(exc)
            return redirect(url_for(".index"))
        flash("已答复协查请求。", "success")
        return redirect(url_for(".index"))
