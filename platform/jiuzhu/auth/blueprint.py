"""Log in and log out (Chinese pages), and the per-request tenant scope and audit actor of the
logged-in user."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from jiuzhu.audit.context import actor_for, reset_actor, set_actor
from jiuzhu.auth import sessions
from jiuzhu.auth.lookup import login_directory
from jiuzhu.auth.models import User
from jiuzhu.auth.passwords import spend_verification_time, verify_password
from jiuzhu.auth.policy import policy_for
from jiuzhu.auth.services import is_dormant
from jiuzhu.auth.throttle import current_lock, record_attempt
from jiuzhu.db import utcnow
from jiuzhu.extensions import db, login_manager
from jiuzhu.i18n_terms import lazy as _l
from jiuzhu.tenancy.context import Scope, reset_scope, set_scope
from jiuzhu.tenancy.models import Tenant

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名。")), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码。")), Length(max=256)])


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("admin.index")


def _tenant_usable(tenant: Tenant | None, tenant_id: int | None) -> bool:
    if tenant_id is None:
        return True
    return bool(tenant and tenant.active and tenant.plugin_key in current_app.extensions["jiuzhu.plugins"])


#: what the user's row holds that no ordinary page reads: the password and its history, the second
#: factor's secret and recovery codes, the phone (encrypted: not decrypted at every request). Left
#: out of the user's per-request statement; the login, password and MFA screens read them when they
#: need them (one statement then).
UNREAD_PER_REQUEST = (User.password_hash, User.password_history, User.totp_secret, User.recovery_codes, User.phone)


def _load_user(tenant_id: int | None, user_id: int) -> User | None:
    """Enter the user's tenant, load the user, and narrow the scope to their township/village.

    One statement: the user, their org unit, their county, the county's settings and their unread
    messages (the count every page's header shows). The county and the count are kept on ``g`` for
    the request (the identity map holds objects weakly; pages asking for the county again then find
    it without SQL), the settings in the transaction's cache of them (``tenancy.models``), and the
    user and their unit count as read in the narrowed scope too — they lie in it by definition, and
    that is checked before they are stamped."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import defer, joinedload

    from jiuzhu.reminders.models import Notification
    from jiuzhu.tenancy.models import TenantSettings, remember_settings

    set_scope(Scope(tenant_id) if tenant_id else Scope.platform())
    unread = (select(func.count()).select_from(Notification)
              .where(Notification.user_id == User.id, Notification.read_at.is_(None))
              .correlate(User).scalar_subquery())
    row = db.session.execute(
        select(User, Tenant, TenantSettings, unread).outerjoin(Tenant, Tenant.id == User.tenant_id)
        .outerjoin(TenantSettings, TenantSettings.tenant_id == User.tenant_id).where(User.id == user_id)
        .options(joinedload(User.org_unit), *(defer(c) for c in UNREAD_PER_REQUEST))).first()
    user, tenant, settings, g.jiuzhu_unread = row if row is not None else (None, None, None, None)
    if user is None or not user.active or not _tenant_usable(tenant, tenant_id):
        set_scope(None)
        return None
    scope = user.scope
    set_scope(scope)
    g.jiuzhu_tenant = tenant
    from jiuzhu.tenancy.scoping import restamp

    restamp(user, scope)
    if user.org_unit is not None:
        restamp(user.org_unit, scope)
    if settings is not None:
        restamp(settings, scope)
    if tenant is not None:  # the county's settings row (or its absence), as the county's pages ask for it
        remember_settings(tenant, settings)
    return user


def _drop_login(reason: sessions.EndReason) -> None:
    """This request's cookie no longer logs anyone in; say why, once."""
    for key in ("_user_id", "_fresh", "_id"):
        session.pop(key, None)
    sessions.forget()
    set_scope(None)
    flash(reason.message, "info")


@login_manager.user_loader
def _user_loader(user_id: str):
    tenant_part, _, uid = user_id.partition(":")
    try:
        tenant_id, uid_ = int(tenant_part) or None, int(uid)
    except ValueError:
        return None
    user = _load_user(tenant_id, uid_)
    if user is None:
        # before a login is dropped for good, read once more in a transaction of its own: a first read
        # on a connection the database had just cut must not log a person out for a transient fault
        db.session.rollback()
        user = _load_user(tenant_id, uid_)
    if user is None:
        if tenant_id is not None or uid_:
            _drop_login(sessions.EndReason.disabled)
        return None
    reason = sessions.check(user, policy_for(db.session, user.tenant_id))
    if reason is not None:
        _drop_login(reason)
        return None
    return user


#: blueprints whose requests have another principal than the session cookie (the API: its bearer
#: token; health and metrics: none), so a cookie sent along is never even read
COOKIELESS_BLUEPRINTS = {"api", "ops"}


def enter_request_scope() -> None:
    """before_request: no scope, then the logged-in user's (if any).

    A request has exactly one principal. For the API that is the bearer token, so the session
    cookie is ignored altogether: the user it names is not loaded (nothing of theirs enters the
    session's identity map) and ``current_user`` stays anonymous for the whole request."""
    g._jiuzhu_scope_token = set_scope(None)
    if request.blueprint in COOKIELESS_BLUEPRINTS:
        g._login_user = login_manager.anonymous_user()
        return
    current_user._get_current_object()  # runs the user loader, which sets the scope


def leave_request_scope(exc=None) -> None:
    """teardown: back to the scope before the request. A request refused before our hook ran (a
    413 while Flask-WTF read the body) may still have loaded the user while rendering its error
    page, which sets a scope: that one is cleared too, so nothing leaks to the thread's next work."""
    token = g.pop("_jiuzhu_scope_token", None)
    if token is not None:
        reset_scope(token)
    else:
        set_scope(None)


def enter_request_actor() -> None:
    """before_request, after :func:`enter_request_scope`: the audit trail records this request's
    changes as the logged-in user's (with no one logged in, as the system's)."""
    user = current_user._get_current_object()
    g._jiuzhu_actor_token = set_actor(actor_for(user) if user.is_authenticated else None)


def leave_request_actor(exc=None) -> None:
    token = g.pop("_jiuzhu_actor_token", None)
    if token is not None:
        reset_actor(token)


def _last_login_note(at: dt.datetime | None, ip: str | None) -> str:
    if at is None:
        return "这是您首次登录。"
    from jiuzhu.clock import CHINA_TZ

    local = at.astimezone(CHINA_TZ)
    return f"上次登录：{local:%Y年%m月%d日 %H:%M}（北京时间），来自 {ip or '未知地址'}。如非本人操作，请立即修改密码。"


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        source = _client_address()
        lock = current_lock(db.session, username, source)
        if lock:
            flash(lock.message(), "error")
            return render_template("auth/login.html", form=form), 429
        found = login_directory(db.session, username)
        user = _load_user(found[1], found[0]) if found else None
        if user is None:
            spend_verification_time(form.password.data)  # an unknown name takes as long as a wrong password
            ok = False
        else:
            ok = verify_password(user.password_hash, form.password.data)
        now = utcnow()
        dormant = False
        if ok:
            policy = policy_for(db.session, user.tenant_id)
            if is_dormant(user, policy, now):
                user.active, user.disabled_reason, ok, dormant = False, "unused", False, True
                sessions.end_sessions(user, sessions.EndReason.disabled)
        if ok and needs_second_factor(user, policy):
            # the password alone is no success yet: it is recorded when the code is (a wrong code
            # counts as a failure, so the account still locks after a few guesses)
            db.session.commit()
            return ask_second_factor(user, request.args.get("next"))
        record_attempt(db.session, username, source, ok)
        if ok:
            return complete_login(user, policy, request.args.get("next"))
        db.session.commit()
        set_scope(None)
        lock = current_lock(db.session, username, source)
        if dormant:
            message = f"该账户已连续 {policy.disable_unused_days} 天未登录，已按本县安全策略停用，请联系县级管理员启用。"
        else:
            message = lock.message() if lock else "用户名或密码错误，或账户已停用。"
        flash(message, "error")
        return render_template("auth/login.html", form=form), (429 if lock else 200)
    return render_template("auth/login.html", form=form)


def needs_second_factor(user: User, policy) -> bool:
    """The county requires it for the role (admins and the operator always), or the user turned it on."""
    return policy.needs_mfa(user.role) or user.totp_enabled_at is not None


def complete_login(user: User, policy, next_url: str | None):
    """The user proved who they are: the session starts (any other ends), the last login is noted."""
    now = utcnow()
    source = _client_address()
    note = _last_login_note(user.last_login_at, user.last_login_ip)
    user.last_login_at, user.last_login_ip = now, source[:64]
    max_age = policy.password_max_age_days
    changed = user.password_changed_at or user.created_at
    if max_age and changed is not None and now - changed > dt.timedelta(days=max_age):
        user.must_change_password = True
    sessions.start(user)  # any other session of this account ends
    db.session.commit()
    login_user(user)
    flash(note, "info")
    return redirect(_safe_next(next_url))


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        sessions.end_sessions(user, sessions.EndReason.logout)  # a copy of this cookie is dead too
        db.session.commit()
    logout_user()
    sessions.forget()
    flash("您已安全退出。", "info")
    return redirect(url_for("auth.login"))


class PasswordForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入当前密码。")), Length(max=256)])
    new = PasswordField(_l("新密码"), validators=[DataRequired(_l("请输入新密码。")), Length(max=256)])
    confirm = PasswordField(_l("再次输入新密码"), validators=[DataRequired(_l("请再次输入新密码。")),
                                                         EqualTo("new", _l("两次输入的新密码不一致。"))])


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Every user changes their own password here; an admin's reset or an expired password sends
    them here before anything else opens."""
    from jiuzhu.auth.services import set_password
    from jiuzhu.errors import ServiceError

    form = PasswordForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.current.data):
            form.current.errors.append("当前密码不正确。")
        else:
            try:
                set_password(db.session, user, form.new.data)
            except ServiceError as exc:
                db.session.rollback()
                form.new.errors.extend(exc.field_errors.get("password") or exc.all_messages())
            else:
                sessions.keep_current(user)  # the others end; this one goes on
                db.session.commit()
                flash("密码已修改。您在其他地方的登录已全部结束。", "success")
                return redirect(url_for("admin.index"))
    return render_template("auth/password.html", form=form, forced=user.must_change_password,
                           min_length=policy_for(db.session, user.tenant_id).password_min_length)


#: what a user who must change their password may still reach
_OPEN_WHILE_PASSWORD_DUE = {"auth.change_password", "auth.logout", "auth.login", "static", "admin.static",
                            "auth.recovery_codes_shown"}


def require_password_change():
    """before_request: with a reset or expired password, only the change-password page opens."""
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in _OPEN_WHILE_PASSWORD_DUE and request.blueprint != "api"):
        flash("请先修改密码：管理员已重置您的密码，或密码已超过本县规定的使用期限。", "info")
        return redirect(url_for("auth.change_password"))
    return None


@bp.route("/")
def root():
    return redirect(url_for("admin.index") if current_user.is_authenticated else url_for("auth.login"))


from jiuzhu.auth.mfa_views import ask_second_factor  # noqa: E402  (registers the second-factor views)
