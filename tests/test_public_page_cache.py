"""The public pages kept in Redis: served again without reading the list, under the county's and
the global publicity generation, which every committed write through the application moves — so
that a change shows on the very next request, a county's page never shows for another county, a
new day is a new page, and without Redis the pages are rendered and the writes commit as before."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

from jiuzhu.extensions import db
from jiuzhu.instance import identity, redis_connection
from jiuzhu.tenancy.context import Scope, use_scope
from tests.test_public_pages import approved


@pytest.fixture
def county(world):
    info = world.county("pub", plugin="jingdezhen", townships=2, villages=2)
    world.county("opub", plugin="ningxia", townships=1, villages=1)
    return info


@contextmanager
def statements(app):
    """The SQL statements the app's engine sends inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reads_the_list(seen: list[str]) -> bool:
    return any("FROM cases" in s or "household_members" in s for s in seen)


def page_keys(app) -> list[str]:
    with app.app_context():
        return [k.decode() for k in redis_connection(app).keys(f"{identity(app).queue_name}:public-page:*")]


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-testid="row">(.*?)</tr>', html)


def in_county(app, tenant_id: int, work) -> None:
    """``work()`` in the county's scope, committed (as a request of the county's staff would)."""
    with app.app_context(), use_scope(Scope(tenant_id)):
        work()
        db.session.commit()
        db.session.remove()


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
        other = db.session.scalar(text("SELECT id FROM tenants WHERE code = 'opub'"))
        before, everyone = gens.read(mine)
        others = gens.read(other)[0]

        def write(tenant_id: int, commit: bool) -> None:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                             {"t": tenant_setting(Scope(tenant_id))})
                conn.execute(text("UPDATE org_units SET contact_phone = '0559-1' WHERE tenant_id = :t"),
                             {"t": tenant_id})
                conn.commit() if commit else conn.rollback()

        write(mine, commit=False)
        assert gens.read(mine) == (before, everyone)  # rolled back: nothing moved
        write(mine, commit=True)
        after = gens.read(mine)
        assert after[0] != before and after[1] == everyone  # the county's, not the global one
        assert gens.read(other)[0] == others  # nor another county's
        client = redis_connection(app)
        assert client.get(gens.key(GLOBAL)).decode() == everyone


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
