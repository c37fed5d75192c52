"""``flask --app wsgi audit verify``: check every county's hash chain."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from jiuzhu.audit.services import check_chain
from jiuzhu.clihelpers import tenant_by_code
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import Tenant

audit_cli = AppGroup("audit", help="审计日志：校验哈希链。")


@audit_cli.command("verify")
@click.option("--tenant", "tenant_code", help="只校验这个县（区）；默认校验全部。")
def verify_command(tenant_code):
    """逐条重算审计记录的哈希，报告被改动、被删除的记录和链头不符；发现问题则以状态 1 退出。"""
    if tenant_code:
        tenants = [tenant_by_code(tenant_code)]
    else:
        tenants = db.session.scalars(select(Tenant).order_by(Tenant.code)).all()
    if not tenants:
        click.echo("尚无县（区）租户。")
        return
    broken = False
    for tenant in tenants:
        name = tenant.name
        with use_scope(Scope(tenant.id)):
            report = check_chain(db.session, tenant.id)
        db.session.rollback()
        if report.ok:
            click.echo(f"{name}：共 {report.events} 条，链完整")
            continue
        broken = True
        click.echo(f"{name}：共 {report.events} 条，发现 {len(report.breaks)} 处问题")
        for problem in report.breaks:
            click.echo(f"  {problem.message}")
    if broken:
        raise SystemExit(1)
