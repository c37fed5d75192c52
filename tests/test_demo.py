"""The README's demo command: a fresh SQLite database, seeded, served; every user can log in."""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from jiuzhu.auth.roles import ROLE_LABELS
from tests.conftest import totp_code

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    port = free_port()
    folder = tmp_path_factory.mktemp("demo")
    database = folder / "demo.db"
    # as scripts/demo does: a key file made on the first run, anchors beside it
    subprocess.run([sys.executable, "-m", "jiuzhu.crypto", "generate", str(folder / "keys.json"), "--if-missing"],
                   check=True, cwd=ROOT)
    env = {**os.environ,
           "JIUZHU_DATABASE_URL": f"sqlite:///{database}",
           "JIUZHU_KEYS_FILE": str(folder / "keys.json"), "JIUZHU_AUDIT_ANCHOR_DIR": str(folder / "anchors"),
           "JIUZHU_SECRET_KEY": "demo-test", "JIUZHU_SECURE_COOKIES": "0", "PYTHONUNBUFFERED": "1",
           "JIUZHU_DEMO_CLOCK_FILE": str(folder / "demo-clock.txt"),  # as scripts/demo sets it
           # no Redis: the demo sends reminders in-process (and touches no shared queue)
           "JIUZHU_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    env.pop("JIUZHU_PLUGINS", None)
    env.pop("JIUZHU_KEYS", None)
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "demo", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []
    deadline = time.time() + 120
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "请在浏览器打开" in line:
            break
    # keep reading what the server prints: a full pipe would block it (every request logs a line)
    import threading

    threading.Thread(target=lambda: [lines.append(line) for line in proc.stdout], daemon=True).start()
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield port, "".join(lines), database
    proc.terminate()
    try:
        proc.wait(timeout=10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def credentials(output: str):
    password = re.search(r"密码：(\S+)", output).group(1)
    rows = re.findall(r"^\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$", output, re.M)
    return password, [(county, user, role) for county, user, role, _ in rows if role in ROLE_LABELS.values()]


def test_demo_prints_a_user_for_every_role_in_every_county(demo_server):
    _, output, _ = demo_server
    _, users = credentials(output)
    counties = {c for c, _, _ in users if c != "（平台）"}
    assert counties == {"歙县", "永宁县", "浮梁县", "枞阳县", "当涂县"}
    for county in counties:
        roles = {r for c, _, r in users if c == county}
        assert roles == set(ROLE_LABELS.values()) - {ROLE_LABELS["platform_operator"]}, county
    assert ("（平台）", "operator", ROLE_LABELS["platform_operator"]) in users


def test_demo_sends_reminders_without_redis(demo_server):
    _, output, _ = demo_server
    assert "未连接 Redis，提醒在本进程内每分钟发送一次" in output


def test_every_seeded_user_logs_in_and_sees_a_chinese_admin(demo_server):
    port, output, _ = demo_server
    password, users = credentials(output)
    base = f"http://127.0.0.1:{port}"
    for _county, username, role in users:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(base + "/login").read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token}).encode()
        html = opener.open(base + "/login", data=body).read().decode()
        if 'data-testid="code"' in html:  # admins and the operator: the secret the demo printed
            secret = re.search(r"把密钥 ([A-Z2-7 ]+) 加入", output).group(1).replace(" ", "")
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
            body = urllib.parse.urlencode({"code": totp_code(username, secret), "csrf_token": token}).encode()
            html = opener.open(base + "/login/second-factor", data=body).read().decode()
            assert role in (ROLE_LABELS["county_admin"], ROLE_LABELS["platform_operator"]), username
        assert f'data-testid="role">{role}<' in html, username
        assert "首页" in html and "退出" in html
        if role == ROLE_LABELS["county_admin"]:
            assert ">用户</a>" in html and ">组织机构</a>" in html
        if role == ROLE_LABELS["platform_operator"]:
            assert ">县（区）</a>" in html
        if role == ROLE_LABELS["village_assistant"]:
            assert ">用户</a>" not in html


