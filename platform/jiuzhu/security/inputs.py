"""Guards that turn hostile or absurd input into a clear 4xx, before it can reach the database as a
500: integers beyond what a column holds in a URL, NUL characters (PostgreSQL text cannot hold them),
and — as a last net under the forms' and schemas' own checks — a value the database refuses as too
long or out of range. Each answer is Chinese on screens and the API's error shape under /api/.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.routing import IntegerConverter

#: the largest id any of our integer columns (PostgreSQL ``integer``) can hold
MAX_ID = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` that matches only what an ``integer`` column can hold: beyond it, a 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def parse_id(raw) -> int | None:
    """An id from a query string or form: a whole number a column can hold, else None."""
    text = str(raw or "").strip()
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def install_converters(app: Flask) -> None:
    """Before any route is added (rules bind their converters when added)."""
    app.url_map.converters["int"] = BoundedIntConverter


def _has_nul() -> bool:
    if any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        return True
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if any("\x00" in k or "\x00" in v for k, v in request.form.items(multi=True)):
            return True
    elif request.is_json:
        raw = request.get_data(cache=True)
        if b"\x00" in raw or b"\\u0000" in raw.lower():
            return True
    return False


def _refuse(status: int, title: str, message: str, code: str = "validation_error"):
    from jiuzhu.ops.outage import error_page

    if request.path.startswith("/api/"):
        from jiuzhu.api.errors import ApiError
        from jiuzhu.extensions import db

        db.session.rollback()
        return ApiError(code, message_zh=message).response()
    return error_page(status, title, message)  # rolls back, and never reads the database


def init_input_guards(app: Flask) -> None:
    from sqlalchemy.exc import DataError

    @app.before_request
    def _no_nul():
        if _has_nul():
            return _refuse(400, "请求无效", "提交的内容含有不可见的控制字符（NUL），未保存。请删除后重试。")
        return None

    @app.errorhandler(DataError)
    def _data_error(exc):
        app.logger.warning("value refused by the database: %s", exc.orig.__class__.__name__ if exc.orig else exc)
        return _refuse(400, "请求无效", "提交的内容超出允许的长度或范围（例如过长的文字或过大的数字），未保存。请修改后重试。")
