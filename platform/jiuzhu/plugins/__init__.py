"""The jurisdiction plugin API: the base class plugins subclass, and the registry that loads them."""

from jiuzhu.plugins.base import PLUGIN_API_VERSION, JurisdictionPlugin
from jiuzhu.plugins.registry import ENTRY_POINT_GROUP, PluginError, PluginRegistry, load_plugins

__all__ = [
    "ENTRY_POINT_GROUP",
    "PLUGIN_API_VERSION",
    "JurisdictionPlugin",
    "PluginError",
    "PluginRegistry",
    "load_plugins",
]
