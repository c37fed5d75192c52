"""Importing an existing beneficiary roll from Excel, as an RQ job with progress; a bad file is
rejected row by row and writes nothing."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import Workbook
from rq import SimpleWorker
from sqlalchemy import func, select

from jiuzhu.cases.categories import CaseStatus
from jiuzhu.cases.idcard import make_id_number
from jiuzhu.cases.models import Case
from jiuzhu.extensions import db
from jiuzhu.instance import identity, redis_connection
from jiuzhu.tenancy.context import Scope, use_scope
from tests.conftest import csrf_token

HEADER = ["乡镇（街道）", "村（社区）", "户主姓名", "户主身份证号码", "类别", "保障人数", "月保障金额", "起始年月", "地址"]


@pytest.fixture
def county(world):
    return world.county("ri", plugin="baseline", townships=2, villages=1)


def workbook(rows) -> bytes:
    wb = Workbook()
    wb.active.append(HEADER)
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def good_rows(n):
    return [["ri第1镇" if i % 2 else "ri第2镇", "ri第1镇第1村" if i % 2 else "", f"户主{i}",
             make_id_number("341021", dt.date(1950, 1, 1) + dt.timedelta(days=i), 11 + 2 * (i % 400)),
             "最低生活保障" if i % 3 else "特困人员", 1 + i % 4, 300 + i, "2025-07", f"{i}号"] for i in range(1, n + 1)]


def upload(client, content: bytes, name="花名册.xlsx"):
    page = client.get("/admin/rolls/").get_data(as_text=True)
    return client.post("/admin/rolls/upload", data={"csrf_token": csrf_token(page),
                                                     "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def cases_in(app, county):
    with app.app_context(), use_scope(Scope(county["id"])):
        n = db.session.scalar(select(func.count()).select_from(Case))
        db.session.remove()
    return n


def run_worker(app):
    with app.app_context():
        SimpleWorker([identity(app).queue_name], connection=redis_connection(app)).work(burst=True)


def test_a_good_roll_is_imported_by_an_rq_job_with_progress(app, county, client_for):
    client = client_for("ri-county")
    resp = upload(client, workbook(good_rows(120)))
    assert resp.status_code == 302
    detail = resp.headers["Location"]
    import_id = int(re.search(r"/rolls/(\d+)", detail).group(1))
    assert client.get(f"/admin/rolls/{import_id}/progress.json").json["status"] == "queued"
    run_worker(app)
    progress = client.get(f"/admin/rolls/{import_id}/progress.json").json
    assert progress == {"status": "done", "label": "已完成", "percent": 100, "created": 120, "errors": 0}
    assert "新建案件 120 件" in client.get(detail).get_data(as_text=True)
    with app.app_context(), use_scope(Scope(county["id"])):
        case = db.session.scalars(select(Case).order_by(Case.id)).first()
        assert case.status == CaseStatus.approved and case.benefit_start == dt.date(2025, 7, 1)
        assert case.covered_count == 2 and str(case.monthly_amount) == "301.00"
        db.session.remove()
    html = client_for("ri-county").get("/admin/statistics/").get_data(as_text=True)
    assert "特困人员" in html


def test_a_bad_roll_is_rejected_row_by_row_and_writes_nothing(app, county, client_for):
    rows = good_rows(5)
    rows[1][0] = "火星镇"
    rows[2][3] = rows[2][3][:-1] + ("0" if rows[2][3][-1] != "0" else "1")
    rows[3][4] = "低保户"
    rows.append(list(rows[0]))  # the same person twice
    client = client_for("ri-county")
    resp = upload(client, workbook(rows))
    run_worker(app)
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已拒绝（未写入任何数据）" in html
    errors = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td></tr>", html)
    assert [e[0] for e in errors] == ["3", "4", "5", "7"]
    assert "火星镇" in errors[0][1] and "校验位" in errors[1][1] and "类别“低保户”无效" in errors[2][1]
    assert "与第 2 行重复" in errors[3][1]
    assert cases_in(app, county) == 0


@pytest.mark.parametrize(("name", "content", "message"), [
    ("roll.csv", b"a,b", "只接受 .xlsx"),
    ("roll.xlsx", b"not excel", "无法读取 Excel 文件"),
])
def test_not_an_excel_file_is_refused_clearly(app, county, client_for, name, content, message):
    client = client_for("ri-county")
    resp = upload(client, content, name)
    run_worker(app)
    html = client.get(resp.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert message in html
    assert cases_in(app, county) == 0


def test_without_redis_the_import_runs_in_the_request(app, county, client_for):
    client = client_for("ri-county")
    own = app.config["JIUZHU_REDIS_URL"]
    app.config["JIUZHU_REDIS_URL"] = "redis://127.0.0.1:9/0"
    try:
        resp = upload(client, workbook(good_rows(3)))
    finally:
        app.config["JIUZHU_REDIS_URL"] = own
    assert "新建案件 3 件" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_imports_of_another_county_or_role_are_out_of_reach(app, world, county, client_for):
    world.county("other", plugin="baseline", townships=1, villages=1)
    resp = upload(client_for("ri-county"), workbook(good_rows(2)))
    import_id = int(re.search(r"/rolls/(\d+)", resp.headers["Location"]).group(1))
    other = client_for("other-county")
    assert other.get(f"/admin/rolls/{import_id}").status_code == 404
    assert other.get(f"/admin/rolls/{import_id}/progress.json").status_code == 404
    assert "花名册.xlsx" not in other.get("/admin/rolls/").get_data(as_text=True)
    assert client_for("ri-t1-staff").get("/admin/rolls/").status_code == 403
    run_worker(app)


def _bomb() -> bytes:
    """A zip shaped like an .xlsx whose sheet inflates to about 120 MB from a few hundred KB."""
    import zipfile

    good = zipfile.ZipFile(io.BytesIO(workbook(good_rows(1))))
    out = io.BytesIO()
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in good.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                body = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                body += row * (120 * 1024 * 1024 // len(row)) + b"</sheetData></worksheet>"
                bomb.writestr(item.filename, body)
            else:
                bomb.writestr(item, good.read(item.filename))
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_parsing_and_the_import_ends(app, county, client_for):
    content = _bomb()
    assert len(content) < 1024 * 1024
    client = client_for("ri-county")
    resp = upload(client, content)
    run_worker(app)
    progress = client.get(resp.headers["Location"] + "/progress.json")
    assert progress.json["status"] == "rejected"  # ended, not left "running"
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "解压后过大" in html
    assert cases_in(app, county) == 0


def test_a_roll_over_the_row_limit_is_refused_whole(app, county, client_for):
    from openpyxl import Workbook

    from jiuzhu.reports.rollimport import MAX_ROWS

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADER)
    row = good_rows(1)[0]
    for _ in range(MAX_ROWS + 1):
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    client = client_for("ri-county")
    resp = upload(client, out.getvalue())
    run_worker(app)
    assert f"文件超过 {MAX_ROWS} 行" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert cases_in(app, county) == 0


def test_an_import_that_fails_midway_ends_failed_and_writes_nothing(app, county, client_for, owner_engine):
    """A database refusal in the middle of writing (here: the county's org unit removed under it)
    ends the import as failed with a message, never "running" forever."""
    from sqlalchemy import text as sql

    client = client_for("ri-county")
    resp = upload(client, workbook(good_rows(3)))
    with owner_engine.begin() as conn:  # a row the import will write is refused by the database
        conn.execute(sql("ALTER TABLE households ADD CONSTRAINT no_writes CHECK (address <> '2号')"))
    try:
        run_worker(app)
    finally:
        with owner_engine.begin() as conn:
            conn.execute(sql("ALTER TABLE households DROP CONSTRAINT no_writes"))
    progress = client.get(resp.headers["Location"] + "/progress.json").json
    assert progress["status"] == "failed"
    assert "未写入任何数据" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert cases_in(app, county) == 0
