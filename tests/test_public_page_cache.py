"""The public pages kept in Redis: served again without reading the list, under the county's and
the global publicity generation, which every committed write through the application moves — so
that a change shows on the very next request, a county's page never shows for another county, a
new day is a new page, and without Redis the pages are rendered and the writes commit as before."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, text

from jiuzhu.cases.households import Member
from jiuzhu.clock import china_today
from jiuzhu.extensions import db
from jiuzhu.instance import identity, redis_connection
from jiuzhu.tenancy.context import Scope, use_scope
from jiuzhu.tenancy.models import Tenant
from tests.test_public_pages import approved, unit_id
from tests.test_statement_counts import counted as statements  # the statements the app's engine sends


@pytest.fixture
def county(world):
    info = world.county("pub", plugin="jingdezhen", townships=2, villages=2)
    world.county("opub", plugin="ningxia", townships=1, villages=1)
    return info


def reads_the_list(seen: list[str]) -> bool:
    return any("FROM cases" in s or "household_members" in s for s in seen)


def page_keys(app) -> list[str]:
    with app.app_context():
        return [k.decode() for k in redis_connection(app).keys(identity(app).key("public-page", "*"))]


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-testid="row">(.*?)</tr>', html)


def in_county(app, tenant_id: int, work) -> None:
    """``work()`` in the county's scope, committed (as a request of the county's staff would)."""
    with app.app_context(), use_scope(Scope(tenant_id)):
        work()
        db.session.commit()
        db.session.remove()


def test_a_page_asked_for_twice_is_served_from_the_cache(app, county):
    approved(app)
    village = unit_id(app, county["id"], "pub第1镇第1村")
    client = app.test_client()
    with statements(app) as first:
        one = client.get(f"/public/pub/{village}/")
    with statements(app) as second:
        two = client.get(f"/public/pub/{village}/")
    assert reads_the_list(first) and not reads_the_list(second)
    assert len(second) < len(first) and len(second) <= 2  # the county's lookup (and its RLS setting) only
    assert [k for k in page_keys(app) if f":public-page:{county['id']}:" in k and f":unit-{village}-page-1:" in k]
    body = two.get_data(as_text=True)
    assert two.status_code == 200 and two.headers["Cache-Control"] == "no-store"
    assert rows(body) == rows(one.get_data(as_text=True)) and "汪*国" in body
    # the script's nonce is this response's, not the one of the response that filled the cache
    nonce = re.search(r'<script nonce="([^"]+)"', body).group(1)
    assert f"'nonce-{nonce}'" in two.headers["Content-Security-Policy"]
    assert nonce not in one.get_data(as_text=True)
    with statements(app) as index:
        client.get("/public/pub/")
        client.get("/public/pub/")
    assert sum("FROM org_units" in s for s in index) == 1  # the county's index: cached as well
    for _ in range(2):  # a village has one page, whatever page is asked for: not one copy per number
        assert rows(client.get(f"/public/pub/{village}/?page=7").get_data(as_text=True)) == rows(body)
    assert not [k for k in page_keys(app) if ":unit-" in k and f":unit-{village}-page-1:" not in k]
    # nothing is kept for good: the pages for minutes, the generations for a day
    from jiuzhu.disclosure.generation import GENERATION_TTL_SECONDS
    from jiuzhu.disclosure.public import PAGE_TTL_SECONDS

    with app.app_context():
        conn = redis_connection(app)
        generations = conn.keys(identity(app).key("publicity-generation", "*"))
        assert generations and all(0 < conn.ttl(k) <= GENERATION_TTL_SECONDS for k in generations)
        assert all(0 < conn.ttl(k) <= PAGE_TTL_SECONDS for k in page_keys(app))


def test_every_change_of_what_a_page_shows_is_on_the_very_next_request(app, county):
    case_id = approved(app)
    village = unit_id(app, county["id"], "pub第1镇第1村")
    town = unit_id(app, county["id"], "pub第1镇")
    client = app.test_client()

    def page(unit=village) -> str:
        response = client.get(f"/public/pub/{unit}/")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert len(rows(page())) == 1 and "汪*国" in page(town)
    approved(app)  # another household approved in the village
    assert len(rows(page())) == 2

    def rename_member():
        member = db.session.scalar(select(Member).where(Member.name == "汪建国"))
        member.name = "钱建国"
    in_county(app, county["id"], rename_member)
    assert "钱*国" in page() and "钱*国" in page(town)

    def rename_village():  # Core DML in raw SQL, through the session
        db.session.execute(text("UPDATE org_units SET name = 'pub新村' WHERE id = :id"), {"id": village})
    in_county(app, county["id"], rename_village)
    assert "pub新村" in page() and "pub新村" in page(town)

    def stop_benefits():
        from jiuzhu.cases.categories import CaseStatus
        from jiuzhu.cases.models import Case

        case = db.session.get(Case, case_id)
        case.status, case.closed_on = CaseStatus.closed, china_today() - dt.timedelta(days=400)
    in_county(app, county["id"], stop_benefits)
    assert len(rows(page())) == 1

    # one copy of each page is kept, whatever the number of writes (the generations are in its value)
    assert len([k for k in page_keys(app) if f":unit-{village}-page-1:" in k]) == 1
    with app.app_context(), use_scope(Scope.platform()):  # the platform renames the county
        db.session.scalar(select(Tenant).where(Tenant.code == "pub")).name = "新pub县"
        db.session.commit()
        db.session.remove()
    assert "新pub县民政局" in page() and "新pub县" in client.get("/public/pub/").get_data(as_text=True)

    with app.app_context(), use_scope(Scope.platform()):  # … and closes it: its pages go with it
        db.session.scalar(select(Tenant).where(Tenant.code == "pub")).active = False
        db.session.commit()
        db.session.remove()
    assert client.get(f"/public/pub/{village}/").status_code == 404
    assert client.get("/public/pub/").status_code == 404


def test_a_write_with_a_connection_of_its_own_moves_the_generation(app, county):
    """A write on a connection the application opens by itself (as the access log and the roll
    import do), the county handed over by ``set_config``: the county's generation moves once the
    connection commits, and only then."""
    from jiuzhu.disclosure.generation import GLOBAL, generations
    from jiuzhu.tenancy.scoping import tenant_setting

    approved(app)
    mine = county["id"]
    with app.app_context():
        gens = generations(app)

        def tokens(tenant_id: int) -> tuple[str, str]:  # the county's and the global generation
            county_token, global_token = gens.read(tenant_id)[0].decode().split(":")
            return county_token, global_token

        other = db.session.scalar(text("SELECT id FROM tenants WHERE code = 'opub'"))
        before, everyone = tokens(mine)
        others = tokens(other)[0]

        def write(tenant_id: int, commit: bool,
                  statement: str = "UPDATE org_units SET contact_phone = '0559-1' WHERE tenant_id = :t") -> None:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                             {"t": tenant_setting(Scope(tenant_id))})
                assert conn.execute(text(statement), {"t": tenant_id}).rowcount > 0
                conn.commit() if commit else conn.rollback()

        write(mine, commit=False)
        assert tokens(mine) == (before, everyone)  # rolled back: nothing moved
        write(mine, commit=True, statement="UPDATE users SET last_login_at = now() WHERE tenant_id = :t")
        assert tokens(mine) == (before, everyone)  # login bookkeeping: no list reads it
        write(mine, commit=True)
        after = tokens(mine)
        assert after[0] != before and after[1] == everyone  # the county's, not the global one
        assert tokens(other)[0] == others  # nor another county's
        client = redis_connection(app)
        assert client.get(gens.key(GLOBAL)).decode() == everyone
        # the platform's list of counties, whatever the scope of the write: every county's pages
        with db.engine.connect() as conn:
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": tenant_setting(Scope(mine))})
            conn.execute(text("UPDATE tenants SET name = name WHERE id = :t"), {"t": mine})
            conn.commit()
        assert tokens(other)[1] != everyone


def test_a_county_never_gets_another_countys_page(app, county):
    approved(app)
    village = unit_id(app, county["id"], "pub第1镇第1村")
    with app.app_context(), use_scope(Scope.platform()):
        other_id = db.session.scalar(select(Tenant.id).where(Tenant.code == "opub"))
        db.session.remove()
    other_village = unit_id(app, other_id, "opub第1镇第1村")
    client = app.test_client()
    assert "汪*国" in client.get(f"/public/pub/{village}/").get_data(as_text=True)  # cached now
    assert client.get(f"/public/opub/{village}/").status_code == 404  # the same path under another county
    assert client.get(f"/public/pub/{other_village}/").status_code == 404
    assert client.get(f"/public/opub/{village}/").status_code == 404  # and again: a 404 is never kept
    mine = client.get(f"/public/opub/{other_village}/").get_data(as_text=True)
    assert "汪*国" not in mine and "opub县" in mine and not re.search(r"[^o]pub第1镇", mine)
    # a write in the other county leaves this county's page in the cache
    other_town = unit_id(app, other_id, "opub第1镇")
    in_county(app, other_id, lambda: db.session.execute(
        text("UPDATE org_units SET contact_phone = '0951-1' WHERE id = :id"), {"id": other_town}))
    with statements(app) as seen:
        again = client.get(f"/public/pub/{village}/").get_data(as_text=True)
    assert not reads_the_list(seen) and "汪*国" in again
    assert "0951-1" not in again and "0951-1" in client.get(f"/public/opub/{other_village}/").get_data(as_text=True)


def test_a_county_made_anew_behind_the_applications_back_never_gets_the_old_countys_page(app, county,
                                                                                        owner_engine):
    """A database emptied or restored outside the application moves no generation, and its counties
    may come back under the same ids: the page of the county that had the id before is not served."""
    approved(app)
    village = unit_id(app, county["id"], "pub第1镇第1村")
    client = app.test_client()
    client.get(f"/public/pub/{village}/")  # kept now
    with statements(app) as kept:
        client.get(f"/public/pub/{village}/")
    assert not reads_the_list(kept)
    with owner_engine.begin() as conn:  # the same id, another county: created at another moment
        conn.execute(text("UPDATE tenants SET created_at = created_at + interval '1 day' WHERE id = :id"),
                     {"id": county["id"]})
    with statements(app) as anew:
        client.get(f"/public/pub/{village}/")
    assert reads_the_list(anew)


def test_each_language_has_its_own_page(app, county):
    approved(app)
    village = unit_id(app, county["id"], "pub第1镇第1村")
    client = app.test_client()
    assert "社会救助公示" in client.get(f"/public/pub/{village}/").get_data(as_text=True)
    english = client.get(f"/public/pub/{village}/?lang=en").get_data(as_text=True)
    assert "Social assistance publicity" in english and "汪*国" in english
    assert "社会救助公示" in app.test_client().get(f"/public/pub/{village}/").get_data(as_text=True)


def test_a_new_day_is_a_new_page(app, county, monkeypatch):
    import jiuzhu.disclosure.public as public

    approved(app)
    village = unit_id(app, county["id"], "pub第1镇第1村")
    client = app.test_client()
    today = china_today()
    assert str(today) in client.get(f"/public/pub/{village}/").get_data(as_text=True)
    tomorrow = today + dt.timedelta(days=1)
    monkeypatch.setattr(public, "china_today", lambda: tomorrow)
    with statements(app) as seen:
        html = client.get(f"/public/pub/{village}/").get_data(as_text=True)
    assert reads_the_list(seen) and str(tomorrow) in html and str(today) not in html
    assert len([k for k in page_keys(app) if f":unit-{village}-page-1:" in k]) == 2


def test_without_redis_pages_render_and_writes_commit(app, county, monkeypatch):
    approved(app)
    village = unit_id(app, county["id"], "pub第1镇第1村")
    client = app.test_client()
    assert len(rows(client.get(f"/public/pub/{village}/").get_data(as_text=True))) == 1  # cached
    monkeypatch.setitem(app.config, "JIUZHU_REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens there
    approved(app)  # commits, although its generation cannot be moved
    response = client.get(f"/public/pub/{village}/")
    assert response.status_code == 200 and len(rows(response.get_data(as_text=True))) == 2
    monkeypatch.setitem(app.config, "JIUZHU_REDIS_URL", "nowhere")  # misconfigured: the same
    assert len(rows(client.get(f"/public/pub/{village}/").get_data(as_text=True))) == 2
    sheet = client.get(f"/public/pub/{village}/sheet.pdf")  # rendered in the request, as without Redis
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    monkeypatch.undo()  # Redis is back: the move missed meanwhile is made before a page is read
    assert len(rows(client.get(f"/public/pub/{village}/").get_data(as_text=True))) == 2


@pytest.mark.parametrize(("statement", "tables"), [
    ("INSERT INTO cases (id) VALUES (1)", ["cases"]),
    ('UPDATE "org_units" SET name = %(n)s', ["org_units"]),
    ("DELETE FROM public.household_members WHERE id = 1", ["household_members"]),
    ("  \n TRUNCATE TABLE cases", ["cases"]),
    ("SELECT id FROM case_steps WHERE id = 1 FOR UPDATE SKIP LOCKED", []),
    ("WITH due AS (SELECT id FROM reminders FOR UPDATE SKIP LOCKED) UPDATE reminders SET sent = true", ["reminders"]),
    ("WITH h AS (INSERT INTO households (x) SELECT 1 RETURNING id) SELECT id FROM h", ["households"]),
    ("INSERT INTO case_counts (n) VALUES (1) ON CONFLICT (k) DO UPDATE SET n = 2", ["case_counts"]),
    ("WITH x AS (SELECT 1) SELECT * FROM x", []),
    ("CALL something()", None),
])
def test_which_tables_a_statement_writes(statement, tables):
    from jiuzhu.disclosure.generation import written_tables

    assert written_tables(statement) == tables


def test_a_kept_sheet_is_served_without_computing_the_list_until_a_write(app, county):
    from tests.test_public_pages import run_jobs

    approved(app)
    village = unit_id(app, county["id"], "pub第1镇第1村")
    url = f"/public/pub/{village}/sheet.pdf"
    client = app.test_client()
    assert client.get(url).status_code == 202
    run_jobs(app)
    ready = client.get(url)
    assert ready.status_code == 200
    with statements(app) as seen:
        again = client.get(url)
    assert again.data == ready.data and not reads_the_list(seen)
    assert client.get(f"/public/opub/{village}/sheet.pdf").status_code == 404  # not under another county
    approved(app)  # the list changes: the kept sheet is no longer this unit's
    with statements(app) as seen:
        assert client.get(url).status_code == 202
    assert reads_the_list(seen)


def test_a_connection_the_server_cuts_mid_transaction_rolls_back_as_an_outage(app, county):
    """A write, then the server cuts the connection (as in an outage): the rollback raises nothing of
    ours (the request answers 503, not 500) and no generation moves for what never committed."""
    import sqlalchemy.exc

    from jiuzhu.disclosure.generation import generations

    village = unit_id(app, county["id"], "pub第1镇第1村")
    with app.app_context():
        before = generations(app).read(county["id"])[0]
        with use_scope(Scope(county["id"])):
            db.session.execute(text("UPDATE org_units SET contact_phone = '0798-1' WHERE id = :id"), {"id": village})
            with pytest.raises(sqlalchemy.exc.OperationalError) as cut:
                db.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
            assert cut.value.connection_invalidated
            db.session.rollback()
            db.session.remove()
        assert generations(app).read(county["id"])[0] == before
