"""The clock: APScheduler 3.x runs the periodic sweep, the daily digest and the outbox worker.

APScheduler holds three jobs, never one per deadline: deadlines are rows in the database and the
sweep fires them (a job per deadline does not scale and is lost to a crash between its firing
and our commit; see bench/sweep.py). Jobs live in the in-memory job store: there is nothing in
them worth persisting, because every worker rebuilds the same three at start-up.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config.settings import Settings
from schedules.delivery import deliver_due
from schedules.digest import write_digests
from schedules.holidays import recheck_holidays
from schedules.sweep import sweep
from workflow.clock import Clock, SystemClock
from workflow.commands.render_jobs import purge as purge_render_jobs
from workflow.store import Database

log = logging.getLogger("huanjie.worker")


def build_scheduler(
    db: Database,
    settings: Settings,
    clock: Clock | None = None,
    *,
    before_commit: Callable[[int], None] | None = None,
) -> BackgroundScheduler:
    """The three jobs; `before_commit` is passed to each sweep (see `sweep`)."""
    clock = clock or SystemClock()
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(3)}, timezone=settings.timezone, daemon=False
    )

    def run_sweep() -> None:
        try:
            sweep(db, clock, batch=settings.sweep_batch, before_commit=before_commit)
        except Exception:  # the next run retries; nothing was committed
            log.exception("sweep failed")

    def run_digest() -> None:
        try:  # provisional dates rechecked once a year's holidays are installed (issue 14)
            recheck_holidays(db, clock)
        except Exception:
            log.exception("holiday recheck failed")
        try:
            write_digests(db, clock)
        except Exception:
            log.exception("digest failed")
        try:  # finished render jobs and their files past retention (issue 15)
            purge_render_jobs(db, clock, retention=timedelta(days=settings.render_retention_days))
        except Exception:
            log.exception("render job purge failed")

    scheduler.add_job(
        run_sweep,
        IntervalTrigger(seconds=settings.sweep_seconds, timezone=settings.timezone),
        id="sweep",
        next_run_time=datetime.now(UTC),  # catch up at once after a start or a restart
        max_instances=1,
        # A late sweep is never stale: it reads what is due from the database, so always run it.
        misfire_grace_time=None,
        # Ten missed runs are one sweep's work: the first sweep catches up on everything due.
        coalesce=True,
    )
    scheduler.add_job(
        run_digest,
        CronTrigger(hour=settings.digest_hour, minute=0, timezone=settings.timezone),
        id="digest",
        max_instances=1,
        # A digest up to two hours late is still this morning's news; later, tomorrow's will do.
        misfire_grace_time=2 * 3600,
        # Never two digests for one morning (the idempotency key also guards across workers).
        coalesce=True,
    )

    def run_delivery() -> None:
        try:
            deliver_due(db, clock, batch=settings.delivery_batch)
        except Exception:
            log.exception("delivery failed")

    scheduler.add_job(
        run_delivery,
        IntervalTrigger(seconds=settings.delivery_seconds, timezone=settings.timezone),
        id="delivery",
        next_run_time=datetime.now(UTC),
        max_instances=1,
        # The outbox is in the database: a late run sends the same rows, so always run it.
        misfire_grace_time=None,
        # Missed runs collapse into one: each run drains what is due anyway.
        coalesce=True,
    )
    return scheduler


def start_scheduler(
    db: Database, clock: Clock | None = None, settings: Settings | None = None
) -> BackgroundScheduler:
    """The scheduler inside the HTTP service's process (`huanjie serve`, `make run`): the same
    jobs as `huanjie worker`, started in the background. The caller shuts it down, which lets a
    running sweep commit or roll back first."""
    scheduler = build_scheduler(db, settings or Settings(), clock)
    scheduler.start()
    log.info("scheduler started in the service process")
    return scheduler


def run_worker(
    db: Database,
    settings: Settings,
    clock: Clock | None = None,
    stop: threading.Event | None = None,
    *,
    before_commit: Callable[[int], None] | None = None,
) -> int:
    """Run until SIGTERM or SIGINT (or `stop` is set); finish running jobs, then return 0.

    `before_commit` is passed to each sweep (the crash test's worker hangs there)."""
    stop = stop or threading.Event()

    def on_signal(signum, _frame) -> None:
        log.info("signal %s: stopping after the running jobs", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    scheduler = build_scheduler(db, settings, clock, before_commit=before_commit)
    scheduler.start()
    log.info(
        "worker started: sweep every %ss, digest at %02d:00 %s",
        settings.sweep_seconds,
        settings.digest_hour,
        settings.timezone,
    )
    try:
        while not stop.wait(0.5):  # a short wait keeps the main thread responsive to signals
            pass
    finally:
        scheduler.shutdown(wait=True)  # a running sweep commits (or rolls back) before exit
        log.info("worker stopped")
    return 0
