"""景德镇市: jurisdiction plugin for 景民字〔2024〕40号《关于全面提升社会救助服务能力的工作方案》."""

from plugins.jingdezhen.plugin import JingdezhenPlugin

plugin = JingdezhenPlugin()

__all__ = ["JingdezhenPlugin", "plugin"]
