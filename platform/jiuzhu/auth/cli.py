"""``flask --app wsgi users …``."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import or_, select

from jiuzhu.auth.roles import Role
from jiuzhu.auth.services import create_user
from jiuzhu.clihelpers import in_tenant, refused_cleanly
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import OrgUnit
from jiuzhu.tenancy.services import county_root

users_cli = AppGroup("users", help="用户：创建。")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    line = sys.stdin.readline()
    if not line:
        raise click.ClickException("未从标准输入读到密码。用法：echo '密码' | flask --app wsgi users create …")
    return line.rstrip("\r\n")


def _find_unit(ref: str | None) -> OrgUnit:
    if not ref:
        return county_root(db.session)
    if "/" in ref:
        town_name, village_name = (p.strip() for p in ref.split("/", 1))
        town = db.session.scalar(select(OrgUnit).where(OrgUnit.name == town_name, OrgUnit.parent_id.isnot(None)))
        unit = town and db.session.scalar(
            select(OrgUnit).where(OrgUnit.parent_id == town.id, OrgUnit.name == village_name))
    else:
        matches = db.session.scalars(select(OrgUnit).where(or_(OrgUnit.division_code == ref,
                                                                 OrgUnit.name == ref))).all()
        if len(matches) > 1:
            raise click.ClickException(f"“{ref}”对应多个单位，请用“乡镇/村”或区划代码指明。")
        unit = matches[0] if matches else None
    if unit is None:
        raise click.ClickException(f"找不到单位“{ref}”（可用名称、“乡镇/村”或区划代码）。")
    return unit


@users_cli.command("create")
@click.option("--tenant", "tenant_code", help="县（区）代码；平台运维人员不填。")
@click.option("--username", required=True)
@click.option("--full-name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--org", "org_ref", help="所属单位：名称、“乡镇/村”或区划代码；县级角色可不填。")
@click.option("--phone")
@click.option("--email")
def create_user_command(tenant_code, username, full_name, role, org_ref, phone, email):
    """创建用户。密码从标准输入读取（终端中则提示输入两次）。"""
    role = Role(role)
    if role is Role.platform_operator:
        if tenant_code or org_ref:
            raise click.ClickException("平台运维人员不属于任何县（区），请不要填写 --tenant 或 --org。")
        password = _read_password()
        with use_scope(Scope.platform()):
            with refused_cleanly():
                user = create_user(db.session, username=username, full_name=full_name, role=role,
                                   password=password)
            click.echo(f"已创建平台运维人员 {user.username}。")
        return
    if not tenant_code:
        raise click.ClickException("县（区）用户须用 --tenant 指明所属县（区）。")
    with in_tenant(tenant_code) as tenant:
        unit = _find_unit(org_ref)
        password = _read_password()
        with refused_cleanly():
            user = create_user(db.session, username=username, full_name=full_name, role=role, password=password,
                               org_unit=unit, phone=phone, email=email)
        click.echo(f"已创建 {tenant.name} 的{role.label} {user.username}（{unit.name}）。")
