"""The proof, on PostgreSQL: a county seeded through the real screens, services and API — intake with
members, supporters and a phone, a case taken through its steps to a certificate, an API application,
a warning ticket, a real-name report, a kinship record, staff phones and SMS deliveries, a full ID
viewed and a case file printed, the audit trail of all of it — and then, as the database owner,
every text, varchar and JSON column of every table is scanned: no ID number and no phone number
used is there in clear. Search by ID number still finds the household; a key rotation while a
writer keeps working loses nothing and leaves nothing in clear."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time

import pytest
from sqlalchemy import select, text

from jiuzhu.cases.households import LegalSupporter
from jiuzhu.cases.idcard import make_id_number
from jiuzhu.cases.services import MemberInput, household_of_person, register_household
from jiuzhu.crypto.keys import add_key, remove_key
from jiuzhu.extensions import db
from jiuzhu.reminders.dispatch import dispatch_due
from jiuzhu.reminders.models import ChannelKind, Delivery, NotificationChannel
from jiuzhu.tenancy.context import Scope, use_scope
from tests.api_helpers import application, auth, make_token
from tests.conftest import TEST_KEYS, csrf_token, make_app
from tests.factories import acting, village_of
from tests.plugins.anhui_support import do
from tests.plugins.test_ningxia import REGION, approved_case, ningxia_county

#: an 18-character ID number standing on its own (not inside a hex digest or base64)
ID_PATTERN = r"(^|[^0-9A-Za-z])[0-9]{17}[0-9Xx]($|[^0-9A-Za-z])"
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")

HEAD = make_id_number(REGION, dt.date(1955, 2, 3), 31)
WIFE = make_id_number(REGION, dt.date(1957, 8, 9), 42)
SON = make_id_number(REGION, dt.date(1985, 10, 1), 51)  # the legal supporter
REPORTER_PHONE, HOUSEHOLD_PHONE, STAFF_PHONE = "13955551234", "13866662345", "13777773456"


@pytest.fixture
def county(world):
    return ningxia_county(world)


def scan(owner_engine, needles: list[str]) -> list[tuple[str, str, str]]:
    """As the database owner: (table, column, excerpt) of every text/JSON value holding an ID-number
    pattern or one of ``needles``."""
    hits = []
    with owner_engine.connect() as conn:
        columns = conn.execute(text(
            "SELECT table_name, column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.data_type = ANY(:types) "
            "ORDER BY 1, 2"), {"types": list(TEXT_TYPES)}).all()
        assert len(columns) > 100  # every table's text: this is the whole database
        for table, column in columns:
            value = f'"{column}"::text'
            conditions = [f"{value} ~ :pattern"] + [f"strpos({value}, :n{i}) > 0" for i in range(len(needles))]
            params = {"pattern": ID_PATTERN, **{f"n{i}": n for i, n in enumerate(needles)}}
            for row in conn.execute(text(f'SELECT {value} FROM "{table}" WHERE {" OR ".join(conditions)} LIMIT 3'),
                                    params):
                excerpt = re.search(ID_PATTERN, row[0])
                hits.append((table, column, excerpt.group(0) if excerpt else row[0][:40]))
    return hits


def seed(app, county, client_for) -> dict:
    """Everything a county's staff do that touches ID numbers and phones, through screens and services."""
    staff = client_for("nx-t1-staff")
    page = staff.get("/admin/casework/new").get_data(as_text=True)
    village = county["villages"][0][0]
    response = staff.post("/admin/casework/new", data={
        "csrf_token": csrf_token(page), "village_id": village, "address": "杨和镇红星村三组 8 号",
        "phone": HOUSEHOLD_PHONE, "channel": "window", "categories": "dibao", "applied_on": "2026-04-29",
        "authorization_signed_on": "2026-04-29", "commitment_signed_on": "2026-04-29",
        "provided": ["application_form", "authorization"], "via_platform": "id_and_register",
        "m0.name": "马德福", "m0.id_number": HEAD, "m0.relation": "head", "m0.health": "serious",
        "m0.ability": "none", "m0.basic_pension": "150", "m0.coresident": "y",
        "m1.name": "李桂兰", "m1.id_number": WIFE, "m1.relation": "spouse", "m1.health": "chronic",
        "m1.coresident": "y", "m1.disability": "2",
        "s0.name": "马军", "s0.id_number": SON, "s0.duty": "赡养", "s0.supports": HEAD, "s0.income": "2800",
        "s0.paid": "200", "s0.address": "银川市金凤区"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    intake_case = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])

    do(app, "nx-t1-staff", intake_case, "acceptance", "accept", dt.date(2026, 4, 29))  # its deadline: reminders
    case_id = approved_case(app)  # 汪建国户 through investigation, check, publicity, decision
    do(app, "nx-t1-staff", case_id, "certificate", "issued", dt.date(2026, 5, 20))

    secret = make_token(app, county, username="nx-t1-staff")
    body = application(village, seq=7, provided=["application_form", "authorization"])
    api_people = [m["id_number"] for m in body["members"]]
    answer = app.test_client().post("/api/v1/applications", json=body, headers=auth(secret, "proof-1"))
    assert answer.status_code == 201, answer.get_data(as_text=True)

    county_staff = client_for("nx-county")
    page = county_staff.get("/admin/warnings/").get_data(as_text=True)
    assert county_staff.post("/admin/warnings/new", data={
        "csrf_token": csrf_token(page), "source_ref": "YJ-2026-0001", "id_number": WIFE,
        "township_id": county["towns"][0], "summary": f"大额医疗支出（{WIFE}）：住院 6.8 万元",
        "received_on": "2026-05-06"}).status_code == 302
    page = county_staff.get("/admin/reports/").get_data(as_text=True)
    assert county_staff.post("/admin/reports/", data={
        "csrf_token": csrf_token(page), "reporter_name": "张某", "reporter_contact": REPORTER_PHONE,
        "channel": "来电", "received_on": "2026-05-07", "subject": "马德福户", "id_number": HEAD,
        "content": "该户儿子马军在银川务工，收入较高"}).status_code == 302
    page = county_staff.get("/admin/kinship/").get_data(as_text=True)
    assert county_staff.post("/admin/kinship/", data={
        "csrf_token": csrf_token(page), "id_number": HEAD, "staff_name": "马某", "staff_level": "village",
        "staff_unit": "红星村村委会 协理员", "relation": "子女", "registered_on": "2026-05-07"}).status_code == 302

    admin = client_for("nx-admin")
    token = csrf_token(admin.get("/admin/").get_data(as_text=True))
    for username, role in (("nx-t1-staff", "township_staff"), ("nx-t1-leader", "township_leader")):
        assert admin.post(f"/admin/user/edit/?id={county['users'][username]}", data={
            "csrf_token": token, "full_name": username, "role": role, "org_unit": str(county["towns"][0]),
            "phone": STAFF_PHONE, "email": "", "active": "y"}).status_code == 302
    with app.app_context(), use_scope(Scope(county["id"])):  # SMS reminders go to staff phones
        db.session.add(NotificationChannel(kind=ChannelKind.webhook, enabled=True,
                                           config={"url": "http://127.0.0.1:9/sms", "secret": "test"}))
        db.session.commit()
        dispatch_due(db.session, dt.date(2027, 1, 1))
        assert db.session.scalar(select(Delivery.recipient).limit(1)) == STAFF_PHONE
        db.session.remove()

    household_page = staff.get("/admin/casework/cases", query_string={"q": HEAD}).get_data(as_text=True)
    assert f"/admin/casework/{intake_case}" in household_page  # search by ID number
    assert staff.get(f"/admin/casework/{intake_case}/file.pdf").status_code == 200  # full IDs printed, recorded
    return {"intake_case": intake_case, "case": case_id, "members": [HEAD, WIFE, *api_people],
            "people": [HEAD, WIFE, SON, *api_people]}


