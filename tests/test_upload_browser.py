"""The upload report in a real browser (Debian's chromium + playwright): a village register with
a title row and three bad rows is uploaded from the election page; the report names the rows and
offers the rejected rows as XLSX, which downloads with the original rows and a 原因 column.
Screenshots go to HUANJIE_SCREENSHOT_DIR (else the test's tmp dir)."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from demo.county import progress
from demo.voters import HEADER, synthetic_rows
from tests.service_fixtures import PASSWORD, load_world
from tests.test_service_browser import ARGS, CHROMIUM, _free_port
from workflow.clock import FixedClock
from workflow.commands import voter_districts
from workflow.store import Database

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
ID_COLUMN = HEADER.index("公民身份号码")


@pytest.fixture
def server(tmp_path):
    import uvicorn

    from config.settings import Settings
    from service.app import create_app

    db = Database(f"sqlite:///{tmp_path / 'browser.sqlite3'}")
    db.migrate()
    clock = FixedClock(datetime(2011, 8, 20, 2, 0, tzinfo=UTC))
    load_world(db, clock.now())
    clock.set(datetime(2011, 9, 2, 2, 0, tzinfo=UTC))
    with db.transaction() as session:
        progress(session, 3, today=date(2011, 9, 2), clock=clock, actor="test")
        for code in ("01", "02"):
            voter_districts.add_district(
                session, 3, code=code, name=f"第{code}选区", clock=clock, actor="test"
            )
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
    assert uv.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        db.dispose()


def _register(path: Path) -> Path:
    rows = [
        list(r) for r in synthetic_rows(8, election_day=date(2011, 10, 9), districts=["01", "02"], seed=5)
    ]
    rows[5][ID_COLUMN] = "42082119601301001X"  # month 13
    rows[6][HEADER.index("姓名")] = ""
    rows[7][HEADER.index("选区")] = "09"
    book = Workbook()
    sheet = book.active
    sheet.append(["新市镇五里铺村选民登记表"])
    sheet.merge_cells(f"A1:{chr(64 + len(HEADER))}1")
    sheet.append([])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_upload_report_offers_the_rejected_rows(server, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("HUANJIE_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    register = _register(tmp_path / "五里铺村.xlsx")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(
                viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
            )
            page.goto(f"{server}/login")
            page.fill("input[name=username]", "xinshi")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/")
            page.goto(f"{server}/elections/3")
            form = page.locator("form.upload")
            form.locator("input[type=file]").set_input_files(str(register))
            form.locator("button").click()
            page.wait_for_selector(".alert")
            text = page.inner_text("main")
            assert "有 3 行被拒绝，未导入任何记录" in text
            assert "第 9 行" in text and "第 10 行" in text and "第 11 行" in text
            page.screenshot(path=shots / "upload-report.png", full_page=True)
            with page.expect_download() as waiting:
                page.click("text=下载被拒绝的行")
            saved = tmp_path / "rejected.xlsx"
            waiting.value.save_as(saved)
            assert waiting.value.suggested_filename.endswith(".xlsx")
        finally:
            browser.close()
    table = list(load_workbook(saved, read_only=True).active.iter_rows(values_only=True))
    assert table[0] == (*HEADER, "原因") and len(table) == 4
    assert [row[-1].split("：")[0] for row in table[1:]] == ["第 9 行", "第 10 行", "第 11 行"]
    assert (shots / "upload-report.png").stat().st_size > 5_000
