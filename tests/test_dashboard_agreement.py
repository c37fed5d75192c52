"""The dashboard (督办看板) and the worklists tell the same story: as many overdue steps as the
worklists mark 超期, whatever the day (a weekend too) and whether a step has a deadline of its own
or runs to its case's; and its case counts (kept by the database) follow every change of a case."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import text

from tests.test_workflow_baseline import new_case

D = dt.date


@pytest.fixture
def county(world):
    return world.county("base", plugin="baseline", townships=2, villages=1)


def overdue_marks(html: str) -> int:
    return len(re.findall(r'<tr class="table-danger"', html))


def total_overdue(html: str) -> int:
    return int(re.search(r'data-testid="total-overdue">(\d+)<', html).group(1))


@pytest.mark.parametrize("today", [D(2026, 11, 16), D(2026, 11, 14), D(2026, 11, 15)],
                         ids=["monday", "saturday", "sunday"])
def test_the_dashboard_counts_exactly_the_steps_the_worklist_marks_overdue(
        app, county, client_for, owner_engine, monkeypatch, today):
    import jiuzhu.cases.views
    import jiuzhu.reports.views

    ids = [new_case(app, on=D(2026, 10, 1)) for _ in range(7)]
    # deadlines around the weekend of 14–15 November 2026; the last step has none of its own and
    # runs to its case's (long past)
    dues = [D(2026, 11, 12), D(2026, 11, 13), D(2026, 11, 14), D(2026, 11, 15), D(2026, 11, 16),
            D(2026, 11, 20), None]
    with owner_engine.begin() as conn:
        for case_id, due in zip(ids, dues, strict=True):
            conn.execute(text("UPDATE case_steps SET due_on = :d WHERE case_id = :c AND status = 'open'"),
                         {"d": due, "c": case_id})
        conn.execute(text("UPDATE cases SET due_on = :d WHERE id = :c"), {"d": D(2026, 11, 2), "c": ids[-1]})
    for module in (jiuzhu.cases.views, jiuzhu.reports.views):
        monkeypatch.setattr(module, "china_today", lambda: today)
    worklist = client_for("base-t1-staff").get("/admin/casework/").get_data(as_text=True)
    assert all(f"/admin/casework/{i}" in worklist for i in ids)
    dashboard = client_for("base-county").get("/admin/dashboard/").get_data(as_text=True)
    marked = overdue_marks(worklist)
    # Thursday 12th and the case deadline are late whatever the day; Friday 13th is late on Monday
    # only (no working day has begun after it on the weekend); the weekend's own deadlines on Monday
    assert marked == {"monday": 5, "saturday": 2, "sunday": 2}[
        {D(2026, 11, 16): "monday", D(2026, 11, 14): "saturday", D(2026, 11, 15): "sunday"}[today]]
    assert total_overdue(dashboard) == marked
    leader = client_for("base-t1-leader").get("/admin/dashboard/").get_data(as_text=True)
    assert total_overdue(leader) == marked


def test_the_case_counts_follow_every_change_of_a_case(app, county, client_for, owner_engine):
    ids = [new_case(app, on=D(2026, 10, 1)) for _ in range(3)]
    with owner_engine.connect() as conn:
        def counted():
            return dict(conn.execute(text("SELECT status, sum(n) FROM case_counts GROUP BY status "
                                          "HAVING sum(n) <> 0")).all())

        def actual():
            return dict(conn.execute(text("SELECT status, count(*) FROM cases GROUP BY status")).all())

        assert counted() == actual() and sum(actual().values()) == 3
        with owner_engine.begin() as w:
            w.execute(text("UPDATE cases SET status = 'denied', decided_on = :d WHERE id = :c"),
                      {"d": D(2026, 11, 3), "c": ids[0]})
            w.execute(text("UPDATE cases SET version = version + 1"))  # moves no case between counters
        conn.commit()
        assert counted() == actual()
        assert conn.execute(text("SELECT sum(n) FROM case_counts WHERE decided_month = '2026-11-01'")).scalar() == 1

        def open_counted():
            return dict(conn.execute(text("SELECT due_on, sum(n) FROM open_step_counts GROUP BY due_on "
                                          "HAVING sum(n) <> 0")).all())

        def open_actual():
            return dict(conn.execute(text("SELECT due_on, count(*) FROM case_steps WHERE status = 'open' "
                                          "AND due_on IS NOT NULL GROUP BY due_on")).all())

        assert open_counted() == open_actual() == {}  # acceptance runs to the case's deadline
        with owner_engine.begin() as w:
            w.execute(text("UPDATE case_steps SET due_on = :d WHERE status = 'open'"), {"d": D(2026, 11, 20)})
        conn.commit()
        assert open_counted() == open_actual() == {D(2026, 11, 20): 3}
        with owner_engine.begin() as w:
            w.execute(text("UPDATE case_steps SET due_on = :d WHERE case_id = :c"), {"d": D(2026, 12, 1), "c": ids[1]})
            w.execute(text("UPDATE case_steps SET status = 'done' WHERE case_id = :c"), {"c": ids[2]})
        conn.commit()
        assert open_counted() == open_actual() == {D(2026, 11, 20): 1, D(2026, 12, 1): 1}
    dashboard = client_for("base-county").get("/admin/dashboard/").get_data(as_text=True)
    rates = dashboard.split('data-testid="rates"')[1]
    assert "<tr><td>base第1镇</td><td>0</td><td>1</td><td>0%</td></tr>" in rates


def open_steps_shown(html: str) -> dict[str, int]:
    """The dashboard's last column (在办环节) by township."""
    table = html.split('data-testid="load"')[1].split("</table>")[0]
    return {name: int(n) for name, n in re.findall(r"<tr[^>]*><td>([^<]+)</td><td>\d+</td><td>\d+</td><td>(\d+)</td>",
                                                    table)}


def test_the_dashboard_counts_every_open_step_with_or_without_a_deadline_and_reads_the_townships_once(
        app, county, client_for, owner_engine):
    from tests.test_statement_counts import brief, counted

    ids = [new_case(app, on=D(2026, 10, 1)) for _ in range(4)]
    with owner_engine.begin() as conn:  # two steps with a deadline of their own, two running to their case's
        for case_id, due in zip(ids, [D(2026, 11, 20), D(2026, 12, 1), None, None], strict=True):
            conn.execute(text("UPDATE case_steps SET due_on = :d WHERE case_id = :c AND status = 'open'"),
                         {"d": due, "c": case_id})
        actual = dict(conn.execute(text(
            "SELECT o.name, count(s.id) FROM org_units o LEFT JOIN case_steps s ON s.township_id = o.id "
            "AND s.status = 'open' WHERE o.level = 'township' AND o.tenant_id = :t GROUP BY o.name"),
            {"t": county["id"]}).all())
    assert sum(actual.values()) == 4
    client = client_for("base-county")
    assert open_steps_shown(client.get("/admin/dashboard/").get_data(as_text=True)) == actual
    with counted(app) as seen:
        assert open_steps_shown(client.get("/admin/dashboard/").get_data(as_text=True)) == actual
    # the townships' names are kept by the org tree's version: not read again for each table
    assert not any("FROM org_units" in s and "org_units.level" in s for s in seen), brief(seen)
    # the RLS setting, the user; the open steps by deadline (counters), those without one with their
    # case's; the applications by month, the decisions by township, the cases by status
    assert len(seen) <= 7, brief(seen)
    # a township's leader sees its own township only, and the same count
    leader = client_for("base-t1-leader").get("/admin/dashboard/").get_data(as_text=True)
    assert open_steps_shown(leader) == {"base第1镇": actual["base第1镇"]}
