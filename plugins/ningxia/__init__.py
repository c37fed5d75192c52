"""宁夏回族自治区: jurisdiction plugin for 自治区民政厅《关于全面推行最低生活保障等社会救助审核确认权限下放乡镇（街道）的实施方案》."""

from plugins.ningxia.plugin import NingxiaPlugin

plugin = NingxiaPlugin()

__all__ = ["NingxiaPlugin", "plugin"]
