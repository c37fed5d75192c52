"""Personal data on screen: ID numbers and phones are masked in pages, lists, exports and messages;
a full ID number is shown only on an explicit POST (with CSRF) by someone who may see the row, and
that view is recorded; the case file (一户一档) prints ID numbers in full and records it too."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from jiuzhu.audit.models import AuditEvent
from jiuzhu.cases.idcard import make_id_number
from jiuzhu.cases.services import MemberInput, household_of_person, register_household
from jiuzhu.errors import ValidationError
from jiuzhu.extensions import db
from jiuzhu.privacy import ACCESS_ACTION
from jiuzhu.privacy.masking import mask_contact, mask_id_number, mask_phone
from jiuzhu.tenancy.context import Scope, use_scope
from tests.conftest import csrf_token
from tests.factories import acting, household_of_four, village_of
from tests.pdfcheck import pdf_text

FATHER = make_id_number("341021", dt.date(1968, 3, 12), 13)  # household_of_four's head, seq=1
PHONE = "13800000000"


@pytest.fixture
def county(world):
    return world.county("pd", townships=2, villages=1)


@pytest.fixture
def household(app, county) -> dict:
    with acting(app, "pd-t1-staff") as user:
        h = household_of_four(db.session, user)
        db.session.flush()
        return {"id": h.id, "members": {m.id_number: m.id for m in h.members}}


def open_case_for(app, username: str) -> int:
    """汪建国户 applying for 低保 at the window."""
    from jiuzhu.workflow import engine

    with acting(app, username) as user:
        household = household_of_four(db.session, user)
        return engine.open_case(db.session, user, household=household, categories=["dibao"], channel="window",
                                applied_on=dt.date(2026, 3, 2)).id


def access_events(app, county) -> list[AuditEvent]:
    with app.app_context(), use_scope(Scope(county["id"])):
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == ACCESS_ACTION)
                                    .order_by(AuditEvent.seq)).all()
        db.session.remove()
        return events


def test_masks():
    assert mask_id_number("34102119680312001X") == "3410**********001X"
    assert mask_phone("13800001234") == "138****1234" and mask_phone("0559-6512345") == "*******2345"
    assert mask_contact("13800001234") == "138****1234" and mask_contact("歙县徽城镇某路 1 号") == "歙********"
    assert mask_id_number(None) == mask_phone("") == mask_contact(None) == ""


def test_the_household_page_masks_ids_and_the_phone(app, household, client_for):
    html = client_for("pd-t1-staff").get(f"/admin/casework/household/{household['id']}").get_data(as_text=True)
    for number in household["members"]:
        assert number not in html and number[6:14] not in html  # not even the birth date
        assert mask_id_number(number) in html
    assert PHONE not in html and "138****0000" in html
    buttons = re.findall(r'data-testid="reveal-(member_id_number|household_phone)-\d+"', html)
    assert buttons.count("member_id_number") == 4 and buttons.count("household_phone") == 1
    admin_html = client_for("pd-admin").get(f"/admin/casework/household/{household['id']}").get_data(as_text=True)
    assert "reveal-" not in admin_html and mask_id_number(FATHER) in admin_html  # no button for the county admin


def test_a_full_id_is_shown_on_an_explicit_post_and_recorded(app, county, household, client_for):
    staff = client_for("pd-t1-staff")
    page = staff.get(f"/admin/casework/household/{household['id']}").get_data(as_text=True)
    member_id = household["members"][FATHER]
    response = staff.post(f"/admin/casework/household/{household['id']}/reveal",
                          data={"csrf_token": csrf_token(page), "what": "member_id_number", "id": member_id})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert re.search(rf'data-testid="full-id">{FATHER}<', html)
    others = [n for n in household["members"] if n != FATHER]
    assert all(n not in html for n in others)  # one member, not the household
    [event] = access_events(app, county)
    assert (event.entity_type, event.entity_id, event.actor_id) == (
        "household_member", str(member_id), county["users"]["pd-t1-staff"])
    assert event.after == {"fields": ["id_number"], "purpose": "查看完整身份证号码"}
    # the phone, likewise
    html = staff.post(f"/admin/casework/household/{household['id']}/reveal",
                      data={"csrf_token": csrf_token(page), "what": "household_phone", "id": 0}).get_data(as_text=True)
    assert f'data-testid="full-phone">{PHONE}<' in html
    assert [e.entity_type for e in access_events(app, county)] == ["household_member", "household"]


def test_revealing_needs_csrf_a_role_that_handles_cases_and_the_row_in_scope(app, county, household, client_for):
    member_id = household["members"][FATHER]
    url = f"/admin/casework/household/{household['id']}/reveal"
    staff = client_for("pd-t1-staff")
    assert staff.post(url, data={"what": "member_id_number", "id": member_id}).status_code == 400  # no CSRF
    assert staff.get(url).status_code == 405  # never by a link
    for username, status in (("pd-t2-staff", 404), ("pd-admin", 403)):
        client = client_for(username)
        token = csrf_token(client.get("/admin/").get_data(as_text=True))
        response = client.post(url, data={"csrf_token": token, "what": "member_id_number", "id": member_id})
        assert response.status_code == status, username
        assert FATHER not in response.get_data(as_text=True)
    # a member of another household is not revealed through this one
    with acting(app, "pd-t1-staff") as user:
        other = household_of_four(db.session, user, seq=2)
        db.session.flush()
        other_member = other.members[0].id
    token = csrf_token(staff.get("/admin/").get_data(as_text=True))
    assert staff.post(url, data={"csrf_token": token, "what": "member_id_number",
                                 "id": other_member}).status_code == 404
    assert access_events(app, county) == []


def test_the_case_file_prints_full_ids_and_the_print_is_recorded(app, county, client_for):
    case_id = open_case_for(app, "pd-t1-staff")
    data = client_for("pd-t1-staff").get(f"/admin/casework/{case_id}/file.pdf").get_data()
    text = re.sub(r"\s+", "", pdf_text(data))
    assert FATHER in text  # 一户一档 is the archive: it carries the numbers in full (docs/design-notes.md)
    [event] = access_events(app, county)
    assert (event.entity_type, event.case_id, event.after["purpose"]) == ("case", case_id,
                                                                        "打印一户一档（含完整身份证号码）")


def test_warning_tickets_mask_the_id_and_reveal_it_on_request(app, county, client_for):
    person = make_id_number("341021", dt.date(1958, 6, 1), 17)
    staff = client_for("pd-county")
    page = staff.get("/admin/warnings/").get_data(as_text=True)
    with app.app_context(), use_scope(Scope(county["id"])):
        db.session.remove()
    html = staff.post("/admin/warnings/new", data={
        "csrf_token": csrf_token(page), "source_ref": "YJ-1", "id_number": person, "township_id": county["towns"][0],
        "summary": "大额医疗支出", "received_on": dt.date.today().isoformat()}, follow_redirects=True).get_data(as_text=True)
    assert person not in html and mask_id_number(person) in html
    ticket_id = int(re.search(r"/admin/warnings/(\d+)/reveal", html).group(1))
    html = staff.post(f"/admin/warnings/{ticket_id}/reveal", data={"csrf_token": csrf_token(html)}).get_data(as_text=True)
    assert f'data-testid="full-id">{person}<' in html
    assert [e.entity_type for e in access_events(app, county)] == ["warning_ticket"]


def test_reporters_contacts_are_masked_for_the_county(app, county, client_for):
    staff = client_for("pd-county")
    page = staff.get("/admin/reports/").get_data(as_text=True)
    staff.post("/admin/reports/", data={
        "csrf_token": csrf_token(page), "reporter_name": "张某", "reporter_contact": "13912345678", "channel": "来电",
        "received_on": dt.date.today().isoformat(), "subject": "某户", "content": "收入较高"})
    html = staff.get("/admin/reports/").get_data(as_text=True)
    assert "13912345678" not in html and "139****5678" in html
    report_id = int(re.search(r"/admin/reports/(\d+)/reveal", html).group(1))
    html = staff.post(f"/admin/reports/{report_id}/reveal", data={"csrf_token": csrf_token(html)}).get_data(as_text=True)
    assert 'data-testid="full-contact">13912345678<' in html
    admin_html = client_for("pd-admin").get("/admin/reports/").get_data(as_text=True)
    assert "13912345678" not in admin_html and "/reveal" not in admin_html  # the admin sees no button


def test_users_phones_are_masked_in_details_and_exports(app, county, client_for):
    admin = client_for("pd-admin")
    staff_id = county["users"]["pd-t1-staff"]
    with acting(app, "pd-admin"):
        from jiuzhu.auth.models import User

        db.session.get(User, staff_id).phone = "13712345678"
    details = admin.get(f"/admin/user/details/?id={staff_id}").get_data(as_text=True)
    exported = admin.get("/admin/user/export/csv/").get_data(as_text=True)
    for text in (details, exported):
        assert "13712345678" not in text and "137****5678" in text


def test_duplicates_and_lookups_go_through_the_blind_index(app, county, household):
    """一户一档: the same ID number cannot be registered in a second household of the county, even in
    another township, and the refusal masks it; the household is found by the number."""
    with acting(app, "pd-t2-staff") as user:
        with pytest.raises(ValidationError) as refused:
            register_household(db.session, user, village=village_of(user), address="x", members=[
                MemberInput("某人", FATHER.lower(), "head")])
        assert refused.value.all_messages() == [
            f"身份证号码 {mask_id_number(FATHER)} 已登记在本县其他家庭中（一户一档）。"]
    with acting(app, "pd-t1-staff"):
        assert household_of_person(db.session, f" {FATHER.lower()} ").id == household["id"]
    with acting(app, "pd-t2-staff"):  # another township: out of sight
        assert household_of_person(db.session, FATHER) is None


def test_searching_cases_by_id_number(app, county, client_for):
    case_id = open_case_for(app, "pd-t1-staff")
    staff = client_for("pd-t1-staff")
    html = staff.get("/admin/casework/cases", query_string={"q": FATHER.lower()}).get_data(as_text=True)
    assert f"/admin/casework/{case_id}" in html
    html = staff.get("/admin/casework/cases", query_string={"q": FATHER[:-1] + "0"}).get_data(as_text=True)
    assert f"/admin/casework/{case_id}\"" not in html


def test_a_search_is_an_id_number_or_part_of_a_name_and_typed_wildcards_are_plain_characters(app, county,
                                                                                              client_for):
    """案件查询: words with a digit are an ID number, looked up by its blind index only (no name has a
    digit: reading every member's name for it made such a search as slow as the slowest); others are
    part of a name, where ``%`` and ``_`` are characters like any other, not ``LIKE``'s wildcards."""
    from jiuzhu.workflow import engine
    from tests.test_statement_counts import brief, counted

    case_id = open_case_for(app, "pd-t1-staff")
    with acting(app, "pd-t2-staff") as user:  # the same name in another township: never listed
        namesake = register_household(db.session, user, village=village_of(user), address="x", members=[
            MemberInput("汪建国", make_id_number("341021", dt.date(1970, 1, 1), 99), "head")])
        other = engine.open_case(db.session, user, household=namesake, categories=["dibao"], channel="window",
                                 applied_on=dt.date(2026, 3, 2)).id
    staff = client_for("pd-t1-staff")
    link = f'/admin/casework/{case_id}"'

    def found(q: str) -> bool:
        html = staff.get("/admin/casework/cases", query_string={"q": q}).get_data(as_text=True)
        assert f'/admin/casework/{other}"' not in html
        return link in html

    assert found("汪建国") and found("建") and found(FATHER) and found(FATHER.lower())
    assert not found("汪%国") and not found("汪_国") and not found("%") and not found("_")
    assert not found("汪建国1")  # a digit: an ID number, which this is not
    with counted(app) as seen:
        staff.get("/admin/casework/cases", query_string={"q": FATHER})
    listing = [s for s in seen if "FROM cases" in s]
    assert listing and not any("LIKE" in s.upper() for s in listing), brief(listing)
    assert any("id_number_bidx" in s for s in listing), brief(listing)
