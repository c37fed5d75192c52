"""The county admin's screen for the plugin's settings, generated from the plugin's settings schema."""

from __future__ import annotations

from decimal import Decimal

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from marshmallow import fields

from jiuzhu.admin.base import SecureBaseView
from jiuzhu.audit import record
from jiuzhu.auth.roles import Role
from jiuzhu.errors import ValidationError
from jiuzhu.extensions import db
from jiuzhu.tenancy.models import Tenant


def _kind(f: fields.Field) -> str:
    if f.metadata.get("choices"):
        return "choice"
    if isinstance(f, fields.List):
        return "list"
    if isinstance(f, fields.Boolean):
        return "bool"
    if isinstance(f, fields.Integer | fields.Decimal | fields.Float):
        return "number"
    return "text"


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def read_settings_form(schema, form) -> dict:
    """The posted form as raw settings (blank → not set, so the plugin's default applies)."""
    raw: dict = {}
    for name, f in schema.fields.items():
        kind = _kind(f)
        value = form.get(name, "").strip() if kind != "bool" else None
        if kind == "bool":
            raw[name] = form.get(name) == "y"
        elif not value:
            continue
        elif kind == "list":
            raw[name] = [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
        else:
            raw[name] = value
    return raw


def jsonable_settings(settings: dict) -> dict:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in settings.items()}


class PluginSettingsView(SecureBaseView):
    roles = frozenset({Role.county_admin})

    def _context(self, values: dict, errors: dict[str, list[str]]):
        tenant = db.session.get(Tenant, current_user.tenant_id)
        plugin = current_app.extensions["jiuzhu.plugins"].get(tenant.plugin_key)
        schema = plugin.settings_schema(plugin)
        bounds = plugin.setting_bounds()
        defaults = plugin.defaults()
        rows = []
        for name, f in schema.fields.items():
            low_high = bounds.get(name)
            hint = f"允许 {low_high[0]}–{low_high[1]}" if low_high else ""
            default = defaults.get(name)
            rows.append({"name": name, "label": f.metadata.get("label", name), "kind": _kind(f),
                         "choices": list((f.metadata.get("choices") or {}).items()),
                         "value": _shown(values.get(name)), "default": _shown(default), "hint": hint,
                         "errors": errors.get(name, [])})
        return dict(tenant=tenant, plugin=plugin, rows=rows, source=plugin.limit_source)

    @expose("/", methods=["GET", "POST"])
    def index(self):
        tenant = db.session.get(Tenant, current_user.tenant_id)
        plugin = current_app.extensions["jiuzhu.plugins"].get(tenant.plugin_key)
        if request.method == "GET":
            return self.render("jiuzhu/plugin_settings.html", **self._context(tenant.plugin_settings or {}, {}))
        raw = read_settings_form(plugin.settings_schema(plugin), request.form)
        try:
            settings = jsonable_settings(plugin.validate_settings(raw))
        except ValidationError as exc:
            db.session.rollback()
            flash("设置未保存，请按提示修改。", "error")
            return self.render("jiuzhu/plugin_settings.html",
                               **self._context(request.form.to_dict(), exc.field_errors)), 400
        before = dict(tenant.plugin_settings or {})
        tenant.plugin_settings = settings
        record(db.session, entity_type="plugin_settings", entity_id=tenant.id, action="update",
               before=before, after=settings)
        db.session.commit()
        flash("设置已保存。", "success")
        return redirect(url_for(".index"))
