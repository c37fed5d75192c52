"""The publicity list as a pure function of cases and a ``DisclosureRule``: other rules than
Jingdezhen's give other lists (names in full, no exits, one place, the category shown)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from jiuzhu.cases.categories import CaseKind, CaseStatus
from jiuzhu.cases.households import Health, Household, Member, Relation, WorkAbility
from jiuzhu.cases.models import Case
from jiuzhu.disclosure.services import Entry, Listing, Place, add_months, hardship_reasons, public_list
from jiuzhu.plugins.rules import DisclosureField, DisclosureRule

D = dt.date
ON = D(2026, 10, 20)


def member(name, born, relation="head", **kw):
    return Member(name=name, id_number="X" * 18, birth_date=born, sex="male", relation=Relation(relation),
                  coresident=kw.pop("coresident", True), disability_grade=kw.pop("disability_grade", 0),
                  health=Health.healthy, work_ability=WorkAbility.full, **kw)


def entry(status=CaseStatus.approved, *, closed_on=None, publicity=False, registered=None) -> Entry:
    h = Household(id=1, township_id=1, village_id=2, address="某村 1 号", phone="13800000000", tags=[])
    h.members = [member("王大山", D(1950, 5, 1)), member("李小花", D(1985, 1, 1), "spouse"),
                 member("王小宝", D(2015, 1, 1), "child"), member("王远", D(1980, 1, 1), "child", coresident=False)]
    case = Case(id=7, kind=CaseKind.application, status=status, categories=["tekun"], decided_on=D(2026, 9, 1),
                monthly_amount=Decimal("700"), benefit_start=D(2026, 9, 1), closed_on=closed_on)
    return Entry(case, h, Place("某村", 2), registered, publicity)


def test_another_rule_another_list():
    rule = DisclosureRule(fields=(DisclosureField.names, DisclosureField.category, DisclosureField.monthly_amount),
                          mask_names=False, hide_minors=True, approved_until_stop=True, exit_months=None)
    rows = public_list(rule, [entry(registered=Place("外县", None, True))], ON)
    assert list(rows) == [Place("某村", 2)]  # not both places: the rule does not ask for it
    assert rows[Place("某村", 2)][0].as_public() == {"公示类别": "保障中", "公示期": "—", "家庭成员姓名": "王大山、李小花",
                                                    "救助类别": "特困人员", "家庭月保障金额": "700.00 元"}
    assert public_list(rule, [entry(CaseStatus.closed, closed_on=D(2026, 10, 1))], ON) == {}  # no exit listing


def test_without_approved_until_stop_only_the_publicity_is_shown():
    rule = DisclosureRule(approved_until_stop=False)
    assert public_list(rule, [entry()], ON) == {}
    rows = public_list(rule, [entry(CaseStatus.in_review, publicity=True)], ON)
    assert [r.listing for r in rows[Place("某村", 2)]] == [Listing.proposed]


def test_minors_never_named_nor_their_hardship_shown():
    rule = DisclosureRule(fields=(DisclosureField.names, DisclosureField.reason), hide_minors=True,
                          approved_until_stop=True)
    e = entry()
    e.household.members[2].disability_grade = 1  # only the child is disabled
    row = public_list(rule, [e], ON)[Place("某村", 2)][0].as_public()
    assert row["家庭成员姓名"] == "王*山、李*花" and "因残" not in row["困难原因"]
    assert hardship_reasons(e.household.coresident, ON) == ["年老", "因残"]


def test_add_months_keeps_the_end_of_month():
    assert add_months(D(2026, 8, 31), 6) == D(2027, 2, 28)
    assert add_months(D(2026, 3, 15), 6) == D(2026, 9, 15)
    assert add_months(D(2026, 12, 1), 1) == D(2027, 1, 1)
