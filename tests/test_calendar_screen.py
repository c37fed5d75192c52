"""The platform operator enters a new year's schedule on screen."""

from __future__ import annotations

from tests.conftest import csrf_token


def test_operator_enters_2027_on_screen_and_sees_it(app, world, client_for, forget_entered_years):
    world.operator()
    op = client_for("operator")
    page = op.get("/admin/calendar/").get_data(as_text=True)
    assert "2026" in page and "chinesecalendar" in page
    resp = op.post("/admin/calendar/enter", data={
        "csrf_token": csrf_token(page), "year": "2027", "note": "国办发明电（测试）",
        "schedule": "日期,类型,名称\n2027-01-01~2027-01-03,休,元旦\n2027-02-20,班,春节调休\n"}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "2027 年节假日安排已录入" in html and "元旦：2027-01-01 至 2027-01-03（休）" in html


def test_malformed_schedule_is_refused_line_by_line(app, world, client_for, forget_entered_years):
    world.operator()
    op = client_for("operator")
    page = op.get("/admin/calendar/").get_data(as_text=True)
    resp = op.post("/admin/calendar/enter", data={
        "csrf_token": csrf_token(page), "year": "2027",
        "schedule": "日期,类型,名称\n2027-13-01,休,元旦\n2027-02-21,放,春节\n"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "第 2 行" in html and "第 3 行" in html
    assert ">2027<" not in op.get("/admin/calendar/").get_data(as_text=True)


def test_only_the_operator_keeps_the_calendar(app, world, client_for):
    world.county("cal", plugin="baseline", townships=1, villages=1)
    assert client_for("cal-admin").get("/admin/calendar/").status_code == 403
