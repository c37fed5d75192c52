"""Small helpers shared by the CLI commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import select

from jiuzhu.errors import ServiceError
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import Tenant


def tenant_by_code(code: str) -> Tenant:
    tenant = db.session.scalar(select(Tenant).where(Tenant.code == code.strip().lower()))
    if tenant is None:
        known = "、".join(db.session.scalars(select(Tenant.code).order_by(Tenant.code))) or "无"
        raise click.ClickException(f"没有代码为“{code}”的县（区）。已有：{known}。")
    return tenant


@contextmanager
def refused_cleanly() -> Iterator[None]:
    """Commit on success; on refused input roll back, print the reasons, exit 1."""
    try:
        yield
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException("未做任何修改：\n  " + "\n  ".join(exc.all_messages())) from None
    except BaseException:
        db.session.rollback()
        raise


@contextmanager
def in_tenant(code: str) -> Iterator[Tenant]:
    tenant = tenant_by_code(code)
    with use_scope(Scope(tenant.id)):
        yield tenant
