"""Browser tests: Debian's Chromium (/usr/bin/chromium) driven by Playwright, against the app served
on a loopback port. Screenshots are kept under test-artifacts/screens/."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"
CHROMIUM = os.environ.get("JIUZHU_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's Chromium is not installed at {CHROMIUM} (scripts/test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page_for(browser, live_url):
    """``page_for(username, viewport=(1366, 768))``: a logged-in page in its own browser context."""
    contexts = []

    def make(username: str, password: str | None = None, viewport=(1366, 768)):
        from tests.conftest import PASSWORD

        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(live_url + "/login")
        page.fill("#username", username)
        page.fill("#password", password or PASSWORD)
        page.click("button[type=submit]")
        second_factor_in_browser(page, username)
        page.wait_for_url("**/admin/**")
        return page

    yield make
    for context in contexts:
        context.close()


def second_factor_in_browser(page, username: str) -> None:
    """As a person with an authenticator would: bind it on the first login that asks (reading the secret
    off the page), save the recovery codes, and type the code."""
    from tests.conftest import _LAST_STEP, TOTP_SECRETS, totp_code

    page.wait_for_load_state()
    if "/login/enroll" in page.url:
        TOTP_SECRETS[username] = page.inner_text("[data-testid=totp-secret]").replace(" ", "")
        _LAST_STEP.pop(username, None)
        page.fill("[data-testid=code]", totp_code(username))
        page.click("button[type=submit]")
        page.wait_for_url("**/account/recovery-codes")
        page.click("text=我已保存，继续")
    elif "/login/second-factor" in page.url:
        page.fill("[data-testid=code]", totp_code(username))
        page.click("button[type=submit]")


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
