"""A background render in a real browser (Debian's chromium driven by playwright): the notice
page's 后台生成 PDF button, the job page refreshing itself until the file is ready, and the
download; the render runs in the pool's child process. Screenshots go to HUANJIE_SCREENSHOT_DIR
(else the test's tmp dir)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.service_fixtures import PASSWORD
from tests.test_notice_browser import ARGS, CHROMIUM, server  # noqa: F401  (the uvicorn fixture)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


def test_background_pdf_from_the_notice_page(server, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    url, elections = server
    county = elections["county"]
    shots = Path(os.environ.get("HUANJIE_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
            )
            page = context.new_page()
            page.goto(f"{url}/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/")
            page.goto(f"{url}/elections/{county}/notices/election_committee_formed")
            page.click("button[name=format][value=pdf]")
            page.wait_for_url(f"{url}/elections/{county}/render-jobs/*")
            status = page.locator(".job-status").inner_text()
            assert status in ("排队中", "生成中", "已完成")
            page.screenshot(path=str(shots / "render-job-waiting.png"), full_page=True)
            # The page refreshes itself every 2 s; the file is made in the pool's child process.
            page.wait_for_selector(".job-status.done", timeout=180_000)
            page.screenshot(path=str(shots / "render-job-done.png"), full_page=True)
            with page.expect_download() as info:
                page.click("a.button")
            path = info.value.path()
            assert Path(path).read_bytes().startswith(b"%PDF")
            assert info.value.suggested_filename.endswith(".pdf")
        finally:
            browser.close()
