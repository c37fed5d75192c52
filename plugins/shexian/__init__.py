"""歙县: jurisdiction plugin for 歙民〔2024〕57号《关于低收入人口“一次申请、分类审核认定”的实施方案》."""

from plugins.shexian.plugin import ShexianPlugin

plugin = ShexianPlugin()

__all__ = ["ShexianPlugin", "plugin"]
