"""Render jobs (issue 15): PDF and Word files, and big exports, made off the request path.

`submit` takes the notice's data snapshot (`notices.preview_context`) in the caller's short
transaction and stores a queued job; the request answers at once (API: 202 and the job's URL).
A job is then claimed (one short transaction: status running, the claimant's name, a first
heartbeat), rendered with no transaction open (nothing is locked: not the election, not SQLite's
write lock, not the request gate), and its file stored in another short transaction that
checks the claim is still the claimant's.

Who runs the jobs (setting `render_runner`): "service" (the default): `RenderPool` in each
service process, a bounded pool (default one job at a time) whose renders run in a child process
so their CPU never slows other users' requests; "worker": the service only queues, and
`huanjie render-worker` processes claim queued jobs with `SELECT … FOR UPDATE SKIP LOCKED` on
PostgreSQL (two workers never wait for, nor take, the same job). Every running job's heartbeat is
written every few seconds; a job whose heartbeat is older than the stale timeout (its process
died) is queued again, or failed after its last attempt. Finished jobs, their files with them,
are deleted after the retention period (`purge`: the worker and the scheduler's daily job).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, delete, event, or_, select, update
from sqlalchemy.orm import Session

from notices.output import to_bytes
from notices.render import render_html
from workflow.clock import Clock
from workflow.commands.notices import preview_context
from workflow.errors import Conflict, DomainError, not_found
from workflow.store import Database
from workflow.store.render_jobs import RenderJob
from workflow.views import progress_report

log = logging.getLogger("huanjie.renders")

STATUSES = {"queued": "排队中", "running": "生成中", "done": "已完成", "failed": "失败"}
FORMATS = ("pdf", "docx")  # HTML previews are cheap: they stay on the request path
FINISHED = ("done", "failed")
# Big exports made as jobs: name → (formats, writer(snapshot, fmt) → bytes).
EXPORTS: dict[str, tuple[tuple[str, ...], Callable[[dict, str], bytes]]] = {
    "progress_report": (("xlsx", "docx"), progress_report.write),
}

HEARTBEAT = timedelta(seconds=10)  # a running job's claimant says it is alive this often
STALE = timedelta(minutes=2)  # no heartbeat for this long: its process died, the job is queued again
MAX_ATTEMPTS = 3  # a job whose claimant died this many times is failed (it may be what kills them)
RETENTION = timedelta(days=7)  # finished jobs and their files are kept this long


RENDER_NICENESS = 10  # render processes yield the CPU to the requests of the people waiting


def lower_priority() -> None:
    """Run this process (a render child or a render worker) at a lower CPU priority: a long
    render takes what the requests leave, so a county page stays quick while it runs."""
    with contextlib.suppress(OSError):
        os.nice(RENDER_NICENESS)


def claim_name() -> str:
    """This claimant's name: host, process and a token, unique per pool or worker."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


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


def submit_export(
    session: Session,
    export: str,
    snapshot: dict,
    *,
    fmt: str,
    title: str,
    filename: str,
    clock: Clock,
    actor: str,
) -> RenderJob:
    """Queue a big export (e.g. the 进度通报 of a province): its data snapshot, taken by the
    caller in this short transaction, is written to a file later. Only its requester sees it."""
    formats, _writer = EXPORTS[export]
    if fmt not in formats:
        raise DomainError("E_BAD_FORMAT", f"导出格式应为 {'、'.join(formats)}（format={fmt!r}）", "format")
    job = RenderJob(
        election_id=None,
        kind="export",
        template=export,
        district="",
        format=fmt,
        title=title,
        filename=filename,
        context=snapshot,
        status="queued",
        requested_by=actor,
        created_at=clock.now(),
    )
    session.add(job)
    session.flush()
    return job


def get_export(session: Session, job_id: int, username: str) -> RenderJob:
    """An export job, for its requester only: anyone else's answers as not found."""
    job = session.get(RenderJob, job_id)
    if job is None or job.kind != "export" or job.requested_by != username:
        raise not_found("导出任务", job_id, "job_id")
    return job


