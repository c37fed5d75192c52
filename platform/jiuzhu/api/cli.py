"""``flask --app wsgi tokens create|revoke|list``."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from jiuzhu.api.models import ApiToken
from jiuzhu.api.tokens import create_token, revoke_token
from jiuzhu.auth.cli import _find_unit
from jiuzhu.auth.models import User
from jiuzhu.auth.roles import TENANT_ROLES, Role
from jiuzhu.clihelpers import in_tenant, refused_cleanly
from jiuzhu.extensions import db

tokens_cli = AppGroup("tokens", help="接口令牌：创建、吊销、列出。")


@tokens_cli.command("create")
@click.option("--tenant", "tenant_code", required=True, help="县（区）代码。")
@click.option("--name", required=True, help="令牌名称，如“省政务服务平台”，记入审计日志。")
@click.option("--user", "username", help="代表该用户（个人令牌）；不填则为集成创建服务用户。")
@click.option("--role", type=click.Choice([r.value for r in TENANT_ROLES if r is not Role.county_admin]),
              help="集成令牌的角色。")
@click.option("--org", "org_ref", help="集成令牌的所属单位：名称、“乡镇/村”或区划代码；县级角色可不填。")
def create_command(tenant_code, name, username, role, org_ref):
    """创建令牌。密钥只显示这一次，请妥善保存。"""
    if bool(username) == bool(role):
        raise click.ClickException("请用 --user 指定个人，或用 --role（及 --org）创建集成令牌，二者选一。")
    with in_tenant(tenant_code) as tenant:
        user = None
        if username:
            user = db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
            if user is None:
                raise click.ClickException(f"{tenant.name}没有用户“{username}”。")
        unit = _find_unit(org_ref) if role else None
        with refused_cleanly():
            issued = create_token(db.session, None, name=name, user=user, role=role, org_unit=unit)
        click.echo(f"已为{tenant.name}创建令牌“{name}”（编号 {issued.token.id}）。密钥只显示这一次：")
        click.echo(issued.secret)


@tokens_cli.command("revoke")
@click.option("--tenant", "tenant_code", required=True)
@click.argument("token_id", type=int)
def revoke_command(tenant_code, token_id):
    """吊销令牌（立即失效）。"""
    with in_tenant(tenant_code), refused_cleanly():
        token = revoke_token(db.session, None, token_id)
        click.echo(f"已吊销令牌“{token.name}”。")


@tokens_cli.command("list")
@click.option("--tenant", "tenant_code", required=True)
def list_command(tenant_code):
    """列出本县（区）的令牌：编号、名称、角色、状态、最近使用。"""
    with in_tenant(tenant_code):
        for t in db.session.scalars(select(ApiToken).order_by(ApiToken.id)):
            state = f"已吊销 {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "有效"
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "从未使用"
            click.echo(f"{t.id}\t{t.name}\t{t.prefix}…\t{t.user.role.label}\t{t.user.username}\t{state}\t{used}")


@tokens_cli.command("purge")
@click.option("--tenant", "tenant_code", required=True)
@click.option("--days", type=int, default=None, help="保留天数（默认 JIUZHU_API_IDEMPOTENCY_DAYS）。")
def purge_command(tenant_code, days):
    """删除超过保留期的幂等请求记录（rq cron 每日自动执行）。"""
    from flask import current_app

    from jiuzhu.api.tokens import purge_idempotency

    with refused_cleanly(), in_tenant(tenant_code):
        configured = current_app.config.get("JIUZHU_API_IDEMPOTENCY_DAYS") or 30
        n = purge_idempotency(db.session, days=configured if days is None else days)
        db.session.commit()
        click.echo(f"已删除 {n} 条超过保留期的幂等请求记录。")
