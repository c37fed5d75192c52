"""The base classes every admin view derives from.

Tenant and org scoping is not done here: the ORM does it for every query (see
``jiuzhu.tenancy.scoping``), which covers Flask-Admin's ``get_one``, relation dropdowns, ajax
loaders, bulk actions and exports at once. These classes add access by role, CSRF, Chinese
messages, and 404 for a row the user cannot see.
"""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model import filters as model_filters
from flask_admin.model import typefmt
from flask_admin.model.form import converts
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Integer
from sqlalchemy.exc import IntegrityError

from jiuzhu.auth.roles import Role
from jiuzhu.clock import china_today
from jiuzhu.errors import ServiceError
from jiuzhu.extensions import db


def flash_refusal(exc: ServiceError, labels: dict[str, str] | None = None) -> None:
    """Roll back, and show each refusal; a field's message names the field (「入户日期：此项必填。」)."""
    from jiuzhu.workflow.formrender import FIELD_LABELS

    db.session.rollback()
    labels = labels or {}
    for message in exc.messages:
        flash(message, "error")
    for name, messages in exc.field_errors.items():
        label = labels.get(name) or FIELD_LABELS.get(name, name)
        for message in messages:
            flash(f"{label}：{message}", "error")


def perform(fn, success: str, labels: dict[str, str] | None = None, *, raise_forbidden: bool = False) -> bool:
    """Run one service action in the request's transaction: commit and flash ``success``; a row out of
    scope is a 404; a refusal is rolled back and flashed (a ``PermissionDenied`` re-raised after that
    when ``raise_forbidden``, for a view that answers 403 itself). True when the action went through."""
    from jiuzhu.errors import NotFound, PermissionDenied

    try:
        fn()
        db.session.commit()
    except NotFound:
        db.session.rollback()
        abort(404)
    except ServiceError as exc:
        flash_refusal(exc, labels)
        if raise_forbidden and isinstance(exc, PermissionDenied):
            raise
        return False
    flash(success, "success")
    return True


def form_date(raw: str | None, field: str, default=None):
    """A date typed on a form (YYYY-MM-DD) of something that has happened: not after today and not
    before :data:`EARLIEST_DATE`. Blank gives ``default`` (today, China time, unless given). A bad
    date is refused as the field's error."""
    from jiuzhu.errors import ValidationError

    problem = date_problem(raw)
    if problem:
        raise ValidationError(field_errors={field: [problem]})
    if not raw:
        return default if default is not None else china_today()
    return dt.date.fromisoformat(raw.strip())


#: no date typed on a screen lies before this (the first records the system could hold)
EARLIEST_DATE = dt.date(2000, 1, 1)


def date_problem(raw: str | None, label: str = "") -> str | None:
    """Why a typed date of a past event is not acceptable, or None (blank is acceptable here)."""
    if not raw or not raw.strip():
        return None
    try:
        day = dt.date.fromisoformat(raw.strip())
    except ValueError:
        return f"{label or '日期'}格式应为 YYYY-MM-DD。"
    if day > china_today():
        return f"{label}不能晚于今天（{china_today():%Y-%m-%d}）。"
    if day < EARLIEST_DATE:
        return f"{label}不能早于 {EARLIEST_DATE:%Y-%m-%d}。"
    return None


class RoleAccess:
    """Access by role: ``roles`` may use the view; ``read_roles`` may only look."""

    roles: frozenset[Role] = frozenset()
    read_roles: frozenset[Role] = frozenset()

    def _role(self) -> Role | None:
        return current_user.role if current_user.is_authenticated else None

    def is_accessible(self) -> bool:
        return self._role() in (self.roles | self.read_roles)

    def may_write(self) -> bool:
        return self._role() in self.roles

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)


class SecureBaseView(RoleAccess, BaseView):
    pass


class JiuzhuModelConverter(AdminModelConverter):
    """Forms for our column types (``UTCDateTime`` is a ``TypeDecorator`` Flask-Admin cannot see into)."""

    @converts("jiuzhu.db.UTCDateTime", "UTCDateTime")
    def convert_utc_datetime(self, field_args, **extra):
        return self.convert_datetime(field_args, **extra)


class JiuzhuFilterConverter(sqla_filters.FilterConverter):
    @model_filters.convert("utcdatetime")
    def conv_utc_datetime(self, column, name, **kwargs):
        return self.conv_datetime(column, name, **kwargs)


def _china_time(view, value, name=None) -> str:
    """A moment as the county reads it: Beijing time, to the second."""
    from jiuzhu.clock import CHINA_TZ

    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _type_formatters(base):
    return {**base, dt.datetime: _china_time}


