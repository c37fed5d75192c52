"""居民身份证号码 validation (GB 11643)."""

from __future__ import annotations

import datetime as dt

import pytest

from jiuzhu.cases.idcard import InvalidIdNumber, check_character, make_id_number, parse_id_number


def test_published_example_number_is_valid():
    # The example number from GB 11643-1999's annex: 11010519491231002X
    info = parse_id_number("11010519491231002x", today=dt.date(2026, 1, 1))
    assert info.number == "11010519491231002X"
    assert info.birth_date == dt.date(1949, 12, 31) and info.sex == "female" and info.region_code == "110105"
    assert info.age_on(dt.date(2026, 12, 30)) == 76 and info.age_on(dt.date(2026, 12, 31)) == 77


def test_check_character_of_every_remainder():
    seen = {check_character(make_id_number("341021", dt.date(1980, 1, 1), n)[:17]) for n in range(1, 200)}
    assert seen == set("0123456789X")


@pytest.mark.parametrize(("number", "message"), [
    ("34102119800101001", "应为 18 位"),
    ("3410211980010100AX", "前 17 位须为数字"),
    ("341021198002300011", "不是有效日期"),
    ("341021203001010011", "不合理"),
])
def test_malformed_numbers_are_refused_in_chinese(number, message):
    with pytest.raises(InvalidIdNumber, match=message):
        parse_id_number(number, today=dt.date(2026, 1, 1))


def test_wrong_check_character_is_refused():
    good = make_id_number("341021", dt.date(1980, 1, 1), 11)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(InvalidIdNumber, match="校验位不正确"):
        parse_id_number(bad, today=dt.date(2026, 1, 1))


def test_sex_from_the_sequence():
    assert parse_id_number(make_id_number("341021", dt.date(1980, 1, 1), 11)).sex == "male"
    assert parse_id_number(make_id_number("341021", dt.date(1980, 1, 1), 12)).sex == "female"
