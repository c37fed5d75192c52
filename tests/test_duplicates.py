"""重复享受 across the counties of one instance, found without breaking isolation.

歙县 (sx) confirms 汪建国户 for 低保 on 2026-10-20 (benefits from November). On 2026-11-16 the same family
applies in 休宁县 (xn), on the same instance. 休宁县 is warned at intake with 歙县's name, the category and
the month benefits began — nothing else —, cannot approve before it records how the match was resolved,
and may ask 歙县 to verify (协查), which 歙县 sees in its own list with a deadline of 10 working days and
answers. Everything on PostgreSQL, as the application role.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import ProgrammingError

from jiuzhu.calendar import add_workdays
from jiuzhu.cases.categories import CaseStatus
from jiuzhu.cases.households import Household, Member
from jiuzhu.cases.models import Case
from jiuzhu.clock import china_today
from jiuzhu.duplicates import services as dup
from jiuzhu.duplicates.models import DuplicateFinding
from jiuzhu.errors import NotFound, PermissionDenied, ValidationError
from jiuzhu.extensions import db
from jiuzhu.reminders.jobs import sweep_tenant_duplicates
from jiuzhu.reminders.models import Notification, Reminder, Subject
from jiuzhu.tenancy.context import Scope, use_scope
from tests.api_helpers import api_redis, auth, make_token  # noqa: F401 (api_redis: a fixture)
from tests.conftest import csrf_token, signed_tenant
from tests.factories import acting, household_of_four
from tests.plugins.anhui_support import do, skip
from tests.plugins.test_shexian import CHECK, MEETING, VISIT, F, application, plugin

D = dt.date
REGION = "341021"
NOV_16 = D(2026, 11, 16)


@pytest.fixture
def counties(world):
    """歙县 and 休宁县, both under the 歙县 rules, on one instance."""
    return world.county("sx", plugin="shexian", name="歙县"), world.county("xn", plugin="shexian", name="休宁县")


def sweep(app, tenant_id: int, today: str) -> dict:
    """The nightly pass over the registry, then one county's job, as the cron job and a worker run them."""
    with app.app_context():
        with use_scope(Scope.platform()):
            dup.refresh(db.session)
            db.session.commit()
        db.session.remove()
        return sweep_tenant_duplicates(tenant_id, today=today)


def apply(app, code: str, on: dt.date, seq: int = 1) -> int:
    with acting(app, f"{code}-t1-staff") as user:
        household = household_of_four(db.session, user, region=REGION, seq=seq)
        return plugin(app).file_application(db.session, user, household, application(on, ["dibao"])).id


def to_decision(app, code: str, case_id: int, accept_on: dt.date) -> None:
    """Acceptance, the check, the visit, appraisal skipped without doubt, the opinion, publicity."""
    do(app, f"{code}-t1-staff", case_id, "acceptance", "accept", accept_on)
    do(app, f"{code}-county", case_id, "economic_check", "reported", accept_on + dt.timedelta(days=1), CHECK)
    do(app, f"{code}-t1-staff", case_id, "home_investigation", "done", accept_on + dt.timedelta(days=1),
       {**VISIT, "visited_on": (accept_on + dt.timedelta(days=1)).isoformat()})
    skip(app, f"{code}-t1-staff", case_id, "appraisal", "核对和入户调查均无疑义", accept_on + dt.timedelta(days=2))
    do(app, f"{code}-t1-leader", case_id, "review_opinion", "propose_approve", accept_on + dt.timedelta(days=2),
       {"opinion": "家庭人均收入低于低保标准，拟认定为最低生活保障对象", "proposed_amount": "1260.00"})
    do(app, f"{code}-t1-staff", case_id, "publicity", "no_objection", accept_on + dt.timedelta(days=9),
       {"channels": ["村务公开栏"]})


def approve(app, code: str, case_id: int, on: dt.date):
    form = {**MEETING, "meeting_held_on": on.isoformat(), "monthly_amount": "1260.00", "covered_count": 4,
            "findings": [F("tekun", False, "有劳动能力的家庭成员"), F("dibao", True)]}
    return do(app, f"{code}-t1-leader", case_id, "decision", "approve", on, form)


@pytest.fixture
def active_in_shexian(app, counties):
    """歙县's 汪建国户, 低保 from November 2026 (accepted Monday 2026-10-12, approved 2026-10-22)."""
    case_id = apply(app, "sx", D(2026, 10, 12))
    to_decision(app, "sx", case_id, D(2026, 10, 12))
    approve(app, "sx", case_id, D(2026, 10, 22))
    return case_id


