"""受理登记 as staff expect: every problem at once and each beside its field, typed values kept,
and what is merely unlikely (a minor as 配偶, a member born after the application) shown for the clerk
to confirm — never silently taken, never a wall."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import text

from jiuzhu.cases.idcard import make_id_number
from tests.conftest import csrf_token

HEAD = make_id_number("341021", dt.date(1968, 3, 12), 11)
WIFE = make_id_number("341021", dt.date(1970, 7, 2), 12)
CHILD_BRIDE = make_id_number("341021", dt.date(2012, 5, 1), 14)
NEWBORN = make_id_number("341021", dt.date(2026, 11, 20), 22)


@pytest.fixture
def county(world):
    return world.county("in", plugin="baseline", townships=1, villages=1)


def post(client, county, **changes):
    page = client.get("/admin/casework/new").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "village_id": str(county["villages"][0][0]), "address": "幸福路 1 号",
            "phone": "13800000000", "applied_on": "2026-11-02", "authorization_signed_on": "2026-11-02",
            "commitment_signed_on": "2026-11-02", "categories": "dibao", "channel": "window",
            "m0.name": "汪建国", "m0.id_number": HEAD, "m0.relation": "head", "m0.coresident": "y",
            "m1.name": "李秀英", "m1.id_number": WIFE, "m1.relation": "spouse", "m1.coresident": "y"}
    data.update({k: v for k, v in changes.items() if v is not None})
    for k in [k for k, v in changes.items() if v is None]:
        data.pop(k)
    return client.post("/admin/casework/new", data=data)


def households(owner_engine) -> int:
    with owner_engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM households")).scalar()


def test_every_problem_is_reported_at_once_beside_its_field_and_the_values_are_kept(app, county, client_for,
                                                                                    owner_engine):
    resp = post(client_for("in-t1-staff"), county, **{
        "m0.id_number": HEAD[:-1] + ("0" if HEAD[-1] != "0" else "1"),  # a wrong check digit
        "m1.wage": "-300", "address": "路" * 300, "applied_on": "2027-03-01", "categories": None,
        "s0.name": "汪丽", "s0.id_number": "12345", "s0.duty": "赡养"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    errors = dict(re.findall(r'data-testid="(?:row-)?error-([\w.]+)">([^<]+)<', html))
    assert "校验位" in errors["m0."] or "校验位" in html
    assert "家庭住址过长" in errors["address"] and "不能晚于今天" in errors["applied_on"]
    assert "请至少选择一个申请类别" in errors["categories"]
    assert "不能为负数" in html and "身份证号码应为 18 位" in html  # the wage and the supporter, in their rows
    assert "未登记，请修改标红的" in html
    # what was typed stays typed
    assert 'value="李秀英"' in html and 'value="-300"' in html and 'value="汪丽"' in html
    assert households(owner_engine) == 0


def test_a_minor_registered_as_spouse_is_shown_to_confirm_then_taken(app, county, client_for, owner_engine):
    client = client_for("in-t1-staff")
    resp = post(client, county, **{"m1.id_number": CHILD_BRIDE})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and households(owner_engine) == 0
    assert "登记为配偶，但按身份证号码申请时仅 14 岁" in html and "以上情况已核实无误" in html
    resp = post(client, county, **{"m1.id_number": CHILD_BRIDE, "confirm_warnings": "y"})
    assert resp.status_code == 302 and households(owner_engine) == 1


def test_a_member_born_after_the_application_is_a_question_not_a_refusal(app, county, client_for, owner_engine):
    client = client_for("in-t1-staff")
    html = post(client, county, **{"m2.name": "汪小宝", "m2.id_number": NEWBORN, "m2.relation": "child",
                                    "m2.coresident": "y"}).get_data(as_text=True)
    assert "出生日期（2026-11-20）晚于申请日期" in html and households(owner_engine) == 0
    resp = post(client, county, **{"m2.name": "汪小宝", "m2.id_number": NEWBORN, "m2.relation": "child",
                                    "m2.coresident": "y", "confirm_warnings": "y"})
    assert resp.status_code == 302 and households(owner_engine) == 1


def test_the_page_is_headed_for_what_it_is(app, county, client_for):
    staff = client_for("in-t1-staff").get("/admin/casework/new").get_data(as_text=True)
    village = client_for("in-t1-village").get("/admin/casework/new").get_data(as_text=True)
    assert '<h1 class="h4 mb-4" data-testid="page-heading">受理登记</h1>' in staff and "<title>受理登记 ·" in staff
    assert 'data-testid="page-heading">代为申请</h1>' in village