class TenantModelView(RoleAccess, ModelView):
    """A model list/detail/edit screen over a tenant-owned model."""

    #: times in Beijing time to the second, in lists, details and exports (they are stored in UTC)
    column_type_formatters = _type_formatters(typefmt.BASE_FORMATTERS)
    column_type_formatters_detail = _type_formatters(typefmt.DETAIL_FORMATTERS)
    column_type_formatters_export = _type_formatters(typefmt.EXPORT_FORMATTERS)

    model_form_converter = JiuzhuModelConverter
    filter_converter = JiuzhuFilterConverter()

    form_base_class = FlaskForm  # Flask-WTF CSRF on every form, including delete and bulk actions
    can_view_details = True
    can_export = True
    export_types = ["csv", "xlsx"]
    page_size = 50
    create_modal = False
    edit_modal = False

    # Writing is for ``roles`` only; ``read_roles`` see lists and details.
    @property
    def can_create(self):
        return self.may_write() and self.allow_create

    @property
    def can_edit(self):
        return self.may_write() and self.allow_edit

    @property
    def can_delete(self):
        return self.may_write() and self.allow_delete

    allow_create = True
    allow_edit = True
    allow_delete = True

    @action("delete", lazy_gettext("Delete"), lazy_gettext("Are you sure you want to delete selected records?"))
    def action_delete(self, ids):
        # Row ids arrive as strings; psycopg 3 will not compare an integer key with text.
        pk = self.model.__mapper__.primary_key[0]
        if isinstance(pk.type, Integer):
            ids = tuple(int(i) for i in ids if str(i).isdigit())
        return super().action_delete(ids)

    def _get_list_filter_args(self):
        """Flask-Admin's filters from the query string (``flt<pos>_<key>=value``), minus any whose
        value the filter cannot use (an unknown enum member, a malformed date): those are dropped
        with a message instead of failing the whole list."""
        if not self._filters:
            return None
        found = []
        for arg, value in request.args.items():
            if not arg.startswith("flt") or "_" not in arg:
                continue
            pos, key = arg[3:].split("_", 1)
            if key not in self._filter_args:
                continue
            idx, flt = self._filter_args[key]
            try:
                usable = flt.validate(value)
                if usable:
                    flt.clean(value)
            except (ValueError, KeyError, LookupError, TypeError, ArithmeticError):
                usable = False
            if usable:
                found.append((pos, (idx, str(flt.name), value)))
            else:
                flash(f"筛选条件“{flt.name}”的值“{value[:40]}”无效，已忽略。", "error")
        return [v for _, v in sorted(found, key=lambda n: n[0])]

    def _get_list_extra_args(self):
        """The list's page, never negative (``?page=-1`` shows the first page)."""
        view_args = super()._get_list_extra_args()
        if view_args.page is not None and view_args.page < 0:
            view_args.page = 0
        return view_args

    def get_export_value(self, model, name):
        from jiuzhu.security.spreadsheet import neutralise

        return neutralise(super().get_export_value(model, name))

    @expose("/export/<export_type>/")
    def export(self, export_type):
        """Every export is a list of a county's data leaving the system: it goes in the access log."""
        from jiuzhu.tenancy.context import current_scope

        response = super().export(export_type)
        scope = current_scope()
        if getattr(response, "status_code", 200) == 200 and scope is not None and scope.tenant_id is not None:
            from jiuzhu.privacy.models import AccessKind
            from jiuzhu.privacy.services import record_access

            record_access(db.session, AccessKind.export_list, self.endpoint[:24], None,
                          detail=f"{self.name}（{export_type.upper()}）")
        return response

    def _export_csv(self, return_url):
        # Flask-Admin streams the CSV after the request has ended, when the tenant scope and the
        # session are gone (and scoping fails closed). Admin exports are small: build them here.
        response = super()._export_csv(return_url)
        body = b"".join(chunk.encode("utf-8") if isinstance(chunk, str) else chunk for chunk in response.response)
        return Response(body, headers={"Content-Disposition": response.headers["Content-Disposition"]},
                        mimetype="text/csv")

    def saving(self, change):
        """Run ``change`` and commit; on refusal roll back and show why. Returns its result or False."""
        try:
            result = change()
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            if not self.handle_view_exception(exc):
                raise
            return False
        return result if result is not None else True

    def get_one(self, id):
        from jiuzhu.security.inputs import parse_id

        pk = self.model.__mapper__.primary_key[0]
        if isinstance(pk.type, Integer) and parse_id(id) is None:
            abort(404)  # ?id=abc or beyond what the column holds: no such row
        obj = super().get_one(id)
        if obj is None:
            abort(404)  # another tenant's, township's or village's row looks like no row
        return obj

    def handle_view_exception(self, exc):
        if isinstance(exc, ServiceError):
            for message in exc.all_messages():
                flash(message, "error")
            return True
        if isinstance(exc, IntegrityError):
            flash("保存失败：与已有数据冲突（例如名称或代码重复），或仍被其他数据引用。未做任何修改。", "error")
            return True
        return super().handle_view_exception(exc)


class HomeView(AdminIndexView):
    """The landing page after login: who you are, where you work, what you can do."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path))

    @expose("/")
    def index(self):
        from flask import current_app

        from jiuzhu.extensions import db
        from jiuzhu.tenancy.models import Tenant

        tenant = db.session.get(Tenant, current_user.tenant_id) if current_user.tenant_id else None
        registry = current_app.extensions["jiuzhu.plugins"]
        plugin_name = None
        if tenant is not None and tenant.plugin_key in registry:
            plugin = registry.get(tenant.plugin_key)
            plugin_name = f"{tenant.name} · {plugin.name}（{plugin.key}）"
        return self.render("jiuzhu/home.html", tenant=tenant, plugin_name=plugin_name)


__all__ = ["HomeView", "RoleAccess", "SecureBaseView", "TenantModelView", "expose"]