def test_a_family_drawing_in_one_county_is_flagged_at_intake_in_another_with_only_the_minimum(
        app, counties, active_in_shexian, client_for):
    case_id = apply(app, "xn", NOV_16)
    with acting(app, "xn-t1-staff"):
        case = db.session.get(Case, case_id)
        matches = dup.matches_for_case(db.session, case)
        # every member of the family, each with 歙县's name, 低保, active since November 2026 — and nothing else
        assert sorted((m.member_name, m.county, m.same_county, m.case_id, m.category, m.state, m.since)
                      for m in matches) == sorted(
            (name, "歙县", False, None, "dibao", "active", D(2026, 11, 1)) for name in ("汪建国", "李秀英", "汪磊", "汪小雨"))
        raw = [r for r in dup.lookup(db.session, [m.id_number_bidx for m in case.household.members])
               if not r["same_county"]]
        assert len(raw) == 4 and {(r["household_id"], r["case_id"]) for r in raw} == {(None, None)}
    page = client_for("xn-t1-staff").get(f"/admin/casework/{case_id}").get_data(as_text=True)
    card = page[page.index('data-testid="duplicates"'):]
    card = card[:card.index('data-testid="step-')] if 'data-testid="step-' in card else card
    assert "在歙县享受最低生活保障，2026年11月起" in card
    # nothing of 歙县's case: not its number, amount, village, address or phone
    for secret in (f"案件 {active_in_shexian}", "1260", "sx第1镇", "1组1号", "13800000000"):
        assert secret not in card
    # the village may read the case but is shown no match (it cannot resolve one)
    village = client_for("xn-t1-village").get(f"/admin/casework/{case_id}").get_data(as_text=True)
    assert 'data-testid="duplicates"' not in village


def test_the_approver_cannot_approve_without_recording_how_each_match_was_resolved(app, counties, active_in_shexian,
                                                                                    client_for):
    case_id = apply(app, "xn", NOV_16)
    to_decision(app, "xn", case_id, NOV_16)
    with pytest.raises(ValidationError) as refused:
        approve(app, "xn", case_id, D(2026, 11, 26))
    assert "家庭成员汪建国在歙县享受最低生活保障，2026年11月起（重复享受比对），须先记录核实处理结果，才能确认。" in refused.value.messages
    with acting(app, "xn-t1-staff"):
        assert db.session.get(Case, case_id).status == CaseStatus.in_review  # nothing written
    # on screen: a blank note is refused beside its field, nothing recorded
    client = client_for("xn-t1-leader")
    page = client.get(f"/admin/casework/{case_id}").get_data(as_text=True)
    with acting(app, "xn-t1-leader"):
        members = {m.name: m.id for m in db.session.get(Case, case_id).household.members}
    resp = client.post(f"/admin/casework/{case_id}/duplicates/resolve",
                       data={"csrf_token": csrf_token(page), "member_id": members["汪建国"], "other": "歙县",
                             "kind": "transfer", "note": " "})
    assert resp.status_code == 400
    assert re.search(r'is-invalid"[^>]*placeholder="核实情况"', resp.get_data(as_text=True))
    assert "请写明核实情况" in resp.get_data(as_text=True)
    # a village may not record one
    village = client_for("xn-t1-village")
    vpage = village.get(f"/admin/casework/{case_id}").get_data(as_text=True)
    assert village.post(f"/admin/casework/{case_id}/duplicates/resolve",
                        data={"csrf_token": csrf_token(vpage), "member_id": members["汪建国"], "other": "歙县",
                              "kind": "transfer", "note": "迁入"}).status_code == 403
    for name, member_id in members.items():
        resp = client.post(f"/admin/casework/{case_id}/duplicates/resolve",
                           data={"csrf_token": csrf_token(page), "member_id": member_id, "other": "歙县",
                                 "kind": "transfer", "note": f"{name}户籍已于2026年11月迁入本县，歙县已办理停发手续"})
        assert resp.status_code == 302
    approve(app, "xn", case_id, D(2026, 11, 26))
    with acting(app, "xn-t1-staff"):
        assert db.session.get(Case, case_id).status == CaseStatus.approved


