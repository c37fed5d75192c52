"""Log in and log out (Chinese pages), and the per-request tenant scope and audit actor of the
logged-in user."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from jiuzhu.audit.context import actor_for, reset_actor, set_actor
from jiuzhu.auth.lookup import login_directory
from jiuzhu.auth.models import User
from jiuzhu.auth.passwords import verify_password
from jiuzhu.auth.throttle import current_lock, record_attempt
from jiuzhu.db import utcnow
from jiuzhu.extensions import db, login_manager
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


def _tenant_usable(tenant_id: int | None) -> bool:
    if tenant_id is None:
        return True
    tenant = db.session.get(Tenant, tenant_id)
    return bool(tenant and tenant.active and tenant.plugin_key in current_app.extensions["jiuzhu.plugins"])


def _load_user(tenant_id: int | None, user_id: int) -> User | None:
    """Enter the user's tenant, load the user, and narrow the scope to their township/village."""
    set_scope(Scope(tenant_id) if tenant_id else Scope.platform())
    user = db.session.get(User, user_id)
    if user is None or not user.active or not _tenant_usable(tenant_id):
        set_scope(None)
        return None
    set_scope(user.scope)
    return user


@login_manager.user_loader
def _user_loader(user_id: str):
    tenant_part, _, uid = user_id.partition(":")
    try:
        return _load_user(int(tenant_part) or None, int(uid))
    except ValueError:
        return None


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
        ok = user is not None and verify_password(user.password_hash, form.password.data)
        record_attempt(db.session, username, source, ok)
        if ok:
            user.last_login_at = utcnow()
            db.session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        db.session.commit()
        set_scope(None)
        lock = current_lock(db.session, username, source)
        flash(lock.message() if lock else "用户名或密码错误，或账户已停用。", "error")
        return render_template("auth/login.html", form=form), (429 if lock else 200)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash("您已安全退出。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
def root():
    return redirect(url_for("admin.index") if current_user.is_authenticated else url_for("auth.login"))
