"""Admin screens for tenants (platform operator) and the org tree (county admin)."""

from __future__ import annotations

import re

from flask import current_app
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, StopValidation

from jiuzhu.admin.base import TenantModelView
from jiuzhu.auth.roles import Role
from jiuzhu.auth.services import create_user
from jiuzhu.errors import ValidationError
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgLevel, OrgUnit
from jiuzhu.tenancy.services import add_org_unit, county_root, create_tenant, validate_division_code


def _registry():
    return current_app.extensions["jiuzhu.plugins"]


class TenantForm(FlaskForm):
    code = StringField("代码", validators=[DataRequired("请填写代码。"), Length(max=40)],
                       description="小写字母开头，用于网址和命令行，如 shexian")
    name = StringField("县（区）名称", validators=[DataRequired("请填写名称。"), Length(max=100)])
    plugin_key = SelectField("地方规则插件", validators=[DataRequired("请选择插件。")])
    division_code = StringField("区划代码", validators=[Optional(), Length(max=12)])
    active = BooleanField("启用", default=True)
    admin_username = StringField("首个县级管理员用户名", validators=[Optional(), Length(max=64)])
    admin_full_name = StringField("管理员姓名", validators=[Optional(), Length(max=100)])
    admin_password = PasswordField("管理员初始密码", validators=[Optional(), Length(max=256)])


class TenantView(TenantModelView):
    roles = frozenset({Role.platform_operator})
    allow_delete = False
    column_list = ["code", "name", "plugin_key", "division_code", "active", "created_at"]
    column_labels = {"code": "代码", "name": "名称", "plugin_key": "地方规则插件", "division_code": "区划代码",
                     "active": "启用", "created_at": "创建时间", "plugin_settings": "插件设置"}
    column_searchable_list = ["code", "name"]
    column_filters = ["plugin_key", "active"]
    column_formatters = {"plugin_key": lambda v, c, m, n: _plugin_label(m.plugin_key)}

    def scaffold_form(self):
        return TenantForm

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.plugin_key.choices = _registry().choices()
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        form.plugin_key.choices = _registry().choices()
        for name in ("code", "admin_username", "admin_full_name", "admin_password"):
            delattr(form, name)
        return form

    def create_model(self, form):
        session = db.session

        def change():
            tenant = create_tenant(session, _registry(), code=form.code.data, name=form.name.data,
                                   plugin_key=form.plugin_key.data, division_code=form.division_code.data)
            tenant.active = form.active.data
            if form.admin_username.data:
                with use_scope(Scope(tenant.id)):
                    create_user(session, username=form.admin_username.data,
                                full_name=form.admin_full_name.data or "县级管理员", role=Role.county_admin,
                                password=form.admin_password.data or "", org_unit=county_root(session))
            return tenant

        return self.saving(change)

    def update_model(self, form, model):
        def change():
            if form.plugin_key.data not in _registry():
                raise ValidationError(f"插件“{form.plugin_key.data}”未安装或未启用。")
            model.name = form.name.data.strip()
            model.plugin_key = form.plugin_key.data
            model.division_code = validate_division_code(form.division_code.data, OrgLevel.county)
            model.active = form.active.data

        return bool(self.saving(change))


def _plugin_label(key: str) -> str:
    registry = _registry()
    return f"{registry.get(key).name}（{key}）" if key in registry else f"{key}（未启用）"


def _parent_choices():
    return db.session.scalars(
        select(OrgUnit).where(OrgUnit.level.in_([OrgLevel.county, OrgLevel.township])).order_by(OrgUnit.id))


PHONE_HELP = "公开的办公电话，公示页和公示表上作为受理异议的联系方式，如 0559-6512345"


def _office_phone(form, field):
    """An office phone: digits, with an area code's hyphen, spaces, or 转 for an extension."""
    value = (field.data or "").strip()
    field.data = value or None
    if value and not re.fullmatch(r"[0-9][0-9 \-]{5,30}(转[0-9]{1,6})?", value):
        raise StopValidation("电话号码只能包含数字、连字符（-）和空格，如 0559-6512345。")


class OrgUnitCreateForm(FlaskForm):
    parent = QuerySelectField("上级单位", query_factory=_parent_choices, get_label="full_name",
                              validators=[DataRequired("请选择上级单位。")])
    name = StringField("名称", validators=[DataRequired("请填写名称。"), Length(max=100)])
    division_code = StringField("区划代码", validators=[Optional(), Length(max=12)],
                                description="乡镇 9 位或 12 位，村（社区）12 位；不知道可留空")
    contact_phone = StringField("联系电话", validators=[Length(max=40), _office_phone], description=PHONE_HELP)


class OrgUnitEditForm(FlaskForm):
    name = StringField("名称", validators=[DataRequired("请填写名称。"), Length(max=100)])
    division_code = StringField("区划代码", validators=[Optional(), Length(max=12)])
    contact_phone = StringField("联系电话", validators=[Length(max=40), _office_phone], description=PHONE_HELP)
    active = BooleanField("启用")


class OrgUnitView(TenantModelView):
    """The county's org tree. Township and village users see their own part of it, read-only."""

    roles = frozenset({Role.county_admin})
    read_roles = frozenset({Role.county_staff, Role.township_staff, Role.township_leader, Role.village_assistant})
    column_list = ["name", "level", "parent", "division_code", "contact_phone", "active"]
    column_labels = {"name": "名称", "level": "层级", "parent": "上级单位", "division_code": "区划代码",
                     "contact_phone": "联系电话", "active": "启用", "children": "下级单位", "tenant": "县（区）"}
    column_searchable_list = ["name", "division_code"]
    column_filters = ["level", "active"]
    column_default_sort = "id"
    column_details_list = ["name", "level", "parent", "division_code", "contact_phone", "active"]
    column_export_list = ["name", "level", "parent", "division_code", "contact_phone", "active"]
    column_formatters = {"level": lambda v, c, m, n: m.level.label}
    column_formatters_export = {"level": lambda v, c, m, n: m.level.label,
                                "parent": lambda v, c, m, n: m.parent.name if m.parent else ""}
    form_ajax_refs = None

    def create_form(self, obj=None):
        return OrgUnitCreateForm(obj=obj)

    def edit_form(self, obj=None):
        return OrgUnitEditForm(obj=obj)

    def create_model(self, form):
        def create():
            unit = add_org_unit(db.session, parent=form.parent.data, name=form.name.data,
                                division_code=form.division_code.data)
            unit.contact_phone = form.contact_phone.data
            return unit

        return self.saving(create)

    def update_model(self, form, model):
        def change():
            model.name = form.name.data.strip()
            model.division_code = validate_division_code(form.division_code.data, model.level)
            model.contact_phone = form.contact_phone.data
            model.active = form.active.data

        return bool(self.saving(change))

    def delete_model(self, model):
        if model.parent_id is None:
            self.handle_view_exception(ValidationError("县（区）本级单位不能删除。"))
            return False
        return super().delete_model(model)


def level_badge(unit: OrgUnit) -> Markup:
    return Markup('<span class="badge badge-secondary">{}</span>').format(unit.level.label)
