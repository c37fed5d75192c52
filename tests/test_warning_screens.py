"""Monitoring warnings on screen: the county enters a ticket with the plugin's deadline, the township
visits, may ask the county to look point to point, and decides; bad input is refused with a Chinese
message naming the field and writes nothing; other townships, villages and counties reach nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from jiuzhu.calendar import add_workdays
from jiuzhu.cases.idcard import make_id_number
from jiuzhu.clock import china_today
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgUnit
from jiuzhu.warnings.models import WarningTicket
from tests.conftest import csrf_token

PERSON = make_id_number("341021", dt.date(1958, 6, 1), 17)


@pytest.fixture
def county(world):
    info = world.county("wsx", plugin="shexian", townships=2, villages=1)
    world.county("wjd", plugin="jingdezhen", townships=1, villages=1)
    return info


def township_id(app, tenant_id, name) -> int:
    with app.app_context(), use_scope(Scope(tenant_id)):
        unit = db.session.scalar(select(OrgUnit.id).where(OrgUnit.name == name))
        db.session.remove()
        return unit


def tickets(app, tenant_id) -> int:
    with app.app_context(), use_scope(Scope(tenant_id)):
        n = db.session.scalar(select(func.count()).select_from(WarningTicket))
        db.session.remove()
        return n


def enter(client, township: int, ref="YJ2026-1101", received=None, **extra):
    page = client.get("/admin/warnings/").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "source_ref": ref, "id_number": PERSON, "township_id": township,
            "received_on": (received or china_today()).isoformat(), "summary": "大额医疗支出：住院费用 6.8 万元", **extra}
    return client.post("/admin/warnings/new", data=data, follow_redirects=True)


def test_county_enters_a_ticket_and_the_township_settles_it_within_the_plugins_deadline(app, county, client_for):
    town = township_id(app, county["id"], "wsx第1镇")
    county_staff = client_for("wsx-county")
    html = enter(county_staff, town).get_data(as_text=True)
    with app.app_context():
        due = add_workdays(china_today(), 5).due
    assert f"已登记预警单据 YJ2026-1101，须于 {due:%Y-%m-%d} 前核查并作出确认决定。" in html
    assert "自预警单据返回之日起 5 个工作日" in html
    ticket_id = int(re.search(r"/admin/warnings/(\d+)/", html).group(1)) if "/visit" in html else \
        int(re.search(r"/admin/warnings/(\d+)", county_staff.get("/admin/warnings/").get_data(as_text=True)).group(1))
    assert 'data-testid="visit-form"' not in html  # the county does not visit

    staff = client_for("wsx-t1-staff")
    listing = staff.get("/admin/warnings/").get_data(as_text=True)
    assert "YJ2026-1101" in listing and "剩 5 个工作日" in listing
    page = staff.get(f"/admin/warnings/{ticket_id}").get_data(as_text=True)
    token = csrf_token(page)
    refused = staff.post(f"/admin/warnings/{ticket_id}/visit", data={"csrf_token": token, "visitors": "",
                                                                     "findings": "", "visited_on": "2026-13-01"},
                         follow_redirects=True).get_data(as_text=True)
    assert "入户核查日期：日期格式应为 YYYY-MM-DD。" in refused
    refused = staff.post(f"/admin/warnings/{ticket_id}/visit", data={"csrf_token": token, "visitors": "",
                                                                     "findings": ""},
                         follow_redirects=True).get_data(as_text=True)
    assert "请填写上门核查的工作人员。" in refused and "请填写入户核查情况。" in refused
    assert ">待入户核查<" in refused
    staff.post(f"/admin/warnings/{ticket_id}/ask", data={"csrf_token": token, "question": "请查看住院费用报销后自付金额"})
    county_token = csrf_token(county_staff.get(f"/admin/warnings/{ticket_id}").get_data(as_text=True))
    answered = county_staff.post(f"/admin/warnings/{ticket_id}/answer",
                                 data={"csrf_token": county_token, "answer": "医保报销后自付 2.1 万元"},
                                 follow_redirects=True).get_data(as_text=True)
    assert "已答复乡镇（街道）。" in answered and "医保报销后自付 2.1 万元" in answered
    staff.post(f"/admin/warnings/{ticket_id}/visit", data={"csrf_token": token, "visitors": "汪敏、胡军",
                                                           "findings": "户主住院，家庭因病支出大。"})
    done = staff.post(f"/admin/warnings/{ticket_id}/decide",
                      data={"csrf_token": token, "decision": "eligible", "online_check": "医保系统自付 2.1 万元",
                            "reason": "因病支出型困难，符合救助条件"}, follow_redirects=True).get_data(as_text=True)
    assert "已作出确认决定。" in done and "符合救助条件" in done and ">已作出确认决定<" in done
    assert "YJ2026-1101" not in staff.get("/admin/warnings/").get_data(as_text=True)  # no longer open


def test_a_late_ticket_is_flagged_and_jingdezhen_gives_20_working_days(app, county, client_for):
    jdz = client_for("wjd-county")
    town = township_id(app, county["id"] + 1, "wjd第1镇")
    html = enter(jdz, town, ref="JD-YJ-0007", received=china_today() - dt.timedelta(days=60)).get_data(as_text=True)
    assert "自预警单据返回之日起 20 个工作日" in html
    overdue = jdz.get("/admin/warnings/?show=overdue").get_data(as_text=True)
    assert "JD-YJ-0007" in overdue and 'data-testid="overdue"' in overdue
    assert "<td>wjd第1镇</td>" in overdue  # the county sees which township is late


def test_bad_tickets_are_refused_and_nothing_is_written(app, county, client_for):
    town = township_id(app, county["id"], "wsx第1镇")
    staff = client_for("wsx-county")
    html = enter(staff, town, id_number="34102119580601001X", source_ref="", summary="").get_data(as_text=True)
    assert "预警对象身份证号码有误" in html and "请填写预警单据编号。" in html and "请填写预警内容。" in html
    html = enter(staff, town, received_on="yesterday").get_data(as_text=True)
    assert "单据返回日期：日期格式应为 YYYY-MM-DD。" in html
    assert tickets(app, county["id"]) == 0
    enter(staff, town)
    html = enter(staff, town).get_data(as_text=True)
    assert "预警单据 YJ2026-1101 已登记，不能重复登记。" in html
    assert tickets(app, county["id"]) == 1


def test_other_townships_villages_and_counties_reach_no_ticket(app, county, client_for):
    town = township_id(app, county["id"], "wsx第1镇")
    enter(client_for("wsx-county"), town)
    listing = client_for("wsx-county").get("/admin/warnings/").get_data(as_text=True)
    ticket_id = int(re.search(r"/admin/warnings/(\d+)\"", listing).group(1))
    other = client_for("wsx-t2-staff")
    assert "YJ2026-1101" not in other.get("/admin/warnings/").get_data(as_text=True)
    assert other.get(f"/admin/warnings/{ticket_id}").status_code == 404
    token = csrf_token(other.get("/admin/warnings/").get_data(as_text=True))
    assert other.post(f"/admin/warnings/{ticket_id}/visit",
                      data={"csrf_token": token, "visitors": "x", "findings": "y"}).status_code == 404
    village = client_for("wsx-t1-village")
    assert village.get("/admin/warnings/").status_code == 403
    own = csrf_token(village.get("/admin/").get_data(as_text=True))
    assert village.post(f"/admin/warnings/{ticket_id}/decide",
                        data={"csrf_token": own, "decision": "ineligible", "online_check": "x",
                              "reason": "y"}).status_code == 403
    stranger = client_for("wjd-county")
    assert stranger.get(f"/admin/warnings/{ticket_id}").status_code == 404
    assert "YJ2026-1101" not in stranger.get("/admin/warnings/?show=all").get_data(as_text=True)
    with app.app_context(), use_scope(Scope(county["id"])):
        assert db.session.get(WarningTicket, ticket_id).status.value == "received"
        db.session.remove()


def test_a_stale_form_gets_a_chinese_page_not_a_bare_400(app, county, client_for):
    staff = client_for("wsx-t1-staff")
    response = staff.post("/admin/warnings/new", data={"csrf_token": "stale", "source_ref": "x"})
    assert response.status_code == 400
    assert "页面已过期或提交的内容无效" in response.get_data(as_text=True)
    assert tickets(app, county["id"]) == 0
