"""Operator commands: tenants, org-tree import, users. Bad input is refused and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from jiuzhu.auth.models import User
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgLevel, OrgUnit, Tenant


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args, input=None):
        result = runner.invoke(args=list(args), input=input)
        with app.app_context():
            db.session.remove()
        return result

    return run


def counts(app, code):
    with app.app_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.code == code))
        if tenant is None:
            return None
        with use_scope(Scope(tenant.id)):
            by_level = dict(db.session.execute(select(OrgUnit.level, func.count()).group_by(OrgUnit.level)).all())
            users = db.session.scalar(select(func.count()).select_from(User))
        db.session.remove()
    return {lvl.value: n for lvl, n in by_level.items()}, users


def test_create_and_list_tenants(app, cli):
    r = cli("tenants", "create", "shexian", "歙县", "--plugin", "shexian", "--division-code", "341021")
    assert r.exit_code == 0, r.output
    assert "已创建：歙县" in r.output
    assert counts(app, "shexian") == ({"county": 1}, 0)
    r = cli("tenants", "list")
    assert "shexian" in r.output and "歙县" in r.output and "启用" in r.output


@pytest.mark.parametrize(("args", "message"), [
    (["x-ok", "某县", "--plugin", "atlantis"], "插件“atlantis”未安装或未启用"),
    (["Bad Code", "某县", "--plugin", "shexian"], "代码“bad code”无效"),
    (["okcode", "某县", "--plugin", "shexian", "--division-code", "12ab"], "区划代码“12ab”格式错误"),
])
def test_bad_tenant_input_is_refused_and_writes_nothing(app, cli, args, message):
    r = cli("tenants", "create", *args)
    assert r.exit_code == 1
    assert "未做任何修改" in r.output and message in r.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Tenant)) == 0


def test_duplicate_tenant_code_is_refused(app, cli):
    assert cli("tenants", "create", "dangtu", "当涂县", "--plugin", "dangtu").exit_code == 0
    r = cli("tenants", "create", "dangtu", "另一个", "--plugin", "dangtu")
    assert r.exit_code == 1 and "已被使用" in r.output


CSV = """乡镇,乡镇区划代码,村,村区划代码
溪头镇,341021107,溪头村,
溪头镇,341021107,汪满田村,
徽城镇,,城东社区,
徽城镇,,,
"""


def test_import_org_tree_from_csv(app, cli, tmp_path):
    cli("tenants", "create", "shexian", "歙县", "--plugin", "shexian")
    path = tmp_path / "org.csv"
    path.write_text(CSV, encoding="utf-8")
    r = cli("org", "import", "shexian", str(path))
    assert r.exit_code == 0, r.output
    assert "新增乡镇（街道）2 个，村（社区）3 个" in r.output
    assert counts(app, "shexian") == ({"county": 1, "township": 2, "village": 3}, 0)
    # Importing again adds nothing.
    assert "新增乡镇（街道）0 个，村（社区）0 个" in cli("org", "import", "shexian", str(path)).output


def test_import_org_tree_from_excel_in_gb18030_headers(app, cli, tmp_path):
    cli("tenants", "create", "dangtu", "当涂县", "--plugin", "dangtu")
    wb = Workbook()
    ws = wb.active
    ws.append(["乡镇（街道）", "村（社区）"])
    ws.append(["姑孰镇", "湖西社区"])
    ws.append(["当涂经济开发区", "太白村"])
    path = tmp_path / "org.xlsx"
    wb.save(path)
    r = cli("org", "import", "dangtu", str(path))
    assert r.exit_code == 0, r.output
    assert counts(app, "dangtu") == ({"county": 1, "township": 2, "village": 2}, 0)


def test_csv_in_gb18030_is_read(app, cli, tmp_path):
    cli("tenants", "create", "dangtu", "当涂县", "--plugin", "dangtu")
    path = tmp_path / "org.csv"
    path.write_bytes("乡镇,村\n姑孰镇,桃花村\n".encode("gb18030"))
    assert cli("org", "import", "dangtu", str(path)).exit_code == 0
    assert counts(app, "dangtu")[0]["village"] == 1


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.csv", "镇,村\n溪头镇,溪头村\n", "至少包含“乡镇”列"),
    ("bad.csv", "乡镇,村,村区划代码\n溪头镇,溪头村,12345\n溪头镇,汪村,\n", "第 2 行：区划代码“12345”格式错误"),
    ("bad.csv", "乡镇,村\n溪头镇,溪头村\n溪头镇,溪头村\n", "第 3 行：“溪头镇·溪头村”重复出现"),
    ("bad.csv", "乡镇,村\n,溪头村\n", "第 2 行：乡镇（街道）名称为空"),
    ("bad.txt", "乡镇\n溪头镇\n", "不支持的文件类型"),
    ("bad.xlsx", "not an excel file", "无法读取 Excel 文件"),
    ("bad.csv", "", "文件为空"),
])
def test_malformed_org_file_is_refused_and_writes_nothing(app, cli, tmp_path, name, content, message):
    cli("tenants", "create", "shexian", "歙县", "--plugin", "shexian")
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    r = cli("org", "import", "shexian", str(path))
    assert r.exit_code == 1, r.output
    assert message in r.output
    assert counts(app, "shexian") == ({"county": 1}, 0)


def test_import_into_unknown_tenant_is_refused(app, cli, tmp_path):
    path = tmp_path / "org.csv"
    path.write_text(CSV, encoding="utf-8")
    r = cli("org", "import", "nowhere", str(path))
    assert r.exit_code == 1 and "没有代码为“nowhere”的县（区）" in r.output


def test_create_users_with_password_from_stdin(app, cli, tmp_path):
    cli("tenants", "create", "shexian", "歙县", "--plugin", "shexian")
    path = tmp_path / "org.csv"
    path.write_text(CSV, encoding="utf-8")
    cli("org", "import", "shexian", str(path))
    r = cli("users", "create", "--tenant", "shexian", "--username", "xt-staff", "--full-name", "汪某",
            "--role", "township_staff", "--org", "溪头镇", input="Strong-pass-1\n")
    assert r.exit_code == 0, r.output
    assert "已创建 歙县 的乡镇（街道）经办人员 xt-staff（溪头镇）" in r.output
    r = cli("users", "create", "--tenant", "shexian", "--username", "xt-v", "--full-name", "张某",
            "--role", "village_assistant", "--org", "溪头镇/溪头村", input="Strong-pass-1\n")
    assert r.exit_code == 0, r.output
    r = cli("users", "create", "--username", "ops", "--full-name", "运维", "--role", "platform_operator",
            input="Strong-pass-1\n")
    assert r.exit_code == 0, r.output
    from tests.conftest import login

    assert login(app.test_client(), "xt-staff", "Strong-pass-1").status_code == 302
    assert login(app.test_client(), "ops", "Strong-pass-1").status_code == 302


@pytest.mark.parametrize(("args", "password", "message"), [
    (["--role", "township_staff", "--org", "溪头镇"], "short", "密码至少需要"),
    (["--role", "village_assistant", "--org", "溪头镇"], "Strong-pass-1", "须隶属于村（社区）"),
    (["--role", "county_staff", "--org", "火星镇"], "Strong-pass-1", "找不到单位“火星镇”"),
])
def test_bad_user_input_is_refused_and_writes_nothing(app, cli, tmp_path, args, password, message):
    cli("tenants", "create", "shexian", "歙县", "--plugin", "shexian")
    path = tmp_path / "org.csv"
    path.write_text(CSV, encoding="utf-8")
    cli("org", "import", "shexian", str(path))
    r = cli("users", "create", "--tenant", "shexian", "--username", "someone", "--full-name", "某人", *args,
            input=password + "\n")
    assert r.exit_code == 1, r.output
    assert message in r.output
    assert counts(app, "shexian")[1] == 0


def test_usernames_are_unique_across_tenants(app, cli):
    cli("tenants", "create", "shexian", "歙县", "--plugin", "shexian")
    cli("tenants", "create", "dangtu", "当涂县", "--plugin", "dangtu")
    ok = cli("users", "create", "--tenant", "shexian", "--username", "Admin1", "--full-name", "甲",
             "--role", "county_admin", input="Strong-pass-1\n")
    assert ok.exit_code == 0, ok.output
    r = cli("users", "create", "--tenant", "dangtu", "--username", "admin1", "--full-name", "乙",
            "--role", "county_admin", input="Strong-pass-1\n")
    assert r.exit_code == 1 and "用户名“admin1”已被使用" in r.output


def test_org_level_of_roles(app, cli):
    cli("tenants", "create", "shexian", "歙县", "--plugin", "shexian")
    with app.app_context():
        tenant = db.session.scalar(select(Tenant))
        with use_scope(Scope(tenant.id)):
            root = db.session.scalar(select(OrgUnit))
            assert root.level == OrgLevel.county and root.parent_id is None
        db.session.remove()


def test_cli_modules_exist():
    root = Path(__file__).resolve().parent.parent / "platform" / "jiuzhu"
    assert (root / "tenancy" / "cli.py").exists() and (root / "auth" / "cli.py").exists()
