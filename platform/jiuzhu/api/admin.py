"""The county admin's API-token screen: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from flask import flash
from flask_admin.actions import action
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from jiuzhu.admin.base import TenantModelView
from jiuzhu.api.models import ApiToken
from jiuzhu.api.tokens import create_token, revoke_token
from jiuzhu.auth.models import User
from jiuzhu.auth.roles import TENANT_ROLES, Role
from jiuzhu.extensions import db
from jiuzhu.security.inputs import parse_id
from jiuzhu.tenancy.models import OrgUnit

ROLE_CHOICES = [("", "（代表下面选择的用户）")] + [(r.value, r.label) for r in TENANT_ROLES
                                               if r is not Role.county_admin]


def _people():
    used = select(ApiToken.user_id).where(ApiToken.service_user.is_(True))
    return db.session.scalars(select(User).where(User.active.is_(True), User.role != Role.county_admin,
                                                 User.id.not_in(used)).order_by(User.username))


def _units():
    return db.session.scalars(select(OrgUnit).where(OrgUnit.active.is_(True)).order_by(OrgUnit.id))


class BlankOrValid:
    """For a select that may be left blank: blank is fine, but a submitted choice that names no row
    in the county (another county's user, a made-up id) is an error — never silently blank."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        from wtforms.validators import StopValidation

        raw = (field.raw_data or [""])[0]
        if raw in ("", "__None"):
            field.errors[:] = []
            raise StopValidation()
        if field.data is None:
            raise StopValidation(self.message)


class TokenForm(FlaskForm):
    name = StringField("名称", validators=[DataRequired("请填写令牌名称。"), Length(max=100)],
                       description="如“省政务服务平台”“低收入人口监测平台”，记入审计日志")
    user = QuerySelectField("代表用户", query_factory=_people, get_label=str, allow_blank=True,
                            blank_text="（集成：按下面的角色和单位创建服务用户）",
                            validators=[BlankOrValid("所选用户无效或不在本县（区），请重新选择。")])
    role = SelectField("集成的角色", choices=ROLE_CHOICES, validators=[Optional()])
    org_unit = QuerySelectField("集成的所属单位", query_factory=_units, get_label="full_name", allow_blank=True,
                                validators=[BlankOrValid("所选单位无效或不在本县（区），请重新选择。")])


class ApiTokenView(TenantModelView):
    roles = frozenset({Role.county_admin})
    allow_edit = False
    allow_delete = False
    can_export = False
    column_list = ["id", "name", "prefix", "user", "role", "created_at", "last_used_at", "revoked_at"]
    column_details_list = column_list + ["service_user"]
    column_labels = {"id": "编号", "name": "名称", "prefix": "密钥开头", "user": "代表用户", "role": "角色",
                     "created_at": "创建时间", "last_used_at": "最近使用", "revoked_at": "吊销时间",
                     "service_user": "集成服务用户"}
    column_formatters = {"user": lambda v, c, m, n: str(m.user), "role": lambda v, c, m, n: m.user.role.label}
    column_searchable_list = ["name"]

    def scaffold_form(self):
        return TokenForm

    def create_model(self, form):
        def change():
            issued = create_token(db.session, current_user, name=form.name.data, user=form.user.data,
                                  role=form.role.data or None, org_unit=form.org_unit.data)
            return issued

        issued = self.saving(change)
        if issued:
            flash(Markup("已创建令牌“{}”。密钥只显示这一次，请立即复制保存：<br><code>{}</code>").format(
                escape(issued.token.name), escape(issued.secret)), "success")
            return issued.token
        return False

    @action("revoke", "吊销", "吊销后令牌立即失效，确定吗？")
    def action_revoke(self, ids):
        for raw in ids:
            if str(raw).isdigit():
                token = self.saving(lambda raw=raw: revoke_token(db.session, current_user, parse_id(raw) or 0))
                if token:
                    flash(f"已吊销令牌“{token.name}”。", "success")
