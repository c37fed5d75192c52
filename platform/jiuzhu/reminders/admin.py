"""Screens: the personal inbox, the county's channels, the supervision list, and the job queues."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import update
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from jiuzhu.admin.base import SecureBaseView, TenantModelView
from jiuzhu.auth.roles import TENANT_ROLES, Role
from jiuzhu.db import utcnow
from jiuzhu.errors import ValidationError
from jiuzhu.extensions import db
from jiuzhu.reminders.models import ChannelKind, Notification, NotificationChannel
from jiuzhu.security.inputs import parse_id

COUNTY = frozenset({Role.county_admin, Role.county_staff})


class InboxView(TenantModelView):
    """站内消息: each user sees only their own notifications."""

    roles = frozenset(TENANT_ROLES)
    allow_create = allow_edit = allow_delete = False
    can_export = False
    can_view_details = True
    column_list = ["created_at", "title", "read_at"]
    column_details_list = ["created_at", "title", "body", "read_at"]
    column_labels = {"created_at": "时间", "title": "标题", "body": "内容", "read_at": "已读时间"}
    column_default_sort = ("created_at", True)
    column_filters = ["read_at"]
    column_formatters = {"read_at": lambda v, c, m, n: m.read_at.strftime("%Y-%m-%d %H:%M") if m.read_at
                         else Markup('<span class="badge badge-danger">未读</span>')}

    def get_query(self):
        return super().get_query().filter(Notification.user_id == current_user.id)

    def get_count_query(self):
        return super().get_count_query().filter(Notification.user_id == current_user.id)

    def get_one(self, id):
        obj = super().get_one(id)
        if obj.user_id != current_user.id:
            abort(404)
        return obj

    @expose("/details/")
    def details_view(self):
        response = super().details_view()
        note_id = parse_id(request.args.get("id"))
        if note_id:
            db.session.execute(update(Notification).where(Notification.id == note_id,
                                                          Notification.user_id == current_user.id,
                                                          Notification.read_at.is_(None)).values(read_at=utcnow()))
            db.session.commit()
        return response

    @action("mark_read", "标为已读")
    def action_mark_read(self, ids):
        ids = [int(i) for i in ids if str(i).isdigit()]
        db.session.execute(update(Notification).where(Notification.id.in_(ids), Notification.user_id == current_user.id,
                                                      Notification.read_at.is_(None)).values(read_at=utcnow()))
        db.session.commit()
        flash("已标为已读。", "success")


class ChannelForm(FlaskForm):
    kind = SelectField("渠道", choices=[(k.value, k.label) for k in ChannelKind])
    enabled = BooleanField("启用", default=True)
    host = StringField("SMTP 服务器", validators=[Optional()])
    port = IntegerField("SMTP 端口", validators=[Optional(), NumberRange(1, 65535, "端口须在 1 至 65535 之间。")])
    sender = StringField("发件人地址", validators=[Optional()])
    username = StringField("SMTP 用户名", validators=[Optional()])
    password = PasswordField("SMTP 密码", validators=[Optional()], description="留空表示不修改")
    starttls = BooleanField("使用 STARTTLS")
    url = StringField("短信网关 Webhook 地址", validators=[Optional()])
    secret = PasswordField("签名密钥", validators=[Optional()], description="留空表示不修改")


def channel_config(form: ChannelForm, old: dict | None) -> dict:
    old = old or {}
    kind = ChannelKind(form.kind.data)
    if kind == ChannelKind.email:
        if not form.host.data:
            raise ValidationError("电子邮件渠道须填写 SMTP 服务器。")
        return {"host": form.host.data.strip(), "port": form.port.data or 25, "sender": form.sender.data or "",
                "username": form.username.data or "", "password": form.password.data or old.get("password", ""),
                "starttls": bool(form.starttls.data)}
    url = (form.url.data or "").strip()
    if not url.startswith(("http://", "https://")):
        raise ValidationError("短信网关地址须以 http:// 或 https:// 开头。")
    return {"url": url, "secret": form.secret.data or old.get("secret", "")}


def _status(view, context, model, name):
    if not model.enabled:
        return Markup('<span class="badge badge-secondary">停用</span>')
    if model.failing:
        return Markup('<span class="badge badge-danger" title="{}">故障：连续失败 {} 次</span>').format(
            model.last_error or "", model.consecutive_failures)
    return Markup('<span class="badge badge-success">正常</span>')


class ChannelView(TenantModelView):
    """The county's notification channels, with their health (a failing channel shows red)."""

    roles = frozenset({Role.county_admin})
    can_view_details = False
    can_export = False
    column_list = ["kind", "enabled", "status", "last_success_at", "last_error"]
    column_labels = {"kind": "渠道", "enabled": "启用", "status": "状态", "last_success_at": "最近成功",
                     "last_error": "最近错误"}
    column_formatters = {"kind": lambda v, c, m, n: m.kind.label, "status": _status}

    def scaffold_form(self):
        return ChannelForm

    def edit_form(self, obj=None):
        form = ChannelForm(obj=obj)
        if obj is not None and request.method == "GET":
            for key, value in (obj.config or {}).items():
                if key in form and key not in ("password", "secret"):
                    form[key].data = value
        return form

    def _save(self, form, model):
        def change():
            config = channel_config(form, model.config if model else None)
            channel = model or NotificationChannel(kind=ChannelKind(form.kind.data))
            if model is None:
                db.session.add(channel)
            channel.kind, channel.enabled, channel.config = ChannelKind(form.kind.data), form.enabled.data, config
            channel.consecutive_failures, channel.failing_since = 0, None
            return channel

        return self.saving(change)

    def create_model(self, form):
        return self._save(form, None)

    def update_model(self, form, model):
        return bool(self._save(form, model))


