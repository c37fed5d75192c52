"""The application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, g, request, session

from jiuzhu.config import load_config
from jiuzhu.extensions import babel, csrf, db, login_manager, migrate

PACKAGE_DIR = Path(__file__).resolve().parent
#: the repository's migrations folder (source checkout or editable install)
MIGRATIONS_DIR = PACKAGE_DIR.parent.parent / "migrations"

SUPPORTED_LOCALES = ("zh_Hans_CN", "en")


def select_locale() -> str:
    wanted = request.args.get("lang")
    if wanted in SUPPORTED_LOCALES:
        session["lang"] = wanted
    return session.get("lang") or "zh_Hans_CN"


ERRORS = {
    400: ("请求无效", "页面已过期或提交的内容无效（例如表单在另一窗口已提交）。请返回上一页，刷新后重试；所做的修改未保存。"),
    403: ("无权访问", "您的角色不能进行此操作。"),
    404: ("未找到", "您要找的页面或记录不存在，或不在您的管辖范围内。"),
    413: ("内容过大", "上传的文件或提交的内容超过大小限制，未保存。"),
    429: ("请求过于频繁", "请稍后再试。"),
    500: ("系统错误", "处理请求时出错，所做的修改未保存。请稍后再试或联系管理员。"),
}


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    from jiuzhu.calendar.cache import init_calendar
    from jiuzhu.plugins import load_plugins

    app = Flask("jiuzhu", root_path=str(PACKAGE_DIR))
    app.config.update(load_config(overrides=overrides))
    from jiuzhu.security.inputs import init_input_guards, install_converters

    install_converters(app)  # before any route exists
    _refuse_demo_clock_outside_the_demo(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.config.get("JIUZHU_MIGRATIONS_DIR", MIGRATIONS_DIR)))
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    app.extensions["jiuzhu.plugins"] = load_plugins(app.config.get("JIUZHU_PLUGINS"))
    init_calendar(app)

    _register_models()
    from jiuzhu.crypto import init_crypto

    init_crypto(app)  # refuses to start without keys
    from jiuzhu.privacy import init_privacy

    init_privacy(app)
    from jiuzhu.disclosure.generation import init_publicity_generation

    init_publicity_generation(app)  # committed writes move the cached public pages' generation
    from jiuzhu.plans import watch

    with app.app_context():
        for engine in db.engines.values():
            watch(engine)  # what may write, so that a request that only read commits (jiuzhu.plans)
    _register_signals()
    from jiuzhu.ops import init_ops

    init_ops(app)  # logs, request ids, metrics, health, 503 on a database outage: before every other hook
    init_input_guards(app)  # NUL characters refused before anything reads the request
    _register_request_hooks(app)
    _register_blueprints(app)
    _register_cli(app)

    from jiuzhu.admin import init_admin
    from jiuzhu.admin.badges import due_badge
    from jiuzhu.documents import no_end_stop
    from jiuzhu.i18n_terms import install as install_translations

    app.jinja_env.filters["no_end_stop"] = no_end_stop
    app.jinja_env.globals["due_badge"] = due_badge
    install_translations(app)
    init_admin(app)
    return app


def _refuse_demo_clock_outside_the_demo(app: Flask) -> None:
    """The demo's movable clock (jiuzhu.clock) never runs against a real database."""
    import os

    from jiuzhu.clock import DEMO_CLOCK_ENV
    from jiuzhu.config import ConfigError

    if os.environ.get(DEMO_CLOCK_ENV) and not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        raise ConfigError(f"{DEMO_CLOCK_ENV} moves the clock of the demo only; it is refused on any database "
                          f"but the demo's SQLite. Unset it.")


def _register_models() -> None:
    # Every model module, so that metadata (migrations, tests) sees every table.
    import jiuzhu.api.models  # noqa: F401
    import jiuzhu.audit.models  # noqa: F401
    import jiuzhu.audit.platform_log  # noqa: F401
    import jiuzhu.auth.models  # noqa: F401
    import jiuzhu.auth.policy  # noqa: F401
    import jiuzhu.calendar.models  # noqa: F401
    import jiuzhu.cases.households  # noqa: F401
    import jiuzhu.cases.models  # noqa: F401
    import jiuzhu.duplicates.models  # noqa: F401
    import jiuzhu.outreach.models  # noqa: F401
    import jiuzhu.payments.models  # noqa: F401
    import jiuzhu.privacy.models  # noqa: F401
    import jiuzhu.reminders.models  # noqa: F401
    import jiuzhu.reports.rollimport  # noqa: F401
    import jiuzhu.spotchecks.models  # noqa: F401
    import jiuzhu.tenancy.models  # noqa: F401
    import jiuzhu.warnings.models  # noqa: F401
    import jiuzhu.workflow.models  # noqa: F401


def _register_signals() -> None:
    from jiuzhu.calendar.signals import schedule_entered
    from jiuzhu.workflow.engine import on_schedule_entered

    schedule_entered.connect(on_schedule_entered)


def _register_request_hooks(app: Flask) -> None:
    from jiuzhu.auth.blueprint import (
        enter_request_actor,
        enter_request_scope,
        leave_request_actor,
        leave_request_scope,
        require_password_change,
    )

    app.before_request(enter_request_scope)
    app.before_request(enter_request_actor)  # after the scope hook, which loads the user
    app.before_request(require_password_change)
    app.teardown_request(leave_request_scope)
    app.teardown_request(leave_request_actor)
    from jiuzhu.plans import end_read_only_transaction

    app.teardown_request(end_read_only_transaction)  # registered last: runs first, still in the request's scope

    @app.context_processor
    def _unread():
        from flask_login import current_user

        from jiuzhu.reminders.dispatch import unread_count

        if not g.get("jiuzhu_error_page") and current_user.is_authenticated and current_user.tenant_id:
            unread = g.get("jiuzhu_unread")  # read with the user (auth.blueprint._load_user)
            return {"unread_count": unread_count(db.session, current_user.id) if unread is None else unread}
        return {"unread_count": 0}

    from jiuzhu.security.headers import init_headers

    init_headers(app)

    def _error(code):
        def handler(exc):
            if request.path.startswith("/api/"):  # routing errors of the API, in its JSON shape
                from jiuzhu.api.views import http_error

                return http_error(code)
            from jiuzhu.ops.outage import error_page

            return error_page(code, *ERRORS[code])  # never touches the database (it may be why we are here)

        return handler

    for code in ERRORS:
        app.register_error_handler(code, _error(code))

    def _api_only(exc):
        """The API answers in its JSON error shape; every other path gets the Chinese page."""
        if request.path.startswith("/api/"):
            from jiuzhu.api.views import http_error

            return http_error(exc.code)
        return _error(exc.code)(exc) if exc.code in ERRORS else exc

    for code in (405, 413):
        app.register_error_handler(code, _api_only)


def _register_blueprints(app: Flask) -> None:
    from jiuzhu.api.views import bp as api_bp
    from jiuzhu.auth.blueprint import bp as auth_bp
    from jiuzhu.disclosure.public import bp as public_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp)


def _register_cli(app: Flask) -> None:
    from jiuzhu.cli import register_cli

    register_cli(app)
