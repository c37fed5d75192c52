"""No personal data in the logs: a whole case — intake with names, ID numbers, phones and an address,
refusals that echo them back, the case and household pages, a search by ID number, the case file
PDF, every step to the decision, a reminder job — logged at DEBUG by every logger (SQLAlchemy's
statements too), in both formats, and none of it appears in the output."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pytest
from rq import SimpleWorker

from jiuzhu.cases.idcard import make_id_number
from jiuzhu.instance import identity, redis_connection
from jiuzhu.ops.logs import ContextFilter, JsonFormatter, TextFormatter
from jiuzhu.reminders.jobs import enqueue_tenant_reminders
from tests.api_helpers import api_redis, auth, make_token  # noqa: F401
from tests.conftest import PASSWORD, login

HEAD, SPOUSE, SUPPORTER = "欧阳振华", "司马婉清", "欧阳明远"
HEAD_ID = make_id_number("341021", dt.date(1961, 4, 18), 357)
SPOUSE_ID = make_id_number("341021", dt.date(1963, 8, 9), 246)
SUPPORTER_ID = make_id_number("341021", dt.date(1988, 1, 30), 135)
PHONE, SUPPORTER_PHONE = "13987654321", "15812348765"
ADDRESS = "溪头镇汪村七组九十九号"
BAD_ID = HEAD_ID[:-1] + ("0" if HEAD_ID[-1] != "0" else "1")  # a wrong check character
PERSONAL = [HEAD, SPOUSE, SUPPORTER, HEAD_ID, SPOUSE_ID, SUPPORTER_ID, PHONE, SUPPORTER_PHONE, ADDRESS, BAD_ID,
            HEAD_ID[:14]]  # a number's first 14 digits (region and birth date) are already too much


def application(village_id: int, **changes) -> dict:
    body = {
        "village_id": village_id, "address": ADDRESS, "phone": PHONE, "categories": ["dibao"],
        "members": [
            {"name": HEAD, "id_number": HEAD_ID, "relation": "head", "health": "serious", "work_ability": "partial",
             "incomes": {"basic_pension": "150"}},
            {"name": SPOUSE, "id_number": SPOUSE_ID, "relation": "spouse", "working": True,
             "incomes": {"wage": "800"}},
        ],
        "supporters": [{"name": SUPPORTER, "id_number": SUPPORTER_ID, "duty": "赡养", "monthly_income": "3000",
                        "monthly_support_paid": "100", "address": f"杭州市 电话{SUPPORTER_PHONE}"}],
        "authorization_signed_on": "2026-03-02", "commitment_signed_on": "2026-03-02", "applied_on": "2026-03-02",
        "provided": ["application_form", "id_and_register", "authorization", "commitment"],
    }
    body.update(changes)
    return body


class Capture:
    """Every record of every logger at DEBUG, formatted as production (JSON) and the demo (text) would."""

    def __init__(self):
        self.streams = {"json": io.StringIO(), "text": io.StringIO()}
        self.handlers = []
        for name, formatter in (("json", JsonFormatter()), ("text", TextFormatter())):
            handler = logging.StreamHandler(self.streams[name])
            handler.setFormatter(formatter)
            handler.addFilter(ContextFilter())
            self.handlers.append(handler)

    def __enter__(self):
        root, sql = logging.getLogger(), logging.getLogger("sqlalchemy.engine")
        self.levels = root.level, sql.level
        for h in self.handlers:
            root.addHandler(h)
        root.setLevel(logging.DEBUG)
        sql.setLevel(logging.INFO)  # every statement, as an operator chasing a problem might turn on
        return self

    def __exit__(self, *exc):
        root, sql = logging.getLogger(), logging.getLogger("sqlalchemy.engine")
        for h in self.handlers:
            root.removeHandler(h)
        root.setLevel(self.levels[0])
        sql.setLevel(self.levels[1])

    def text(self) -> str:
        return self.streams["json"].getvalue() + self.streams["text"].getvalue()

    def json_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.streams["json"].getvalue().splitlines() if line.startswith("{")]


def act(client, token, case_id, step_key, action, data=None, reason=None, key=None):
    case = client.get(f"/api/v1/cases/{case_id}", headers=auth(token)).get_json()
    step = next(s for s in case["timeline"] if s["key"] == step_key and s["status"] == "open")
    resp = client.post(f"/api/v1/cases/{case_id}/steps/{step['id']}/actions", headers=auth(token, key or step_key),
                       json={"action": action, "data": data or {}, "reason": reason})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


@pytest.mark.usefixtures("api_redis")
def test_a_whole_case_leaves_no_personal_data_in_the_logs(app, world):
    county = world.county("pii", plugin="baseline", townships=1, villages=1)
    staff = make_token(app, county, username="pii-t1-staff")
    leader = make_token(app, county, username="pii-t1-leader")
    county_staff = make_token(app, county, username="pii-county")
    api = app.test_client()
    village = county["villages"][0][0]

    with Capture() as logs:
        refused = api.post("/api/v1/applications", json=application(village, members=[
            {"name": HEAD, "id_number": BAD_ID, "relation": "head"}]), headers=auth(staff, "intake-bad"))
        assert refused.status_code == 422  # the refusal names the field; the number is not logged
        created = api.post("/api/v1/applications", json=application(village), headers=auth(staff, "intake-1"))
        assert created.status_code == 201, created.get_json()
        case_id = created.get_json()["id"]
        again = api.post("/api/v1/applications", json=application(village, address="别处"),
                         headers=auth(staff, "intake-2"))
        assert again.status_code == 422  # the same people again: refused, naming them in the answer only

        web = app.test_client()
        assert login(web, "pii-t1-staff", PASSWORD).status_code == 302
        case_page = web.get(f"/admin/casework/{case_id}")
        assert case_page.status_code == 200 and HEAD in case_page.get_data(as_text=True)
        household_id = created.get_json()["household_id"]
        assert web.get(f"/admin/casework/household/{household_id}").status_code == 200
        assert web.get("/admin/casework/cases", query_string={"q": HEAD_ID}).status_code == 200
        assert web.get("/admin/casework/cases", query_string={"q": HEAD}).status_code == 200
        assert web.get(f"/admin/casework/{case_id}/file.pdf").status_code == 200

        act(api, staff, case_id, "acceptance", "accept")
        act(api, county_staff, case_id, "economic_check", "reported",
            {"report_no": "HD2026-0101", "result": "fail", "agency": "县居民家庭经济状况核对中心"})
        act(api, staff, case_id, "home_investigation", "done",
            {"investigators": ["汪敏", "胡军"], "visited_on": "2026-11-27",
             "findings": f"{HEAD}家有存款，电话{PHONE}", "doubt": True})
        act(api, staff, case_id, "appraisal", "done",
            {"held_on": "2026-11-27", "participants": 9, "result": "多数认为家庭收入超过标准"})
        act(api, leader, case_id, "review_opinion", "propose_deny", {"opinion": "人均收入高于低保标准"},
            reason=f"{HEAD}户人均月收入高于当地低保标准")
        decided = act(api, county_staff, case_id, "decision", "deny", reason=f"{HEAD}户人均月收入高于当地低保标准")
        assert decided["decided_on"] and decided["decision_reason"]  # decided: 不予确认

        with app.app_context():
            enqueue_tenant_reminders(app, county["id"])
            SimpleWorker([identity(app).queue_name], connection=redis_connection(app)).work(burst=True)

    output = logs.text()
    leaked = [value for value in PERSONAL if value in output]
    assert leaked == [], f"personal data in the log: {leaked}"

    # the capture did see the whole case: one request line for each request, and the job with its id
    lines = logs.json_lines()
    requests = [r for r in lines if r["logger"] == "jiuzhu.request"]
    endpoints = {r["endpoint"] for r in requests}
    assert {"api.submit_application", "api.step_action", "casework.case", "casework.file_pdf"} <= endpoints, endpoints
    assert all(r.get("request_id") and r.get("status") for r in requests)
    assert any(r.get("tenant") == county["id"] and r.get("user_id") for r in requests)
    jobs = [r for r in lines if r.get("job_id")]
    assert jobs and all(r.get("tenant") == county["id"] for r in jobs)
    assert any(r["message"].startswith("INSERT INTO") for r in lines)  # SQL was logged, never its parameters
