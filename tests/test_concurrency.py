"""Two people acting on the same step at once: exactly one is applied, the other told why."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from jiuzhu.audit.models import AuditEvent
from jiuzhu.errors import ServiceError
from jiuzhu.extensions import db
from jiuzhu.workflow import engine
from jiuzhu.workflow.models import Step
from tests.factories import acting
from tests.test_workflow_baseline import new_case, open_step

D = dt.date


@pytest.fixture
def county(world):
    return world.county("cc", plugin="baseline", townships=1, villages=1)


@pytest.mark.parametrize("outcomes", [("accept", "accept"), ("accept", "refuse")])
def test_concurrent_actions_on_one_step_apply_exactly_once(app, county, outcomes):
    case_id = new_case(app, username="cc-t1-staff", on=D(2026, 9, 30))
    with acting(app, "cc-t1-staff"):
        step_id = open_step(case_id, "acceptance").id
    barrier = threading.Barrier(2)
    results: list[str] = []

    def worker(username, outcome):
        try:
            with acting(app, username) as user:
                barrier.wait(timeout=10)
                engine.act(db.session, user, step_id, outcome, reason="不符合受理条件", on=D(2026, 9, 30))
            results.append("ok")
        except ServiceError as exc:
            results.append(exc.code + ":" + str(exc))

    threads = [threading.Thread(target=worker, args=(u, o))
               for u, o in zip(("cc-t1-staff", "cc-t1-leader"), outcomes, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(r.split(":")[0] for r in results) == ["conflict", "ok"], results
    assert any("请刷新页面" in r for r in results)
    with acting(app, "cc-county"):
        steps = db.session.scalars(select(Step).where(Step.case_id == case_id)).all()
        acceptance = [s for s in steps if s.key == "acceptance"]
        assert len(acceptance) == 1 and acceptance[0].status.value == "done"
        followers = [s.key for s in steps if s.key != "acceptance"]
        assert len(followers) == len(set(followers))  # nothing opened twice
        transitions = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.case_id == case_id, AuditEvent.action.like("outcome:%")))
        assert transitions == 1
