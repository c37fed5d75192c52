"""``flask --app wsgi calendar …``: show, list, enter from CSV, add-workdays. Bad input writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jiuzhu.calendar.models import CalendarException, CalendarYear
from jiuzhu.extensions import db

pytestmark = pytest.mark.usefixtures("forget_entered_years")

SCHEDULE_2027 = """日期,类型,名称
2027-01-01~2027-01-03,休,元旦
2027-02-06～2027-02-14,休,春节
2027-02-20,班,春节调休
2027-04-03~2027-04-05,休,清明节
2027-04-25,班,劳动节调休
2027-05-01~2027-05-05,休,劳动节
2027-05-08,班,劳动节调休
2027-06-09,休,端午节
2027-09-15,休,中秋节
2027-09-26,班,国庆节调休
2027-10-01~2027-10-07,休,国庆节
2027-10-09,班,国庆节调休
"""


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args):
        result = runner.invoke(args=["calendar", *args])
        with app.app_context():
            db.session.remove()
        return result

    return run


def counts(app) -> tuple[int, int]:
    with app.app_context():
        out = (db.session.scalar(select(func.count()).select_from(CalendarYear)),
               db.session.scalar(select(func.count()).select_from(CalendarException)))
        db.session.remove()
    return out


def write(tmp_path, text: str, name: str = "2027.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_show_a_seeded_year(cli):
    r = cli("show", "2026")
    assert r.exit_code == 0, r.output
    assert "2026 年：已发布（chinesecalendar 软件包，录入人 chinesecalendar" in r.output
    assert "国庆节：2026-10-01（星期四） 至 2026-10-07（星期三），共 7 天" in r.output
    assert "春节：2026-02-15（星期日） 至 2026-02-23（星期一），共 9 天" in r.output
    assert "2026-10-10（星期六）  国庆节调休" in r.output


def test_show_an_unpublished_year(cli):
    r = cli("show", "2027")
    assert r.exit_code == 0 and "2027 年：放假安排尚未发布" in r.output and "暂定" in r.output


def test_list_years(cli):
    r = cli("list")
    assert r.exit_code == 0
    assert "2004" in r.output and "2026" in r.output and "chinesecalendar 1." in r.output


def test_add_workdays(cli):
    r = cli("add-workdays", "2026-09-30", "7")
    assert r.exit_code == 0, r.output
    assert "2026-09-30（星期三） 后第 7 个工作日（当日不计）：2026-10-15（星期四）" in r.output
    assert "不是暂定" in r.output


def test_add_workdays_into_an_unpublished_year_is_provisional(cli):
    r = cli("add-workdays", "2026-12-28", "5")
    assert "2027-01-04（星期一）" in r.output and "暂定：2027 年的放假安排尚未发布" in r.output


@pytest.mark.parametrize(("args", "message"), [
    (["2026-02-30", "3"], "日期“2026-02-30”无效"),
    (["2003-06-01", "3"], "超出工作日历的范围"),
    (["2026-09-30", "-1"], "-1"),
])
def test_add_workdays_bad_input(cli, args, message):
    r = cli("add-workdays", *args)
    assert r.exit_code != 0 and message in r.output


def test_enter_a_year_from_csv(app, cli, tmp_path):
    r = cli("enter", "2027", write(tmp_path, SCHEDULE_2027), "--note", "国办发明电〔2026〕xx号", "--by", "ops")
    assert r.exit_code == 0, r.output
    assert "已录入 2027 年放假安排：休假日 29 天，调休上班日 5 天。" in r.output
    r = cli("add-workdays", "2026-12-28", "5")
    assert "2027-01-05（星期二）" in r.output and "不是暂定" in r.output
    r = cli("show", "2027")
    assert "平台运维人员录入，录入人 ops" in r.output and "依据：国办发明电〔2026〕xx号" in r.output
    assert "元旦：2027-01-01（星期五） 至 2027-01-03（星期日），共 3 天" in r.output
    # Entering it again is refused; --replace corrects it.
    again = cli("enter", "2027", write(tmp_path, SCHEDULE_2027), "--by", "ops")
    assert again.exit_code == 1 and "2027 年的放假安排已经发布" in again.output and "--replace" in again.output
    fixed = SCHEDULE_2027.replace("2027-06-09,休,端午节", "2027-06-09~2027-06-11,休,端午节")
    r = cli("enter", "2027", write(tmp_path, fixed), "--by", "ops", "--replace")
    assert r.exit_code == 0 and "已替换 2027 年放假安排：休假日 31 天" in r.output


def test_enter_with_english_headers_in_gb18030(cli, tmp_path):
    text = "date,kind,name\n2027-01-01,holiday,元旦\n2027-10-01~2027-10-07,Holiday,国庆节\n2027-10-09,workday,国庆节调休\n"
    r = cli("enter", "2027", write(tmp_path, text, encoding="gb18030"), "--by", "ops")
    assert r.exit_code == 0, r.output
    assert "休假日 8 天，调休上班日 1 天" in r.output


@pytest.mark.parametrize(("content", "messages"), [
    ("", ["文件为空"]),
    ("日期,名称\n2027-01-01,元旦\n", ["表头：日期,类型,名称"]),
    ("日期,类型,名称\n", ["没有数据行"]),
    ("日期,类型,名称\n2027-01-01,休,元旦\n2027-13-01,休,某节\n2027-02-02,假,某节\n",
     ["第 3 行：日期“2027-13-01”无效", "第 4 行：类型“假”无效"]),
    ("日期,类型,名称\n2027-01-01~2027-01-03,休,元旦\n2027-01-06,班,元旦调休\n2027-01-02,班,元旦调休\n"
     "2028-01-01,休,元旦\n2027-03-01,休,\n",
     ["第 3 行：调休上班日 2027-01-06 是星期三，不是周末",
      "第 4 行：2027-01-02 同时列为休假日和调休上班日（另见第 2 行）",
      "第 5 行：休假日 2028-01-01 不在 2027 年内",
      "第 6 行：2027-03-01 缺少名称"]),
    # Unreadable rows and refused rows are reported together.
    ("日期,类型,名称\n2027-01-01,休,元旦\n2027-01-05,班,元旦调休\nnot-a-date,休,x\n",
     ["第 3 行：调休上班日 2027-01-05 是星期二", "第 4 行：日期“not-a-date”无效"]),
])
def test_malformed_csv_is_refused_and_writes_nothing(app, cli, tmp_path, content, messages):
    before = counts(app)
    r = cli("enter", "2027", write(tmp_path, content), "--by", "ops")
    assert r.exit_code == 1, r.output
    assert "未做任何修改" in r.output
    for message in messages:
        assert message in r.output
    assert counts(app) == before
    assert "暂定" in cli("add-workdays", "2026-12-28", "5").output


def test_unsupported_file_type(cli, tmp_path):
    r = cli("enter", "2027", write(tmp_path, SCHEDULE_2027, name="2027.xlsx"), "--by", "ops")
    assert r.exit_code == 1 and "不支持的文件类型" in r.output
