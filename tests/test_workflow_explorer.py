"""The explorer in CI: every plugin's workflow, every case variant it declares, walked state by state
through the engine (see tests/workflow_explorer.py). It prints, per plugin and variant, how many
states and transitions it covered; it fails on any dead end, any endless path, any decision a
village could take, any outcome without its traces — and it does fail on a workflow built with a
dead end (the last test)."""

from __future__ import annotations

import pytest

from jiuzhu.cases.categories import Category
from tests.workflow_explorer import explore

PLUGINS = ["baseline", "shexian", "ningxia", "jingdezhen", "zongyang", "dangtu"]


def variants(app, key):
    plugin = app.extensions["jiuzhu.plugins"].get(key)
    out = [("application", {"categories": ("dibao",)}),
           ("review", {"categories": ("dibao",), "review": True})]
    if Category.temporary_relief in plugin.categories:
        out.append(("temporary relief", {"categories": ("temporary_relief",)}))
        if plugin.emergency_path:
            out.append(("emergency relief", {"categories": ("temporary_relief",), "emergency": True}))
    if Category.tekun in plugin.categories:
        out.append(("tekun application", {"categories": ("tekun",)}))
    if key == "shexian":
        out.append(("consented classified review", {"categories": ("dibao",), "consent": True}))
    return out


@pytest.mark.parametrize("key", PLUGINS)
def test_every_reachable_state_of_the_workflow_has_a_way_on(app, world, key):
    county = world.county(f"ex{PLUGINS.index(key)}", plugin=key, townships=1, villages=1)
    walked = set()
    for variant, options in variants(app, key):
        result = explore(app, county, key, variant, walked=walked, **options)
        if result is None:  # the same workflow as a variant walked already
            continue
        print(result.summary())
        assert result.states > 3, result.summary()
        assert result.dead_ends == [], (result.summary(), result.dead_ends[:3])
        assert result.broken == [], (result.summary(), result.broken[:3])
        assert result.village_decided == [], result.village_decided
        assert result.terminal, f"{result.summary()}: no path reaches an end"
        if variant != "review":  # an application can be granted and can be refused
            assert {"approved", "denied"} <= set(result.terminal), result.summary()


def test_the_explorer_finds_a_dead_end_planted_in_a_workflow(app, world, monkeypatch):
    """A county rule that no answer can satisfy at the review opinion (as the shexian findings table
    once was at the decision): the explorer must report the states where nothing can go on."""
    from jiuzhu.plugins.baseline import BaselinePlugin

    class DeadEnd(BaselinePlugin):
        key = "deadend"
        name = "死路县（测试）"

        def check_outcome(self, case, view, spec, outcome, data, on):
            if spec.key == "review_opinion":
                return ["本县规定的材料永远无法提交。"]
            return super().check_outcome(case, view, spec, outcome, data, on)

    registry = app.extensions["jiuzhu.plugins"]
    monkeypatch.setitem(registry._plugins, "deadend", DeadEnd())
    county = world.county("dead", plugin="deadend", townships=1, villages=1)
    result = explore(app, county, "deadend", "application")
    print(result.summary())
    assert result.dead_ends, result.summary()
    assert all(any(step[0] == "review_opinion" and step[2] == "open" for step in sig[3]) for sig in result.dead_ends)
