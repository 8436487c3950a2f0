"""Render jobs run by worker processes (issue 15): with `render_runner = "worker"` the service
only queues; `huanjie render-worker` claims queued jobs (FOR UPDATE SKIP LOCKED on PostgreSQL),
runs each exactly once even with two workers, re-queues the job of a worker that died (stale
heartbeat), and deletes finished jobs and their files after the retention period. On SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from config.settings import Settings
from schedules.runner import build_scheduler
from tests.service_fixtures import load_demo, make_world
from workflow.clock import FixedClock
from workflow.commands import render_jobs
from workflow.store import Database
from workflow.store.render_jobs import RenderJob

CLOCK_AT = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
HUANJIE = str(Path(sys.executable).parent / "huanjie")


@pytest.fixture
def county(db):
    return db, load_demo(db, CLOCK_AT)["county"]


def _submit(db, election_id, clock, template="election_day", fmt="pdf") -> int:
    with db.transaction() as session:
        return render_jobs.submit(session, election_id, template, fmt=fmt, clock=clock, actor="tester").id


def _jobs(db) -> dict[int, RenderJob]:
    with db.reading() as session:
        jobs = {j.id: j for j in session.scalars(select(RenderJob)).all()}
        session.expunge_all()  # plain, loaded copies: the read is rolled back
        return jobs


def test_two_workers_run_every_job_exactly_once(county):
    db, election_id = county
    clock = FixedClock(CLOCK_AT)
    ids = [_submit(db, election_id, clock, fmt=fmt) for fmt in ("pdf", "docx") * 3]
    rendered: list[tuple[str, int]] = []
    lock = threading.Lock()
    # Both workers hold a job at the same moment before either finishes: their claims did not
    # wait for each other (SKIP LOCKED) and did not take the same row.
    both_busy = threading.Barrier(2, timeout=60)

    def render_as(name):
        first = [True]

        def render(template, context, fmt):
            if first[0]:
                first[0] = False
                both_busy.wait()
            with lock:
                rendered.append((name, context["doc"]["heading"]))
            return f"{name}:{fmt}".encode()

        return render

    workers = []
    for name in ("a", "b"):
        own = Database(db.url)  # a worker process has its own connections
        workers.append((own, render_jobs.RenderWorker(own, clock, render=render_as(name))))
    threads = [
        threading.Thread(target=w.serve, args=(threading.Event(),), kwargs={"until_idle": True, "poll": 0.1})
        for _own, w in workers
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        for own, _w in workers:
            own.dispose()
    ran = [job_id for _own, w in workers for job_id in w.done]
    assert sorted(ran) == ids and len(rendered) == len(ids)  # every job, each once
    assert all(w.done for _own, w in workers)  # both took part
    jobs = _jobs(db)
    for _own, w in workers:
        for job_id in w.done:
            job = jobs[job_id]
            assert (job.status, job.attempts, job.claimed_by) == ("done", 1, w.claim)
            assert job.content == f"{'ab'[workers.index((_own, w))]}:{job.format}".encode()


def test_the_job_of_a_dead_worker_is_queued_again_then_failed_after_its_last_attempt(county):
    db, election_id = county
    clock = FixedClock(CLOCK_AT)
    job_id = _submit(db, election_id, clock)
    fresh = _submit(db, election_id, clock)
    dead = render_jobs.claim_next(db, clock, "dead-worker")  # claimed, then its process died
    assert dead.id == job_id
    alive = render_jobs.claim_next(db, clock, "live-worker")
    assert alive.id == fresh
    clock.advance(timedelta(minutes=1))
    assert render_jobs.beat(db, fresh, clock, "live-worker")  # this one keeps beating
    clock.advance(timedelta(minutes=1, seconds=30))
    assert render_jobs.requeue_stale(db, clock, stale=timedelta(minutes=2)) == ([job_id], [])
    job = _jobs(db)[job_id]
    assert (job.status, job.claimed_by, job.started_at, job.attempts) == ("queued", None, None, 1)
    assert _jobs(db)[fresh].status == "running"
    # The dead worker's late result is dropped: the job is no longer its own.
    assert not render_jobs._finish(db, job_id, clock, "dead-worker", b"late", None)
    assert not render_jobs.beat(db, job_id, clock, "dead-worker")
    assert render_jobs._finish(db, fresh, clock, "live-worker", b"%PDF-fresh", None)
    # Its next two claimants die as well: after the third start it is failed, with the reason.
    for attempt, expected in ((2, ([job_id], [])), (3, ([], [job_id]))):
        assert render_jobs.claim_next(db, clock, f"dead-{attempt}").id == job_id
        clock.advance(timedelta(minutes=3))
        assert render_jobs.requeue_stale(db, clock, stale=timedelta(minutes=2), max_attempts=3) == expected
    job = _jobs(db)[job_id]
    assert job.status == "failed" and "已尝试 3 次" in job.error and job.finished_at == clock.now()


def test_the_heartbeat_keeps_a_long_render_from_being_queued_again(county):
    db, election_id = county
    clock = FixedClock(CLOCK_AT)
    job_id = _submit(db, election_id, clock)
    job = render_jobs.claim_next(db, clock, render_jobs.claim_name())
    seen = {}

    def long_render(template, context, fmt):
        clock.advance(timedelta(minutes=10))  # a render far longer than the stale timeout …
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _jobs(db)[job_id].heartbeat_at != clock.now():
            time.sleep(0.05)  # … during which the heartbeat is written
        seen["requeued"] = render_jobs.requeue_stale(db, clock, stale=timedelta(minutes=2))
        return b"%PDF-long"

    render_jobs.execute(db, job, clock, long_render, heartbeat=0.05)
    assert seen["requeued"] == ([], [])
    done = _jobs(db)[job_id]
    assert (done.status, done.content, done.attempts) == ("done", b"%PDF-long", 1)


def test_finished_jobs_and_their_files_are_deleted_after_the_retention_period(county):
    db, election_id = county
    clock = FixedClock(CLOCK_AT)
    old_done, old_failed, recent, old_queued = (_submit(db, election_id, clock) for _ in range(4))
    for job_id in (old_done, old_failed, recent):
        render_jobs.run(db, job_id, clock, lambda t, c, f: b"%PDF-x")
    with db.transaction() as session:
        session.get(RenderJob, old_failed).status = "failed"
        session.get(RenderJob, recent).finished_at = CLOCK_AT + timedelta(days=2)
    clock.advance(timedelta(days=7, hours=1))
    assert render_jobs.purge(db, clock, retention=timedelta(days=7)) == 2
    assert sorted(_jobs(db)) == [recent, old_queued]  # a queued job is never purged
    # The scheduler's daily job purges with the `render_retention_days` setting.
    clock.advance(timedelta(days=2))
    scheduler = build_scheduler(db, Settings(render_retention_days=7), clock)
    scheduler.get_job("digest").func()
    assert sorted(_jobs(db)) == [old_queued]
    # The worker purges too (at start, then every `purge_every` seconds).
    render_jobs.run(db, old_queued, clock, lambda t, c, f: b"%PDF-y")
    clock.advance(timedelta(days=8))
    worker = render_jobs.RenderWorker(db, clock, retention=timedelta(days=7), render=lambda t, c, f: b"")
    assert worker.serve(threading.Event(), until_idle=True) == 0
    assert _jobs(db) == {}


@pytest.mark.slow
def test_a_job_queued_by_the_service_is_run_by_a_render_worker_process(db, clock):
    world = make_world(db, clock)
    services = world.client.app.state.services
    services.settings = Settings(
        db=db.url, migrate_on_start=False, cookie_secure=False, render_runner="worker"
    )
    assert services.renders() is None  # the service runs no job itself
    base = "/api/v1/elections/3"
    made = world.post(
        "observer", f"{base}/notices/election_committee_formed/render-jobs", json={"format": "docx"}
    )
    assert made.status_code == 202, made.text
    job = made.json()
    time.sleep(0.3)
    assert world.get("observer", job["url"]).json()["status"] == "queued"  # nobody took it
    env = {**os.environ, "HUANJIE_DB": db.url, "HUANJIE_LOG_FORMAT": "json"}
    result = subprocess.run(
        [HUANJIE, "render-worker", "--once", "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"jobs": [job["id"]]}
    done = world.get("observer", job["url"]).json()
    assert done["status"] == "done" and done["attempts"] == 1
    file = world.get("observer", done["file_url"])
    assert file.status_code == 200 and file.content[:2] == b"PK"


@pytest.mark.slow
def test_two_render_worker_processes_share_the_queue_without_running_a_job_twice(county):
    db, election_id = county
    clock = FixedClock(CLOCK_AT)
    ids = [
        _submit(db, election_id, clock, template=t, fmt="docx")
        for t in ("election_day", "election_committee_formed") * 3
    ]
    env = {**os.environ, "HUANJIE_DB": db.url, "HUANJIE_LOG_FORMAT": "json"}
    command = [HUANJIE, "render-worker", "--once", "--json"]
    workers = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _out, err in outputs]
    ran = [json.loads(out)["jobs"] for out, _err in outputs]
    assert sorted(ran[0] + ran[1]) == ids  # every job by one of them, none by both
    jobs = _jobs(db)
    assert all(jobs[i].status == "done" and jobs[i].attempts == 1 for i in ids)
    assert len({jobs[i].claimed_by for i in ids}) == len([r for r in ran if r])  # one claim name a process


@pytest.mark.slow
def test_a_killed_worker_process_leaves_its_job_to_be_queued_again_and_run_by_another(county):
    db, election_id = county
    job_id = _submit(db, election_id, FixedClock(CLOCK_AT))
    hung = subprocess.Popen(
        [sys.executable, "-m", "tests.render_hang", "--db", db.url],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = hung.stderr.readline()
        assert "FAULT: job" in line, line
        first = _jobs(db)[job_id].heartbeat_at
        deadline = time.monotonic() + 30
        while _jobs(db)[job_id].heartbeat_at == first and time.monotonic() < deadline:
            time.sleep(0.1)  # the hung render's heartbeat goes on while the process lives
        beating = _jobs(db)[job_id]
        assert beating.status == "running" and beating.heartbeat_at > first
        now = FixedClock(beating.heartbeat_at + timedelta(seconds=30))
        assert render_jobs.requeue_stale(db, now, stale=timedelta(minutes=2)) == ([], [])  # alive: left alone
    finally:
        hung.kill()  # kill -9: no clean-up, the job stays "running"
        hung.wait(30)
    later = FixedClock(beating.heartbeat_at + timedelta(minutes=3))
    worker = render_jobs.RenderWorker(
        db, later, render=lambda t, c, f: b"PK-again", stale=timedelta(minutes=2)
    )
    assert worker.serve(threading.Event(), until_idle=True) == 1  # re-queued, then run
    job = _jobs(db)[job_id]
    assert (job.status, job.content, job.attempts, job.claimed_by) == ("done", b"PK-again", 2, worker.claim)
