"""Loading jurisdiction plugins from the ``jiuzhu.jurisdictions`` entry-point group.

Start-up fails with a clear :class:`PluginError` when a plugin cannot be imported, is not a
:class:`JurisdictionPlugin`, declares an incompatible API version, shares a key with another, fails
its own validation, or when the allowlist names a plugin that is not installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib.metadata import EntryPoint, entry_points

from jiuzhu.plugins.base import PLUGIN_API_VERSION, JurisdictionPlugin

ENTRY_POINT_GROUP = "jiuzhu.jurisdictions"


class PluginError(RuntimeError):
    """A plugin problem that stops start-up."""


def _parse_version(value: str) -> tuple[int, int]:
    try:
        major, minor = (int(p) for p in str(value).split("."))
    except ValueError:
        raise PluginError(f"API 版本号 {value!r} 格式错误，应为“主版本.次版本”，如 {PLUGIN_API_VERSION}") from None
    return major, minor


def check_api_version(plugin_version: str, core_version: str = PLUGIN_API_VERSION) -> None:
    p_major, p_minor = _parse_version(plugin_version)
    c_major, c_minor = _parse_version(core_version)
    if p_major != c_major or p_minor > c_minor:
        raise PluginError(
            f"插件接口版本 {plugin_version} 与平台核心的接口版本 {core_version} 不兼容"
            f"（主版本须相同，次版本不得高于核心）。")


class PluginRegistry:
    """The plugins this application runs with, by key."""

    def __init__(self, plugins: dict[str, JurisdictionPlugin]):
        self._plugins = dict(plugins)

    def __contains__(self, key: str) -> bool:
        return key in self._plugins

    def __iter__(self) -> Iterator[JurisdictionPlugin]:
        return iter(self._plugins.values())

    def __len__(self) -> int:
        return len(self._plugins)

    def keys(self) -> list[str]:
        return list(self._plugins)

    def get(self, key: str) -> JurisdictionPlugin:
        try:
            return self._plugins[key]
        except KeyError:
            raise PluginError(f"插件“{key}”未安装或未启用。") from None

    def choices(self) -> list[tuple[str, str]]:
        """(key, label) pairs for select fields."""
        return [(p.key, f"{p.name}（{p.key}）") for p in self]


def installed_entry_points() -> list[EntryPoint]:
    return list(entry_points(group=ENTRY_POINT_GROUP))


def load_plugins(allowlist: Iterable[str] | None = None,
                 eps: Iterable[EntryPoint] | None = None) -> PluginRegistry:
    """Load, check and return the plugins. ``eps`` defaults to the installed entry points."""
    eps = installed_entry_points() if eps is None else list(eps)
    wanted = [k for k in (allowlist or []) if k]
    names = [ep.name for ep in eps]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise PluginError(f"插件键重复：{', '.join(dupes)}（多个入口点使用了同一个键）。")
    missing = [k for k in wanted if k not in names]
    if missing:
        raise PluginError(
            f"JIUZHU_PLUGINS 中的插件未安装：{', '.join(missing)}；已安装：{', '.join(sorted(names)) or '无'}。")
    plugins: dict[str, JurisdictionPlugin] = {}
    for ep in eps:
        if wanted and ep.name not in wanted:
            continue
        try:
            obj = ep.load()
        except Exception as exc:  # an import error in a plugin is a start-up error
            raise PluginError(f"插件“{ep.name}”（{ep.value}）无法导入：{exc}") from exc
        plugin = obj() if isinstance(obj, type) else obj
        if not isinstance(plugin, JurisdictionPlugin):
            raise PluginError(f"插件“{ep.name}”（{ep.value}）不是 JurisdictionPlugin 的实例。")
        if plugin.key != ep.name:
            raise PluginError(f"入口点“{ep.name}”加载的插件声明的键是“{plugin.key}”，两者必须一致。")
        if plugin.key in plugins:
            raise PluginError(f"插件键重复：{plugin.key}。")
        try:
            check_api_version(plugin.api_version)
        except PluginError as exc:
            raise PluginError(f"插件“{plugin.key}”：{exc}") from None
        problems = plugin.validate()
        if problems:
            raise PluginError(f"插件“{plugin.key}”校验失败：" + "；".join(problems))
        plugins[plugin.key] = plugin
    return PluginRegistry(plugins)
