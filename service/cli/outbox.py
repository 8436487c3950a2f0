"""`huanjie outbox …`: look at the notification outbox, re-queue a parked one, run one delivery pass."""

from __future__ import annotations

import typer
from sqlalchemy import select

from schedules import delivery
from service.cli.common import finish, handled, print_json, say, set_now, state
from workflow.errors import DomainError
from workflow.store.models import Notification, NotificationStatus
from workflow.timeutil import parse_instant

outbox_app = typer.Typer(help="通知发件箱", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="以 JSON 输出到标准输出")
STATUS_NAMES = {"pending": "待发送", "sent": "已发送", "failed": "发送失败"}


@outbox_app.command("list")
def list_notifications(
    ctx: typer.Context,
    status: str = typer.Option(None, "--status", help="只列出此状态：pending、sent 或 failed"),
    limit: int = typer.Option(200, "--limit", min=1, help="最多列出的条数（最新的在前）"),
    as_json: bool = JSON,
) -> None:
    """列出发件箱中的通知（失败的附带错误原因）。"""
    cli = state(ctx)
    with handled(as_json):
        if status is not None and status not in set(NotificationStatus):
            raise DomainError("E_BAD_STATUS", f"未知的通知状态：{status!r}（应为 pending、sent 或 failed）", "status")
        query = select(Notification).order_by(Notification.id.desc()).limit(limit)
        if status:
            query = query.where(Notification.status == status)
        with cli.database().reading() as session:
            rows = [delivery.describe(row) for row in session.scalars(query)]
    if as_json:
        print_json({"notifications": rows})
    else:
        if not rows:
            say("发件箱中没有符合条件的通知。")
        for row in rows:
            say(
                f"{row['id']}\t{STATUS_NAMES.get(row['status'], row['status'])}\t{row['channel']}\t"
                f"第 {row['attempts']} 次\t{row['subject']}"
            )
            if row["last_error"]:
                say(f"\t错误：{row['last_error']}")
    finish(0)


@outbox_app.command("retry")
def retry(
    ctx: typer.Context,
    notification_id: int = typer.Argument(..., help="通知编号"),
    as_json: bool = JSON,
) -> None:
    """将发送失败的通知重新排入发送队列。"""
    cli = state(ctx)
    with handled(as_json), cli.database().transaction() as session:
        row = delivery.retry(session, notification_id, clock=cli.clock, actor=cli.actor)
        shown = delivery.describe(row)
    if as_json:
        print_json({"notification": shown})
    else:
        say(f"通知 {notification_id} 已重新排入发送队列。")
    finish(0)


@outbox_app.command("deliver")
def deliver(
    ctx: typer.Context,
    now: str = typer.Option(None, "--now", help="以此时刻为当前时间（ISO 日期时间，供运维与测试使用）"),
    batch: int = typer.Option(100, "--batch", min=1, help="每批领取的通知数"),
    as_json: bool = JSON,
) -> None:
    """发送一轮到期的通知：成功的标为已发送，失败的按退避重试，最终失败的搁置并记录原因。"""
    cli = state(ctx)
    with handled(as_json):
        if now:
            set_now(cli, parse_instant(now))
        report = delivery.deliver_all(cli.database(), cli.clock, batch=batch)
    if as_json:
        print_json(report.as_dict())
    else:
        say(
            f"本轮处理 {report.handled} 条：已发送 {report.sent}，待重试 {report.retrying}，"
            f"发送失败 {report.failed}。"
        )
    finish(0)


def register(app: typer.Typer) -> None:
    app.add_typer(outbox_app, name="outbox")
