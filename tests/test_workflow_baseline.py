"""The case engine on the national baseline: a case's whole life, for every outcome, on real 2026 dates."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from jiuzhu.cases.categories import CaseStatus
from jiuzhu.cases.models import Case, Notice
from jiuzhu.errors import PermissionDenied, ValidationError
from jiuzhu.extensions import db
from jiuzhu.workflow import engine
from jiuzhu.workflow.models import Step, StepStatus
from tests.factories import acting, household_of_four

D = dt.date

INVESTIGATION = {"investigators": ["汪敏", "胡军"], "visited_on": "2026-10-09", "findings": "家中有重病、重残成员，收入低。",
                 "doubt": False}
CHECK_PASS = {"report_no": "HD2026-0101", "result": "pass", "agency": "县居民家庭经济状况核对中心"}


@pytest.fixture
def county(world):
    return world.county("base", plugin="baseline", townships=2, villages=2)


def open_step(case_id: int, key: str) -> Step:
    return db.session.scalars(select(Step).where(Step.case_id == case_id, Step.key == key,
                                                 Step.status == StepStatus.open)).one()


SEPT_30 = D(2026, 9, 30)


_households = itertools.count(1)


def new_case(app, username="base-t1-staff", on=SEPT_30, **kw) -> int:
    """A new 低保 application of a fresh household of four (different people every time)."""
    with acting(app, username) as user:
        household = household_of_four(db.session, user, seq=next(_households))
        case = engine.open_case(db.session, user, household=household, categories=["dibao"], channel="window",
                                applied_on=on, authorization_signed_on=on, commitment_signed_on=on,
                                provided=["application_form", "authorization", "commitment"],
                                via_platform=["id_and_register"], **kw)
        return case.id


def do(app, username, case_id, key, outcome, on, data=None, reason=None):
    with acting(app, username) as user:
        return engine.act(db.session, user, open_step(case_id, key).id, outcome, data=data, reason=reason, on=on).id


def case_of(app, username, case_id) -> dict:
    with acting(app, username):
        case = db.session.get(Case, case_id)
        steps = db.session.scalars(select(Step).where(Step.case_id == case_id).order_by(Step.id)).all()
        return {"status": case.status, "due_on": case.due_on, "accepted_on": case.accepted_on,
                "decided_on": case.decided_on, "benefit_start": case.benefit_start,
                "monthly_amount": case.monthly_amount, "round": case.round, "extended": case.extended,
                "steps": [(s.key, s.round, s.status.value, s.outcome, s.opened_on, s.due_on) for s in steps],
                "notices": [(n.kind, n.number) for n in db.session.scalars(
                    select(Notice).where(Notice.case_id == case_id).order_by(Notice.id))]}


def run_to_publicity(app, case_id, accept_on=SEPT_30, prefix="base"):
    do(app, f"{prefix}-t1-staff", case_id, "acceptance", "accept", accept_on)
    do(app, f"{prefix}-county", case_id, "economic_check", "reported", D(2026, 10, 12), CHECK_PASS)
    do(app, f"{prefix}-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 9), INVESTIGATION)
    with acting(app, f"{prefix}-t1-staff") as user:
        engine.skip(db.session, user, open_step(case_id, "appraisal").id, "核对和调查均无疑义，经研究不再评议",
                    on=D(2026, 10, 12))
    do(app, f"{prefix}-t1-leader", case_id, "review_opinion", "propose_approve", D(2026, 10, 13),
       {"opinion": "符合低保条件，拟同意", "proposed_amount": "1260.00"})


def test_approved_case_whole_life(app, county):
    case_id = new_case(app)
    c = case_of(app, "base-t1-staff", case_id)
    assert c["status"] == CaseStatus.pending_acceptance
    assert [s[0] for s in c["steps"]] == ["acceptance"]
    run_to_publicity(app, case_id)
    c = case_of(app, "base-t1-staff", case_id)
    # accepted 2026-09-30: 30 working days → 2026-11-17 (National Day 10-01..07 off, 10-10 worked)
    assert c["accepted_on"] == D(2026, 9, 30) and c["due_on"] == D(2026, 11, 17)
    publicity = next(s for s in c["steps"] if s[0] == "publicity")
    assert publicity[4] == D(2026, 10, 13) and publicity[5] == D(2026, 10, 20)  # 7 calendar days
    # publicity cannot close before it has run its 7 days
    with pytest.raises(ValidationError, match="期满前不能"):
        do(app, "base-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 19))
    do(app, "base-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 20), {"channels": ["村务公开栏"]})
    do(app, "base-county", case_id, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "1260.00"})
    do(app, "base-county", case_id, "certificate", "issued", D(2026, 10, 22))
    c = case_of(app, "base-t1-staff", case_id)
    assert c["status"] == CaseStatus.approved
    assert c["decided_on"] == D(2026, 10, 21) and c["benefit_start"] == D(2026, 11, 1)
    assert str(c["monthly_amount"]) == "1260.00"
    assert [k for k, *_ in c["steps"]] == ["acceptance", "economic_check", "home_investigation", "appraisal",
                                           "review_opinion", "publicity", "decision", "certificate"]
    assert [s[2] for s in c["steps"]] == ["done", "done", "done", "skipped", "done", "done", "done", "done"]
    assert c["notices"] == [("certificate", "救低保证〔2026〕0001号")]


def test_denied_case_gets_a_numbered_notice_within_three_working_days(app, county):
    case_id = new_case(app)
    do(app, "base-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    do(app, "base-county", case_id, "economic_check", "reported", D(2026, 10, 12),
       {**CHECK_PASS, "result": "fail"})
    do(app, "base-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 9),
       {**INVESTIGATION, "doubt": True})
    # the appraisal may not be skipped when something raised doubt
    with pytest.raises(ValidationError, match="不满足跳过“民主评议”的条件"), acting(app, "base-t1-staff") as user:
        engine.skip(db.session, user, open_step(case_id, "appraisal").id, "想跳过", on=D(2026, 10, 12))
    do(app, "base-t1-staff", case_id, "appraisal", "done", D(2026, 10, 13),
       {"held_on": "2026-10-13", "participants": 9, "result": "多数认为家庭收入超过标准"})
    do(app, "base-t1-leader", case_id, "review_opinion", "propose_deny", D(2026, 10, 14),
       {"opinion": "人均收入高于低保标准"}, reason="家庭人均月收入高于当地低保标准")
    with pytest.raises(ValidationError, match="须填写理由"):
        do(app, "base-county", case_id, "decision", "deny", D(2026, 10, 15))
    do(app, "base-county", case_id, "decision", "deny", D(2026, 10, 15), reason="家庭人均月收入高于当地低保标准")
    c = case_of(app, "base-t1-staff", case_id)
    notice_step = next(s for s in c["steps"] if s[0] == "denial_notice")
    assert notice_step[4] == D(2026, 10, 15) and notice_step[5] == D(2026, 10, 20)  # 3 working days
    do(app, "base-county", case_id, "denial_notice", "issued", D(2026, 10, 16))
    c = case_of(app, "base-t1-staff", case_id)
    assert c["status"] == CaseStatus.denied
    assert c["notices"] == [("denial", "救不确〔2026〕0001号")]


def test_incomplete_materials_get_one_notice_then_acceptance(app, county):
    with acting(app, "base-t1-staff") as user:
        household = household_of_four(db.session, user)
        case_id = engine.open_case(db.session, user, household=household, categories=["dibao", "tekun"],
                                   channel="window", applied_on=D(2026, 2, 10)).id
    with pytest.raises(ValidationError, match="材料不全，不能受理"):
        do(app, "base-t1-staff", case_id, "acceptance", "accept", D(2026, 2, 10))
    with acting(app, "base-t1-staff") as user:
        notice = engine.notify_missing_materials(db.session, user, case_id, on=D(2026, 2, 10))
        assert [m["label"] for m in notice.content["missing"]] == [
            "低收入人口申请认定表（申请书）", "居民身份证、户口簿", "家庭经济状况核查授权书", "承诺书"]
    with acting(app, "base-t1-village") as user:  # the village uploads what was missing
        for key in ("application_form", "authorization", "commitment"):
            engine.provide_material(db.session, user, case_id, key)
        engine.provide_material(db.session, user, case_id, "id_and_register", via_platform=True)
    with pytest.raises(ValidationError, match="尚未签署家庭经济状况核查授权书"):
        do(app, "base-t1-staff", case_id, "acceptance", "accept", D(2026, 2, 12))
    with acting(app, "base-t1-staff") as user:
        db.session.get(Case, case_id).authorization_signed_on = D(2026, 2, 12)
    do(app, "base-t1-staff", case_id, "acceptance", "accept", D(2026, 2, 12))
    c = case_of(app, "base-t1-staff", case_id)
    assert c["status"] == CaseStatus.in_review
    assert c["notices"] == [("missing_materials", "救告〔2026〕0001号")]
    # categories kept in the plugin's determination order
    with acting(app, "base-t1-staff"):
        assert db.session.get(Case, case_id).categories == ["tekun", "dibao"]


def test_refused_at_acceptance(app, county):
    case_id = new_case(app)
    do(app, "base-t1-staff", case_id, "acceptance", "refuse", D(2026, 9, 30), reason="申请人户籍及居住地均不在本镇")
    c = case_of(app, "base-t1-staff", case_id)
    assert c["status"] == CaseStatus.not_accepted
    assert c["notices"] == [("not_accepted", "救不受〔2026〕0001号")]
    assert [s[2] for s in c["steps"]] == ["done"]


def test_objection_during_publicity_returns_to_investigation_and_opens_a_new_publicity(app, county):
    case_id = new_case(app)
    run_to_publicity(app, case_id)
    do(app, "base-t1-staff", case_id, "publicity", "objection", D(2026, 10, 15),
       {"objection": "村民反映该户有营运车辆"}, reason="村民实名反映该户有营运车辆，需重新调查")
    c = case_of(app, "base-t1-staff", case_id)
    assert c["round"] == 2
    reopened = [s for s in c["steps"] if s[0] == "home_investigation" and s[1] == 2]
    assert reopened and reopened[0][2] == "open" and reopened[0][4] == D(2026, 10, 15)
    do(app, "base-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 16),
       {**INVESTIGATION, "visited_on": "2026-10-16", "findings": "车辆已于 2025 年转让，异议不成立"})
    # round 2 joins the round-1 economic check: the appraisal opens again
    with acting(app, "base-t1-staff") as user:
        engine.skip(db.session, user, open_step(case_id, "appraisal").id, "复查无疑义", on=D(2026, 10, 16))
    do(app, "base-t1-leader", case_id, "review_opinion", "propose_approve", D(2026, 10, 19),
       {"opinion": "异议不成立，维持拟同意"})
    c = case_of(app, "base-t1-staff", case_id)
    publicities = [s for s in c["steps"] if s[0] == "publicity"]
    assert [(p[1], p[2]) for p in publicities] == [(1, "done"), (2, "open")]
    assert publicities[1][5] == D(2026, 10, 26)


def test_extension_once_with_reason(app, county):
    case_id = new_case(app)
    do(app, "base-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    with acting(app, "base-t1-staff") as user, pytest.raises(ValidationError, match="须填写理由"):
        engine.extend(db.session, user, case_id, "  ")
    with acting(app, "base-t1-staff") as user:
        engine.extend(db.session, user, case_id, "需等待外省户籍地信息核对结果", on=D(2026, 11, 2))
    c = case_of(app, "base-t1-staff", case_id)
    assert c["extended"] and c["due_on"] == D(2026, 12, 8)  # 45 working days after 2026-09-30
    with acting(app, "base-t1-staff") as user, pytest.raises(ValidationError, match="只能延长一次"):
        engine.extend(db.session, user, case_id, "再延一次")


def test_withdrawal_cancels_open_steps(app, county):
    case_id = new_case(app)
    do(app, "base-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    with acting(app, "base-t1-staff") as user:
        engine.withdraw(db.session, user, case_id, "申请人书面申请撤回", on=D(2026, 10, 9))
    c = case_of(app, "base-t1-staff", case_id)
    assert c["status"] == CaseStatus.withdrawn
    assert {s[2] for s in c["steps"][1:]} == {"cancelled"}
    with pytest.raises(ValidationError, match="不能撤回"), acting(app, "base-t1-staff") as user:
        engine.withdraw(db.session, user, case_id, "再撤一次")


def test_revocation_by_the_county_only(app, county):
    case_id = new_case(app)
    run_to_publicity(app, case_id)
    do(app, "base-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 20))
    do(app, "base-county", case_id, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "800"})
    with pytest.raises(PermissionDenied), acting(app, "base-t1-leader") as user:
        engine.revoke(db.session, user, case_id, "乡镇想撤销")
    with acting(app, "base-county") as user:
        engine.revoke(db.session, user, case_id, "抽查发现隐瞒收入", on=D(2026, 12, 1))
    assert case_of(app, "base-t1-staff", case_id)["status"] == CaseStatus.revoked


def test_step_form_is_validated_with_field_messages(app, county):
    case_id = new_case(app)
    do(app, "base-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    with pytest.raises(ValidationError) as err:
        do(app, "base-t1-staff", case_id, "home_investigation", "done", D(2026, 10, 9),
           {**INVESTIGATION, "investigators": ["汪敏"]})
    assert "不少于 2 名调查人员" in err.value.field_errors["investigators"][0]
    with acting(app, "base-t1-staff"):
        assert open_step(case_id, "home_investigation").status == StepStatus.open


def test_wrong_level_cannot_act(app, county):
    case_id = new_case(app)
    do(app, "base-t1-staff", case_id, "acceptance", "accept", D(2026, 9, 30))
    with pytest.raises(PermissionDenied, match="由县（区）办理"):
        do(app, "base-t1-staff", case_id, "economic_check", "reported", D(2026, 10, 9), CHECK_PASS)
    with pytest.raises(PermissionDenied, match="由乡镇"):
        do(app, "base-county", case_id, "home_investigation", "done", D(2026, 10, 9), INVESTIGATION)


def test_other_township_cannot_see_or_act(app, county):
    case_id = new_case(app)
    with acting(app, "base-t2-staff"):
        assert db.session.get(Case, case_id) is None
        assert db.session.scalars(select(Step).where(Step.case_id == case_id)).all() == []


def test_every_change_to_a_case_is_on_its_audit_timeline_and_the_chain_verifies(app, county):
    from jiuzhu.audit import verify
    from jiuzhu.audit.models import AuditEvent

    case_id = new_case(app)
    run_to_publicity(app, case_id)
    do(app, "base-t1-staff", case_id, "publicity", "no_objection", D(2026, 10, 20))
    do(app, "base-county", case_id, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "1260.00"})
    with acting(app, "base-county"):
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                    .order_by(AuditEvent.seq)).all()
        outcomes = [(e.action, e.actor_name) for e in events if e.action.startswith("outcome:")]
        assert outcomes[0] == ("outcome:accept", "base-t1-staff（base-t1-staff）")
        assert ("outcome:approve", "base-county（base-county）") in outcomes
        approve = next(e for e in events if e.action == "outcome:approve")
        assert approve.before["case_status"] == "in_review" and approve.after["case_status"] == "approved"
        # the automatic capture saw the case row change too, column by column
        status_changes = [e for e in events if e.entity_type == "case" and e.action == "update"
                          and "status" in (e.after or {})]
        assert [e.after["status"] for e in status_changes] == ["in_review", "approved"]
        skip = next(e for e in events if e.action == "skip")
        assert skip.reason == "核对和调查均无疑义，经研究不再评议"
        assert verify(db.session, county["id"]) == []


def test_deadline_in_2027_is_provisional_until_the_2027_schedule_is_entered(app, county, forget_entered_years):
    from jiuzhu.calendar import enter_year
    from jiuzhu.reminders.models import Reminder, ReminderStatus
    from jiuzhu.tenancy.context import Scope, use_scope

    case_id = new_case(app, on=D(2026, 12, 10))
    do(app, "base-t1-staff", case_id, "acceptance", "accept", D(2026, 12, 10))
    c = case_of(app, "base-t1-staff", case_id)
    # 30 working days after 2026-12-10, counting 2027 on weekends only: 2027-01-21, provisional
    assert c["due_on"] == D(2027, 1, 21)
    with acting(app, "base-t1-staff"):
        assert db.session.get(Case, case_id).due_provisional is True
    with app.app_context(), use_scope(Scope.platform()):
        enter_year(db.session, 2027, holidays=[(D(2027, 1, 1), D(2027, 1, 3), "元旦")], workdays=[],
                   entered_by="operator", note="国务院办公厅通知（测试用日程）")
        db.session.commit()
        db.session.remove()
    with acting(app, "base-t1-staff"):
        case = db.session.get(Case, case_id)
        # New Year's Day 2027 is a Friday holiday: the deadline moves one working day, and is final
        assert (case.due_on, case.due_provisional) == (D(2027, 1, 22), False)
        pending = db.session.scalars(select(Reminder).where(Reminder.case_id == case_id,
                                                            Reminder.status == ReminderStatus.pending)).all()
        assert {r.due_on for r in pending} == {D(2027, 1, 22)}
