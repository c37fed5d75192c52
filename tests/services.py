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
import tempfile
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


def postgres_bindir() -> Path:
    """The newest installed PostgreSQL's binaries (Debian's /usr/lib/postgresql/N/bin), else PATH's."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name)
                      if p.parent.parent.name.isdigit() else 0)
    if versions:
        return versions[-1].parent
    found = shutil.which("pg_ctl")
    if not found:
        raise RuntimeError("PostgreSQL's pg_ctl is not installed")
    return Path(found).resolve().parent


class PostgresServer:
    """A PostgreSQL cluster of a test's own, which it may stop and start at will: initdb into a fresh
    temporary directory, listening on a free loopback port only (never the shared server's 5432).

    As root the binaries run as the ``postgres`` OS user (PostgreSQL refuses to run as root), in a
    directory that user owns."""

    password = "own-postgres-secret"

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="jiuzhu-pg-"))
        self.data = self.dir / "data"
        self.bindir = postgres_bindir()
        self.as_root = os.geteuid() == 0

    def url(self, database: str = "postgres", user: str = "postgres", password: str | None = None) -> str:
        return (f"postgresql+psycopg://{user}:{password or self.password}@127.0.0.1:{self.port}/{database}")

    def _run(self, tool: str, *args: str, check: bool = True, timeout: float = 120):
        cmd = [str(self.bindir / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, cwd=self.dir, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stdout}{result.stderr}")
        return result

    def init(self) -> PostgresServer:
        pwfile = self.dir / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.as_root:
            for path in (self.dir, pwfile):
                shutil.chown(path, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync",
                  "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}")
        return self

    def start(self) -> PostgresServer:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options, "-w", "-t", "60",
                  "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
