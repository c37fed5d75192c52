"""The shexian plugin: 歙县 (安徽省)."""

from jiuzhu.plugins.baseline import BaselinePlugin


class ShexianPlugin(BaselinePlugin):
    key = "shexian"
    name = "歙县"
    province = "安徽省"
    source_document = "歙民〔2024〕57号《关于低收入人口“一次申请、分类审核认定”的实施方案》（seeds/shexian-2024-one-application-classified-review.txt）"
