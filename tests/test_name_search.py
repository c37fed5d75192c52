"""案件查询 finds a member's name by any part of it through the keys the database keeps
(``member_name_grams``: each pair of adjacent characters, migration 0077, and the last character alone,
0082): the same answers as reading every name, for the county's, a township's and a village's staff,
one character too, and the keys follow every change of a member."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, text

from jiuzhu.cases.households import Member, MemberNameGram
from jiuzhu.cases.idcard import make_id_number
from jiuzhu.cases.search import keys_of, pairs_of
from jiuzhu.cases.services import MemberInput, register_household
from jiuzhu.extensions import db
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import Tenant
from tests.conftest import PASSWORD, World, login, scratch_database, signed_tenant
from tests.factories import acting, village_of
from tests.test_statement_counts import brief, counted

SEQ = iter(range(100, 999))


def case_of(app, username: str, *names: str) -> int:
    """A household of ``names`` (the first its head) in the user's first village, applying for 低保."""
    from jiuzhu.workflow import engine

    with acting(app, username) as user:
        members = [MemberInput(name, make_id_number("341021", dt.date(1960 + i, 1, 1), next(SEQ)),
                               "head" if i == 0 else "child")
                   for i, name in enumerate(names)]
        household = register_household(db.session, user, village=village_of(user), address="某村", members=members)
        return engine.open_case(db.session, user, household=household, categories=["dibao"], channel="window",
                                applied_on=dt.date(2026, 3, 2)).id


@pytest.fixture
def cases(app, world):
    world.county("ns", townships=2, villages=1)
    world.county("nx", townships=1, villages=1)
    return {"own": case_of(app, "ns-t1-staff", "欧阳建国", "李小明", "小王小"),
            "other_township": case_of(app, "ns-t2-staff", "欧阳建国"),
            "other_county": case_of(app, "nx-t1-staff", "欧阳建国")}


def listed(client, q: str) -> set[int]:
    html = client.get("/admin/casework/cases", query_string={"q": q}).get_data(as_text=True)
    return {int(n) for n in re.findall(r'href="/admin/casework/(\d+)"', html)}


def test_a_name_is_found_by_any_part_and_only_where_the_user_works(app, cases, client_for):
    own, other, elsewhere = cases["own"], cases["other_township"], cases["other_county"]
    staff = client_for("ns-t1-staff")
    for q in ("欧阳建国", "欧阳", "阳建", "建国", "阳建国", "李小明", "小明", "小王小", "欧", "明"):
        assert listed(staff, q) == {own}, q
    # every pair of 王小王 is in 小王小 (王小, 小王), but not the name itself: the names are checked
    for q in ("王小王", "国欧", "建国欧阳", "欧阳建国华", "%", "_", "欧阳%"):
        assert listed(staff, q) == set(), q
    # the county's staff: every township of the county, never another county
    assert listed(client_for("ns-county"), "欧阳建国") == {own, other}
    assert listed(client_for("ns-t2-staff"), "阳建") == {other}
    assert listed(client_for("nx-t1-staff"), "建国") == {elsewhere}
    # a village's assistant: its own village only (the case of ns-t1's first village)
    assert listed(client_for("ns-t1-village"), "建国") == {own}
    assert listed(client_for("ns-t2-village"), "建国") == {other}
    # two characters or more are looked up by their pairs, not by reading every name
    with counted(app) as seen:
        staff.get("/admin/casework/cases", query_string={"q": "建国"})
    listing = [s for s in seen if "FROM cases" in s]
    assert listing and all("member_name_grams" in s for s in listing), brief(listing)


def test_the_pairs_follow_each_change_of_a_member(app, cases, client_for, owner_engine):
    own = cases["own"]
    staff = client_for("ns-t1-staff")

    def pairs() -> set[tuple[str, str]]:
        with owner_engine.connect() as conn:
            return set(conn.execute(text(
                "SELECT m.name, g.gram FROM member_name_grams g JOIN household_members m "
                "ON m.tenant_id = g.tenant_id AND m.id = g.member_id AND m.household_id = g.household_id")).all())

    names = {"欧阳建国", "李小明", "小王小"}
    assert {g for n, g in pairs() if n in names} == set().union(*(keys_of(n) for n in names))
    assert keys_of("欧阳建国") == {"欧阳", "阳建", "建国", "国"}
    with acting(app, "ns-t1-staff"):
        member = db.session.scalars(select(Member).where(Member.name == "李小明")).one()
        member.name = "李晓明"  # a name corrected
    assert listed(staff, "小明") == set() and listed(staff, "晓明") == {own}
    with acting(app, "ns-t1-staff"):
        db.session.delete(db.session.scalars(select(Member).where(Member.name == "小王小")).one())
    assert listed(staff, "王小") == set()
    assert not [n for n, _ in pairs() if n in ("李小明", "小王小")]
    with acting(app, "ns-t1-staff"):  # an update that leaves the name alone leaves its pairs alone
        db.session.scalars(select(Member).where(Member.name == "李晓明")).one().working = True
    assert {g for n, g in pairs() if n == "李晓明"} == {"李晓", "晓明", "明"}
    assert listed(staff, "李晓明") == {own}


def test_the_pairs_are_seen_only_where_their_household_is(app, cases, app_engine):
    """Under row-level security as the application role, and under the session's scope as any row."""
    with app.app_context():
        with use_scope(Scope.platform()):
            ids = dict(db.session.execute(select(Tenant.code, Tenant.id)).all())
        db.session.remove()
    with app_engine.begin() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": signed_tenant(ids["ns"])})
        assert set(conn.scalars(text("SELECT DISTINCT tenant_id FROM member_name_grams"))) == {ids["ns"]}
        # the triggers' rows are checked like any other: another county's pair is refused
        with pytest.raises(Exception, match="row-level security"), conn.begin_nested():
            conn.execute(text("INSERT INTO member_name_grams (tenant_id, gram, member_id, household_id) "
                              "SELECT :o, gram, member_id, household_id FROM member_name_grams LIMIT 1"),
                         {"o": ids["nx"]})
    with acting(app, "ns-t2-staff"):
        grams = set(db.session.scalars(select(MemberNameGram.gram)))
        households = set(db.session.scalars(select(MemberNameGram.household_id)))
    assert grams == keys_of("欧阳建国") and len(households) == 1