def test_xiecha_the_other_county_sees_the_request_with_its_deadline_and_answers(app, counties, active_in_shexian,
                                                                               client_for):
    case_id = apply(app, "xn", NOV_16)
    with acting(app, "xn-t1-staff") as user:
        head = db.session.get(Case, case_id).household.head.id
        with pytest.raises(PermissionDenied):  # the county asks, not the township
            dup.open_request(db.session, user, case_id, member_id=head, on=NOV_16)
    with acting(app, "xn-county") as user:
        assert dup.open_request(db.session, user, case_id, member_id=head, on=NOV_16) == 1
    with acting(app, "xn-county") as user, pytest.raises(ValidationError, match="正在等待答复"):
        dup.open_request(db.session, user, case_id, member_id=head, on=NOV_16)
    # 歙县 sees it in its own list: from 休宁县, about its own case and member, due in 10 working days
    with acting(app, "sx-county"):
        [q] = [q for q in dup.requests(db.session) if q.direction == "in"]
        assert (q.county, q.case_id, q.category, q.opened_on, q.due_on, q.answer) == (
            "休宁县", active_in_shexian, "dibao", NOV_16, D(2026, 11, 30), None)
    screen = client_for("sx-county").get("/admin/duplicates/").get_data(as_text=True)
    row = screen[screen.index('data-testid="incoming-request"'):]
    assert "休宁县" in row and "汪建国" in row and "2026-11-30" in row
    # its reminders are planned by the nightly sweep, to the county
    report = sweep(app, counties[0]["id"], today="2026-11-17")
    assert report["requests"] >= 2
    with acting(app, "sx-county"):
        planned = db.session.scalars(select(Reminder).where(Reminder.subject == Subject.county_request)).all()
        assert {(r.kind.value, r.due_on, r.level) for r in planned} >= {("due", D(2026, 11, 30), "county"),
                                                                        ("overdue", D(2026, 11, 30), "county")}
    # 休宁县 cannot answer its own request; 歙县 answers 'stopped from December' — both audited
    with acting(app, "xn-county") as user, pytest.raises(NotFound):
        dup.answer_request(db.session, user, q.id, answer="not_ours", on=D(2026, 11, 18))
    client = client_for("sx-county")
    page = client.get("/admin/duplicates/").get_data(as_text=True)
    resp = client.post(f"/admin/duplicates/requests/{q.id}/answer",
                       data={"csrf_token": csrf_token(page), "answer": "stopped", "stopped_month": ""})
    assert resp.status_code == 400 and "须填写停发月份" in resp.get_data(as_text=True)
    resp = client.post(f"/admin/duplicates/requests/{q.id}/answer",
                       data={"csrf_token": csrf_token(page), "answer": "stopped", "stopped_month": "2026-12"})
    assert resp.status_code == 302
    with acting(app, "xn-county"):
        [mine] = [r for r in dup.requests(db.session) if r.direction == "out"]
        assert (mine.county, mine.answer, mine.stopped_month) == ("歙县", "stopped", D(2026, 12, 1))
        assert mine.answer_label == "本县已停发（2026年12月起）"
    from jiuzhu.audit.models import AuditEvent

    for code, action in (("sx", "answer"), ("xn", "open")):
        with acting(app, f"{code}-county"):
            assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.entity_type == "county_request",
                                                                  AuditEvent.action == action))
    with acting(app, "sx-county"):
        still = [r for r in db.session.scalars(select(Reminder).where(Reminder.subject == Subject.county_request))]
        from jiuzhu.reminders.dispatch import _Batch

        assert not any(_Batch(db.session, still).still_due(r) for r in still)  # answered: no more reminders


def test_a_person_in_two_households_of_one_county_is_flagged(app, counties, active_in_shexian):
    # the son also stands in another household of 歙县 (an older register's entry, before 一户一档 was checked)
    case_id = apply(app, "sx", NOV_16, seq=2)
    with acting(app, "sx-county"):
        son = db.session.scalars(select(Member).join(Case, Case.household_id == Member.household_id)
                                 .where(Case.id == active_in_shexian, Member.name == "汪磊")).one()
        other = db.session.get(Case, case_id).household
        db.session.add(Member(household=other, tenant_id=other.tenant_id, name="汪磊", id_number=son.id_number,
                              birth_date=son.birth_date, sex=son.sex, relation="other"))
    with acting(app, "sx-t1-staff"):
        matches = dup.matches_for_case(db.session, db.session.get(Case, case_id))
        assert [(m.member_name, m.same_county, m.case_id, m.state) for m in matches] == [
            ("汪磊", True, active_in_shexian, "active")]
        assert matches[0].describe == f"在本县另一户（案件 {active_in_shexian}）享受最低生活保障，2026年11月起"


