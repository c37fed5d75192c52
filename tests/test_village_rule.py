"""The core's village rule: a village never accepts, refuses, approves, denies, revokes or closes —
through the engine, whatever the plugin — and a refused attempt changes nothing."""

from __future__ import annotations

import datetime as dt
from importlib.metadata import EntryPoint

import pytest
from sqlalchemy import select

from jiuzhu.audit.models import AuditEvent
from jiuzhu.cases.models import Case, Notice
from jiuzhu.errors import PermissionDenied
from jiuzhu.extensions import db
from jiuzhu.plugins import ENTRY_POINT_GROUP, PluginError, load_plugins
from jiuzhu.workflow import engine
from jiuzhu.workflow.models import Step
from tests.factories import acting
from tests.test_workflow_baseline import CHECK_PASS, INVESTIGATION, do, new_case, open_step, run_to_publicity

D = dt.date
PLUGINS = ["baseline", "shexian", "ningxia", "jingdezhen", "zongyang", "dangtu"]


def snapshot(app, case_id):
    with acting(app, "vr-county"):
        case = db.session.get(Case, case_id)
        steps = db.session.scalars(select(Step).where(Step.case_id == case_id).order_by(Step.id)).all()
        return ((case.status, case.version, case.decided_on, case.closed_on, case.extended),
                [(s.id, s.status, s.outcome, s.version) for s in steps],
                db.session.scalars(select(Notice.id).where(Notice.case_id == case_id)).all(),
                db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)))


def village_attempts(case_id):
    """Every deciding or closing action a village might try, through the service layer."""
    def deciding_outcomes(user):
        view = engine.load_view(db.session, db.session.get(Case, case_id))
        workflow = engine.workflow_for(view.case)
        for step in view.open_steps:
            for outcome in workflow.step(step.key).outcomes:
                if outcome.decision is not None:
                    yield step.id, outcome.key
    return deciding_outcomes


@pytest.fixture(params=PLUGINS)
def plugin_county(request, world):
    world.county("vr", plugin=request.param, townships=1, villages=2)
    return request.param


def _try_everything(app, case_id):
    refused = 0
    with acting(app, "vr-t1-village") as user:
        for step_id, outcome in list(village_attempts(case_id)(user)):
            with pytest.raises(PermissionDenied, match="村（社区）不能作出"):
                engine.act(db.session, user, step_id, outcome, data={"monthly_amount": "500"}, reason="村里定的",
                           on=D(2026, 10, 30))
            refused += 1
        for action in (engine.revoke, engine.close, engine.withdraw):
            with pytest.raises(PermissionDenied):
                action(db.session, user, case_id, "村里定的")
            refused += 1
        with pytest.raises(PermissionDenied):
            engine.extend(db.session, user, case_id, "村里要延期")
        with pytest.raises(PermissionDenied):
            engine.notify_missing_materials(db.session, user, case_id)
        db.session.rollback()
    return refused


def test_village_cannot_accept_or_refuse(app, plugin_county):
    case_id = new_case(app, username="vr-t1-staff", on=D(2026, 9, 30))
    before = snapshot(app, case_id)
    assert _try_everything(app, case_id) >= 2 + 3  # accept and refuse, then revoke/close/withdraw
    assert snapshot(app, case_id) == before


def test_village_cannot_approve_deny_or_revoke(app, world):
    world.county("vr", plugin="baseline", townships=1, villages=2)
    case_id = new_case(app, username="vr-t1-staff", on=D(2026, 9, 30))
    # the baseline decides at county level; move the case to its decision
    do(app, "vr-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    do(app, "vr-county", case_id, "economic_check", "reported", D(2026, 10, 12), CHECK_PASS)
    do(app, "vr-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 9), INVESTIGATION)
    with acting(app, "vr-t1-staff") as user:
        engine.skip(db.session, user, open_step(case_id, "appraisal").id, "无疑义", on=D(2026, 10, 12))
    do(app, "vr-t1-leader", case_id, "review_opinion", "propose_approve", D(2026, 10, 13), {"opinion": "拟同意"})
    do(app, "vr-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 20))
    before = snapshot(app, case_id)
    assert _try_everything(app, case_id) >= 2 + 3  # approve and deny, then revoke/close/withdraw
    assert snapshot(app, case_id) == before
    do(app, "vr-county", case_id, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "800"})
    before = snapshot(app, case_id)
    _try_everything(app, case_id)  # revoke an approved case
    assert snapshot(app, case_id) == before


def test_village_may_apply_on_behalf_and_provide_materials(app, world):
    world.county("vr", plugin="baseline", townships=1, villages=2)
    from tests.factories import household_of_four

    with acting(app, "vr-t1-village") as user:
        household = household_of_four(db.session, user)
        with pytest.raises(Exception, match="只能受申请人委托代为提出申请"):
            engine.open_case(db.session, user, household=household, categories=["dibao"], channel="window")
        case_id = engine.open_case(db.session, user, household=household, categories=["dibao"],
                                   channel="village_proxy", applied_on=D(2026, 9, 29)).id
        engine.provide_material(db.session, user, case_id, "application_form")
    assert case_id


def test_plugin_giving_a_village_a_deciding_step_fails_at_start_up():
    ep = EntryPoint(name="rogue", value="tests.fixtures.rogue_plugin:plugin", group=ENTRY_POINT_GROUP)
    with pytest.raises(PluginError, match="村（社区）不能受理"):
        load_plugins(eps=[ep])


def test_all_bundled_plugins_pass_the_village_rule():
    assert set(load_plugins().keys()) >= set(PLUGINS)


def test_village_rule_holds_in_publicity_and_run(app, world):
    world.county("vr", plugin="baseline", townships=1, villages=2)
    case_id = new_case(app, username="vr-t1-staff", on=D(2026, 9, 30))
    run_to_publicity(app, case_id, prefix="vr")
    with acting(app, "vr-t1-village") as user, pytest.raises(PermissionDenied):
        engine.act(db.session, user, open_step(case_id, "publicity").id, "no_objection", on=D(2026, 10, 21))
