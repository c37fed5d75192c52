"""Where staff are: each page headed for what it is, one name per action, a village's 我的待办 its own
open work, and a case headed by its county (not by the rules' region)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import text

from tests.plugins.test_ningxia import apply, ningxia_county
from tests.test_workflow_baseline import new_case

D = dt.date


def heading(html: str) -> str:
    return re.search(r'data-testid="page-heading">([^<]+)<', html).group(1)


def title(html: str) -> str:
    return re.search(r"<title>([^<]+)</title>", html).group(1)


@pytest.fixture
def county(world):
    return world.county("nav", name="和平县", plugin="baseline", townships=1, villages=1)


def test_each_page_is_headed_for_what_it_is(app, county, client_for):
    case_id = new_case(app, username="nav-t1-staff", on=D(2026, 11, 2))
    client = client_for("nav-t1-staff")
    for url, expected in [("/admin/casework/", "我的待办"), ("/admin/casework/cases", "案件查询"),
                          ("/admin/casework/new", "受理登记"), (f"/admin/casework/{case_id}", f"案件 {case_id}")]:
        html = client.get(url).get_data(as_text=True)
        assert heading(html) == expected, url
        assert title(html).startswith(expected), url


def test_one_name_per_action_for_the_village_and_the_township(app, county, client_for):
    village = client_for("nav-t1-village").get("/admin/casework/").get_data(as_text=True)
    township = client_for("nav-t1-staff").get("/admin/casework/cases").get_data(as_text=True)
    assert "代为申请" in village and "受理登记" not in village  # the menu and the button agree
    assert "受理登记" in township and "代为申请" not in township.split("<nav", 1)[-1].split("</nav>", 1)[0]


def test_a_villages_worklist_is_its_open_cases(app, county, client_for, owner_engine):
    open_case = new_case(app, username="nav-t1-staff", on=D(2026, 11, 2))
    ended = new_case(app, username="nav-t1-staff", on=D(2026, 11, 2))
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE cases SET status = 'closed' WHERE id = :c"), {"c": ended})
        village = conn.execute(text("SELECT village_id FROM cases WHERE id = :c"), {"c": open_case}).scalar()
    assert village is not None
    client = client_for("nav-t1-village")
    work = client.get("/admin/casework/").get_data(as_text=True)
    assert heading(work) == "我的待办"
    assert f"案件 {open_case}<" in work and f"案件 {ended}<" not in work
    everything = client.get("/admin/casework/cases").get_data(as_text=True)
    assert heading(everything) == "案件查询"
    assert f"案件 {open_case}<" in everything and f"案件 {ended}<" in everything


def test_a_case_is_headed_by_its_county_not_the_region_of_its_rules(app, world, client_for):
    ningxia_county(world)
    case_id = apply(app)
    html = client_for("nx-t1-staff").get(f"/admin/casework/{case_id}").get_data(as_text=True)
    assert re.search(r'data-testid="case-county"[^>]*>永宁县<', html)