def test_the_registry_is_unreadable_by_the_application_role_and_answers_nothing_for_a_stranger(
        app, counties, active_in_shexian, database_urls):
    sx, xn = counties
    with acting(app, "sx-county"):
        bidx = [m.id_number_bidx for m in db.session.get(Case, active_in_shexian).household.members]
    engine_ = create_engine(database_urls["app"])
    try:
        with engine_.connect() as conn:
            for table in ("benefit_registry", "registry_pairs", "county_requests"):
                with pytest.raises(ProgrammingError, match="permission denied"), conn.begin():
                    conn.execute(text(f"SELECT count(*) FROM {table}"))
            with pytest.raises(ProgrammingError, match="permission denied"), conn.begin():
                conn.execute(text("SELECT jiuzhu_registry_sync(1, ARRAY[1])"))
            with conn.begin():
                # 休宁县 holds nobody of that family yet: the function answers nothing about them
                conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed_tenant(xn["id"])})
                assert conn.execute(text("SELECT * FROM jiuzhu_registry_lookup(CAST(:b AS text[]))"),
                                    {"b": bidx}).all() == []
                assert conn.execute(text("SELECT * FROM jiuzhu_registry_duplicates()")).all() == []
            with pytest.raises(Exception, match="platform scope only"), conn.begin():  # no county runs the pass
                conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed_tenant(xn["id"])})
                conn.execute(text("SELECT jiuzhu_registry_refresh()"))
            with conn.begin():  # a forged county setting is no county at all
                conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": f"{xn['id']}:forged"})
                assert conn.execute(text("SELECT * FROM jiuzhu_registry_lookup(CAST(:b AS text[]))"),
                                    {"b": bidx}).all() == []
            with conn.begin():  # 歙县 holds them: its own rows, with its own case
                conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed_tenant(sx["id"])})
                rows = conn.execute(text("SELECT county, same_county, case_id FROM "
                                         "jiuzhu_registry_lookup(CAST(:b AS text[]))"), {"b": bidx}).all()
                assert set(rows) == {("歙县", True, active_in_shexian)}
                # and cannot open a 协查 about a case that is not its own, nor answer another's
                assert conn.execute(text("SELECT jiuzhu_request_open(:c, :b, DATE '2026-11-16', DATE '2026-11-30')"),
                                    {"c": active_in_shexian + 1000, "b": bidx[0]}).scalar() == 0
    finally:
        engine_.dispose()


def test_the_registry_follows_the_case_in_the_same_transaction(app, counties, active_in_shexian):
    case_id = apply(app, "xn", NOV_16)
    with acting(app, "xn-t1-staff"):
        assert len(dup.matches_for_case(db.session, db.session.get(Case, case_id))) == 4
    # 歙县 stops the benefit: the match is gone at once (no sweep needed)
    with acting(app, "sx-county"):
        case = db.session.get(Case, active_in_shexian)
        case.status, case.closed_on = CaseStatus.closed, D(2026, 11, 20)
    with acting(app, "xn-t1-staff"):
        assert dup.matches_for_case(db.session, db.session.get(Case, case_id)) == []


def test_the_nightly_sweep_reports_each_county_its_own_duplicates_and_marks_them_gone(
        app, counties, active_in_shexian, client_for):
    sx, xn = counties
    case_id = apply(app, "xn", NOV_16)
    first = sweep(app, xn["id"], today="2026-11-17")
    assert (first["found"], first["new"], first["gone"]) == (4, 4, 0)
    assert sweep(app, xn["id"], today="2026-11-18")["new"] == 0  # seen again, not reported again
    other = sweep(app, sx["id"], today="2026-11-17")
    assert (other["found"], other["new"]) == (4, 4)  # 歙县 is told of its people too
    with acting(app, "xn-county") as user:
        findings = db.session.scalars(select(DuplicateFinding)).all()
        assert {(f.case_id, f.other, f.category, f.state, f.since) for f in findings} == {
            (case_id, "歙县", "dibao", "active", D(2026, 11, 1))}
        assert db.session.scalar(select(Notification.title).where(Notification.user_id == user.id)) == \
            "重复享受比对：新发现 4 条"
    page = client_for("xn-county").get("/admin/duplicates/").get_data(as_text=True)
    assert page.count('data-testid="finding"') == 4 and "待核实" in page
    table = page.split('data-testid="findings"')[1].split("</table>")[0]
    assert f"/admin/casework/{case_id}\"" in table and f"/admin/casework/{active_in_shexian}\"" not in table
    with acting(app, "sx-county"):
        case = db.session.get(Case, active_in_shexian)
        case.status, case.closed_on = CaseStatus.closed, D(2026, 11, 20)
    gone = sweep(app, xn["id"], today="2026-11-21")
    assert (gone["found"], gone["gone"]) == (0, 4)
    # township and village users have no such screen; another county's sweep never touches these rows
    assert client_for("xn-t1-staff").get("/admin/duplicates/").status_code == 403
    with acting(app, "sx-county"):
        assert {f.case_id for f in db.session.scalars(select(DuplicateFinding))} == {active_in_shexian}


