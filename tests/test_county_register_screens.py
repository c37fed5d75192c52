"""The county's registers on screen: staff relatives (备案, then always checked on site) and
real-name reports (recorded, verified one by one, answered) — county eyes only."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from sqlalchemy import func, select

from jiuzhu.clock import china_today
from jiuzhu.extensions import db
from jiuzhu.spotchecks.models import RealNameReport, StaffKinship
from jiuzhu.tenancy.context import Scope, use_scope
from tests.conftest import csrf_token
from tests.factories import approved_directly, household_of_four

_seq = itertools.count(1)
REGION = "360222"


@pytest.fixture
def county(world):
    info = world.county("jrg", plugin="jingdezhen", townships=1, villages=1)
    world.county("org", plugin="jingdezhen", townships=1, villages=1)
    return info


def household_ids(app, n: int) -> list[tuple[int, str]]:
    """n approved households; (case id, the head's ID number)."""
    out = []
    for d in range(n):
        seq = next(_seq)
        case_id = approved_directly(app, "jrg-t1-staff", "jrg-county", china_today() - dt.timedelta(days=d + 2),
                                    lambda user, seq=seq: household_of_four(db.session, user, seq=seq, region=REGION))
        from jiuzhu.cases.idcard import make_id_number
        out.append((case_id, make_id_number(REGION, dt.date(1968, 3, 12), 10 + 2 * seq + 1)))
    return out


def rows(app, tenant_id, model) -> int:
    with app.app_context(), use_scope(Scope(tenant_id)):
        n = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
        return n


def test_a_registered_staff_relative_is_always_checked_on_site(app, county, client_for):
    cases = household_ids(app, 6)
    staff = client_for("jrg-county")
    page = staff.get("/admin/kinship/").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "staff_name": "汪强", "staff_level": "township",
            "staff_unit": "jrg第1镇民政办 经办人", "relation": "兄弟姐妹"}
    html = staff.post("/admin/kinship/", data={**form, "id_number": "123"}).get_data(as_text=True)
    assert "身份证号码：" in html and rows(app, county["id"], StaffKinship) == 0
    html = staff.post("/admin/kinship/", data={**form, "id_number": "360222199001010019"}).get_data(as_text=True)
    assert "本县没有登记该身份证号码所在的家庭。" in html and 'value="汪强"' in html  # the form keeps what was typed
    html = staff.post("/admin/kinship/", data={**form, "id_number": cases[0][1]},
                      follow_redirects=True).get_data(as_text=True)
    assert "已备案；该户被抽中时一律实地核查。" in html and "兄弟姐妹" in html
    page = staff.get("/admin/spotchecks/").get_data(as_text=True)
    drawn = staff.post("/admin/spotchecks/draw", data={"csrf_token": csrf_token(page), "seed": "k", "window_days": "30",
                                                       "sample_share": "100", "on_site_share": "30"},
                       follow_redirects=True).get_data(as_text=True)
    row = re.search(rf'/admin/casework/{cases[0][0]}".*?</tr>', drawn, re.S).group(0)
    assert "实地抽查" in row and ">是<" in row


def test_real_name_reports_are_recorded_verified_then_answered(app, county, client_for):
    cases = household_ids(app, 1)
    staff = client_for("jrg-county")
    page = staff.get("/admin/reports/").get_data(as_text=True)
    token = csrf_token(page)
    html = staff.post("/admin/reports/", data={"csrf_token": token, "reporter_name": "", "content": ""}) \
        .get_data(as_text=True)
    assert "实名举报须登记举报人姓名。" in html and "请填写举报内容。" in html
    assert rows(app, county["id"], RealNameReport) == 0
    staff.post("/admin/reports/", data={
        "csrf_token": token, "reporter_name": "程某", "reporter_contact": "13912345678", "channel": "来电",
        "subject": "汪建国户", "id_number": cases[0][1], "content": "该户儿子在外地务工，收入较高。"})
    listing = staff.get("/admin/reports/").get_data(as_text=True)
    report_id = int(re.search(r"/admin/reports/(\d+)/verify", listing).group(1))
    early = staff.post(f"/admin/reports/{report_id}/answer", data={"csrf_token": token, "answer": "x", "via": "电话"},
                       follow_redirects=True).get_data(as_text=True)
    assert "须先核实，再向举报人反馈核实结果。" in early
    staff.post(f"/admin/reports/{report_id}/verify", data={"csrf_token": token, "substantiated": "no",
                                                           "verification": "经核实，儿子为残疾人，无务工收入。"})
    done = staff.post(f"/admin/reports/{report_id}/answer",
                      data={"csrf_token": token, "answer": "举报不属实，已告知核实情况。", "via": "电话"},
                      follow_redirects=True).get_data(as_text=True)
    assert "已向举报人反馈核实结果。" in done and "已反馈（电话）" in done and "不属实" in done


def test_registers_are_county_eyes_only(app, county, client_for):
    household_ids(app, 1)
    staff = client_for("jrg-county")
    token = csrf_token(staff.get("/admin/reports/").get_data(as_text=True))
    staff.post("/admin/reports/", data={"csrf_token": token, "reporter_name": "程某", "reporter_contact": "139",
                                        "channel": "来信", "subject": "某户", "content": "举报内容"})
    report_id = int(re.search(r"/admin/reports/(\d+)/verify", staff.get("/admin/reports/").get_data(as_text=True))
                    .group(1))
    for username in ("jrg-t1-staff", "jrg-t1-leader", "jrg-t1-village"):
        client = client_for(username)
        assert client.get("/admin/reports/").status_code == 403
        assert client.get("/admin/kinship/").status_code == 403
    other = client_for("org-county")
    assert "程某" not in other.get("/admin/reports/").get_data(as_text=True)
    own = csrf_token(other.get("/admin/reports/").get_data(as_text=True))
    assert other.post(f"/admin/reports/{report_id}/verify",
                      data={"csrf_token": own, "verification": "x"}).status_code == 404
    with app.app_context(), use_scope(Scope(county["id"])):
        assert db.session.get(RealNameReport, report_id).status.value == "received"
        db.session.remove()
