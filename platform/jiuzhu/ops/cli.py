"""``flask --app wsgi collect-static DEST``: the static files for nginx to serve."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
from flask import current_app


@click.command("collect-static")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def collect_static_command(dest: Path):
    """把静态文件（Flask-Admin 的样式与脚本）复制到 DEST，供 nginx 直接提供。"""
    app = current_app._get_current_object()
    copied = 0
    sources = [(app.static_folder, app.static_url_path)] + [
        (bp.static_folder, bp.static_url_path) for bp in app.blueprints.values() if bp.has_static_folder]
    for folder, url_path in sources:
        if not folder or not Path(folder).is_dir():
            continue
        prefix = url_path
        for bp in app.blueprints.values():  # a blueprint's static URL sits under its url_prefix
            if bp.static_folder == folder and bp.url_prefix:
                prefix = bp.url_prefix.rstrip("/") + url_path
        target = dest / prefix.strip("/")
        shutil.copytree(folder, target, dirs_exist_ok=True)
        copied += sum(1 for f in Path(folder).rglob("*") if f.is_file())
        click.echo(f"{folder} → {target}")
    click.echo(f"共复制 {copied} 个文件。")
