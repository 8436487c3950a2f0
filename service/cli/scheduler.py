"""Scheduler commands: `huanjie worker`, `huanjie sweep`, `huanjie reminders list`."""

from __future__ import annotations

import logging
import sys
from datetime import date, time

import typer
from sqlalchemy import select

from service.cli.common import finish, handled, print_json, say, set_now, state
from workflow.errors import DomainError
from workflow.timeutil import DEFAULT_TZ, local_instant, parse_instant

reminders_app = typer.Typer(help="提醒", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="以 JSON 输出到标准输出")
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
    from schedules.sweep import sweep

    cli = state(ctx)
    _logging()
    with handled(as_json):
        if now:
            set_now(cli, _instant(now))
        result = sweep(cli.database(), cli.clock, batch=batch)
    if as_json:
        print_json(result.as_dict())
    else:
        payload = result.as_dict()
        for section, label in SECTIONS.items():
            for item in payload[section]:
                say(f"[{label}] {item['message']}")
        say(
            f"扫描完成：到期提醒 {result.backlog} 条，发出 {result.handled} 条，合并 {result.superseded} 条，"
            f"生成通知 {result.notifications} 条。"
        )
    finish(0)


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
    from schedules.runner import WorkerSettings, run_worker

    cli = state(ctx)
    _logging()
    with handled(False):
        db = cli.database()
        code = run_worker(
            db,
            WorkerSettings(
                sweep_seconds=sweep_every,
                batch=batch,
                digest_hour=digest_hour,
                timezone=timezone,
                delivery_seconds=delivery_every,
            ),
            cli.clock,
        )
    finish(code)


@reminders_app.command("list")
def reminders_list(
    ctx: typer.Context,
    election: int = typer.Option(None, "--election", help="选举编号"),
    due_before: str = typer.Option(
        None, "--due-before", help="只列出此日期（本地）之前到期的提醒 YYYY-MM-DD"
    ),
    status: str = typer.Option(
        "pending", "--status", help="状态：pending、done、cancelled、superseded 或 all"
    ),
    as_json: bool = JSON,
) -> None:
    """列出提醒。"""
    from workflow.store.models import Election, Jurisdiction, Reminder, ReminderStatus, reminder_status_is

    cli = state(ctx)
    with handled(as_json):
        statuses = [s.value for s in ReminderStatus]
        if status != "all" and status not in statuses:
            raise DomainError(
                "E_BAD_STATUS", f"未知的状态 {status!r}（可用：{'、'.join(statuses)}、all）", "status"
            )
        before = None
        if due_before:
            try:
                before = date.fromisoformat(due_before)
            except ValueError:
                raise DomainError(
                    "E_BAD_DATE",
                    f"due-before 的日期格式有误：{due_before!r}（应为 YYYY-MM-DD）",
                    "due_before",
                ) from None
        with cli.database().reading() as session:
            query = (
                select(Reminder, Jurisdiction.timezone)
                .join(Election, Election.id == Reminder.election_id)
                .join(Jurisdiction, Jurisdiction.id == Election.jurisdiction_id)
                .order_by(Reminder.fire_at, Reminder.id)
            )
            if election is not None:
                query = query.where(Reminder.election_id == election)
            if status != "all":
                query = query.where(reminder_status_is(status))
            if before is not None:
                query = query.where(Reminder.fire_at < local_instant(before, time(0, 0)))
            rows = [
                {
                    "id": r.id,
                    "election_id": r.election_id,
                    "milestone_key": r.milestone_key,
                    "kind": r.kind,
                    "lead_days": r.lead_days,
                    "target_date": r.target_date,
                    "fire_at": r.fire_at,
                    "fire_at_local": r.fire_at.astimezone(_zone(tz)),
                    "status": r.status,
                    "phase": (r.details or {}).get("phase"),
                }
                for r, tz in session.execute(query)
            ]
    if as_json:
        print_json(rows)
    else:
        for r in rows:
            what = r["milestone_key"] or r["phase"] or ""
            lead = f"（提前 {r['lead_days']} 天）" if r["kind"] == "lead" else ""
            typer.echo(
                f"{r['id']}\t{r['election_id']}\t{r['fire_at_local']:%Y-%m-%d %H:%M}\t{r['kind']}{lead}\t{what}\t{r['status']}"
            )
        say(f"共 {len(rows)} 条。")
    finish(0)


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_command)
    app.command("worker")(worker_command)
    app.add_typer(reminders_app, name="reminders")