def test_isolation_nothing_of_the_other_county_through_its_screens(app, counties, active_in_shexian, client_for):
    case_id = apply(app, "xn", NOV_16)
    client = client_for("xn-county")
    assert client.get(f"/admin/casework/{active_in_shexian}").status_code == 404
    page = client.get(f"/admin/casework/{case_id}").get_data(as_text=True)
    with acting(app, "xn-county") as user:
        head = db.session.get(Case, case_id).household.head.id
        dup.open_request(db.session, user, case_id, member_id=head, on=NOV_16)
    with acting(app, "sx-county"):
        [q] = dup.requests(db.session)
    # 休宁县 answering 歙县's incoming request through the screen: refused, nothing written
    resp = client.post(f"/admin/duplicates/requests/{q.id}/answer",
                       data={"csrf_token": csrf_token(page), "answer": "not_ours"})
    assert resp.status_code == 302
    with acting(app, "sx-county"):
        assert dup.requests(db.session)[0].answer is None
    # a third county sees nothing of either
    third = client_for("xn-county")  # (same county: its list names only 歙县, never a case or person of 歙县)
    listing = third.get("/admin/duplicates/").get_data(as_text=True)
    assert "汪建国" in listing  # its own member, by name
    assert f">{active_in_shexian}<" not in listing
    with acting(app, "xn-county"):
        assert db.session.scalars(select(Household.id)).all() == [db.session.get(Case, case_id).household_id]


@pytest.mark.usefixtures("api_redis")
def test_the_api_gives_the_same_minimum_and_keeps_the_wall(app, counties, active_in_shexian):
    sx, xn = counties
    case_id = apply(app, "xn", NOV_16)
    client = app.test_client()
    staff = make_token(app, xn, username="xn-t1-staff")
    county = make_token(app, xn, username="xn-county")
    village = make_token(app, xn, username="xn-t1-village")
    theirs = make_token(app, sx, username="sx-county")
    body = client.get(f"/api/v1/cases/{case_id}/duplicates", headers=auth(staff)).get_json()
    assert body["unresolved"] == 4 and {(m["county"], m["case_id"], m["category"], m["state"], m["since"])
                                        for m in body["matches"]} == {("歙县", None, "dibao", "active", "2026-11-01")}
    assert set(body["matches"][0]) == {"member_id", "county", "same_county", "case_id", "category", "state", "since",
                                       "other", "resolution"}
    assert client.get(f"/api/v1/cases/{case_id}/duplicates", headers=auth(village)).status_code == 403
    # another county's token: the case does not exist for it
    assert client.get(f"/api/v1/cases/{case_id}/duplicates", headers=auth(theirs)).status_code == 404
    head = body["matches"][0]["member_id"]
    bad = client.post(f"/api/v1/cases/{case_id}/duplicates/resolutions", headers=auth(staff, "r1"),
                      json={"member_id": head, "other": "歙县", "kind": "moved", "note": "x"})
    assert bad.status_code == 422 and "kind" in bad.get_json()["error"]["fields"]
    ok = client.post(f"/api/v1/cases/{case_id}/duplicates/resolutions", headers=auth(staff, "r2"),
                     json={"member_id": head, "other": "歙县", "kind": "transfer", "note": "户籍已迁入本县"})
    assert ok.status_code == 200 and ok.get_json()["unresolved"] == 3
    # 协查 through the API: county tokens only; the asked county lists and answers it
    assert client.get("/api/v1/county-requests", headers=auth(staff)).status_code == 403
    opened = client.post("/api/v1/county-requests", headers=auth(county, "q1"),
                         json={"case_id": case_id, "member_id": head})
    assert opened.status_code == 201
    [q] = opened.get_json()["items"]
    # (asked today: due ten working days on, by the official calendar)
    with app.app_context():
        due = add_workdays(china_today(), 10).due.isoformat()
    assert (q["county"], q["direction"], q["due_on"]) == ("歙县", "out", due)
    asked = client.get("/api/v1/county-requests", headers=auth(theirs)).get_json()["items"]
    assert [(r["direction"], r["county"], r["case_id"]) for r in asked] == [("in", "休宁县", active_in_shexian)]
    assert client.post(f"/api/v1/county-requests/{q['id']}/answer", headers=auth(county, "a1"),
                       json={"answer": "not_ours"}).status_code == 404  # not asked of 休宁县
    answered = client.post(f"/api/v1/county-requests/{q['id']}/answer", headers=auth(theirs, "a2"),
                           json={"answer": "confirmed"})
    assert answered.status_code == 200 and answered.get_json()["answer"] == "confirmed"
