"""Services a test run starts for itself and owns: a private Redis server, free loopback ports, and
the names of this checkout's PostgreSQL database, application role and instance.

Nothing here touches a service another process started: the demo, another checkout's suite or a
production-like instance on the same host never see this run's keys, queues or databases.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def checkout_tag() -> str:
    """Eight hex digits that tell this checkout from every other one on the host."""
    return hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]


def worker_suffix() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"_{worker}" if worker else ""


def test_db_name() -> str:
    """``JIUZHU_TEST_DB`` if set, else ``jiuzhu_test_<checkout>``; one per xdist worker."""
    base = os.environ.get("JIUZHU_TEST_DB") or f"jiuzhu_test_{checkout_tag()}"
    return base + worker_suffix()


def test_app_role() -> str:
    """This checkout's application role: another checkout's migrations never change its password."""
    return f"jiuzhu_app_{checkout_tag()}"


def test_instance() -> str:
    return f"test-{checkout_tag()}{worker_suffix().replace('_', '-')}"


class RedisServer:
    """A redis-server of our own on a free loopback port, keeping nothing on disk."""

    def __init__(self, tmp: Path):
        self.port = free_port()
        self.tmp = tmp
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def flush(self) -> None:
        from redis import Redis

        Redis.from_url(self.url).flushdb()
