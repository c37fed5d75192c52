"""The plugin registry refuses bad plugins at start-up with a clear message."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from jiuzhu.plugins import ENTRY_POINT_GROUP, PluginError, load_plugins
from jiuzhu.plugins.registry import check_api_version


def ep(name, attr):
    return EntryPoint(name=name, value=f"tests.fixtures.fake_plugins:{attr}", group=ENTRY_POINT_GROUP)


def test_loads_a_good_plugin():
    registry = load_plugins(eps=[ep("good", "good")])
    assert registry.keys() == ["good"] and registry.get("good").name == "好县"


def test_duplicate_entry_point_names_are_refused():
    with pytest.raises(PluginError, match="插件键重复：good"):
        load_plugins(eps=[ep("good", "good"), ep("good", "twin")])


def test_entry_point_name_must_match_plugin_key():
    with pytest.raises(PluginError, match="两者必须一致"):
        load_plugins(eps=[ep("good", "good"), ep("other", "twin")])


@pytest.mark.parametrize(("name", "attr"), [("future", "future"), ("oldmajor", "oldmajor")])
def test_incompatible_api_version_is_refused(name, attr):
    with pytest.raises(PluginError, match="不兼容"):
        load_plugins(eps=[ep(name, attr)])


def test_api_version_rules():
    check_api_version("1.0", "1.3")
    with pytest.raises(PluginError):
        check_api_version("1.4", "1.3")
    with pytest.raises(PluginError):
        check_api_version("2.0", "1.3")
    with pytest.raises(PluginError, match="格式错误"):
        check_api_version("one", "1.3")


def test_not_a_plugin_is_refused():
    with pytest.raises(PluginError, match="不是 JurisdictionPlugin"):
        load_plugins(eps=[ep("thing", "not_a_plugin")])


def test_import_error_is_reported_with_the_plugin_name():
    bad = EntryPoint(name="ghost", value="tests.fixtures.no_such_module:plugin", group=ENTRY_POINT_GROUP)
    with pytest.raises(PluginError, match="插件“ghost”.*无法导入"):
        load_plugins(eps=[bad])


def test_failed_validation_is_refused():
    with pytest.raises(PluginError, match="nameless.*校验失败"):
        load_plugins(eps=[ep("nameless", "nameless")])


def test_allowlist_limits_and_unknown_names_fail():
    eps = [ep("good", "good"), ep("future", "future")]
    assert load_plugins(["good"], eps=eps).keys() == ["good"]  # the bad one is never loaded
    with pytest.raises(PluginError, match="未安装：missing"):
        load_plugins(["good", "missing"], eps=eps)


def test_app_start_fails_clearly_on_unknown_allowlisted_plugin(database_urls):
    from tests.conftest import make_app

    with pytest.raises(PluginError, match="JIUZHU_PLUGINS 中的插件未安装：atlantis"):
        make_app(database_urls, JIUZHU_PLUGINS=["atlantis"])
    assert make_app(database_urls, JIUZHU_PLUGINS=["shexian"]).extensions["jiuzhu.plugins"].keys() == ["shexian"]
