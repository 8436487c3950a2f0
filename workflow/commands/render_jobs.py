"""Render jobs (issue 15): PDF and Word files made off the request path.

`submit` takes the notice's data snapshot (`notices.preview_context`) in the caller's short
transaction and stores a queued job; the request answers at once (API: 202 and the job's URL).
`run` then marks the job running in one short transaction, renders with no transaction open
(nothing is locked: not the election, not SQLite's write lock, not the request gate), and
stores the file in another short transaction. `RenderPool` runs jobs in the service process: a
bounded pool (default one job at a time) whose renders run in a separate process, so the
render's CPU (WeasyPrint's layout is pure Python and would hold the GIL) never slows the
requests of other users; jobs still queued when a process stopped are picked up on start.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date, timedelta

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from notices.output import to_bytes
from notices.render import render_html
from workflow.clock import Clock
from workflow.commands.notices import preview_context
from workflow.errors import Conflict, DomainError, not_found
from workflow.store import Database
from workflow.store.render_jobs import RenderJob

STATUSES = {"queued": "排队中", "running": "生成中", "done": "已完成", "failed": "失败"}
FORMATS = ("pdf", "docx")  # HTML previews are cheap: they stay on the request path


def submit(
    session: Session,
    election_id: int,
    template: str,
    *,
    fmt: str = "pdf",
    district: str | None = None,
    on: date | None = None,
    date_style: str = "arabic",
    clock: Clock,
    actor: str,
) -> RenderJob:
    """Queue a preview file (样稿): its data snapshot now, its rendering later."""
    if fmt not in FORMATS:
        raise DomainError("E_BAD_FORMAT", f"后台生成只用于 PDF 和 Word 文件（format={fmt!r}）", "format")
    context, _number, _on, _source = preview_context(
        session, election_id, template, fmt=fmt, district=district, on=on, clock=clock, date_style=date_style
    )
    job = RenderJob(
        election_id=election_id,
        template=template,
        district=district or "",
        format=fmt,
        title=f"{context['doc']['heading']}（预览）",
        context=context,
        status="queued",
        requested_by=actor,
        created_at=clock.now(),
    )
    session.add(job)
    session.flush()
    return job


def queue_after_commit(session: Session, pool: RenderPool, job_id: int) -> None:
    """Hand the job to the pool once the caller's transaction has committed (before that, the
    worker could not see the row, and on SQLite it would wait for the request's write lock)."""
    event.listen(session, "after_commit", lambda _session: pool.submit(job_id), once=True)


def get_job(session: Session, job_id: int, election_id: int | None = None) -> RenderJob:
    """The job; another election's job answers as not found (no hint it exists)."""
    job = session.get(RenderJob, job_id)
    if job is None or (election_id is not None and job.election_id != election_id):
        raise not_found("生成任务", job_id, "job_id")
    return job


def describe(job: RenderJob) -> dict:
    return {
        "id": job.id,
        "election_id": job.election_id,
        "template": job.template,
        "district": job.district or None,
        "format": job.format,
        "title": job.title,
        "status": job.status,
        "status_name": STATUSES[job.status],
        "error": job.error,
        "size": job.size,
        "sha256": job.sha256,
        "requested_by": job.requested_by,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def job_file(session: Session, job_id: int, election_id: int) -> RenderJob:
    job = get_job(session, job_id, election_id)
    if job.status != "done":
        raise Conflict("E_JOB_NOT_DONE", f"文件尚未生成（{STATUSES[job.status]}）", "job_id")
    return job


def render_file(template: str, context: dict, fmt: str) -> bytes:
    """Pure: the file from the snapshot (runs in the render process)."""
    return to_bytes(render_html(template, context), fmt, template, context)


def _start(db: Database, job_id: int, clock: Clock) -> tuple[str, dict, str] | None:
    with db.transaction() as session:
        claimed = session.execute(
            update(RenderJob)
            .where(RenderJob.id == job_id, RenderJob.status == "queued")
            .values(status="running", started_at=clock.now())
        ).rowcount
        if not claimed:
            return None  # taken by another process, or gone with its election
        job = session.get(RenderJob, job_id)
        return job.template, job.context, job.format


def _finish(db: Database, job_id: int, clock: Clock, content: bytes | None, error: str | None) -> None:
    with db.transaction() as session:
        job = session.get(RenderJob, job_id)
        if job is None:
            return
        job.finished_at = clock.now()
        if error is not None:
            job.status, job.error = "failed", error
        else:
            job.status, job.content, job.size = "done", content, len(content)
            job.sha256 = hashlib.sha256(content).hexdigest()


def run(db: Database, job_id: int, clock: Clock, render=None) -> None:
    """One job: short transaction, render with none open, short transaction. `render(template,
    context, fmt)` defaults to rendering in this thread."""
    started = _start(db, job_id, clock)
    if started is None:
        return
    try:
        content = (render or render_file)(*started)
    except DomainError as error:
        _finish(db, job_id, clock, None, error.message)
    except Exception as error:  # any crash is the job's failure, shown to its user
        _finish(db, job_id, clock, None, f"生成失败：{type(error).__name__}")
    else:
        _finish(db, job_id, clock, content, None)


STALE = timedelta(minutes=30)  # far longer than any render: its process has stopped


def pending(db: Database, clock: Clock) -> list[int]:
    """Jobs still queued (a stopped process never started them); jobs left running for longer
    than STALE are marked failed, so their users know to ask again."""
    with db.transaction() as session:
        session.execute(
            update(RenderJob)
            .where(RenderJob.status == "running", RenderJob.started_at < clock.now() - STALE)
            .values(status="failed", error="服务重启，生成中断，请重新生成", finished_at=clock.now())
        )
        return list(session.scalars(select(RenderJob.id).where(RenderJob.status == "queued")).all())


class RenderPool:
    """At most `workers` jobs at once. `processes=True`: each render runs in a child process (the
    default in the service); False renders in the pool's thread (tests, the CLI)."""

    def __init__(self, db: Database, clock: Clock, *, workers: int = 1, processes: bool = True) -> None:
        self.db, self.clock = db, clock
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="render-job")
        self._processes = (
            ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
            if processes
            else None
        )
        self._lock = threading.Lock()
        self._futures: dict[int, Future] = {}

    def _render(self, template: str, context: dict, fmt: str) -> bytes:
        if self._processes is None:
            return render_file(template, context, fmt)
        return self._processes.submit(render_file, template, context, fmt).result()

    def submit(self, job_id: int) -> Future:
        future = self._threads.submit(run, self.db, job_id, self.clock, self._render)
        with self._lock:
            self._futures[job_id] = future
        future.add_done_callback(lambda _f: self._forget(job_id))
        return future

    def _forget(self, job_id: int) -> None:
        with self._lock:
            self._futures.pop(job_id, None)

    def resume(self) -> list[int]:
        ids = pending(self.db, self.clock)
        for job_id in ids:
            self.submit(job_id)
        return ids

    def wait(self, timeout: float | None = None) -> None:
        """Until every submitted job has finished (tests, shutdown)."""
        with self._lock:
            futures = list(self._futures.values())
        for future in futures:
            future.result(timeout=timeout)

    def shutdown(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=False)
        if self._processes is not None:
            self._processes.shutdown(wait=True)
