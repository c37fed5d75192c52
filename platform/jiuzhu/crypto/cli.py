"""``flask --app wsgi keys status|rotate|retire``: where every encrypted value stands, moving them to
the active key online, and retiring a key nothing uses any more."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from jiuzhu.crypto.keys import PURPOSES, read_key_file, remove_key, write_key_file
from jiuzhu.crypto.rotation import field_status, index_status, rotate_blind_indexes, rotate_fields
from jiuzhu.crypto.types import keyring
from jiuzhu.extensions import db

keys_cli = AppGroup("keys", help="密钥：各密钥下的密文数量，在线轮换，停用旧密钥。")

PURPOSE_LABELS = {"field": "字段加密（SM4-GCM）", "blind_index": "盲索引（HMAC-SM3）", "audit": "审计链（HMAC-SM3）"}


def _tenant_ids(codes) -> list[int] | None:
    if not codes:
        return None
    from jiuzhu.clihelpers import tenant_by_code

    return [tenant_by_code(code).id for code in codes]


def _fmt(counts: dict, active: str) -> str:
    parts = []
    for key_id in sorted(counts, key=lambda k: (k != active, str(k))):
        name = "明文（未加密）" if key_id is None else key_id + ("（当前）" if key_id == active else "")
        parts.append(f"{name} {counts[key_id]}")
    return "，".join(parts)


def usage(tenant_ids=None) -> dict[str, int]:
    """Values, indexes and events per key id, over every county (what ``status`` and ``retire`` read)."""
    totals: dict[str, int] = {}
    for col in field_status(db.session, db.metadata, tenant_ids):
        for key_id, n in col.counts.items():
            totals[str(key_id)] = totals.get(str(key_id), 0) + n
    for counts in index_status(db.session, tenant_ids).values():
        for key_id, n in counts.items():
            totals[str(key_id)] = totals.get(str(key_id), 0) + n
    return totals


@keys_cli.command("status")
@click.option("--tenant", "tenant_codes", multiple=True, help="只统计这个县（区）（可重复）。")
def status_command(tenant_codes):
    """每个加密字段、盲索引和审计链在各密钥下的数量；仍有旧密钥下的值时提示运行 rotate。"""
    keys = keyring()
    click.echo(f"密钥来源：{keys.source}")
    for purpose in PURPOSES:
        ks = keys.purpose(purpose)
        click.echo(f"  {PURPOSE_LABELS[purpose]}：当前 {ks.active_id}；已配置 {'、'.join(ks.ids)}")
    tenant_ids = _tenant_ids(tenant_codes)
    stale = 0
    click.echo("加密字段：")
    for col in field_status(db.session, db.metadata, tenant_ids):
        if not col.counts:
            continue
        click.echo(f"  {col.table}.{col.column}：{_fmt(col.counts, keys.field.active_id)}")
        stale += sum(n for k, n in col.counts.items() if k != keys.field.active_id)
    click.echo("盲索引与审计链：")
    for name, counts in index_status(db.session, tenant_ids).items():
        active = keys.audit.active_id if name.startswith("audit_events") else keys.blind_index.active_id
        click.echo(f"  {name}：{_fmt(counts, active)}")
        if not name.startswith("audit_events"):
            stale += sum(n for k, n in counts.items() if k != active)
    if stale:
        click.echo(f"仍有 {stale} 个值或索引不在当前密钥下：请运行 flask --app wsgi keys rotate（盲索引加 --blind-index）。")
    else:
        click.echo("全部加密字段和盲索引都在当前密钥下。")


@keys_cli.command("rotate")
@click.option("--blind-index", "blind_index", is_flag=True, help="重算盲索引（在加入新的盲索引密钥之后）。")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 10000), help="每批（每个事务）的行数。")
@click.option("--tenant", "tenant_codes", multiple=True, help="只处理这个县（区）（可重复）。")
@click.option("--max-batches", type=click.IntRange(1), help="处理这么多批后停止（分时段轮换）；再次运行从剩下的继续。")
def rotate_command(blind_index, batch, tenant_codes, max_batches):
    """把不在当前密钥下的每个值重新加密（或重算盲索引），分批提交；可随时中断，再次运行从剩下的继续；
    运行期间系统照常使用，并发写入不会丢失。"""
    tenant_ids = _tenant_ids(tenant_codes)
    started = time.monotonic()
    last_line = [0.0]

    def progress(line: str) -> None:
        now = time.monotonic()
        if now - last_line[0] >= 5:
            last_line[0] = now
            click.echo(f"  …{line}")

    if blind_index:
        report = rotate_blind_indexes(db.session, tenant_ids=tenant_ids, batch=batch, progress=progress,
                                      max_batches=max_batches)
        what, active = "盲索引", keyring().blind_index.active_id
    else:
        report = rotate_fields(db.session, db.metadata, tenant_ids=tenant_ids, batch=batch, progress=progress,
                               max_batches=max_batches)
        what, active = "加密值", keyring().field.active_id
    seconds = time.monotonic() - started
    rate = f"，{report.done / seconds:.0f} 个/秒" if report.done and seconds > 0 else ""
    click.echo(f"已将 {report.done} 个{what}转到当前密钥 {active}（用时 {seconds:.1f} 秒{rate}）。")
    if report.stopped:
        click.echo("已按 --max-batches 停止；再次运行从剩下的继续。")
        return
    if report.unfinished:
        tables = "、".join(sorted({t for _, t in report.unfinished}))
        click.echo(f"仍有值在旧密钥下（{tables}）：可能有进程尚未重启、仍用旧密钥写入。重启全部进程后再运行一次。")
        raise SystemExit(1)


@keys_cli.command("retire")
@click.argument("key_id")
def retire_command(key_id):
    """从 JIUZHU_KEYS_FILE 删除一个不再使用的密钥（非当前密钥，且没有任何值、索引、审计记录或锚点使用它）。"""
    path = current_app.config.get("JIUZHU_KEYS_FILE")
    if not path:
        raise click.ClickException("密钥来自 JIUZHU_KEYS 环境变量：请在密钥管理处删除，本命令只修改 JIUZHU_KEYS_FILE。")
    keys = keyring()
    purpose = next((p for p in PURPOSES if key_id in keys.purpose(p).keys), None)
    if purpose is None:
        raise click.ClickException(f"没有编号为“{key_id}”的密钥。")
    if keys.purpose(purpose).active_id == key_id:
        raise click.ClickException(f"{key_id} 是当前的{PURPOSE_LABELS[purpose]}密钥，不能停用；请先加入新密钥并轮换。")
    n = usage().get(key_id, 0)
    if purpose == "audit":
        n += _anchors_signed_with(key_id)
    if n:
        hint = "审计记录和锚点永远以原密钥校验，不能停用" if purpose == "audit" else "请先运行 flask --app wsgi keys rotate"
        raise click.ClickException(f"仍有 {n} 个值、索引、审计记录或锚点使用 {key_id}：{hint}。")
    document = read_key_file(path)
    remove_key(document, key_id)
    write_key_file(path, document, replace=True)
    click.echo(f"已从 {path} 删除密钥 {key_id}。请重启全部进程。")


def _anchors_signed_with(key_id: str) -> int:
    import json

    from jiuzhu.audit.anchors import anchor_root

    root = anchor_root(current_app)
    if root is None or not root.is_dir():
        return 0
    n = 0
    for path in root.glob("*/*.json"):
        try:
            n += json.loads(path.read_text(encoding="utf-8")).get("key_id") == key_id
        except (OSError, ValueError):
            continue
    return n


__all__ = ["keys_cli", "usage"]
