"""Registering households: validated members, incomes, legal supporters; nothing half-written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from jiuzhu.cases.assessment import assess
from jiuzhu.cases.households import Household, LegalSupporter, Member
from jiuzhu.cases.idcard import make_id_number
from jiuzhu.cases.services import MemberInput, register_household
from jiuzhu.errors import PermissionDenied, ValidationError
from jiuzhu.extensions import db
from jiuzhu.tenancy.models import OrgUnit
from tests.factories import acting, household_of_four

D = dt.date


@pytest.fixture
def county(world):
    return world.county("hh", plugin="baseline", townships=2, villages=2)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_household_with_members_incomes_and_a_legal_supporter(app, county):
    with acting(app, "hh-t1-staff") as user:
        h = household_of_four(db.session, user)
        hid = h.id
    with acting(app, "hh-t1-staff"):
        h = db.session.get(Household, hid)
        assert [m.name for m in h.members] == ["汪建国", "李秀英", "汪磊", "汪小雨"]
        father = h.members[0]
        assert father.birth_date == D(1968, 3, 12) and father.sex == "male" and father.age_on(D(2026, 10, 1)) == 58
        assert h.members[2].severely_disabled
        assert h.supporters[0].supported_member is father and h.supporters[0].duty == "赡养"
        assert str(h) == "汪建国户"


def test_invalid_members_are_refused_with_every_problem_and_nothing_written(app, county):
    with acting(app, "hh-t1-staff") as user:
        village = db.session.get(OrgUnit, county["villages"][0][0])
        with pytest.raises(ValidationError) as err:
            register_household(db.session, user, village=village, address="某地", members=[
                MemberInput("甲", "341021196803120010", "head"),
                MemberInput("", make_id_number("341021", D(1970, 1, 1), 12), "spouse", disability_grade=7),
                MemberInput("丙", make_id_number("341021", D(1990, 1, 1), 13), "head",
                            incomes={"wage": "-5"}),
            ])
        messages = err.value.all_messages()
        fields = err.value.field_errors  # each beside its field, all at once
        assert "校验位" in fields["members.0.id_number"][0] and "姓名为空" in fields["members.1.name"][0]
        assert "残疾等级" in fields["members.1.disability_grade"][0] and "负数" in fields["members.2.incomes.wage"][0]
        assert any("甲：身份证号码校验位不正确" in m for m in messages)
        assert any("第 2 名成员姓名为空" in m for m in messages)
        assert any("残疾等级应为 0（无）至 4" in m for m in messages)
        assert any("须有且只有一名户主" in m for m in messages)
        assert any("不能为负数" in m for m in messages)
        assert count(Household) == 0 and count(Member) == 0


def test_a_person_is_in_one_household_only(app, county):
    with acting(app, "hh-t1-staff") as user:
        household_of_four(db.session, user, seq=1)
    with acting(app, "hh-t1-staff") as user, pytest.raises(ValidationError, match="已登记在本县其他家庭中"):
        household_of_four(db.session, user, seq=1)


def test_village_registers_only_in_its_own_village(app, county):
    with acting(app, "hh-t1-village") as user:
        assert db.session.get(OrgUnit, county["villages"][0][1]) is None  # another village is out of sight
        with pytest.raises(PermissionDenied, match="只能登记本村"):
            register_household(db.session, user, village=None, address="某地", members=[
                MemberInput("甲", make_id_number("341021", D(1960, 1, 1), 11), "head")])
        household_of_four(db.session, user)
        assert count(LegalSupporter) == 1


def test_assessment_baseline_counts_pension_and_support(app, county):
    with acting(app, "hh-t1-staff") as user:
        h = household_of_four(db.session, user)
        plugin = app.extensions["jiuzhu.plugins"].get("baseline")
        a = assess(h, plugin, plugin.settings({"dibao_standard": "800"}), D(2026, 10, 1))
        assert a.members == 4 and a.gross == Decimal("1450.00")
        assert a.per_capita == Decimal("362.50") and a.below_standard
        assert a.monthly_benefit == Decimal("1750.00")


def test_assessment_zongyang_deducts_work_costs_and_excludes_basic_pension(app, world):
    world.county("zy", plugin="zongyang", townships=1, villages=1)
    with acting(app, "zy-t1-staff") as user:
        h = household_of_four(db.session, user, region="340722")
        plugin = app.extensions["jiuzhu.plugins"].get("zongyang")
        a = assess(h, plugin, plugin.settings({"dibao_standard": "800"}), D(2026, 10, 1))
        assert [line.label for line in a.excluded] == ["城乡居民基本养老保险基础养老金"]
        assert [(line.label, line.amount) for line in a.deductions] == [
            ("李秀英务工必要支出（按低保标准的 30% 扣减）", Decimal("240.00"))]
        assert a.household_income == Decimal("1060.00") and a.per_capita == Decimal("265.00")
        assert a.monthly_benefit == Decimal("2140.00")


def test_assessment_needs_the_local_standard(app, county):
    with acting(app, "hh-t1-staff") as user:
        h = household_of_four(db.session, user)
        plugin = app.extensions["jiuzhu.plugins"].get("baseline")
        with pytest.raises(ValidationError, match="尚未设置本地低保标准"):
            assess(h, plugin, plugin.settings({}), D(2026, 10, 1))
