"""The dangtu plugin: 当涂县 (安徽省)."""

from jiuzhu.plugins.baseline import BaselinePlugin


class DangtuPlugin(BaselinePlugin):
    key = "dangtu"
    name = "当涂县"
    province = "安徽省"
    source_document = "《当涂县城乡低保及特困人员审核确认权限委托下放工作实施方案（试行）》（seeds/dangtu-delegation-to-townships.txt）"
