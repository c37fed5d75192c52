"""Seeding many open cases and due reminders at once, with SQL, as the schema owner (fault tests and
benchmarks; the engine is far too careful to create thousands of cases quickly)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

SEED_SQL = text("""
WITH h AS (
  INSERT INTO households (tenant_id, township_id, village_id, address, tags, created_at)
  SELECT :tenant, :town, :village, '批量户 ' || g, '[]', now() FROM generate_series(1, :n) g
  RETURNING id
), c AS (
  INSERT INTO cases (tenant_id, township_id, village_id, household_id, kind, channel, categories, status,
                     plugin_key, consent_classification, applied_on, accepted_on, round, due_on, due_provisional,
                     extended, paused_workdays, priority, version, created_at, limit_workdays)
  SELECT :tenant, :town, :village, h.id, 'application', 'window', '["dibao"]', 'in_review', :plugin, false,
         :applied, :applied, 1, :due, false, false, 0, false, 1, now(), 30 FROM h
  RETURNING id
)
INSERT INTO reminders (tenant_id, township_id, village_id, case_id, subject, subject_id, kind, "offset", due_on,
                       send_on, level, escalate, title, status, created_at, recipients)
SELECT :tenant, :town, :village, c.id, 'case', c.id, 'due', 0, :due, :due, 'township', false,
       '批量户 · 办理时限', 'pending', now(), 0 FROM c
""")


def seed_due_reminders(owner_engine, county: dict, n: int, due: dt.date, plugin: str = "baseline",
                       town_index: int = 0) -> None:
    with owner_engine.begin() as conn:
        conn.execute(SEED_SQL, {"tenant": county["id"], "town": county["towns"][town_index],
                                "village": county["villages"][town_index][0], "n": n, "plugin": plugin,
                                "applied": due - dt.timedelta(days=40), "due": due})
