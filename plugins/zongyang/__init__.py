"""枞阳县: jurisdiction plugin for 《枞阳县社会救助工作便民惠民优化服务行动方案》（2021年9月18日）."""

from plugins.zongyang.plugin import ZongyangPlugin

plugin = ZongyangPlugin()

__all__ = ["ZongyangPlugin", "plugin"]
