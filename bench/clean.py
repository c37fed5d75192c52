"""Remove what the benchmarks leave behind, and nothing else: every ``jiuzhu_bench_*`` database on
JIUZHU_BENCH_PG with its application role, their key files, and their instances' keys and RQ jobs in
the host's Redis (JIUZHU_REDIS_URL, default db 0 on the local server). ``jiuzhu_bench`` (the reminder
sweep's default database) counts as one of theirs.

    .venv/bin/python bench/clean.py

A benchmark keeps its database (``--keep`` runs and ``bench/http_load.py`` reuse it); run this
when the measuring is done. Other instances' databases, roles and keys are never touched: only names
the benchmarks give are matched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from support import app_role, bench_server, instance_name  # support puts the platform on the path

#: the role every benchmark shared before each database had its own
OLD_ROLE = "jiuzhu_bench_app"


def drop_databases(conn, names: list[str]) -> list[str]:
    for name in names:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    roles = conn.scalars(text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:r)"),
                         {"r": [app_role(n) for n in names] + [OLD_ROLE]}).all()
    for role in roles:
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    for name in names:
        Path(tempfile.gettempdir(), f"{name}-keys.json").unlink(missing_ok=True)
    for left in Path(tempfile.gettempdir()).glob("jiuzhu-bench-redis-*"):
        shutil.rmtree(left, ignore_errors=True)
    return [*names, *roles]


def clean_redis(databases: list[str]) -> int:
    from redis import Redis

    redis = Redis.from_url(os.environ.get("JIUZHU_REDIS_URL", "redis://127.0.0.1:6379/0"))
    gone = 0
    for database in databases:
        instance = instance_name(database)
        queue = f"jiuzhu.{instance}"
        lists = [f"rq:queue:{queue}"]
        sets = [f"rq:{kind}:{queue}" for kind in ("wip", "finished", "failed", "deferred", "scheduled",
                                                  "canceled", "started")]
        jobs = set(redis.lrange(lists[0], 0, -1))
        for key in sets:
            if redis.type(key) == b"zset":
                jobs.update(redis.zrange(key, 0, -1))
        keys = [*lists, *sets, *(f"rq:job:{j.decode()}" for j in jobs),
                # the instance's keys (``jiuzhu.<instance>:`` is how the public pages' keys were named
                # before they joined the instance's namespace)
                *redis.scan_iter(match=f"jiuzhu:{instance}:*", count=1000),
                *redis.scan_iter(match=f"{queue}:*", count=1000)]
        if keys:
            gone += redis.delete(*keys)
        redis.srem("rq:queues", f"rq:queue:{queue}")
    return gone


def main() -> None:
    admin = create_engine(bench_server(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        databases = conn.scalars(text("SELECT datname FROM pg_database WHERE datname = 'jiuzhu_bench' "
                                      "OR datname LIKE 'jiuzhu\\_bench\\_%' ORDER BY datname")).all()
        keys = clean_redis(databases)  # first: the instances' names come from the databases'
        dropped = drop_databases(conn, databases)
    admin.dispose()
    print(f"dropped {len(dropped)} databases and roles: {', '.join(dropped) or 'none'}; {keys} Redis keys")


if __name__ == "__main__":
    main()
