"""``flask --app wsgi audit verify|anchor``: check every county's keyed chain against its anchors,
and anchor the chain heads outside the database."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from jiuzhu.audit.anchors import anchor_all, anchor_root, read_anchors
from jiuzhu.audit.services import Break, BreakKind, check_chain
from jiuzhu.clihelpers import tenant_by_code
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import Tenant

audit_cli = AppGroup("audit", help="审计日志：校验密钥哈希链，锚定链头。")


@audit_cli.command("verify")
@click.option("--tenant", "tenant_code", help="只校验这个县（区）；默认校验全部。")
def verify_command(tenant_code):
    """逐条以审计密钥重算哈希，并与库外的锚点比对；报告被改动、被删除的记录、链头不符和与锚点不符之处；
    发现问题则以状态 1 退出。"""
    with use_scope(Scope.platform()):
        if tenant_code:
            tenants = [tenant_by_code(tenant_code)]
        else:
            tenants = db.session.scalars(select(Tenant).order_by(Tenant.code)).all()
        tenants = [(t.id, t.code, t.name) for t in tenants]
        db.session.rollback()
    if not tenants:
        click.echo("尚无县（区）租户。")
        return
    root = anchor_root(current_app)
    if root is None:
        click.echo("注意：未设置 JIUZHU_AUDIT_ANCHOR_DIR，没有锚点可比对——持有审计密钥者对记录的改写无法发现。")
    broken = False
    for tenant_id, code, name in tenants:
        anchors, bad = read_anchors(root, tenant_id, code) if root is not None else ([], [])
        with use_scope(Scope(tenant_id)):
            try:
                report = check_chain(db.session, tenant_id, anchors=anchors)
            finally:
                db.session.rollback()
        breaks = list(report.breaks) + [Break(BreakKind.anchor_invalid, None, f"{b.path.name} {b.problem}")
                                        for b in bad]
        latest = report.latest_anchor
        anchored = (f"，与 {len(anchors)} 个锚点相符（最近一次 {latest.when}，第 {latest.seq} 条）" if latest
                    else ("，尚无锚点" if root is not None else ""))
        if not breaks:
            click.echo(f"{name}：共 {report.events} 条，链完整{anchored}")
            continue
        broken = True
        click.echo(f"{name}：共 {report.events} 条，发现 {len(breaks)} 处问题")
        for problem in breaks:
            click.echo(f"  {problem.message}")
    if not tenant_code:
        from jiuzhu.audit.platform_log import verify as verify_platform

        with use_scope(Scope.platform()):
            try:
                platform = verify_platform(db.session)
            finally:
                db.session.rollback()
        if platform.events:
            click.echo(f"平台记录（县区的导出、导入、清除）：共 {platform.events} 条，"
                       + ("链完整" if platform.ok else f"发现 {len(platform.problems)} 处问题"))
            for problem in platform.problems:
                click.echo(f"  {problem}")
            broken = broken or not platform.ok
    if broken:
        raise SystemExit(1)


@audit_cli.command("anchor")
@click.option("--tenant", "tenant_codes", multiple=True, help="只锚定这个县（区）（可重复）；默认全部启用的县（区）。")
def anchor_command(tenant_codes):
    """先核对各县（区）自上次锚定以来的记录，再把链头（条数与哈希）写入 JIUZHU_AUDIT_ANCHOR_DIR 下的签名锚点文件；
    链有问题的县（区）不锚定，以状态 1 退出。rq cron 每天自动执行一次。"""
    if anchor_root(current_app) is None:
        raise click.ClickException("未设置 JIUZHU_AUDIT_ANCHOR_DIR（库外的锚点目录），无法锚定。")
    if tenant_codes:
        with use_scope(Scope.platform()):
            for code in tenant_codes:
                tenant_by_code(code)
            db.session.rollback()
    results = anchor_all(current_app, [c.strip().lower() for c in tenant_codes] or None)
    refused = False
    for r in results:
        if r.path is not None:
            click.echo(f"{r.tenant_name}：已锚定第 {r.seq} 条（{r.path}）")
        else:
            refused = True
            click.echo(f"{r.tenant_name}：未锚定，发现 {len(r.refused)} 处问题")
            for message in r.refused:
                click.echo(f"  {message}")
    if refused:
        raise SystemExit(1)
