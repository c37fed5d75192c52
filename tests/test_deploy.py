"""deploy/: each configuration checked by its own tool where the tool is installed (gunicorn,
systemd-analyze, nginx), the compose file and the Containerfile read and cross-checked, and gunicorn
started with the shipped configuration: /readyz, a login, the worklist, /metrics of two workers."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from jiuzhu.config import SETTINGS, load_config
from tests import services
from tests.conftest import APP_ROLE, INSTANCE, PASSWORD, SECRET_KEY, TEST_KEYS

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent
GUNICORN = VENV_BIN / "gunicorn"
METRICS_TOKEN = "deploy-test-metrics-token"


def app_env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIUZHU_", "PROMETHEUS_", "GUNICORN_"))}
    env.update({"JIUZHU_DATABASE_URL": "sqlite://", "JIUZHU_SECRET_KEY": "deploy-test", "JIUZHU_KEYS": TEST_KEYS,
                "TZ": "Asia/Shanghai", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


# -- gunicorn ---------------------------------------------------------------------------------------

def test_gunicorn_accepts_the_shipped_configuration(tmp_path):
    env = app_env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path))  # (unset, the config makes a temporary one)
    result = subprocess.run([str(GUNICORN), "--check-config", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    printed = subprocess.run([str(GUNICORN), "--print-config", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120).stdout
    config = dict(re.findall(r"^(\w+)\s+= (.*)$", printed, re.M))
    assert config["worker_class"] == "gthread" and config["preload_app"] == "False"
    assert int(config["workers"]) == len(os.sched_getaffinity(0)) + 1 and int(config["threads"]) >= 2
    assert config["forwarded_allow_ips"] == "[]"  # the app's ProxyFix decides, nobody else
    assert config["logger_class"] == "jiuzhu.ops.gunicorn.JiuzhuLogger"
    # each request goes to a worker with room: no connection is kept with the worker that took it
    # first, and a worker takes no more than twice its threads of them
    assert config["keepalive"] == "0" and int(config["worker_connections"]) == 2 * int(config["threads"])


class Gunicorn:
    def __init__(self, env: dict[str, str], tmp: Path):
        self.port = services.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "gunicorn.log"
        self.multiproc = Path(env["PROMETHEUS_MULTIPROC_DIR"]) if "PROMETHEUS_MULTIPROC_DIR" in env else None
        self.proc = subprocess.Popen(
            [str(GUNICORN), "-c", "deploy/gunicorn.conf.py", "-b", f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> int:
        """Polls /healthz until it answers; returns how many polls it took."""
        deadline, polls = time.monotonic() + timeout, 0
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            polls += 1
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        return polls
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not answer:\n" + self.log.read_text()[-3000:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def served_env(database_urls, **extra) -> dict[str, str]:
    """What gunicorn is started with here: the run's database and Redis, as the application role."""
    return app_env(
        JIUZHU_DATABASE_URL=database_urls["app"], JIUZHU_DB_APP_ROLE=APP_ROLE, JIUZHU_REDIS_URL=database_urls["redis"],
        JIUZHU_INSTANCE=INSTANCE, JIUZHU_PASSWORD_HASHING="fast", JIUZHU_SECURE_COOKIES="0",
        JIUZHU_SECRET_KEY=SECRET_KEY, JIUZHU_KEYS=TEST_KEYS, **extra)


@pytest.fixture
def gunicorn(database_urls, app, tmp_path):
    multiproc = tmp_path / "metrics"
    server = Gunicorn(served_env(database_urls, JIUZHU_METRICS_TOKEN=METRICS_TOKEN,
                                 PROMETHEUS_MULTIPROC_DIR=str(multiproc), WEB_CONCURRENCY="2"), tmp_path)
    yield server
    server.stop()


