"""Render jobs (issue 15): a large PDF/Word preview is queued with its data snapshot, rendered
with no transaction open, and downloaded when done; on SQLite and PostgreSQL, through the
commands and through the API (202 and the job's URL)."""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.service_fixtures import load_demo, make_world
from tests.test_notice_publish_web import _csrf, login
from tests.test_service_api import problem_of
from workflow.clock import FixedClock
from workflow.commands import render_jobs
from workflow.commands.notices import render_notice
from workflow.errors import Conflict, DomainError, NotFound
from workflow.store.render_jobs import RenderJob

CLOCK = FixedClock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))


@pytest.fixture
def county(db):
    return db, load_demo(db, CLOCK.now())["county"]


def _submit(db, election_id, template="election_day", fmt="pdf") -> int:
    with db.transaction() as session:
        return render_jobs.submit(session, election_id, template, fmt=fmt, clock=CLOCK, actor="tester").id


def test_job_renders_with_no_transaction_open_and_gives_the_preview_file(county):
    db, election_id = county
    job_id = _submit(db, election_id)
    with db.reading() as session:
        job = session.get(RenderJob, job_id)
        assert (job.status, job.content, job.requested_by) == ("queued", None, "tester")
        assert job.context["doc"]["draft"] is True  # a preview: 样稿 on every page
    seen = {}

    def render(template, context, fmt):
        # While the file is made, another user can write (SQLite's lock is free, no row is held)
        # and the job is visibly running.
        seen["other"] = _submit(db, election_id, fmt="docx")
        with db.reading() as session:
            seen["status"] = session.get(RenderJob, job_id).status
        return render_jobs.render_file(template, context, fmt)

    render_jobs.run(db, job_id, CLOCK, render)
    assert seen["status"] == "running"
    with db.transaction() as session:
        job = render_jobs.job_file(session, job_id, election_id)
        assert job.status == "done" and job.content.startswith(b"%PDF")
        assert job.sha256 == hashlib.sha256(job.content).hexdigest() and job.size == len(job.content)
        assert job.started_at == job.finished_at == CLOCK.now()
        direct = render_notice(session, election_id, "election_day", fmt="pdf", clock=CLOCK)
        assert job.content == direct.content  # the same bytes as the preview on the request path
        with pytest.raises(Conflict):
            render_jobs.job_file(session, seen["other"], election_id)  # still queued
        with pytest.raises(NotFound):
            render_jobs.get_job(session, job_id, election_id + 1)  # another election's job
    render_jobs.run(db, job_id, CLOCK)  # a job runs once: a second claim finds it taken
    with db.reading() as session:
        assert session.get(RenderJob, job_id).finished_at == CLOCK.now()


def test_a_failed_render_is_recorded_with_its_reason(county):
    db, election_id = county
    job_id = _submit(db, election_id)

    def refuse(template, context, fmt):
        raise DomainError("E_MISSING_GLYPH", "公告字体没有「𠀁」的字形", "text")

    render_jobs.run(db, job_id, CLOCK, refuse)
    with db.reading() as session:
        job = session.get(RenderJob, job_id)
        assert (job.status, job.error, job.content) == ("failed", "公告字体没有「𠀁」的字形", None)
    with pytest.raises(DomainError) as error, db.transaction() as session:
        render_jobs.submit(session, election_id, "election_day", fmt="html", clock=CLOCK, actor="t")
    assert error.value.field == "format"


def test_the_pool_renders_in_a_child_process_and_resumes_queued_and_dead_jobs(county):
    db, election_id = county
    left = _submit(db, election_id)  # queued by a process that stopped
    with db.transaction() as session:
        stale = session.get(RenderJob, _submit(db, election_id))
        stale.status, stale.started_at = "running", datetime(2026, 11, 25, tzinfo=UTC)
        stale.heartbeat_at, stale.attempts = stale.started_at, 1  # its process died mid-render
        dead = stale.id
    pool = render_jobs.RenderPool(db, CLOCK, workers=1, processes=True)
    try:
        assert pool.resume() == [left, dead]  # the dead process's job is queued again
        pool.wait(timeout=120)
    finally:
        pool.shutdown()
    with db.reading() as session:
        jobs = {j.id: j for j in session.scalars(select(RenderJob)).all()}
        assert jobs[left].status == "done" and jobs[left].content.startswith(b"%PDF")
        assert (jobs[dead].status, jobs[dead].attempts) == ("done", 2)
        assert jobs[dead].content == jobs[left].content