def test_demo_seeds_a_living_system_in_every_county(demo_server):
    """Every plugin's county has a case in every state: new, under investigation, in publicity with an
    objection, overdue, approved, denied, exited — none of the seeded cases was refused."""
    import sqlite3

    _, output, database = demo_server
    assert "（演示数据）" not in output
    with contextlib.closing(sqlite3.connect(database)) as conn:
        rows = conn.execute("SELECT t.name, c.status, c.kind, count(*) FROM cases c JOIN tenants t ON t.id = c.tenant_id"
                            " GROUP BY 1, 2, 3").fetchall()
        objections = dict(conn.execute("SELECT t.name, count(*) FROM case_steps s JOIN cases c ON c.id = s.case_id"
                                       " JOIN tenants t ON t.id = c.tenant_id WHERE s.outcome = 'objection'"
                                       " GROUP BY 1").fetchall())
    states = {}
    for county, status, kind, n in rows:
        states.setdefault(county, {})[(status, kind)] = n
    assert set(states) == {"歙县", "永宁县", "浮梁县", "枞阳县", "当涂县"}
    for county, seen in states.items():
        assert seen[("pending_acceptance", "application")] == 1, county
        assert seen[("in_review", "application")] == 3, county  # investigating, objection, overdue
        assert seen[("approved", "application")] == 1 and seen[("denied", "application")] == 1, county
        assert seen[("closed", "application")] == 1 and seen[("closed", "review")] == 1, county  # the exit
        assert objections[county] == 1, county


def test_the_demo_keeps_its_keys_beside_it_encrypts_and_anchors(demo_server):
    """The demo runs like production on this point: its key file (mode 600) made on the first run,
    ID numbers and phones stored as SM4-GCM envelopes, every county's chain head anchored."""
    import sqlite3

    _, _, database = demo_server
    assert oct((database.parent / "keys.json").stat().st_mode & 0o777) == "0o600"
    with contextlib.closing(sqlite3.connect(database)) as conn:
        numbers = [r[0] for r in conn.execute("SELECT id_number FROM household_members")]
        phones = [r[0] for r in conn.execute("SELECT phone FROM households WHERE phone IS NOT NULL")]
    assert numbers and all(n.startswith("E1.f1.") for n in numbers + phones)
    anchors = sorted((database.parent / "anchors").glob("*/*/*.json"))
    assert {a.parent.name for a in anchors} == {"shexian", "yongning", "fuliang", "zongyang", "dangtu"}


