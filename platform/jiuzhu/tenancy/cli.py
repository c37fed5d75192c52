"""``flask --app wsgi tenants …`` and ``flask --app wsgi org …``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from jiuzhu.clihelpers import in_tenant, refused_cleanly, tenant_by_code
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgLevel, OrgUnit, Tenant
from jiuzhu.tenancy.orgfile import read_org_file
from jiuzhu.tenancy.services import create_tenant, import_org_tree

tenants_cli = AppGroup("tenants", help="县（区）租户：创建、列出、导出、导入、清除。")
org_cli = AppGroup("org", help="组织机构：从 CSV/Excel 导入乡镇和村（社区）。")


@tenants_cli.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--plugin", "plugin_key", required=True, help="地方规则插件的键，如 shexian。")
@click.option("--division-code", default=None, help="6 位行政区划代码。")
def create_tenant_command(code, name, plugin_key, division_code):
    """创建一个县（区）租户，绑定地方规则插件，并建立县级根单位。"""
    with use_scope(Scope.platform()), refused_cleanly():
        tenant = create_tenant(db.session, current_app.extensions["jiuzhu.plugins"], code=code, name=name,
                               plugin_key=plugin_key, division_code=division_code)
    click.echo(f"已创建：{tenant.name}（代码 {tenant.code}，插件 {tenant.plugin_key}，编号 {tenant.id}）")


@tenants_cli.command("list")
def list_tenants_command():
    """列出所有县（区）租户。"""
    tenants = db.session.scalars(select(Tenant).order_by(Tenant.code)).all()
    if not tenants:
        click.echo("尚无县（区）租户。")
        return
    click.echo(f"{'代码':<14}{'名称':<12}{'插件':<12}{'乡镇':>4}{'村':>6}  状态")
    for t in tenants:
        with use_scope(Scope(t.id)):
            counts = dict(db.session.execute(
                select(OrgUnit.level, func.count()).group_by(OrgUnit.level)).all())
        db.session.rollback()
        click.echo(f"{t.code:<14}{t.name:<12}{t.plugin_key:<12}{counts.get(OrgLevel.township, 0):>4}"
                   f"{counts.get(OrgLevel.village, 0):>6}  {'启用' if t.active else '停用'}")


@org_cli.command("import")
@click.argument("tenant_code")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_org_command(tenant_code, path):
    """从 CSV 或 Excel（.xlsx）导入乡镇和村（社区）；任何一行有误则整个文件不导入。"""
    with in_tenant(tenant_code) as tenant, refused_cleanly():
        rows = read_org_file(path)
        towns, villages = import_org_tree(db.session, rows)
    click.echo(f"{tenant.name}：新增乡镇（街道）{towns} 个，村（社区）{villages} 个。")


@tenants_cli.command("rls-key")
def rls_key_command():
    """JIUZHU_SECRET_KEY 更换后：以数据库所有者身份重新写入行级安全签名密钥（否则应用看不到任何数据）。"""
    from sqlalchemy import create_engine

    from jiuzhu.tenancy.rls import rls_key_matches, store_rls_key

    admin_url = current_app.config.get("JIUZHU_DATABASE_ADMIN_URL") or current_app.config["SQLALCHEMY_DATABASE_URI"]
    engine = create_engine(admin_url)
    if engine.dialect.name != "postgresql":
        click.echo("SQLite（演示）没有行级安全，无需此步骤。")
        return
    with engine.begin() as conn:
        store_rls_key(conn, current_app.config["SECRET_KEY"])
    engine.dispose()
    ok = rls_key_matches(db.session)
    db.session.remove()
    click.echo("已写入行级安全密钥；应用的签名" + ("可以通过校验。" if ok else "仍未通过校验，请检查 JIUZHU_SECRET_KEY。"))
    if not ok:
        raise SystemExit(1)


@tenants_cli.command("export")
@click.argument("code")
@click.argument("path", type=click.Path(dir_okay=False))
def export_tenant_command(code, path):
    """把一个县（区）的全部数据（各表的行、材料文件、审计链）导出为加密归档（含清单与校验和）。
    口令取自环境变量 JIUZHU_ARCHIVE_PASSPHRASE，不经命令行。导出前校验审计链（并与锚点比对），链有问题则不导出。"""
    from jiuzhu.audit.anchors import anchor_root
    from jiuzhu.tenancy.transfer import export_tenant, passphrase_from_env

    with refused_cleanly():
        passphrase = passphrase_from_env()
        with use_scope(Scope.platform()):
            tenant = tenant_by_code(code)
        result = export_tenant(db.session, tenant, path, passphrase, anchor_root(current_app))
    rows = sum(t["rows"] for t in result.manifest["tables"].values())
    click.echo(f"已导出 {result.manifest['tenant']['name']}：{rows} 行，{len(result.manifest['files'])} 个文件，"
               f"审计记录 {result.manifest['audit']['events']} 条（链完整），归档 {result.archive_bytes} 字节 → {path}")
    click.echo(f"清单校验和（SHA-256）：{result.manifest_sha256}")


@tenants_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_tenant_command(path):
    """把导出的加密归档恢复到本实例，作为一个新的县（区）：编号重新分配，个人信息以本实例的密钥重新加密、
    盲索引重算，审计链以本实例的审计密钥重新计算并记下这次导入，再锚定链头。口令取自 JIUZHU_ARCHIVE_PASSPHRASE。"""
    from jiuzhu.audit.anchors import anchor_root
    from jiuzhu.tenancy.transfer import import_tenant, passphrase_from_env

    with refused_cleanly():
        result = import_tenant(db.session, path, passphrase_from_env(), anchor_root(current_app))
    click.echo(f"已导入 {result.code}（本实例编号 {result.tenant_id}）：{result.rows} 行，其中审计记录 {result.events} 条，"
               f"已以本实例的审计密钥重新成链" + (f"并锚定（{result.anchor}）。" if result.anchor else "。"))


@tenants_cli.command("purge")
@click.argument("code")
@click.option("--archive", "archive_path", type=click.Path(exists=True, dir_okay=False),
              help="本县（区）的导出归档：须能解密、校验和相符、为平台记录中的那次导出，且与库中现有数据一致。")
@click.option("--force", is_flag=True, help="不核验导出，直接清除（数据将无法恢复）。")
def purge_tenant_command(code, archive_path, force):
    """在一个事务中删除一个县（区）的全部行和文件（其他县区不受影响），并记入平台日志。
    须先导出：给出经核验的归档（--archive），或明确使用 --force。"""
    from jiuzhu.audit.anchors import anchor_root
    from jiuzhu.tenancy.transfer import passphrase_from_env, purge_tenant, read_archive

    with refused_cleanly():
        with use_scope(Scope.platform()):
            tenant = tenant_by_code(code)
        archive = read_archive(archive_path, passphrase_from_env()) if archive_path else None
        name = tenant.name
        result = purge_tenant(db.session, tenant, archive=archive, force=force, anchor_root=anchor_root(current_app))
    click.echo(f"已清除 {name}（{result.code}）：共删除 {sum(result.rows.values())} 行"
               + ("（未核验导出，--force）。" if archive is None else "（已核验导出归档）。"))
    if result.anchors_moved_to:
        click.echo(f"其锚点已移至 {result.anchors_moved_to}。")
