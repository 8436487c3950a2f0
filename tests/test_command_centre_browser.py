"""The clerk's morning in a real browser (Debian's chromium driven by playwright), on the demo
county a month on: filter the grid to overdue, read the counts, open a township's late
milestone, complete it with a confirmation, undo it with a reason, chase two townships (the
local webhook receives exactly two messages; a second chase the same day sends nothing), and
export the 进度通报 (opened with openpyxl and python-docx: its counts are the grid's). Desktop
1366×768 and phone 390×844; screenshots saved (HUANJIE_SCREENSHOT_DIR, else the tmp dir)."""

from __future__ import annotations

import io
import os
import re
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import docx
import openpyxl
import pytest
from sqlalchemy import select

from config.settings import Settings
from schedules.delivery import deliver_all
from tests.delivery_servers import RobotServer
from tests.service_fixtures import PASSWORD, load_world
from tests.test_service_browser import ARGS, CHROMIUM, _free_port
from workflow.clock import FixedClock
from workflow.store import Database
from workflow.store.models import Jurisdiction

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
WEBHOOK_TOWNSHIPS = ("420821100", "420821101")  # 新市镇, 永兴镇


@pytest.fixture
def morning(tmp_path):
    import uvicorn

    from service.app import create_app

    hook = RobotServer("webhook")
    db = Database(f"sqlite:///{tmp_path / 'morning.sqlite3'}")
    db.migrate()
    clock = FixedClock(datetime(2011, 8, 20, 2, 0, tzinfo=UTC))
    load_world(db, clock.now())
    with db.transaction() as session:
        for code in WEBHOOK_TOWNSHIPS:
            j = session.scalars(select(Jurisdiction).where(Jurisdiction.code == code)).one()
            j.contacts = [{"name": f"{j.name}选举委员会办公室", "channels": {"webhook": {"url": hook.url, "secret": hook.secret}}}]
    clock.set(datetime(2011, 9, 21, 0, 30, tzinfo=UTC))  # a month on, 08:30 in Jingshan
    hook.now = clock.now
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
        yield f"http://127.0.0.1:{port}", db, clock, hook
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        hook.close()
        db.dispose()


def _counts(page) -> dict[str, int]:
    found = {}
    for chip in page.locator(".counts .chip").all():
        number, name = chip.inner_text().split(" ", 1)
        found[name.strip()] = int(number)
    return found