class SupervisionView(TenantModelView):
    """县级督办: overdue work, by township, until it is done."""

    roles = frozenset()
    read_roles = COUNTY | {Role.township_staff, Role.township_leader}
    allow_create = allow_edit = allow_delete = False
    column_list = ["title", "township", "due_on", "flagged_on", "resolved_on"]
    column_labels = {"title": "事项", "township": "乡镇（街道）", "due_on": "期限", "flagged_on": "列入督办",
                     "resolved_on": "办结"}
    column_default_sort = ("due_on", False)
    column_filters = ["resolved_on", "due_on"]
    column_formatters = {"township": lambda v, c, m, n: _unit_name(m.township_id),
                         "resolved_on": lambda v, c, m, n: m.resolved_on or Markup(
                             '<span class="badge badge-danger">未办结</span>')}
    column_formatters_export = {"township": lambda v, c, m, n: _unit_name(m.township_id)}


def _unit_name(unit_id: int) -> str:
    from jiuzhu.tenancy.models import OrgUnit

    unit = db.session.get(OrgUnit, unit_id)
    return unit.name if unit else ""


#: what each job does, as the county reads it (the function's name is for the logs)
JOB_LABELS = {
    "jiuzhu.reminders.jobs.send_tenant_reminders": "发送到期提醒",
    "jiuzhu.reminders.jobs.sweep": "扫描到期提醒",
    "jiuzhu.reminders.jobs.purge_api_requests": "清理接口幂等记录",
    "jiuzhu.reminders.jobs.disable_dormant_accounts": "停用长期未使用的账户",
    "jiuzhu.reminders.jobs.purge_access_log": "清理过期的个人信息访问记录",
    "jiuzhu.reports.rollimport.run_import_job": "导入花名册",
    "jiuzhu.audit.anchors.anchor_audit_heads": "导出审计链锚点",
}


def job_label(job) -> str:
    return JOB_LABELS.get(job.func_name, "后台任务")


def job_error(job) -> str:
    """A Chinese line for the screen; the traceback stays in the worker's log (with the job's id)."""
    result = job.latest_result()
    last = (((result.exc_string if result else "") or "").strip().splitlines() or [""])[-1]
    if "ForeignJobError" in last:
        return "该任务属于另一个实例，已拒绝执行（未做任何处理）。"
    if "JobTimeoutException" in last or "timeout" in last.lower():
        return "任务超时未完成，将在下次计划时重试。"
    if "OperationalError" in last or "ConnectionError" in last:
        return "执行时数据库或 Redis 暂时不可用，将在下次计划时重试。"
    return f"任务出错，详情已记录在服务器日志（任务编号 {job.id[:8]}）。"


def china_time(moment) -> str:
    if moment is None:
        return "—"
    import datetime as dt

    from jiuzhu.clock import CHINA_TZ

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


class QueueView(SecureBaseView):
    """RQ queues and failed jobs: the operator sees all, a county admin only the county's jobs."""

    roles = frozenset({Role.platform_operator, Role.county_admin})

    def _jobs(self):
        from rq.job import Job
        from rq.registry import FailedJobRegistry, StartedJobRegistry

        from jiuzhu.instance import queue, redis_connection

        app = current_app._get_current_object()
        conn = redis_connection(app, fast=True)
        q = queue(app, connection=conn)
        failed_ids = FailedJobRegistry(queue=q).get_job_ids()[-200:]
        failed = [j for j in Job.fetch_many(failed_ids, connection=conn) if j is not None]
        mine = current_user.tenant_id
        if mine is not None:
            failed = [j for j in failed if (j.meta or {}).get("tenant_id") == mine]
        rows = [{"id": j.id, "description": job_label(j), "ended_at": china_time(j.ended_at),
                 "error": job_error(j)} for j in reversed(failed)]
        return {"queued": q.count, "started": StartedJobRegistry(queue=q).count, "failed": rows}

    @expose("/")
    def index(self):
        try:
            data = self._jobs()
            error = None
        except Exception as exc:  # Redis down: say so, the rest of the system keeps working
            data, error = None, f"无法连接 Redis：{exc}。提醒会在 Redis 恢复后发出，不会丢失。"
        return self.render("jiuzhu/queues.html", data=data, error=error)

    @expose("/sweep", methods=["POST"])
    def sweep(self):
        from jiuzhu.reminders.jobs import enqueue_tenant_reminders, sweep

        try:
            if current_user.tenant_id is None:
                count = sweep()
                flash(f"已为 {count} 个县（区）排队发送提醒。", "success")
            else:
                enqueue_tenant_reminders(current_app._get_current_object(), current_user.tenant_id)
                flash("已排队发送本县（区）的到期提醒。", "success")
        except Exception as exc:
            flash(f"无法连接 Redis：{exc}", "error")
        return redirect(url_for(".index"))