def test_gunicorn_started_without_a_metrics_directory_leaves_none_behind(database_urls, app, tmp_path):
    """Run by hand (no service sets ``PROMETHEUS_MULTIPROC_DIR``), the shipped configuration makes a
    temporary metrics directory of its own; it goes when the server stops instead of piling up in the
    host's temporary directory (one a service gives is the service's, and stays)."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    server = Gunicorn(served_env(database_urls, TMPDIR=str(temp), WEB_CONCURRENCY="1"), tmp_path)
    try:
        server.wait_ready()
        made = list(temp.glob("jiuzhu-metrics-*"))
        assert len(made) == 1 and any(made[0].glob("*.db")), made
    finally:
        server.stop()
    assert server.proc.returncode == 0, server.log.read_text()[-2000:]
    assert not list(temp.glob("jiuzhu-metrics-*"))


def test_gunicorn_with_the_shipped_config_is_ready_logs_in_and_shows_the_worklist(gunicorn, world):
    world.county("dp", plugin="baseline", townships=1, villages=1)
    healthz = gunicorn.wait_ready()

    started = time.perf_counter()
    with urllib.request.urlopen(gunicorn.base + "/readyz", timeout=10) as resp:
        ready = json.load(resp)
        assert resp.status == 200
    readyz_ms = [(time.perf_counter() - started) * 1000]
    for _ in range(5):
        started = time.perf_counter()
        urllib.request.urlopen(gunicorn.base + "/readyz", timeout=10).read()
        readyz_ms.append((time.perf_counter() - started) * 1000)
    assert ready["checks"]["database"]["role"] == APP_ROLE and ready["checks"]["migrations"]["ok"]
    assert ready["status"] in ("ok", "warn") and ready["failed"] == []

    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    page = browser.open(gunicorn.base + "/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": "dp-t1-staff", "password": PASSWORD, "csrf_token": token}).encode()
    with pytest.raises(urllib.error.HTTPError) as redirected:  # 302 to the admin home
        browser.open(gunicorn.base + "/login", data=form, timeout=10)
    assert redirected.value.code == 302
    with browser.open(gunicorn.base + "/admin/casework/", timeout=10) as resp:
        worklist = resp.read().decode()
        request_id = resp.headers["X-Request-Id"]
    assert "我的待办" in worklist and re.fullmatch(r"[0-9a-f]{32}", request_id)

    # the workers' counts add up on /metrics (prometheus-client's multiprocess files)
    def healthz_count():
        scrape = urllib.request.Request(gunicorn.base + "/metrics",
                                        headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        body = urllib.request.urlopen(scrape, timeout=10).read().decode()
        assert re.search(r'jiuzhu_open_steps\{county="dp"\} 0', body)
        found = re.search(r'jiuzhu_http_requests_total\{endpoint="ops.healthz",method="GET",status="200"\} (\S+)',
                          body)
        return float(found.group(1))

    # a client that would keep its connection (HTTP/1.1, as nginx did upstream) is answered and
    # closed: its next request is taken by whichever worker has room, not the one it first reached
    kept = http.client.HTTPConnection("127.0.0.1", gunicorn.port, timeout=10)
    kept.request("GET", "/healthz")
    answer = kept.getresponse()
    answer.read()
    assert answer.status == 200 and answer.getheader("Connection") == "close" and answer.will_close
    kept.close()

    before = healthz_count()
    for _ in range(40):  # each on a new connection: both workers take some
        urllib.request.urlopen(gunicorn.base + "/healthz", timeout=5).read()
    assert healthz_count() == before + 40
    processes = {f.name.rsplit("_", 1)[-1] for f in gunicorn.multiproc.glob("counter_*.db")}

    # gunicorn's access lines are JSON, carry the request id, and no query strings
    urllib.request.urlopen(gunicorn.base + "/login?next=%2Fadmin%2F&q=341021196104183576", timeout=5).read()
    gunicorn.stop()
    lines = [json.loads(line) for line in gunicorn.log.read_text().splitlines() if line.startswith("{")]
    access = [r for r in lines if r["logger"] == "gunicorn.access"]
    assert any(r["request_id"] == request_id and r["path"] == "/admin/casework/" and r["status"] == 200
               for r in access)
    assert "341021196104183576" not in gunicorn.log.read_text()
    print(f"\ngunicorn: ready after {healthz} polls; /readyz answered in {readyz_ms[0]:.0f} ms (first), "
          f"then {sorted(readyz_ms[1:])[2]:.0f} ms (median of 5); {len(processes)} workers counted requests")


# -- systemd ----------------------------------------------------------------------------------------

UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def test_systemd_units_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd); the units were not verified")
    names = []
    for unit in UNITS:
        # the units name the install (/opt/jiuzhu with its .venv): point them at this checkout
        text = unit.read_text().replace("/opt/jiuzhu/.venv/bin", str(VENV_BIN)).replace("/opt/jiuzhu", str(ROOT))
        (tmp_path / unit.name).write_text(text)
        names.append(unit.name.replace("@.service", "@1.service"))
    result = subprocess.run([analyze, "verify", *names], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not re.search(r"Unknown|ignoring|not executable|Failed", output), output


def test_every_process_is_restarted_hardened_and_reads_the_environment_file():
    for unit in UNITS:
        text = unit.read_text()
        assert "EnvironmentFile=/etc/jiuzhu/jiuzhu.env" in text, unit.name
        for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                       "CapabilityBoundingSet=\n", "User=jiuzhu"):
            assert option in text, (unit.name, option)
        if unit.name != "jiuzhu-migrate.service":
            assert "Restart=always" in text, unit.name
    assert {u.name for u in UNITS} >= {"jiuzhu-web.service", "jiuzhu-worker@.service", "jiuzhu-cron.service"}


# -- nginx ------------------------------------------------------------------------------------------

def test_nginx_accepts_the_site(tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed (scripts/test installs Debian's nginx)")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=jiuzhu.test", "-keyout", str(tmp_path / "privkey.pem"), "-out",
                    str(tmp_path / "fullchain.pem")], check=True, capture_output=True, timeout=60)
    site = (DEPLOY / "nginx" / "jiuzhu.conf").read_text()
    site = site.replace("/etc/ssl/jiuzhu/", f"{tmp_path}/").replace("/var/log/nginx/", f"{tmp_path}/")
    site = site.replace("/opt/jiuzhu/static/", f"{tmp_path}/static/").replace("/var/www/", f"{tmp_path}/www/")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi; uwsgi_temp_path {tmp_path}/uwsgi; scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/site.conf;
}}
""")
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c",
                             str(tmp_path / "nginx.conf")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_the_site_matches_the_app():
    site = (DEPLOY / "nginx" / "jiuzhu.conf").read_text()
    size = re.search(r"client_max_body_size (\d+)m;", site)
    assert size and int(size.group(1)) * 1024 * 1024 == load_config(
        {"JIUZHU_DATABASE_URL": "sqlite://", "JIUZHU_SECRET_KEY": "k"})["MAX_CONTENT_LENGTH"]
    for header in ("X-Forwarded-For $remote_addr", "X-Forwarded-Proto $scheme", "X-Forwarded-Host $host",
                   "X-Request-Id $request_id"):
        assert f"proxy_set_header {header};" in site  # set, never passed through from the client
    assert re.search(r"location = /metrics \{\s*return 404;", site)
    assert "$request_uri" not in site.split("log_format", 1)[1].split(";", 1)[0]  # no query strings logged
    assert "JIUZHU_TRUSTED_PROXIES=1" in (DEPLOY / "jiuzhu.env.example").read_text()


