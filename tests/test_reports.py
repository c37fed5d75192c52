"""The county's supervision dashboard and statistics, with the Excel export."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from tests.test_workflow_baseline import do, new_case, run_to_publicity

D = dt.date


@pytest.fixture
def county(world):
    return world.county("base", plugin="baseline", townships=2, villages=1)


def test_dashboard_shows_overdue_work_by_township_with_charts(app, county, client_for):
    overdue = new_case(app)
    run_to_publicity(app, overdue)  # publicity due 2026-10-20, long past
    approved = new_case(app)
    run_to_publicity(app, approved)
    do(app, "base-t1-staff", approved, "publicity", "no_objection", D(2026, 10, 20))
    do(app, "base-county", approved, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "900"})
    html = client_for("base-county").get("/admin/dashboard/").get_data(as_text=True)
    # the publicity only: the approved case's certificate has no limit of its own, and a decided case's
    # overall limit (办结) no longer runs — neither the worklist nor the dashboard marks it
    assert 'data-testid="total-overdue">1<' in html
    assert "<svg" in html and "各乡镇超期与即将到期" in html
    row = html.split("base第1镇</td>")[1].split("</tr>")[0]
    assert "<td>2</td>" in row  # two overdue steps in the first township
    assert "base第2镇" in html


def test_the_monthly_chart_has_twelve_months_each_once_with_the_year(app, county, client_for):
    import re

    from jiuzhu.clock import china_today

    html = client_for("base-county").get("/admin/dashboard/").get_data(as_text=True)
    chart = html[html.index("各月申请（按类别）"):]
    chart = chart[:chart.index("</svg>")]
    months = re.findall(r'fill="#4a5568">(\d+)月', chart)
    today = china_today()
    expected = [((today.month - 1 - i) % 12) + 1 for i in range(11, -1, -1)]
    assert [int(m) for m in months] == expected  # twelve bars, none twice, ending with this month
    first_year = today.year if today.month == 12 else today.year - 1
    assert f">{first_year}年</tspan>" in chart  # the year under the first month (and under January)


def test_township_leader_sees_only_its_township(app, county, client_for):
    run_to_publicity(app, new_case(app))
    html = client_for("base-t2-leader").get("/admin/dashboard/").get_data(as_text=True)
    assert "base第1镇" not in html and 'data-testid="total-overdue">0<' in html
    assert client_for("base-t1-staff").get("/admin/dashboard/").status_code == 403
    assert client_for("base-t1-village").get("/admin/statistics/").status_code == 403


def test_statistics_export_to_excel(app, county, client_for):
    approved = new_case(app)
    run_to_publicity(app, approved)
    do(app, "base-t1-staff", approved, "publicity", "no_objection", D(2026, 10, 20))
    do(app, "base-county", approved, "decision", "approve", D(2026, 10, 21), {"monthly_amount": "900"})
    client = client_for("base-county")
    assert "最低生活保障" in client.get("/admin/statistics/").get_data(as_text=True)
    resp = client.get("/admin/statistics/export.xlsx")
    wb = load_workbook(io.BytesIO(resp.data))
    ws = wb["在保对象"]
    rows = list(ws.iter_rows(values_only=True))
    # a title naming the county, the period and the day it was made, then the table
    assert rows[0][0] == "base县社会救助统计 · 在保对象"
    assert rows[1][0].startswith("统计范围：截至") and "制表日期：" in rows[1][0]
    assert rows[2] == ("乡镇（街道）", "类别", "户数", "月保障金额合计（元）")
    assert rows[3] == ("base第1镇", "最低生活保障", 1, 900)
    assert ws["D4"].number_format == "#,##0.00"
    assert ("已确认（给予救助）", 1) in list(wb["案件状态"].iter_rows(values_only=True))
    rates = wb["审核确认率"]
    assert [c.value for c in rates[3]] == ["乡镇（街道）", "确认给予", "不予确认", "确认率"]
    first = [c for c in rates[4]]
    assert first[0].value == "base第1镇" and first[3].value == 1 and first[3].number_format == "0.0%"


def test_the_dashboard_counts_overdue_work_as_the_worklists_mark_it(app, county, client_for):
    """One definition of overdue: a step past its own deadline, or — without one — past the case's
    overall limit. The county's 督办看板 total equals the overdue marks of the worklists that hold those
    steps (the township's and the county's)."""
    import re

    in_publicity = new_case(app)
    run_to_publicity(app, in_publicity)  # the publicity step ran to 2026-10-20: overdue by its own date
    awaiting_decision = new_case(app)
    run_to_publicity(app, awaiting_decision)
    do(app, "base-t1-staff", awaiting_decision, "publicity", "no_objection", D(2026, 10, 20))
    # the decision step has no limit of its own: it runs to the case's 30 working days (2026-11-17)
    marks = 0
    for user in ("base-t1-staff", "base-county"):
        worklist = client_for(user).get("/admin/casework/").get_data(as_text=True)
        marks += len(re.findall(r'data-testid="overdue"', worklist))
    dashboard = client_for("base-county").get("/admin/dashboard/").get_data(as_text=True)
    total = int(re.search(r'data-testid="total-overdue">(\d+)<', dashboard).group(1))
    assert marks == total == 2
