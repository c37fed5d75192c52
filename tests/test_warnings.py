"""Warning deadlines come from the plugin's ``WarningRule`` (Jingdezhen 20, Shexian 5 working days),
a county may only shorten them, and a plugin without the rule takes no tickets."""

from __future__ import annotations

import datetime as dt

import pytest

from jiuzhu.errors import ValidationError
from jiuzhu.extensions import db
from jiuzhu.plugins.baseline import BaselinePlugin
from jiuzhu.plugins.rules import WarningRule
from jiuzhu.tenancy.models import OrgUnit
from jiuzhu.warnings.services import receive, warning_due
from jiuzhu.workflow.spec import Due
from tests.factories import acting


class FiveDays(BaselinePlugin):
    key = "fivedays"
    name = "五日县"
    warning_rule = WarningRule(due=Due(5), source="预警信息 5 个工作日内处置")


def test_the_rule_gives_the_deadline_and_a_county_may_only_shorten_it():
    plugin = FiveDays()
    assert warning_due(plugin, {}) == Due(5)
    assert warning_due(plugin, {"warning_workdays": 3}) == Due(3)
    assert warning_due(plugin, {"warning_workdays": 9}) == Due(5)
    with pytest.raises(ValidationError, match="未规定预警单据的处置时限"):
        warning_due(BaselinePlugin(), {})


def test_a_plugin_without_a_warning_rule_takes_no_tickets(app, world):
    county = world.county("wr", plugin="baseline", townships=1, villages=1)
    with acting(app, "wr-county") as user, pytest.raises(ValidationError, match="未规定预警单据的处置时限"):
        receive(db.session, user, township=db.session.get(OrgUnit, county["towns"][0]),
                id_number="11010519491231002X", source_ref="Y-1", summary="x", received_on=dt.date(2026, 3, 2))


def test_a_bad_ticket_is_refused_with_every_problem(app, world):
    world.county("wr", plugin="jingdezhen", townships=1, villages=1)
    with acting(app, "wr-county") as user, pytest.raises(ValidationError) as err:
        receive(db.session, user, township=db.session.get(OrgUnit, user.org_unit_id), id_number="123",
                source_ref=" ", summary="", received_on=dt.date(2026, 3, 2))
    assert err.value.messages == ["预警对象身份证号码有误：身份证号码应为 18 位，实际为 3 位。",
                                  "请指定负责处置的乡镇（街道）。", "请填写预警单据编号。", "请填写预警内容。"]