def test_the_clerks_morning(morning, tmp_path):
    from playwright.sync_api import sync_playwright

    server, db, clock, hook = morning
    shots = Path(os.environ.get("HUANJIE_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    settings = Settings(delivery_http_timeout_seconds=5)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True)
            page = context.new_page()
            page.goto(f"{server}/login?next=/grid")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/grid")

            # 1. Filter to overdue; the counts say who is behind on what.
            page.check("form.filters input[name=overdue]")
            page.click("form.filters button[type=submit]")
            page.wait_for_url(re.compile(r".*overdue=1.*"))
            counts = _counts(page)
            assert counts["已逾期"] == 11
            assert "5 个选举已逾期：公布选民名单" in page.locator("ul.headline").first.inner_text()
            assert page.locator("table.grid tbody tr").count() == 6  # only rows with an overdue cell
            assert page.locator("ol.phone-list").is_hidden()
            page.screenshot(path=shots / "10-grid-overdue.png", full_page=True)

            # 2. Open 新市镇's late milestone from its cell; complete it with the confirmation.
            cell = page.locator("#row-3 td.cell[data-key=voter_list_published] a")
            assert "已逾期" in cell.get_attribute("title") and "法定最迟 2011-09-19" in cell.get_attribute("title")
            cell.click()
            page.wait_for_url(f"{server}/elections/3/milestones/voter_list_published")
            form = page.locator("form.act-complete")
            assert "可以办理「选民资格申诉处理完毕」" in form.inner_text() or "选民资格申诉" in form.inner_text()
            form.locator("input[name=on]").fill("2011-09-20")
            form.locator("button").click()  # the confirmation box is required: nothing is sent yet
            assert page.url.endswith("/milestones/voter_list_published")
            assert page.locator(".alert.good").count() == 0
            form.locator("input[name=confirm]").check()
            form.locator("button").click()
            page.wait_for_selector(".alert.good")
            assert "已办结「公布选民名单」（2011-09-20），已超过法定期限" in page.locator(".alert.good").inner_text()
            page.screenshot(path=shots / "11-milestone-completed.png", full_page=True)

            # 3. Undo it with a reason.
            undo = page.locator("form.act-undo")
            undo.locator("textarea[name=reason]").fill("名单尚未张贴，误登记")
            undo.locator("button").click()
            page.wait_for_selector(".alert.good")
            assert "已撤销「公布选民名单」的办结（理由：名单尚未张贴，误登记）" in page.locator(".alert.good").inner_text()
            assert page.locator("form.act-complete").count() == 1

            # 4. Chase two townships on the voter list.
            page.goto(f"{server}/grid?overdue=1")
            page.check("#row-3 td.sel input")
            page.check("#row-4 td.sel input")
            page.select_option(".chase-bar select[name=milestone]", "voter_list_published")
            page.click(".chase-bar button")
            page.wait_for_selector(".alert.good")
            assert page.locator(".alert.good").inner_text().count("已催办") == 2
            assert deliver_all(db, clock, settings=settings).sent == 2
            assert len(hook.accepted) == 2
            assert {r.document["subject"].split("：")[0] for r in hook.accepted} == {"【催办】新市镇", "【催办】永兴镇"}
            assert "已催办 1 次，最近 09-21" in page.locator("#row-3 td.cell[data-key=voter_list_published] a").get_attribute("title")
            # The same chase again today sends nothing.
            page.check("#row-3 td.sel input")
            page.check("#row-4 td.sel input")
            page.select_option(".chase-bar select[name=milestone]", "voter_list_published")
            page.click(".chase-bar button")
            page.wait_for_selector(".alert.good")
            assert page.locator(".alert.good").inner_text().count("今天已催办过") == 2
            assert deliver_all(db, clock, settings=settings).sent == 0
            assert len(hook.accepted) == 2
            page.screenshot(path=shots / "12-grid-chased.png", full_page=True)
            grid_counts = _counts(page)

            # 5. Export the 进度通报; its figures are the grid's.
            with page.expect_download() as xlsx_download:
                page.click("text=下载 Excel")
            book = openpyxl.load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
            header = [c.value for c in book["各节点统计"][2]]
            lines = [[c.value for c in row] for row in book["各节点统计"].iter_rows(min_row=3)]
            for name, count in grid_counts.items():
                assert sum(line[header.index(name)] for line in lines) == count, name
            assert book["逾期事项"].max_row - 1 == grid_counts["已逾期"]
            with page.expect_download() as docx_download:
                page.click("text=下载 Word")
            document = docx.Document(io.BytesIO(Path(docx_download.value.path()).read_bytes()))
            assert f"共 {grid_counts['已逾期']} 项逾期" in "\n".join(p.text for p in document.paragraphs)
            assert len(document.tables[1].rows) - 1 == grid_counts["已逾期"]

            # The whole grid, for the docs.
            page.goto(f"{server}/grid")
            page.screenshot(path=shots / "13-grid.png", full_page=True)

            # 6. Phone: rows collapse to a list sorted by urgency.
            phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
            phone.add_cookies(context.cookies())
            small = phone.new_page()
            small.goto(f"{server}/grid?overdue=1")
            assert small.locator("table.grid").first.is_hidden()
            items = small.locator("ol.phone-list > li")
            assert items.count() == 6
            assert "新市镇阳光社区" in items.first.inner_text()  # three days overdue: first
            small.screenshot(path=shots / "14-phone-grid.png", full_page=False)
            wide = small.evaluate("""[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 392).map(e => e.tagName + '.' + e.className).slice(0, 8)""")
            assert small.evaluate("document.documentElement.scrollWidth") <= 400, wide
            small.screenshot(path=shots / "14-phone-grid.png", full_page=False)
            small.goto(f"{server}/elections/3/milestones/voter_list_published")
            assert small.evaluate("document.documentElement.scrollWidth") <= 400
            small.screenshot(path=shots / "15-phone-milestone.png", full_page=False)
        finally:
            browser.close()
    for name in ("10-grid-overdue", "11-milestone-completed", "12-grid-chased", "13-grid", "14-phone-grid", "15-phone-milestone"):
        assert (shots / f"{name}.png").stat().st_size > 5_000
    if os.environ.get("HUANJIE_UPDATE_DOCS_SCREENSHOT"):
        shutil.copyfile(shots / "13-grid.png", ROOT / "docs" / "grid.png")
