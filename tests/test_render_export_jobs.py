"""Big exports as render jobs (issue 15): a grid of more elections than `export_job_rows`
offers its 进度通报 as a background job; the figures are taken on the request, the workbook or
report written by the service's pool or a render worker, with the same progress and download
page as a notice's file; only its requester sees it. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import threading
from datetime import UTC, datetime

import docx
import openpyxl
import pytest

from config.settings import Settings
from tests.service_fixtures import PASSWORD, make_world
from workflow.commands import render_jobs

HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def world(db, clock):
    made = make_world(db, clock)
    clock.set(datetime(2011, 9, 21, 2, 0, tzinfo=UTC))  # a month on: overdue items to report
    return made


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _login(world, username="admin"):
    client = world.client
    client.cookies.clear()
    page = client.get("/login")
    client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf": _csrf(page.text), "next": "/grid"}
    )
    return client


def _settings(db, **kw) -> Settings:
    return Settings(db=db.url, migrate_on_start=False, cookie_secure=False, **kw)


def _rows(content: bytes, sheet: str) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [[c.value for c in row] for row in book[sheet].iter_rows()]


def test_a_big_grids_report_is_a_job_with_a_progress_page_and_the_same_figures(world, db, clock):
    services = world.client.app.state.services
    client = _login(world)
    small = client.get("/grid?overdue=1").text  # 8 elections: under the default threshold
    assert 'action="/grid/report.xlsx"' in small and "/grid/report-jobs" not in small
    services.settings = _settings(db, export_job_rows=5)
    services._renders = render_jobs.RenderPool(db, clock, processes=False)
    page = client.get("/grid?overdue=1").text
    assert (
        'action="/grid/report-jobs"' in page
        and "后台生成" in page
        and 'action="/grid/report.xlsx"' not in page
    )
    gate = threading.Event()
    original = render_jobs.render_export

    def held(export, snapshot, fmt):
        gate.wait(30)
        return original(export, snapshot, fmt)

    try:
        render_jobs.render_export = held
        made = client.post(
            "/grid/report-jobs",
            data={"csrf": _csrf(page), "fmt": "xlsx", "overdue": "1"},
            follow_redirects=False,
        )
        assert made.status_code == 303 and made.headers["location"].startswith("/exports/")
        job_page = made.headers["location"]
        waiting = client.get(job_page).text
        assert '<meta http-equiv="refresh" content="2">' in waiting and "/file" not in waiting
        assert "返回工作进度总览" in waiting
        gate.set()
        services.renders().wait(timeout=60)
    finally:
        render_jobs.render_export = original
        gate.set()
        services.renders().shutdown()
    done = client.get(job_page).text
    assert "已完成" in done and 'http-equiv="refresh"' not in done and "下载 Excel 文件" in done
    file = client.get(f"{job_page}/file")
    assert file.status_code == 200 and "attachment;" in file.headers["content-disposition"]
    assert "%E8%BF%9B%E5%BA%A6%E9%80%9A%E6%8A%A5" in file.headers["content-disposition"]  # 进度通报
    direct = client.get("/grid/report.xlsx?overdue=1").content  # the synchronous path, same figures
    for sheet in ("各节点统计", "逾期事项"):
        assert _rows(file.content, sheet) == _rows(direct, sheet)
    assert len(_rows(file.content, "逾期事项")) - 1 == 11
    # Someone else's export answers as not found, page and file alike.
    other = _login(world, "xinshi")
    assert other.get(job_page, headers=HTML).status_code == 404
    assert other.get(f"{job_page}/file", headers=HTML).status_code == 404
    # A bad format is refused in Chinese, nothing queued.
    client = _login(world)
    refused = client.post(
        "/grid/report-jobs",
        data={"csrf": _csrf(client.get("/grid").text), "fmt": "pdf"},
        follow_redirects=False,
    )
    assert refused.status_code == 303 and "err=" in refused.headers["location"]


def test_an_export_job_is_written_by_a_render_worker_when_the_service_leaves_jobs_to_workers(
    world, db, clock
):
    services = world.client.app.state.services
    services.settings = _settings(db, export_job_rows=0, render_runner="worker")
    client = _login(world)
    page = client.get("/grid").text
    made = client.post("/grid/report-jobs", data={"csrf": _csrf(page), "fmt": "docx"}, follow_redirects=False)
    job_page = made.headers["location"]
    assert "排队中" in client.get(job_page).text  # the service runs nothing itself
    worker = render_jobs.RenderWorker(db, clock)
    assert worker.serve(threading.Event(), until_idle=True) == 1
    file = client.get(f"{job_page}/file")
    assert file.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(file.content)).paragraphs)
    assert "换届选举工作进度通报" in text and "项逾期" in text