def queue_after_commit(session: Session, pool: RenderPool | None, job_id: int) -> None:
    """Hand the job to the pool once the caller's transaction has committed (before that, the
    worker could not see the row, and on SQLite it would wait for the request's write lock).
    No pool (setting `render_runner = "worker"`): a worker process claims the queued row."""
    if pool is None:
        return
    event.listen(session, "after_commit", lambda _session: pool.submit(job_id), once=True)


def get_job(session: Session, job_id: int, election_id: int | None = None) -> RenderJob:
    """The job; another election's job answers as not found (no hint it exists)."""
    job = session.get(RenderJob, job_id)
    if job is None or job.kind != "notice" or (election_id is not None and job.election_id != election_id):
        raise not_found("生成任务", job_id, "job_id")
    return job


def describe(job: RenderJob) -> dict:
    return {
        "id": job.id,
        "election_id": job.election_id,
        "kind": job.kind,
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
        "attempts": job.attempts,
    }


def job_file(session: Session, job_id: int, election_id: int) -> RenderJob:
    return ready(get_job(session, job_id, election_id))


def ready(job: RenderJob) -> RenderJob:
    """The job, if its file is made."""
    if job.status != "done":
        raise Conflict("E_JOB_NOT_DONE", f"文件尚未生成（{STATUSES[job.status]}）", "job_id")
    return job


def render_file(template: str, context: dict, fmt: str) -> bytes:
    """Pure: the file from the snapshot (runs in the render process)."""
    return to_bytes(render_html(template, context), fmt, template, context)


def render_export(export: str, snapshot: dict, fmt: str) -> bytes:
    """Pure: an export's file from its snapshot (runs in the render process)."""
    return EXPORTS[export][1](snapshot, fmt)


@dataclass(frozen=True)
class Claimed:
    """A job this claimant now runs: what the render needs, and the claim its result is stored under."""

    id: int
    claim: str
    template: str
    context: dict
    format: str
    kind: str = "notice"


def _claimed(job: RenderJob, claim: str) -> Claimed:
    return Claimed(job.id, claim, job.template, job.context, job.format, job.kind)


def _take(session: Session, job_id: int, clock: Clock, claim: str) -> Claimed | None:
    now = clock.now()
    taken = session.execute(
        update(RenderJob)
        .where(RenderJob.id == job_id, RenderJob.status == "queued")
        .values(
            status="running",
            started_at=now,
            heartbeat_at=now,
            claimed_by=claim,
            attempts=RenderJob.attempts + 1,
        )
    ).rowcount
    if not taken:
        return None  # taken by another process, or gone with its election
    return _claimed(session.get(RenderJob, job_id), claim)


def _start(db: Database, job_id: int, clock: Clock, claim: str) -> Claimed | None:
    """Claim this job, if it is still queued."""
    with db.transaction() as session:
        return _take(session, job_id, clock, claim)


