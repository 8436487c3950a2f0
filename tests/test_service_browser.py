"""The dashboard in a real browser (Debian's chromium driven by playwright, never a downloaded
browser): log in, open the county view and an election, complete a milestone; screenshots are
saved (HUANJIE_SCREENSHOT_DIR, else the test's tmp dir) for a person to look at."""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.service_fixtures import PASSWORD, load_world
from workflow.clock import FixedClock
from workflow.store import Database

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    import uvicorn

    from config.settings import Settings
    from service.app import create_app

    db = Database(f"sqlite:///{tmp_path / 'browser.sqlite3'}")
    db.migrate()
    clock = FixedClock(datetime(2011, 8, 20, 2, 0, tzinfo=UTC))
    load_world(db, clock.now())
    clock.set(datetime(2011, 9, 21, 2, 0, tzinfo=UTC))  # a month on: some bounds have passed
    app = create_app(Settings(db=db.url, migrate_on_start=False, cookie_secure=False), db, clock)
    port = _free_port()
    uv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        db.dispose()


def test_login_dashboard_election_complete(server, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("HUANJIE_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(f"{server}/")
            assert page.url.startswith(f"{server}/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.screenshot(path=shots / "01-login.png")
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/")
            assert page.locator("li.card.election").count() == 8
            assert page.locator("li.election.has-bad").count() >= 1  # overdue items in red
            page.screenshot(path=shots / "02-county.png", full_page=True)

            page.click("text=新市镇2011年乡级人民代表大会代表换届选举")
            page.wait_for_selector("svg[aria-label=选举时间轴]")
            assert page.locator("svg .vline.today").count() == 1
            page.screenshot(path=shots / "03-election.png", full_page=True)

            form = page.locator("#m-quotas_allocated form.complete")
            form.locator("input[name=on]").fill("2011-09-01")
            form.locator("button").click()
            page.wait_for_selector(".alert.good")
            assert "已办结「分配代表名额」（2011-09-01）" in page.locator(".alert.good").inner_text()
            assert "已办结" in page.locator("#m-quotas_allocated .badge").inner_text()
            page.screenshot(path=shots / "04-completed.png", full_page=True)

            phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
            phone.context.add_cookies(page.context.cookies())
            phone.goto(f"{server}/elections/3")
            phone.screenshot(path=shots / "05-phone-election.png", full_page=False)
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 400, f"page scrolls sideways on a phone ({width}px)"
            phone.goto(f"{server}/")
            phone.screenshot(path=shots / "06-phone-county.png", full_page=False)
            assert phone.evaluate("document.documentElement.scrollWidth") <= 400
        finally:
            browser.close()
    for name in ("01-login", "02-county", "03-election", "04-completed", "05-phone-election", "06-phone-county"):
        assert (shots / f"{name}.png").stat().st_size > 5_000
