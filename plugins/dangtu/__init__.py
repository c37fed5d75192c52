"""当涂县: jurisdiction plugin for 《当涂县城乡低保及特困人员审核确认权限委托下放工作实施方案（试行）》."""

from plugins.dangtu.plugin import DangtuPlugin

plugin = DangtuPlugin()

__all__ = ["DangtuPlugin", "plugin"]
