"""The ningxia plugin: 宁夏回族自治区 (宁夏回族自治区)."""

from jiuzhu.plugins.baseline import BaselinePlugin


class NingxiaPlugin(BaselinePlugin):
    key = "ningxia"
    name = "宁夏回族自治区"
    province = "宁夏回族自治区"
    source_document = "自治区民政厅《关于全面推行最低生活保障等社会救助审核确认权限下放乡镇（街道）的实施方案》（seeds/ningxia-delegation-to-townships.txt）"
