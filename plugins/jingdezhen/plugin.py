"""The jingdezhen plugin: 景德镇市 (江西省)."""

from jiuzhu.plugins.baseline import BaselinePlugin


class JingdezhenPlugin(BaselinePlugin):
    key = "jingdezhen"
    name = "景德镇市"
    province = "江西省"
    source_document = "景民字〔2024〕40号《关于全面提升社会救助服务能力的工作方案》（seeds/jingdezhen-2024-service-capacity-plan.txt）"
