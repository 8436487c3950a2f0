"""A walk through every dashboard page in Debian's chromium (playwright), on the whole demo a
month on, as the county admin and as a township's staff, on a desktop (1366×768) and a phone
(390×844): each page answers (200, or 404 for the error pages), logs no console error and no
CSP violation, has a Chinese title, does not scroll sideways on the phone, and links to nothing
that is dead. Screenshots go to HUANJIE_SCREENSHOT_DIR (else the test's tmp dir). Bounded: one
browser, viewport screenshots, a page timeout, the downloads (PDF, Word, Excel) left out of the
link check."""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.service_fixtures import load_demo
from tests.test_service_browser import ARGS, CHROMIUM, _free_port
from workflow.clock import FixedClock
from workflow.commands import auth
from workflow.store import Database

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")

PASSWORD = "walk-2011-pass"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
CJK = re.compile(r"[\u4e00-\u9fff]")
DOWNLOADS = (".pdf", ".docx", ".xlsx", ".ics")
BUDGET = 420  # seconds for the whole walk on a loaded machine


@pytest.fixture
def demo_server(tmp_path):
    import uvicorn

    from config.settings import Settings
    from service.app import create_app

    db = Database(f"sqlite:///{tmp_path / 'walk.sqlite3'}")
    db.migrate()
    built = datetime(2011, 8, 20, 2, 0, tzinfo=UTC)
    ids = load_demo(db, built)
    clock = FixedClock(built)
    with db.transaction() as session:
        for username, role, code in (
            ("admin", "county_admin", "420821"),
            ("xinshi", "township_staff", "420821100"),
        ):
            auth.add_user(
                session, username=username, role=role, jurisdiction_code=code, password=PASSWORD,
                clock=clock, actor="test",
            )  # fmt: skip
    clock.set(datetime(2011, 9, 21, 2, 0, tzinfo=UTC))  # a month on
    app = create_app(Settings(db=db.url, migrate_on_start=False), db, clock)
    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}", ids
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        db.dispose()


def _pages(ids: dict[str, int], who: str) -> list[tuple[str, str, int]]:
    """(name, path, status) of the pages to walk for `who`."""
    county, town = ids["county"], ids["420821100"]
    steps = ("allocation", "districts", "register", "appeals", "candidates", "mobile-boxes", "tallies", "results")
    pages = [("county", "/", 200), ("grid", "/grid", 200), ("grid-overdue", "/grid?overdue=1", 200)]
    if who == "admin":
        pages += [(f"election-{kind}", f"/elections/{ids[kind]}", 200) for kind in ("county", "party_branch", "residents_committee")]
        pages += [(f"county-{step}", f"/elections/{county}/{step}", 200) for step in steps]
        pages += [
            ("advance", f"/elections/{county}/advance", 200),
            ("milestone", f"/elections/{county}/milestones/voter_list_published", 200),
            ("party-candidates", f"/elections/{ids['party_branch']}/candidates", 200),
            ("users", "/users", 200),
            ("reminders", "/reminders", 200),
            ("outbox", "/outbox", 200),
            ("audit", "/audit", 200),
        ]
    pages += [(f"township-{step}", f"/elections/{town}/{step}", 200) for step in steps[1:]]
    pages += [
        ("township", f"/elections/{town}", 200),
        ("error-404", "/no-such-page", 404),
        ("error-election", "/elections/999", 404),
    ]
    return pages


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_every_page_in_both_viewports_as_county_and_township(demo_server, tmp_path):
    from playwright.sync_api import sync_playwright

    base, ids = demo_server
    shots = Path(os.environ.get("HUANJIE_SCREENSHOT_DIR") or tmp_path) / "walk"
    shots.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    problems: list[str] = []
    links: dict[str, str] = {}  # href → the page it was found on
    notices: set[str] = set()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for who in ("admin", "xinshi"):
                for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                    context = browser.new_context(viewport=viewport, is_mobile=label == "phone", locale="zh-CN")
                    context.set_default_timeout(20_000)
                    page = context.new_page()
                    errors: list[str] = []
                    page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                    page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                    _login(page, base, who)
                    walk = _pages(ids, who)
                    if who == "admin" and label == "desktop":
                        page.goto(f"{base}/elections/{ids['county']}")
                        found = page.eval_on_selector_all(
                            "a[href*='/notices/']", "els => els.map(e => e.getAttribute('href'))"
                        )
                        notices.update(h for h in found if h.startswith("/elections/"))
                        walk += [(f"notice-{i}", href, 200) for i, href in enumerate(sorted(notices)[:3])]
                    elif who == "admin":
                        walk += [(f"notice-{i}", href, 200) for i, href in enumerate(sorted(notices)[:3])]
                    for name, path, status in walk:
                        errors.clear()
                        response = page.goto(f"{base}{path}")
                        where = f"{who}/{label} {path}"
                        if response is None or response.status != status:
                            problems.append(f"{where}: status {response.status if response else None} ≠ {status}")
                        title = page.title()
                        if not CJK.search(title):
                            problems.append(f"{where}: title not Chinese: {title!r}")
                        if label == "phone":
                            width = page.evaluate("document.documentElement.scrollWidth")
                            if width > viewport["width"] + 2:
                                problems.append(f"{where}: scrolls sideways on a phone ({width}px)")
                        body = page.inner_text("body")
                        if body.lstrip().startswith("{") or "Traceback" in body or "Internal Server Error" in body:
                            problems.append(f"{where}: raw JSON or a Python error shown")
                        if status == 404:  # the page's own status, logged by chromium
                            errors[:] = [e for e in errors if "status of 404" not in e]
                        if errors:
                            problems.append(f"{where}: console: {errors[:3]}")
                        page.screenshot(path=shots / f"{who}-{label}-{name}.png")
                        if label == "desktop":
                            for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
                                links.setdefault(href, path)
                    context.close()
            # Dead links: every same-site link found, fetched once (downloads and logout left out).
            checker = browser.new_context()
            check = checker.new_page()
            _login(check, base, "admin")
            seen: set[str] = set()
            for href, source in sorted(links.items()):
                target = urlsplit(href)
                if target.netloc or not target.path.startswith("/") or target.path.endswith(DOWNLOADS):
                    continue
                if target.path in ("/logout",) or "/report." in target.path or re.search(r"format=(pdf|docx|xlsx)", target.query):
                    continue
                if target.path in seen:
                    continue  # one of each address (a notice's districts, a filter's values)
                seen.add(target.path)
                answer = check.request.get(f"{base}{target.path}{'?' + target.query if target.query else ''}")
                if answer.status >= 400:
                    problems.append(f"dead link {href} on {source}: {answer.status}")
            checker.close()
        finally:
            browser.close()
    assert problems == [], "\n".join(problems)
    assert time.monotonic() - started < BUDGET
