"""`huanjie render-worker`: a process that runs render jobs (issue 15).

With the setting `render_runner = "worker"` the service only queues render jobs (PDF/Word
样稿, big exports); any number of these processes claim them, on PostgreSQL with
`SELECT … FOR UPDATE SKIP LOCKED` (two workers never take the same job), render outside any
transaction, and store the file. A job whose worker died (no heartbeat for
`render_stale_seconds`) is queued again; finished jobs past `render_retention_days` are deleted.
The loop is `workflow.commands.render_jobs.RenderWorker`.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta

import typer

from config.settings import Settings
from service.cli.common import JSON, Reply, handled, reply, state
from service.cli.scheduler import _logging
from workflow.commands.render_jobs import RenderWorker

log = logging.getLogger("huanjie.renders")


def render_worker_command(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="处理完队列中的任务即退出（不等待新任务）"),
    poll: float = typer.Option(None, "--poll", min=0.1, help="队列为空时每隔多少秒查看一次（默认取设置）"),
    log_format: str = typer.Option(
        "auto", "--log-format", envvar="HUANJIE_LOG_FORMAT", help="日志格式：auto、text 或 json"
    ),
    as_json: bool = JSON,
) -> None:
    """运行后台生成进程（PDF、Word 样稿与大批量导出），收到 SIGTERM 后完成当前任务再退出。"""
    cli = state(ctx)
    settings = Settings()
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        stop.set()

    with handled(as_json):
        _logging(log_format)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
        worker = RenderWorker(
            cli.database(),
            cli.clock,
            heartbeat=timedelta(seconds=settings.render_heartbeat_seconds),
            stale=timedelta(seconds=settings.render_stale_seconds),
            max_attempts=settings.render_max_attempts,
            retention=timedelta(days=settings.render_retention_days),
        )
        every = poll or settings.render_poll_seconds
        log.info("render worker started: %s (poll every %ss)", worker.claim, every)
        count = worker.serve(stop, poll=every, until_idle=once)
        log.info("render worker stopped: %d jobs run", count)
    reply(Reply({"jobs": worker.done}, f"生成进程已停止：共完成任务 {count} 个。"), as_json)