def test_the_demo_clock_runs_ahead_for_every_process_and_back(demo_server):
    """演示时钟: in the demo a county admin moves the clock a week on — the dates the system works with
    follow (a publicity period ends), and it comes back to the real date."""
    port, output, _ = demo_server
    password, users = credentials(output)
    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"username": "shexian-t1-staff", "password": password, "csrf_token": token})
    opener.open(base + "/login", data=body.encode())
    page = opener.open(base + "/admin/demo-clock/").read().decode()
    today = re.search(r'data-testid="demo-today">[^<]*<strong>([\d-]+)</strong>', page).group(1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    page = opener.open(base + "/admin/demo-clock/", data=urllib.parse.urlencode(
        {"days": "7", "csrf_token": token}).encode()).read().decode()
    import datetime as dt

    later = re.search(r'data-testid="demo-today">[^<]*<strong>([\d-]+)</strong>', page).group(1)
    assert dt.date.fromisoformat(later) - dt.date.fromisoformat(today) == dt.timedelta(days=7)
    assert "比真实日期晚 7 天" in page
    page = opener.open(base + "/admin/demo-clock/", data=urllib.parse.urlencode(
        {"days": "reset", "csrf_token": token}).encode()).read().decode()
    assert re.search(r'data-testid="demo-today">[^<]*<strong>([\d-]+)</strong>', page).group(1) == today


def test_the_demo_clock_is_refused_on_a_real_database(database_urls, monkeypatch, tmp_path):
    from jiuzhu.clock import DEMO_CLOCK_ENV
    from jiuzhu.config import ConfigError
    from tests.conftest import make_app

    monkeypatch.setenv(DEMO_CLOCK_ENV, str(tmp_path / "clock.txt"))
    with pytest.raises(ConfigError, match="demo only"):
        make_app(database_urls)


def test_the_demo_shows_a_family_member_drawing_in_another_county(demo_server):
    """On the demo's SQLite too: the second county's new case lists the first county's 低保 recipient
    (方志强, moved in with the family); its township sees that county's name, the category and the
    month — none of its townships or villages."""
    import sqlite3

    from jiuzhu.demo import DEMO_COUNTIES

    port, output, database = demo_server
    password, _ = credentials(output)
    second = DEMO_COUNTIES[1]
    with contextlib.closing(sqlite3.connect(database)) as conn:
        [(case_id,)] = conn.execute("SELECT c.id FROM cases c JOIN tenants t ON t.id = c.tenant_id WHERE t.code = ? "
                                    "AND c.status = 'pending_acceptance'", (second.code,)).fetchall()
    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"username": f"{second.code}-t1-staff", "password": password,
                                   "csrf_token": token}).encode()
    opener.open(base + "/login", data=body).read()
    html = opener.open(f"{base}/admin/casework/{case_id}").read().decode()
    card = html[html.index('data-testid="duplicates"'):]
    assert re.search(rf"方志强</strong>\s*在{DEMO_COUNTIES[0].name}享受最低生活保障，\d{{4}}年\d\d月起", card)
    with contextlib.closing(sqlite3.connect(database)) as conn:  # nothing of the first county's household
        places = [r[0] for r in conn.execute("SELECT o.name FROM org_units o JOIN tenants t ON t.id = o.tenant_id "
                                             "WHERE t.code = ? AND o.level <> 'county'", (DEMO_COUNTIES[0].code,))]
    assert places and not any(p in card.split('data-testid="step-')[0] for p in places)


def test_the_demo_database_has_the_calendar_and_takes_a_new_year(demo_server, tmp_path):
    """``flask --app wsgi demo`` ran the migrations, seed included, on SQLite: the calendar answers
    there, and entering a year works too (on a copy of the demo's database: the served demo stays
    as it is)."""
    import shutil
    import sqlite3

    from tests.test_calendar_cli import SCHEDULE_2027

    _, _, database = demo_server
    copy = tmp_path / "demo.db"
    with contextlib.closing(sqlite3.connect(database)) as source, contextlib.closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    shutil.copy(database.parent / "keys.json", tmp_path / "keys.json")
    env = {**os.environ, "JIUZHU_DATABASE_URL": f"sqlite:///{copy}", "JIUZHU_KEYS_FILE": str(tmp_path / "keys.json"),
           "JIUZHU_SECRET_KEY": "demo-test", "JIUZHU_SECURE_COOKIES": "0", "JIUZHU_PASSWORD_HASHING": "fast"}
    for name in ("JIUZHU_PLUGINS", "JIUZHU_KEYS"):
        env.pop(name, None)

    def flask(*args):
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    r = flask("calendar", "add-workdays", "2026-09-30", "7")
    assert "2026-10-15（星期四）" in r.stdout, r.stderr
    assert "暂定：2027 年的放假安排尚未发布" in flask("calendar", "add-workdays", "2026-12-28", "5").stdout
    (tmp_path / "2027.csv").write_text(SCHEDULE_2027, encoding="utf-8")
    r = flask("calendar", "enter", "2027", str(tmp_path / "2027.csv"), "--by", "ops")
    assert r.returncode == 0, r.stderr
    r = flask("calendar", "add-workdays", "2026-12-28", "5")
    assert "2027-01-05（星期二）" in r.stdout and "不是暂定" in r.stdout
