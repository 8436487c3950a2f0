"""Publishing a notice in a real browser (Debian's chromium driven by playwright): from the
election page to the 样稿 preview, confirm, publish, download the PDF and the Word file; on a
desktop and on a phone. Screenshots go to HUANJIE_SCREENSHOT_DIR (else the test's tmp dir)."""

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
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

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
    clock = FixedClock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
    _tokens, elections = load_world(db, clock.now())
    app = create_app(Settings(db=db.url, migrate_on_start=False, cookie_secure=False), db, clock)
    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}", elections
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        db.dispose()


def test_publish_a_notice_from_the_election_page(server, tmp_path):
    from playwright.sync_api import sync_playwright

    url, elections = server
    county = elections["county"]
    shots = Path(os.environ.get("HUANJIE_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
            page = context.new_page()
            page.goto(f"{url}/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/")
            page.goto(f"{url}/elections/{county}")
            page.click("#notices a[href$='/notices/election_committee_formed']")
            page.wait_for_selector("iframe.notice-frame")
            facts = page.locator("#preview .facts").inner_text()
            assert "京选公〔2026〕1号" in facts and "2026-11-18" in facts and "办结日期" in facts
            frame = page.frame_locator("iframe.notice-frame")
            assert frame.locator(".draft-mark").inner_text() == "样稿"
            page.screenshot(path=shots / "notice-01-preview.png", full_page=True)

            page.click("text=发布…")
            page.wait_for_selector("#confirm")
            assert "确认发布？" in page.locator("#confirm").inner_text()
            page.screenshot(path=shots / "notice-02-confirm.png", full_page=False)
            page.click("#confirm button[type=submit]")
            page.wait_for_selector(".alert.good")
            assert "文号 京选公〔2026〕1号" in page.locator(".alert.good").inner_text()
            page.screenshot(path=shots / "notice-03-published.png", full_page=True)
            for label, suffix in (("下载 PDF", ".pdf"), ("下载 Word", ".docx")):
                with page.expect_download() as caught:
                    page.click(f"#published >> text={label}")
                download = caught.value
                assert download.suggested_filename.endswith(suffix)
                target = shots / f"notice-published{suffix}"
                download.save_as(target)
                assert target.stat().st_size > 5_000

            phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
            phone.context.add_cookies(context.cookies())
            phone.goto(f"{url}/elections/{county}/notices/election_committee_formed")
            phone.wait_for_selector("#published")
            phone.screenshot(path=shots / "notice-04-phone.png", full_page=False)
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 400, f"page scrolls sideways on a phone ({width}px)"
        finally:
            browser.close()
    pdf = (shots / "notice-published.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