# -- containers ---------------------------------------------------------------------------------------

def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_brings_up_postgres_redis_web_worker_and_cron_after_the_migration():
    services_ = compose()["services"]
    assert set(services_) == {"postgres", "redis", "migrate", "web", "worker", "cron"}
    assert services_["postgres"]["healthcheck"] and services_["redis"]["healthcheck"]
    migrate = services_["migrate"]
    assert migrate["command"][-2:] == ["db", "upgrade"] and migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "cron"):
        service = services_[name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert service["restart"] == "always", name
        assert "JIUZHU_DATABASE_ADMIN_URL" not in service["environment"], name  # only the migration is owner
        assert service["environment"]["JIUZHU_DATABASE_URL"].startswith("postgresql+psycopg://jiuzhu_app:")
    assert "deploy/gunicorn.conf.py" in services_["web"]["command"]
    assert services_["worker"]["command"][-2:] == ["reminders", "worker"]
    assert services_["cron"]["command"][-2:] == ["reminders", "cron"]
    assert "/readyz" in " ".join(services_["web"]["healthcheck"]["test"])
    build = services_["web"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Containerfile"


def test_the_containerfile_copies_what_exists_and_runs_as_a_user():
    text = (DEPLOY / "Containerfile").read_text()
    for line in re.findall(r"^COPY (.+)$", text, re.M):
        *sources, _dest = line.split()
        for source in sources:
            assert (ROOT / source).exists(), source
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "deploy/gunicorn.conf.py" in re.findall(r"^CMD (.+)$", text, re.M)[-1]


def test_every_setting_the_deploy_files_use_exists():
    known = {s.env for s in SETTINGS}
    used = set()
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            used |= set(re.findall(r"\bJIUZHU_[A-Z_]+[A-Z]\b", path.read_text()))
    assert used - known == set(), used - known
    assert "JIUZHU_SECRET_KEY" in used and "JIUZHU_DATABASE_URL" in used


def test_no_secret_is_committed_in_deploy():
    for path in DEPLOY.rglob("*"):
        if not path.is_file():
            continue
        for name, value in re.findall(r"^(\w*(?:SECRET|PASSWORD|TOKEN)\w*)=(.*)$", path.read_text(), re.M):
            assert value == "" or "CHANGE-ME" in value, (path.name, name)
