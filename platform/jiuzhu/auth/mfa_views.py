"""The second factor at login (动态口令), its first binding, the recovery codes, and the account page.

After a right password, a user who needs the second factor is not logged in yet: the session holds a
*pending* login (who, when, where to go next) for five minutes. With no authenticator bound, the user
binds one first (the secret is shown as a QR code and as text, and is saved only once a code from the
app proves it works); then, and at every later login, a six-digit code (or one recovery code) completes
the login. A wrong code counts as a failed login: a few lock the account like wrong passwords.
"""

from __future__ import annotations

import time

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from jiuzhu.auth import mfa
from jiuzhu.auth.blueprint import _client_address, _load_user, bp, complete_login
from jiuzhu.auth.policy import policy_for
from jiuzhu.auth.throttle import current_lock, record_attempt
from jiuzhu.db import utcnow
from jiuzhu.extensions import db
from jiuzhu.i18n_terms import lazy as _l
from jiuzhu.tenancy.context import set_scope

PENDING = "_jz_mfa"
PENDING_SECONDS = 300


class CodeForm(FlaskForm):
    code = StringField(_l("动态口令"), validators=[DataRequired(_l("请输入动态口令。")), Length(max=40)])


def ask_second_factor(user, next_url: str | None):
    """The password was right: hold the login until the second factor, or its first binding."""
    session[PENDING] = {"uid": user.id, "tid": user.tenant_id, "at": int(time.time()), "next": next_url}
    return redirect(url_for("auth.second_factor" if user.totp_enabled_at else "auth.enroll"))


def _pending_user():
    data = session.get(PENDING)
    if not data or time.time() - data.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING, None)
        return None, None
    user = _load_user(data.get("tid"), data.get("uid"))
    if user is None:
        session.pop(PENDING, None)
    return user, data


def _expired():
    flash("登录已超时，请重新输入用户名和密码。", "info")
    return redirect(url_for("auth.login"))


def _finish(user, data):
    session.pop(PENDING, None)
    record_attempt(db.session, user.username, _client_address(), True)
    return complete_login(user, policy_for(db.session, user.tenant_id), data.get("next"))


@bp.route("/login/second-factor", methods=["GET", "POST"])
def second_factor():
    user, data = _pending_user()
    if user is None:
        return _expired()
    if not user.totp_enabled_at:
        return redirect(url_for("auth.enroll"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        source = _client_address()
        lock = current_lock(db.session, user.username, source)
        if lock:
            form.code.errors.append(lock.message())
            status = 429
        else:
            step = mfa.matching_step(user.totp_secret, form.code.data, user.totp_last_step)
            remaining = None if step is not None else mfa.use_recovery_code(user.recovery_codes, form.code.data)
            if step is not None or remaining is not None:
                if step is not None:
                    user.totp_last_step = step
                else:
                    user.recovery_codes = remaining
                    flash(f"已使用一个恢复码，还剩 {len(remaining)} 个。", "info")
                return _finish(user, data)
            record_attempt(db.session, user.username, source, False)
            db.session.commit()
            lock = current_lock(db.session, user.username, source)
            form.code.errors.append(lock.message() if lock else "动态口令不正确或已使用过，请输入验证器上新显示的六位数字。")
            status = 429 if lock else 200
    set_scope(None)
    return render_template("auth/second_factor.html", form=form, user=user), status


@bp.route("/login/enroll", methods=["GET", "POST"])
def enroll():
    """Binding the authenticator at the first login that needs it."""
    user, data = _pending_user()
    if user is None:
        return _expired()
    if user.totp_enabled_at:
        return redirect(url_for("auth.second_factor"))
    secret = data.get("secret") or mfa.new_secret()
    if data.get("secret") != secret:
        session[PENDING] = {**data, "secret": secret}
    form = CodeForm()
    if form.validate_on_submit():
        step = mfa.matching_step(secret, form.code.data, None)
        if step is not None:
            codes = _bind(user, secret, step)
            _finish(user, data)
            session["_jz_recovery_codes"] = codes
            return redirect(url_for("auth.recovery_codes_shown"))
        record_attempt(db.session, user.username, _client_address(), False)
        db.session.commit()
        form.code.errors.append("动态口令不正确：请核对手机时间，并输入验证器上当前显示的六位数字。")
    return _enroll_page(form, secret, user.username, pending=True)


def _bind(user, secret: str, step: int) -> list[str]:
    codes = mfa.new_recovery_codes()
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, utcnow(), step
    user.recovery_codes = [mfa.digest(c) for c in codes]
    return codes


def _enroll_page(form, secret: str, username: str, *, pending: bool):
    uri = mfa.provisioning_uri(secret, username)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    set_scope(None) if pending else None
    return render_template("auth/enroll.html", form=form, qr=Markup(mfa.qr_svg(uri)), secret=grouped,
                           pending=pending)


@bp.route("/account/recovery-codes")
@login_required
def recovery_codes_shown():
    """The recovery codes, once, right after they were made."""
    codes = session.pop("_jz_recovery_codes", None)
    if not codes:
        return redirect(url_for("auth.account_second_factor"))
    from jiuzhu.privacy import no_store

    return no_store(render_template("auth/recovery_codes.html", codes=codes))


@bp.route("/account/second-factor", methods=["GET", "POST"])
@login_required
def account_second_factor():
    """A user's own second factor: bind it (if not yet), make new recovery codes, or turn it off
    (only where the county does not require it) — each change proven with a current code."""
    user = current_user._get_current_object()
    policy = policy_for(db.session, user.tenant_id)
    required = policy.needs_mfa(user.role)
    form = CodeForm()
    action = request.form.get("action", "")
    secret = session.get("_jz_new_secret") or mfa.new_secret()
    if not user.totp_enabled_at:
        session["_jz_new_secret"] = secret
        if form.validate_on_submit():
            step = mfa.matching_step(secret, form.code.data, None)
            if step is not None:
                session["_jz_recovery_codes"] = _bind(user, secret, step)
                session.pop("_jz_new_secret", None)
                db.session.commit()
                flash("已启用动态口令。以后登录时需输入验证器上的六位数字。", "success")
                return redirect(url_for("auth.recovery_codes_shown"))
            form.code.errors.append("动态口令不正确：请输入验证器上当前显示的六位数字。")
        return _enroll_page(form, secret, user.username, pending=False)
    if form.validate_on_submit():
        step = mfa.matching_step(user.totp_secret, form.code.data, user.totp_last_step)
        if step is None:
            form.code.errors.append("动态口令不正确或已使用过。")
        elif action == "recovery":
            user.totp_last_step = step
            session["_jz_recovery_codes"] = codes = mfa.new_recovery_codes()
            user.recovery_codes = [mfa.digest(c) for c in codes]
            db.session.commit()
            return redirect(url_for("auth.recovery_codes_shown"))
        elif action == "off" and not required:
            user.totp_secret, user.totp_enabled_at, user.totp_last_step, user.recovery_codes = None, None, None, []
            db.session.commit()
            flash("已停用动态口令。", "success")
            return redirect(url_for("auth.account_second_factor"))
        else:
            form.code.errors.append("本县要求您的角色使用动态口令，不能停用。")
    return render_template("auth/account_second_factor.html", form=form, user=user, required=required,
                           left=len(user.recovery_codes or []))