def claim_next(db: Database, clock: Clock, claim: str) -> Claimed | None:
    """Claim the oldest queued job. On PostgreSQL `FOR UPDATE SKIP LOCKED`: a row another worker
    is claiming at this moment is skipped, not waited for; on SQLite (one writer at a time) the
    claim is the conditional update alone."""
    with db.transaction() as session:
        job_id = session.scalar(
            select(RenderJob.id)
            .where(RenderJob.status == "queued")
            .order_by(RenderJob.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return None if job_id is None else _take(session, job_id, clock, claim)


def beat(db: Database, job_id: int, clock: Clock, claim: str) -> bool:
    """The claimant is alive: False when the job is no longer its own (queued again, deleted)."""
    with db.transaction() as session:
        return bool(
            session.execute(
                update(RenderJob)
                .where(RenderJob.id == job_id, RenderJob.status == "running", RenderJob.claimed_by == claim)
                .values(heartbeat_at=clock.now())
            ).rowcount
        )


def _finish(
    db: Database, job_id: int, clock: Clock, claim: str, content: bytes | None, error: str | None
) -> bool:
    """Store the result if the job is still this claimant's (a job queued again after a stale
    heartbeat belongs to its new claimant: this late result is dropped)."""
    with db.transaction() as session:
        job = session.get(RenderJob, job_id)
        if job is None or job.status != "running" or job.claimed_by != claim:
            log.warning("render job %s: claim lost before its result was stored", job_id)
            return False
        job.finished_at = clock.now()
        if error is not None:
            job.status, job.error = "failed", error
        else:
            job.status, job.content, job.size = "done", content, len(content)
            job.sha256 = hashlib.sha256(content).hexdigest()
        return True


class _Heartbeat:
    """Writes the running job's heartbeat every `every` seconds in a background thread."""

    def __init__(self, db: Database, job: Claimed, clock: Clock, every: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(db, job, clock, every), name=f"render-heartbeat-{job.id}", daemon=True
        )

    def _run(self, db: Database, job: Claimed, clock: Clock, every: float) -> None:
        while not self._stop.wait(every):
            try:
                if not beat(db, job.id, clock, job.claim):
                    return
            except Exception:  # a missed beat is retried; too many make the job stale
                log.exception("render job %s: heartbeat failed", job.id)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


Render = Callable[[str, dict, str], bytes]


def execute(
    db: Database,
    job: Claimed,
    clock: Clock,
    render: Render | None = None,
    *,
    heartbeat: float | None = None,
    export: Render | None = None,
) -> None:
    """Render a claimed job with no transaction open (its heartbeat beating meanwhile) and store
    the file or the reason it failed. `render` makes a notice's file, `export` an export's."""
    beats = _Heartbeat(db, job, clock, heartbeat or HEARTBEAT.total_seconds())
    make = (export or render_export) if job.kind == "export" else (render or render_file)
    try:
        with beats:
            content = make(job.template, job.context, job.format)
    except DomainError as error:
        _finish(db, job.id, clock, job.claim, None, error.message)
    except Exception as error:  # any crash is the job's failure, shown to its user
        log.warning("render job %s failed: %s", job.id, type(error).__name__)
        _finish(db, job.id, clock, job.claim, None, f"生成失败：{type(error).__name__}")
    else:
        _finish(db, job.id, clock, job.claim, content, None)


def run(
    db: Database,
    job_id: int,
    clock: Clock,
    render: Render | None = None,
    *,
    claim: str | None = None,
    export: Render | None = None,
) -> bool:
    """One job: short transaction, render with none open, short transaction. `render(template,
    context, fmt)` defaults to rendering in this thread. False when the job was not queued."""
    started = _start(db, job_id, clock, claim or claim_name())
    if started is None:
        return False
    execute(db, started, clock, render, export=export)
    return True


def requeue_stale(
    db: Database, clock: Clock, *, stale: timedelta = STALE, max_attempts: int = MAX_ATTEMPTS
) -> tuple[list[int], list[int]]:
    """Running jobs whose claimant stopped beating for longer than `stale` (its process died):
    queued again, or failed once they were started `max_attempts` times. (requeued, failed) ids."""
    now = clock.now()
    cutoff = now - stale
    dead = and_(
        RenderJob.status == "running",
        or_(
            RenderJob.heartbeat_at < cutoff,
            and_(RenderJob.heartbeat_at.is_(None), RenderJob.started_at < cutoff),
        ),
    )
    with db.transaction() as session:
        failed = list(
            session.scalars(
                update(RenderJob)
                .where(dead, RenderJob.attempts >= max_attempts)
                .values(
                    status="failed",
                    error=f"生成进程多次中断（已尝试 {max_attempts} 次），请重新生成",
                    finished_at=now,
                )
                .returning(RenderJob.id)
            ).all()
        )
        requeued = list(
            session.scalars(
                update(RenderJob)
                .where(dead)
                .values(status="queued", claimed_by=None, heartbeat_at=None, started_at=None)
                .returning(RenderJob.id)
            ).all()
        )
    for job_id in requeued:
        log.warning("render job %s: its worker stopped; queued again", job_id)
    return sorted(requeued), sorted(failed)


def purge(db: Database, clock: Clock, *, retention: timedelta = RETENTION) -> int:
    """Delete finished jobs (done or failed) older than `retention`, their files with them (a
    job's file is its row's `content`). The number deleted."""
    with db.transaction() as session:
        gone = session.execute(
            delete(RenderJob).where(
                RenderJob.status.in_(FINISHED), RenderJob.finished_at < clock.now() - retention
            )
        ).rowcount
    if gone:
        log.info("render jobs: %d finished jobs past retention deleted", gone)
    return gone


def pending(
    db: Database, clock: Clock, *, stale: timedelta = STALE, max_attempts: int = MAX_ATTEMPTS
) -> list[int]:
    """Jobs queued (a stopped process never started them, or a dead one's were queued again)."""
    requeue_stale(db, clock, stale=stale, max_attempts=max_attempts)
    with db.reading() as session:
        return list(
            session.scalars(
                select(RenderJob.id).where(RenderJob.status == "queued").order_by(RenderJob.id)
            ).all()
        )


class RenderPool:
    """At most `workers` jobs at once. `processes=True`: each render runs in a child process (the
    default in the service); False renders in the pool's thread (tests, the CLI)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        workers: int = 1,
        processes: bool = True,
        stale: timedelta = STALE,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.db, self.clock = db, clock
        self.stale, self.max_attempts = stale, max_attempts
        self.claim = claim_name()
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="render-job")
        self._processes = (
            ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=lower_priority
            )
            if processes
            else None
        )
        self._lock = threading.Lock()
        self._futures: dict[int, Future] = {}

    def _render(self, template: str, context: dict, fmt: str) -> bytes:
        if self._processes is None:
            return render_file(template, context, fmt)
        return self._processes.submit(render_file, template, context, fmt).result()

    def _export(self, export: str, snapshot: dict, fmt: str) -> bytes:
        if self._processes is None:
            return render_export(export, snapshot, fmt)
        return self._processes.submit(render_export, export, snapshot, fmt).result()

    def submit(self, job_id: int) -> Future:
        future = self._threads.submit(
            run, self.db, job_id, self.clock, self._render, claim=self.claim, export=self._export
        )
        with self._lock:
            self._futures[job_id] = future
        future.add_done_callback(lambda _f: self._forget(job_id))
        return future

    def _forget(self, job_id: int) -> None:
        with self._lock:
            self._futures.pop(job_id, None)

    def resume(self) -> list[int]:
        ids = pending(self.db, self.clock, stale=self.stale, max_attempts=self.max_attempts)
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


class RenderWorker:
    """`huanjie render-worker`'s loop: claim the oldest queued job, make its file (in this process:
    the worker is a process of its own), store it; between jobs queue again the jobs of dead
    claimants and, every `purge_every`, delete finished jobs past retention."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        render: Render | None = None,
        heartbeat: timedelta = HEARTBEAT,
        stale: timedelta = STALE,
        max_attempts: int = MAX_ATTEMPTS,
        retention: timedelta = RETENTION,
        purge_every: float = 3600.0,
    ) -> None:
        self.db, self.clock, self.render = db, clock, render
        self.heartbeat, self.stale, self.max_attempts = heartbeat, stale, max_attempts
        self.retention, self.purge_every = retention, purge_every
        self.claim = claim_name()
        self.done: list[int] = []  # the jobs this worker ran, in order
        self._purged_at: float | None = None

    def housekeeping(self) -> None:
        requeue_stale(self.db, self.clock, stale=self.stale, max_attempts=self.max_attempts)
        if self._purged_at is None or time.monotonic() - self._purged_at >= self.purge_every:
            purge(self.db, self.clock, retention=self.retention)
            self._purged_at = time.monotonic()

    def run_once(self) -> bool:
        """One job, if one is queued: True when a job ran."""
        job = claim_next(self.db, self.clock, self.claim)
        if job is None:
            return False
        execute(self.db, job, self.clock, self.render, heartbeat=self.heartbeat.total_seconds())
        self.done.append(job.id)
        return True

    def serve(self, stop: threading.Event, *, poll: float = 2.0, until_idle: bool = False) -> int:
        """Run jobs until `stop` is set (a running job is finished first) or, `until_idle`, until
        none is queued. The number of jobs run."""
        while not stop.is_set():
            try:
                self.housekeeping()
                ran = self.run_once()
            except Exception:  # the database is away a moment: try again after the poll
                log.exception("render worker: database error")
                ran = False
            if not ran:
                if until_idle:
                    break
                stop.wait(poll)
        return len(self.done)
