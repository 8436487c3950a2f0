"""Scheduler commands: `huanjie worker` and `huanjie sweep` (the reminders they fire: reminders.py)."""

from __future__ import annotations

import logging
import sys

import typer

from config.settings import Settings
from schedules.sweep import sweep
from service.cli.common import JSON, Reply, finish, handled, reply, say, set_now, state
from service.sanitize import RedactIds
from workflow.errors import DomainError
from workflow.timeutil import DEFAULT_TZ, parse_instant

SECTIONS = {
    "warnings": "提醒",
    "overdue": "逾期",
    "advanced": "阶段推进",
    "blocked": "阶段受阻",
    "escalated": "上报督办",
}


def _logging() -> None:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactIds())  # no whole ID number in a log line (service/sanitize.py)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)  # two lines a minute otherwise


def _instant(text: str):
    try:
        return parse_instant(text)
    except ValueError:
        raise DomainError(
            "E_BAD_DATETIME", f"时间格式有误：{text!r}（应为 ISO 日期时间，如 2011-10-12T09:30）", "now"
        ) from None


def sweep_command(
    ctx: typer.Context,
    now: str = typer.Option(None, "--now", help="以此时刻执行（ISO 日期时间，不带时区即为本地时间）"),
    batch: int = typer.Option(500, "--batch", min=1, help="每个事务处理的提醒数上限"),
    as_json: bool = JSON,
) -> None:
    """执行一次到期提醒扫描：发出提醒、标记逾期、上报督办、推进阶段。"""
    # Not `run`: the sweep claims due reminders in batches, one transaction each.
    cli = state(ctx)
    _logging()
    with handled(as_json):
        if now:
            set_now(cli, _instant(now))
        result = sweep(cli.database(), cli.clock, batch=batch)
    payload = result.as_dict()

    def text() -> None:
        for section, label in SECTIONS.items():
            for item in payload[section]:
                say(f"[{label}] {item['message']}")
        say(
            f"扫描完成：到期提醒 {result.backlog} 条，发出 {result.handled} 条，合并 {result.superseded} 条，"
            f"生成通知 {result.notifications} 条。"
        )

    reply(Reply(payload, text), as_json)


def worker_command(
    ctx: typer.Context,
    sweep_every: float = typer.Option(60.0, "--sweep-every", min=0.1, help="扫描间隔（秒）"),
    batch: int = typer.Option(500, "--batch", min=1, help="每个事务处理的提醒数上限"),
    digest_hour: int = typer.Option(
        8, "--digest-hour", min=0, max=23, help="每日工作提示的发送时刻（本地时间）"
    ),
    timezone: str = typer.Option(DEFAULT_TZ, "--timezone", help="调度使用的时区"),
    delivery_every: float = typer.Option(10.0, "--delivery-every", min=0.1, help="发送通知的间隔（秒）"),
) -> None:
    """运行调度进程（定时扫描、每日提示、发送通知），收到 SIGTERM 后处理完当前任务再退出。"""
    # Deferred on purpose: APScheduler loads only for the worker, so `huanjie --help` stays fast.
    from schedules.runner import run_worker

    cli = state(ctx)
    _logging()
    with handled(False):
        db = cli.database()
        code = run_worker(
            db,
            Settings(
                sweep_seconds=sweep_every,
                sweep_batch=batch,
                digest_hour=digest_hour,
                timezone=timezone,
                delivery_seconds=delivery_every,
            ),
            cli.clock,
        )
    finish(code)
