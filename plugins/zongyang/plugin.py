"""The zongyang plugin: 枞阳县 (安徽省)."""

from jiuzhu.plugins import JurisdictionPlugin


class ZongyangPlugin(JurisdictionPlugin):
    key = "zongyang"
    name = "枞阳县"
    province = "安徽省"
    source_document = "《枞阳县社会救助工作便民惠民优化服务行动方案》（2021年9月18日）（seeds/zongyang-2021-convenience-action-plan.txt）"
