"""Stored answers to Idempotency-Keys are kept JIUZHU_API_IDEMPOTENCY_DAYS, then purged by the daily
cron job (or by hand), county by county; a key retried within the period still replays."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from jiuzhu.api.models import IdempotentRequest
from jiuzhu.auth.roles import Role
from jiuzhu.extensions import db
from jiuzhu.reminders.jobs import purge_api_requests
from jiuzhu.tenancy.context import Scope, use_scope
from tests.api_helpers import api_redis, application, auth, make_token  # noqa: F401

pytestmark = pytest.mark.usefixtures("api_redis")


def stored(app, tenant_id) -> int:
    with app.app_context(), use_scope(Scope(tenant_id)):
        n = db.session.scalar(select(func.count()).select_from(IdempotentRequest))
        db.session.remove()
        return n


def age(app, tenant_id, days: int) -> None:
    with app.app_context(), use_scope(Scope(tenant_id)):
        for row in db.session.scalars(select(IdempotentRequest)):
            row.created_at -= dt.timedelta(days=days)
        db.session.commit()
        db.session.remove()


def test_old_answers_are_purged_and_recent_ones_replay(app, world):
    a = world.county("ra", plugin="shexian", townships=1, villages=1)
    b = world.county("rb", plugin="shexian", townships=1, villages=1)
    client = app.test_client()
    for county, n in ((a, 2), (b, 1)):
        secret = make_token(app, county, role=Role.township_staff, unit_id=county["towns"][0])
        for i in range(n):
            body = application(county["villages"][0][0], seq=10 * county["id"] + i)
            assert client.post("/api/v1/applications", json=body, headers=auth(secret, f"k{i}")).status_code == 201
    age(app, a["id"], 31)
    with app.app_context():  # as the worker runs it, in its own app
        assert purge_api_requests() == 2  # county A's month-old answers; B's are fresh
    assert (stored(app, a["id"]), stored(app, b["id"])) == (0, 1)
    runner = app.test_cli_runner()
    age(app, b["id"], 8)
    kept = runner.invoke(args=["tokens", "purge", "--tenant", "rb"])
    assert kept.exit_code == 0 and "已删除 0 条" in kept.output
    gone = runner.invoke(args=["tokens", "purge", "--tenant", "rb", "--days", "7"])
    assert "已删除 1 条" in gone.output and stored(app, b["id"]) == 0
    refused = runner.invoke(args=["tokens", "purge", "--tenant", "rb", "--days", "0"])
    assert refused.exit_code == 1 and "保留天数至少为 1 天。" in refused.output
