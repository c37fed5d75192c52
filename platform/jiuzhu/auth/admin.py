"""The county admin's user screen."""

from __future__ import annotations

import dataclasses

from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from jiuzhu.admin.base import SecureBaseView, TenantModelView, expose
from jiuzhu.auth.models import User
from jiuzhu.auth.roles import TENANT_ROLES, Role
from jiuzhu.auth.services import check_role_fits_unit, create_user, set_password
from jiuzhu.auth.sessions import EndReason, end_sessions
from jiuzhu.db import utcnow
from jiuzhu.errors import ValidationError
from jiuzhu.extensions import db
from jiuzhu.privacy.masking import mask_phone
from jiuzhu.tenancy.models import OrgUnit

ROLE_CHOICES = [(r.value, r.label) for r in TENANT_ROLES]


def _units():
    return db.session.scalars(select(OrgUnit).where(OrgUnit.active.is_(True)).order_by(OrgUnit.id))


class UserForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请填写用户名。"), Length(max=64)])
    full_name = StringField("姓名", validators=[DataRequired("请填写姓名。"), Length(max=100)])
    role = SelectField("角色", choices=ROLE_CHOICES, validators=[DataRequired("请选择角色。")])
    org_unit = QuerySelectField("所属单位", query_factory=_units, get_label="full_name",
                                validators=[DataRequired("请选择所属单位。")])
    phone = StringField("手机号", validators=[Optional(), Length(max=32)])
    email = StringField("电子邮箱", validators=[Optional(), Email("电子邮箱格式不正确。"), Length(max=254)])
    active = BooleanField("启用", default=True)
    password = PasswordField("密码", validators=[Optional(), Length(max=256)],
                             description="新建用户必填；编辑时留空表示不修改")
    reset_second_factor = BooleanField("重置动态口令", default=False,
                                       description="用户手机丢失时勾选：解除其验证器绑定，下次登录须重新绑定")


class UserView(TenantModelView):
    roles = frozenset({Role.county_admin})
    column_list = ["username", "full_name", "role", "org_unit", "active", "totp_enabled_at", "last_login_at"]
    column_labels = {"username": "用户名", "full_name": "姓名", "role": "角色", "org_unit": "所属单位",
                     "active": "启用", "last_login_at": "最近登录", "phone": "手机号", "email": "电子邮箱",
                     "created_at": "创建时间", "totp_enabled_at": "动态口令"}
    column_searchable_list = ["username", "full_name"]
    column_filters = ["role", "active", "org_unit.name"]
    column_details_list = ["username", "full_name", "role", "org_unit", "phone", "email", "active",
                           "created_at", "last_login_at"]
    column_export_list = ["username", "full_name", "role", "org_unit", "phone", "email", "active", "last_login_at"]
    # the phone is masked in the details and the export like everywhere (the edit form shows it to the admin)
    column_formatters = {"role": lambda v, c, m, n: m.role.label,
                         "totp_enabled_at": lambda v, c, m, n: "已启用" if m.totp_enabled_at else "未启用",
                         "org_unit": lambda v, c, m, n: m.org_unit.full_name if m.org_unit else "",
                         "phone": lambda v, c, m, n: mask_phone(m.phone)}
    column_formatters_export = column_formatters
    form_ajax_refs = {"org_unit": {"fields": ["name"], "page_size": 20}}

    def scaffold_form(self):
        return UserForm

    def create_model(self, form):
        def change():
            user = create_user(db.session, username=form.username.data, full_name=form.full_name.data,
                               role=form.role.data, password=form.password.data or "", org_unit=form.org_unit.data,
                               phone=form.phone.data, email=form.email.data)
            user.active = form.active.data
            return user

        return self.saving(change)

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        del form.username
        return form

    def create_form(self, obj=None):
        form = super().create_form(obj)
        del form.reset_second_factor
        return form

    def update_model(self, form, model):
        def change():
            role, unit = Role(form.role.data), form.org_unit.data
            problem = check_role_fits_unit(role, unit)
            if problem:
                raise ValidationError(problem)
            if model.id == current_user.id and (role is not Role.county_admin or not form.active.data):
                raise ValidationError("不能停用自己的账户或取消自己的县级管理员角色。")
            model.full_name = form.full_name.data.strip()
            model.role, model.org_unit = role, unit
            model.phone, model.email = form.phone.data or None, form.email.data or None
            if form.active.data and not model.active:  # re-enabled: a dormant account starts counting again
                model.enabled_at, model.disabled_reason = utcnow(), None
            elif not form.active.data and model.active:
                end_sessions(model, EndReason.disabled)
            model.active = form.active.data
            if form.password.data:
                set_password(db.session, model, form.password.data, by_admin=True)
            if form.reset_second_factor.data and model.totp_enabled_at is not None:
                model.totp_secret, model.totp_enabled_at, model.totp_last_step, model.recovery_codes = \
                    None, None, None, []
                end_sessions(model, EndReason.reset_by_admin)

        return bool(self.saving(change))

    def delete_model(self, model):
        if model.id == current_user.id:
            self.handle_view_exception(ValidationError("不能删除自己的账户。"))
            return False
        return super().delete_model(model)




class SecurityPolicyView(SecureBaseView):
    """安全策略: the county admin sets the session, password and second-factor rules of the county."""

    roles = frozenset({Role.county_admin})

    @expose("/", methods=["GET", "POST"])
    def index(self):
        from flask import flash, redirect, request, url_for

        from jiuzhu.auth.policy import ALWAYS_MFA, BOUNDS, SecurityPolicy, policy_for, save_policy

        tenant_id = current_user.tenant_id
        row = db.session.scalar(select(SecurityPolicy).where(SecurityPolicy.tenant_id == tenant_id))
        values = dataclasses.asdict(row.values() if row else policy_for(db.session, tenant_id))
        errors: dict[str, list[str]] = {}
        if request.method == "POST":
            posted: dict = {"mfa_roles": request.form.getlist("mfa_roles")}
            for name in BOUNDS:
                raw = request.form.get(name, "").strip()
                try:
                    posted[name] = int(raw)
                except ValueError:
                    posted[name] = raw
            try:
                save_policy(db.session, tenant_id, posted)
                db.session.commit()
            except ValidationError as exc:
                db.session.rollback()
                errors = exc.field_errors
                values = posted
            else:
                flash("安全策略已保存，一分钟内对全县生效。", "success")
                return redirect(url_for(".index"))
        roles = [(r.value, r.label, r in ALWAYS_MFA) for r in TENANT_ROLES]
        return self.render("auth/policy.html", values=values, errors=errors, bounds=BOUNDS, roles=roles)


__all__ = ["SecurityPolicyView", "UserView", "User"]
