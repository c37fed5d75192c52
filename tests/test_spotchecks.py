"""The spot-check sample in general (any plugin's ``SpotCheckRule``): sizes, reproducibility,
shortfalls, and a plugin without a rule. Jingdezhen's own rule is proven in tests/plugins."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jiuzhu.errors import ValidationError
from jiuzhu.extensions import db
from jiuzhu.spotchecks.models import SpotCheckDraw, SpotCheckItem, SpotCheckMethod
from jiuzhu.spotchecks.services import Candidate, at_least, choose, draw, summarize
from tests.factories import acting

HALF, THIRTY = Decimal("0.5"), Decimal("0.3")


@pytest.mark.parametrize(("share", "n", "expected"), [
    (HALF, 0, 0), (HALF, 1, 1), (HALF, 7, 4), (HALF, 8, 4), (THIRTY, 4, 2), (THIRTY, 10, 3), (Decimal("1"), 5, 5)])
def test_at_least_rounds_up(share, n, expected):
    assert at_least(share, n) == expected


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 33, 100])
def test_sample_sizes(n):
    picks = choose([Candidate(i) for i in range(1, n + 1)], "seed", HALF, THIRTY)
    assert len(picks) == at_least(HALF, n)
    assert sum(p.on_site for p in picks) == at_least(THIRTY, len(picks))


def test_the_sample_depends_on_the_seed_only_not_on_the_order_given():
    pool = [Candidate(i) for i in range(1, 41)]
    one = choose(pool, "2026-10-30", HALF, THIRTY)
    assert one == choose(list(reversed(pool)), "2026-10-30", HALF, THIRTY)
    assert {p.case_id for p in one} != {p.case_id for p in choose(pool, "2026-10-31", HALF, THIRTY)}


def test_summary_names_every_shortfall():
    d = SpotCheckDraw(population=[1, 2, 3, 4], rule={"sample_share": "0.5", "on_site_share": "0.3",
                                                      "related_staff_all_on_site": True})
    d.items = [SpotCheckItem(case_id=1, method=SpotCheckMethod.desk, related_to_staff=True)]
    s = summarize(d)
    assert not s.meets_rule
    assert s.problems == ["抽查 1 户，低于新增家庭 4 户的 50%。", "实地抽查 0 户，低于抽查户数的 30%。",
                          "与经办人员有近亲属关系的家庭未全部实地核查。"]


def test_a_plugin_without_a_spot_check_rule_cannot_draw(app, world):
    world.county("sc", plugin="baseline", townships=1, villages=1)
    with acting(app, "sc-county") as user, pytest.raises(ValidationError, match="规则未规定抽查"):
        draw(db.session, user, on=dt.date(2026, 10, 30), seed="1")