def test_the_migration_finds_the_pairs_of_the_members_already_there(database_urls):
    """0077 on a county with members: their pairs are there at once, found by the search."""
    from flask_migrate import downgrade, upgrade

    with scratch_database(database_urls, "m77") as (other, owner):
        with other.app_context():
            upgrade()
            db.session.remove()
        World(other).county("nm", townships=1, villages=1)
        case_of(other, "nm-t1-staff", "司马相如", "卓文君")
        with other.app_context():
            downgrade(revision="0076")
            with owner.connect() as conn:
                assert conn.execute(text("SELECT to_regclass('member_name_grams')")).scalar() is None
            upgrade()
            db.session.remove()
        with owner.connect() as conn:
            grams = set(conn.scalars(text("SELECT gram FROM member_name_grams")))
        assert grams == keys_of("司马相如") | keys_of("卓文君")
        client = other.test_client()
        assert login(client, "nm-t1-staff", PASSWORD).status_code == 302
        assert len(listed(client, "相如")) == 1 and listed(client, "如卓") == set()
        assert len(listed(client, "君")) == 1 and listed(client, "禤") == set()
        # 0082 undone: the pairs of 0077 only, in the database's own order; done again: the last characters
        with other.app_context():
            downgrade(revision="0081")
            db.session.remove()
        with owner.connect() as conn:
            assert set(conn.scalars(text("SELECT gram FROM member_name_grams"))) == pairs_of("司马相如") | pairs_of("卓文君")
        with other.app_context():
            upgrade()
            db.session.remove()
        with owner.connect() as conn:
            assert set(conn.scalars(text("SELECT gram FROM member_name_grams"))) == grams
            # sorted by code point: the keys beginning with 司 are those from 司 up to the next character
            assert conn.execute(text("SELECT collation_name FROM information_schema.columns "
                                     "WHERE table_name = 'member_name_grams' AND column_name = 'gram'")).scalar() == "C"
        assert len(listed(client, "君")) == 1 and len(listed(client, "如")) == 1


def test_one_character_is_found_among_the_newest_cases_or_else_by_its_keys(app, cases, client_for, monkeypatch):
    """A surname typed alone: a page of the township's newest cases that have it is the listing's first
    page, read from their names; a character none of them has is looked up by the keys (every character
    of a name begins one: 国 is the last of 欧阳建国). Either way only where the user works."""
    from jiuzhu.cases import search, views

    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    monkeypatch.setattr(search, "NEWEST", 2)
    own = cases["own"]
    older_wang = case_of(app, "ns-t1-staff", "王明")
    newest_wang = case_of(app, "ns-t1-staff", "王刚")
    elsewhere_wang = case_of(app, "ns-t2-staff", "王强")  # the county's newest: another township's
    staff = client_for("ns-t1-staff")

    def looked_up(client, q: str, path: str = "/admin/casework/cases", **args) -> tuple[set[int], list[str]]:
        with counted(app) as seen:
            html = client.get(path, query_string={"q": q, **args}).get_data(as_text=True)
        return {int(n) for n in re.findall(r'href="/admin/casework/(\d+)"', html)}, \
            [s for s in seen if "FROM cases" in s]

    # 王: both of the township's two newest cases have it — the page (one case) comes from their names
    page, listing = looked_up(staff, "王")
    assert page == {newest_wang}, page
    assert len(listing) == 1 and "member_name_grams" not in listing[0], brief(listing)
    page, listing = looked_up(staff, "王", after=newest_wang)  # the next two have it too (小王小 is own's)
    assert page == {older_wang} and len(listing) == 1, brief(listing)
    # the last case: fewer than a page, but no case left unread (the statement counts what it read) —
    # the page as found, in that one statement, not by the keys
    page, listing = looked_up(staff, "王", after=older_wang)
    assert page == {own} and len(listing) == 1 and "member_name_grams" not in listing[0], brief(listing)
    assert looked_up(staff, "王", after=own)[0] == set()
    # 欧 and 国: in the oldest case only, beyond the newest two — found by the keys
    for q in ("欧", "国", "小"):
        page, listing = looked_up(staff, q)
        assert page == {own}, q
        assert "member_name_grams" in listing[-1], brief(listing)
    assert len(listing) == 3, brief(listing)  # the newest two's names, whether there are more, the keys
    # a village's 我的待办 (open cases, green channel first) is searched the same way
    assert looked_up(client_for("ns-t1-village"), "欧", path="/admin/casework/")[0] == {own}
    for q in ("禤", "%", "_"):
        assert looked_up(staff, q)[0] == set(), q
    # another township, a village, the county, another county: only their own
    assert looked_up(client_for("ns-t2-staff"), "王")[0] == {elsewhere_wang}
    assert looked_up(client_for("ns-t2-staff"), "刚")[0] == set()
    assert looked_up(client_for("ns-t1-village"), "国")[0] == {own}
    assert looked_up(client_for("ns-t2-village"), "明")[0] == set()
    assert looked_up(client_for("ns-county"), "强")[0] == {elsewhere_wang}
    assert looked_up(client_for("nx-t1-staff"), "王")[0] == set()
    assert looked_up(client_for("nx-t1-staff"), "欧")[0] == {cases["other_county"]}