def test_api_answers_202_with_the_job_url_then_the_file(db, clock):
    world = make_world(db, clock)
    services = world.client.app.state.services
    services._renders = render_jobs.RenderPool(db, clock, processes=False)
    started, release = threading.Event(), threading.Event()
    original = render_jobs.render_file

    def slow(template, context, fmt):
        started.set()
        release.wait(30)
        return original(template, context, fmt)

    base = "/api/v1/elections/3"
    try:
        render_jobs.render_file = slow
        made = world.post(
            "observer", f"{base}/notices/election_committee_formed/render-jobs", json={"format": "docx"}
        )
        assert made.status_code == 202, made.text
        job = made.json()
        assert made.headers["location"] == job["url"] == f"{base}/render-jobs/{job['id']}"
        assert started.wait(30)
        # While it renders, the status answers at once, and so do other requests.
        running = world.get("observer", job["url"]).json()
        assert (running["status"], running["status_name"], running["file_url"]) == ("running", "生成中", None)
        problem_of(world.get("observer", f"{job['url']}/file"), 409)
        assert world.get("observer", f"{base}/notices").status_code == 200
        release.set()
        services.renders().wait(timeout=60)
    finally:
        render_jobs.render_file = original
        release.set()
        services.renders().shutdown()
    done = world.get("observer", job["url"]).json()
    assert done["status"] == "done" and done["file_url"] == f"{job['url']}/file"
    file = world.get("observer", done["file_url"])
    assert file.status_code == 200 and file.content[:2] == b"PK"
    assert file.headers["x-content-sha256"] == done["sha256"] == hashlib.sha256(file.content).hexdigest()
    assert "attachment;" in file.headers["content-disposition"]
    problem_of(world.get("yongxing", job["url"]), 404)  # out of scope: not found
    problem_of(world.get("yongxing", done["file_url"]), 404)
    problem_of(world.get("observer", f"{base}/render-jobs/999999"), 404)
    problem_of(
        world.post(
            "observer", f"{base}/notices/election_committee_formed/render-jobs", json={"format": "html"}
        ),
        422,
        "format",
    )


def test_dashboard_button_queues_the_job_and_its_page_refreshes_until_the_download(db):
    world = make_world(db, CLOCK)
    services = world.client.app.state.services
    services._renders = render_jobs.RenderPool(db, CLOCK, processes=False)
    client = login(world)
    county = world.elections["county"]
    page = client.get(f"/elections/{county}/notices/election_committee_formed").text
    assert f'action="/elections/{county}/notices/election_committee_formed/render-jobs"' in page
    assert "后台生成 PDF" in page
    gate = threading.Event()
    original = render_jobs.render_file

    def held(template, context, fmt):
        gate.wait(30)
        return original(template, context, fmt)

    try:
        render_jobs.render_file = held
        made = client.post(
            f"/elections/{county}/notices/election_committee_formed/render-jobs",
            data={"csrf": _csrf(page), "format": "pdf"},
            follow_redirects=False,
        )
        assert made.status_code == 303
        job_page = made.headers["location"]
        assert job_page.startswith(f"/elections/{county}/render-jobs/")
        waiting = client.get(job_page).text
        assert '<meta http-equiv="refresh" content="2">' in waiting and "后台生成" in waiting
        assert "/file" not in waiting
        gate.set()
        services.renders().wait(timeout=60)
    finally:
        render_jobs.render_file = original
        gate.set()
        services.renders().shutdown()
    done = client.get(job_page).text
    assert "已完成" in done and 'http-equiv="refresh"' not in done
    link = re.search(r'href="(/api/v1/elections/\d+/render-jobs/\d+/file)"', done).group(1)
    file = client.get(link)
    assert file.status_code == 200 and file.content.startswith(b"%PDF")
    stale = client.post(
        f"/elections/{county}/notices/election_committee_formed/render-jobs",
        data={"csrf": "wrong", "format": "pdf"},
        follow_redirects=False,
    )
    assert stale.status_code == 303 and "err=" in stale.headers["location"]