def test_no_id_number_or_phone_in_clear_anywhere_and_search_still_works(app, county, client_for, owner_engine,
                                                                     database_urls):
    seeded = seed(app, county, client_for)
    with owner_engine.connect() as conn:
        events = conn.execute(text("SELECT count(*) FROM audit_events")).scalar()
        members = conn.execute(text("SELECT count(*) FROM household_members")).scalar()
    assert events > 50 and members >= 8
    needles = [*seeded["people"], REPORTER_PHONE, HOUSEHOLD_PHONE, STAFF_PHONE, "13800000000"]
    assert scan(owner_engine, needles) == []

    # the scan itself can fail: a number planted in a clear column is found
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE households SET address = address || :n WHERE id = (SELECT min(id) FROM households)"),
                     {"n": f"（身份证 {HEAD}）"})
    assert scan(owner_engine, needles) == [("households", "address", f" {HEAD}）")]


def test_a_rotation_under_concurrent_use_loses_nothing_and_leaves_nothing_in_clear(app, county, client_for,
                                                                                   owner_engine, database_urls):
    seeded = seed(app, county, client_for)
    document = json.loads(TEST_KEYS)
    add_key(document, "field")
    new = make_app(database_urls, JIUZHU_KEYS=json.dumps(document))
    stop = threading.Event()
    registered: list[str] = []
    phones: list[str] = []
    errors: list[BaseException] = []

    def clerk():
        try:
            i = 0
            while not stop.is_set():
                i += 1
                person = make_id_number(REGION, dt.date(1990, 1, 1) + dt.timedelta(days=i), 13)
                with acting(new, "nx-t1-staff") as user:
                    register_household(db.session, user, village=village_of(user), address=f"新户 {i}",
                                       phone=f"1350000{i:04d}", members=[MemberInput(f"新户主{i}", person, "head")])
                registered.append(person)
                phones.append(f"1350000{i:04d}")
                time.sleep(0.02)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=clerk)
    thread.start()
    result = new.test_cli_runner().invoke(args=["keys", "rotate", "--batch", "4"])
    stop.set()
    thread.join(timeout=60)
    assert not errors, errors
    assert result.exit_code == 0, result.output
    assert len(registered) >= 3

    retired = json.loads(json.dumps(document))
    remove_key(retired, "f1")
    only_new = make_app(database_urls, JIUZHU_KEYS=json.dumps(retired))
    try:
        with only_new.app_context(), use_scope(Scope(county["id"])):
            for person in [*seeded["members"], *registered]:
                found = household_of_person(db.session, person)
                assert found is not None and person in [m.id_number for m in found.members], person
            supporters = db.session.scalars(select(LegalSupporter.id_number)).all()
            assert SON in supporters
            db.session.remove()
        verify = only_new.test_cli_runner().invoke(args=["audit", "verify"])
        assert verify.exit_code == 0 and "链完整" in verify.output
    finally:
        for a in (new, only_new):
            with a.app_context():
                db.engine.dispose()
    needles = [*seeded["people"], *registered, *phones, REPORTER_PHONE, HOUSEHOLD_PHONE, STAFF_PHONE]
    assert scan(owner_engine, needles) == []
