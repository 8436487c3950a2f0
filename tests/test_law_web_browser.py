"""Issue 14's dashboard forms in a real browser (Debian's chromium driven by playwright), on the
demo county with a village election under 永兴镇: register a village's migrant voter with the
application and the meeting's consent, suspend a detained voter by the procuratorate's decision
and restore them, and record a mobile box whose scrutineer is a candidate's son (refused, citing
EL 43 ¶2) then a cousin (accepted). Desktop 1366×768 and phone 390×844 (the forms submitted on
the phone too; no sideways scroll); screenshots saved (HUANJIE_SCREENSHOT_DIR, else tmp dir)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from config.settings import Settings
from demo.county import EXAMPLES
from tests.service_fixtures import load_demo
from tests.test_service_browser import ARGS, CHROMIUM, _free_port
from tests.voters_support import number
from workflow.clock import FixedClock
from workflow.commands import auth, elections, voter_districts
from workflow.plan import load_plan
from workflow.rules import ric
from workflow.store import Database
from workflow.store.voters import Voter, VoterStatus

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
PASSWORD = "lawweb-2026-pass"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def server(tmp_path):
    import uvicorn

    from service.app import create_app

    db = Database(f"sqlite:///{tmp_path / 'lawweb.sqlite3'}")
    db.migrate()
    ids = load_demo(db, NOW)
    clock = FixedClock(NOW)
    plan = load_plan(EXAMPLES / "village_committee.toml")
    plan = replace(plan, jurisdiction=replace(plan.jurisdiction, parent="420821101"))
    with db.transaction() as s:
        auth.add_user(
            s, username="admin", role="county_admin", jurisdiction_code="420821", password=PASSWORD,
            clock=clock, actor="test",
        )  # fmt: skip
        village = elections.create_election(s, plan, clock=clock, actor="test").election.id
        voter_districts.add_district(s, village, code="01", name="第一组", clock=clock, actor="test")
        town = ids["420821101"]
        voters = s.execute(
            select(Voter.name, Voter.id_number)
            .where(Voter.election_id == town, Voter.status == VoterStatus.ACTIVE)
            .order_by(Voter.id)
            .limit(2)
        ).all()
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
        yield f"http://127.0.0.1:{port}", db, {**ids, "village": village}, voters
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        db.dispose()


def _no_sideways(page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 392)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 8)"
    )
    assert width <= PHONE["width"] + 2, f"{where}: {width}px {wide}"


def _migrant(form, name: str, id_number: str) -> None:
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=id_number]").fill(id_number)
    form.locator("input[name=resident_since]").fill("2024-05-01")
    form.locator("input[name=applied_on]").fill("2026-11-02")
    form.locator("select[name=consent_body]").select_option("村民代表会议")
    form.locator("input[name=consent_on]").fill("2026-11-05")


def _exclude(form, name: str, id_number: str) -> None:
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=id_number]").fill(id_number)
    form.locator("select[name=ground]").select_option("suspended")
    form.locator("input[name=body]").fill("京山县人民检察院")
    form.locator("input[name=document]").fill("京检停选〔2026〕3号决定书")


def _box(form, label: str, relation: str) -> None:
    form.locator("select[name=district]").select_option("420821-01")
    form.locator("input[name=label]").fill(label)
    form.locator("input[name=reason]").fill("行动不便的老年选民")
    form.locator("textarea[name=scrutineers]").fill("监票甲\n监票乙\n监票丙")
    form.locator("input[name=tie_scrutineer]").first.fill("监票乙")
    form.locator("input[name=tie_candidate]").first.fill("王建国")
    form.locator("input[name=tie_relation]").first.fill(relation)


def test_the_three_forms_on_desktop_and_phone(server, tmp_path):
    from playwright.sync_api import sync_playwright

    base, db, ids, voters = server
    shots = Path(os.environ.get("HUANJIE_SCREENSHOT_DIR") or tmp_path) / "lawweb"
    shots.mkdir(parents=True, exist_ok=True)
    village, town, county = ids["village"], ids["420821101"], ids["county"]
    (first_name, first_id), (second_name, second_id) = voters
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            desk = browser.new_context(viewport=DESKTOP, locale="zh-CN")
            desk.set_default_timeout(30_000)
            page = desk.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")

            # 1. The village's migrant voter: the consent date forgotten, then given.
            page.goto(f"{base}/elections/{village}/register")
            form = page.locator("#migrant form")
            _migrant(form, "外来甲", number(date(1980, 3, 3), 5, "F", area="330102"))
            form.locator("input[name=consent_on]").fill("")
            form.locator("button").click()
            page.wait_for_selector(".alert.bad")
            assert "请填写「会议同意日期」（村委会组织法第十六条第二款第三项）" in page.locator(".alert.bad").inner_text()
            assert page.locator("#migrant input[name=consent_on].field-bad").count() == 1
            form = page.locator("#migrant form")
            _migrant(form, "外来甲", number(date(1980, 3, 3), 5, "F", area="330102"))
            form.locator("button").click()
            page.wait_for_selector(".alert.good")
            assert "已登记户籍不在本村的选民 外来甲" in page.locator(".alert.good").inner_text()
            page.locator("#migrant").scroll_into_view_if_needed()
            page.screenshot(path=shots / "desktop-1-migrant.png", full_page=True)

            # 2. Suspend a detained voter by the procuratorate's decision, then restore them.
            page.goto(f"{base}/elections/{town}/register")
            _exclude(page.locator("#exclude form").first, first_name, first_id)
            page.locator("#exclude form").first.locator("button").click()
            page.wait_for_selector(".alert.good")
            assert "若干规定》第四项" in page.locator(".alert.good").inner_text()
            assert ric.mask(first_id) in page.locator("#exclude table").inner_text()
            page.screenshot(path=shots / "desktop-2-excluded.png", full_page=True)
            restore = page.locator("#restore")
            restore.locator("input[name=id_number]").fill(first_id)
            restore.locator("input[name=ended_on]").fill("2026-12-20")
            restore.locator("input[name=document]").fill("京检解除〔2026〕9号决定书")
            restore.locator("button").click()
            page.wait_for_selector(".alert.good")
            assert f"已恢复 {first_name}" in page.locator(".alert.good").inner_text()

            # 3. A mobile box: the candidate's son refused as a scrutineer, a cousin accepted.
            page.goto(f"{base}/elections/{county}/mobile-boxes")
            _box(page.locator("#add form"), "流动1号", "儿子")
            page.locator("#add form button").click()
            page.wait_for_selector(".alert.bad")
            assert (
                "监票乙 是候选人 王建国 的儿子（近亲属），不能担任监票人、计票人（选举法第四十三条第二款）"
                in page.locator(".alert.bad").inner_text()
            )
            page.screenshot(path=shots / "desktop-3-box-refused.png", full_page=True)
            _box(page.locator("#add form"), "流动1号", "表兄")
            page.locator("#add form button").click()
            page.wait_for_selector(".alert.good")
            assert "流动票箱 流动1号" in page.locator(".alert.good").inner_text()
            assert "监票甲、监票乙、监票丙" in page.locator("#boxes table").inner_text()
            page.screenshot(path=shots / "desktop-4-box-recorded.png", full_page=True)

            # 4. The phone: the same three forms, no sideways scroll.
            phone = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
            phone.set_default_timeout(30_000)
            phone.add_cookies(desk.cookies())
            small = phone.new_page()
            small.on("pageerror", lambda e: errors.append(str(e)))
            small.goto(f"{base}/elections/{village}/register")
            _no_sideways(small, "village register")
            form = small.locator("#migrant form")
            _migrant(form, "外来乙", number(date(1982, 4, 4), 6, "M", area="330102"))
            form.locator("button").click()
            small.wait_for_selector(".alert.good")
            _no_sideways(small, "village register, after")
            small.screenshot(path=shots / "phone-1-migrant.png", full_page=True)
            small.goto(f"{base}/elections/{town}/register")
            _exclude(small.locator("#exclude form").first, second_name, second_id)
            small.locator("#exclude form").first.locator("button").click()
            small.wait_for_selector(".alert.good")
            _no_sideways(small, "township register")
            small.locator("#exclude").scroll_into_view_if_needed()
            small.screenshot(path=shots / "phone-2-excluded.png", full_page=True)
            small.goto(f"{base}/elections/{county}/mobile-boxes")
            _box(small.locator("#add form"), "流动2号", "配偶")
            small.locator("#add form button").click()
            small.wait_for_selector(".alert.bad")
            _no_sideways(small, "mobile boxes")
            small.screenshot(path=shots / "phone-3-box-refused.png", full_page=True)
            small.locator("#add").scroll_into_view_if_needed()
            small.screenshot(path=shots / "phone-4-box-form.png")
            phone.close()
            desk.close()
        finally:
            browser.close()
    assert errors == []
    with db.reading() as s:
        excluded = s.execute(
            select(Voter.status).where(Voter.election_id == town, Voter.id_hash == ric.id_hash(second_id))
        ).scalar_one()
    assert excluded == VoterStatus.REMOVED
    for shot in shots.glob("*.png"):
        assert shot.stat().st_size > 5_000
    assert len(list(shots.glob("*.png"))) == 8
