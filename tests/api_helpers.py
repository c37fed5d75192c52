"""Tokens and request bodies for the API tests."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from jiuzhu.api.tokens import create_token
from jiuzhu.auth.models import User
from jiuzhu.auth.roles import Role
from jiuzhu.cases.idcard import make_id_number
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgUnit

_seq = itertools.count(1)


def make_token(app, county: dict, *, name: str | None = None, role: Role | str = Role.township_staff,
               unit_id: int | None = None, username: str | None = None) -> str:
    """A token of ``county``: for ``username`` (a person), or an integration with ``role`` at ``unit_id``."""
    with app.app_context(), use_scope(Scope(county["id"])):
        by = db.session.get(User, county["users"][f"{county['code']}-admin"])
        if username:
            issued = create_token(db.session, by, name=name or f"{username} 的令牌",
                                  user=db.session.get(User, county["users"][username]))
        else:
            unit = db.session.get(OrgUnit, unit_id or county["root"])
            issued = create_token(db.session, by, name=name or f"集成{next(_seq)}", role=role, org_unit=unit)
        db.session.commit()
        db.session.remove()
    return issued.secret


def auth(secret: str, key: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {secret}"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


def application(village_id: int, seq: int = 1, **changes) -> dict:
    """A two-person household applying for 低保 with the required papers provided and signed."""
    body = {
        "village_id": village_id,
        "address": f"某村{seq}组{seq}号",
        "members": [
            {"name": "汪建国", "id_number": make_id_number("341021", dt.date(1968, 3, 12), 100 + 2 * seq + 1),
             "relation": "head", "health": "serious", "work_ability": "partial", "incomes": {"basic_pension": "150"}},
            {"name": "李秀英", "id_number": make_id_number("341021", dt.date(1970, 7, 2), 100 + 2 * seq),
             "relation": "spouse", "working": True, "incomes": {"wage": "800"}},
        ],
        "categories": ["dibao"],
        "authorization_signed_on": "2026-03-02",
        "commitment_signed_on": "2026-03-02",
        "applied_on": "2026-03-02",
        "provided": ["application_form", "id_and_register", "authorization", "commitment"],
    }
    body.update(changes)
    return body


@pytest.fixture
def api_redis(app, run_redis):
    """The API's rate limits in this run's own Redis, empty: token ids restart with every test (the
    tables are truncated), so yesterday's counts must not be today's."""
    old = app.config["JIUZHU_API_RATE_PER_MINUTE"]
    run_redis.flush()
    yield run_redis.url
    app.config["JIUZHU_API_RATE_PER_MINUTE"] = old
