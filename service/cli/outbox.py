"""`huanjie outbox …`: look at the notification outbox, re-queue a parked one, run one delivery pass,
send a committee's channels a test message."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import typer
from sqlalchemy import select

from schedules import delivery
from service.cli.common import finish, handled, print_json, say, set_now, state
from workflow.commands.elections import find_jurisdiction
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


@outbox_app.command("test")
def test_channels(
    ctx: typer.Context,
    jurisdiction: str = typer.Argument(..., help="行政区划代码：向其选举委员会的全部联系渠道各发一条测试消息"),
    send: bool = typer.Option(False, "--send", help="排入后立即发送一轮，并显示每个渠道的结果"),
    now: str = typer.Option(None, "--now", help="以此时刻为当前时间（ISO 日期时间，供运维与测试使用）"),
    as_json: bool = JSON,
) -> None:
    """发送渠道测试消息：检查钉钉、企业微信、邮件、Webhook 等配置是否可用，早于第一个法定期限发现问题。"""
    cli = state(ctx)
    with handled(as_json):
        if now:
            set_now(cli, parse_instant(now))
        now = cli.clock.now()
        with cli.database().transaction() as session:
            place = find_jurisdiction(session, jurisdiction)
            committee = place.committee_name or f"{place.name}选举委员会"
            rows = delivery.enqueue(
                session,
                key=f"channel-test:{place.code}:{now.isoformat()}",
                jurisdiction=place,
                category="test",
                subject=f"【测试】{committee}通知渠道测试",
                body=(
                    f"【测试】这是换届选举工作系统发给{committee}的渠道测试消息"
                    f"（{now.astimezone(ZoneInfo(place.timezone)):%Y-%m-%d %H:%M}）。"
                    "收到即说明本渠道配置可用，无需回复。"
                ),
                clock=cli.clock,
            )
            ids = [row.id for row in rows]
        if send:
            delivery.deliver_all(cli.database(), cli.clock)
        with cli.database().reading() as session:
            shown = [
                delivery.describe(row)
                for row in session.scalars(select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id))
            ]
    if as_json:
        print_json({"notifications": shown})
    else:
        for row in shown:
            say(f"{row['id']}\t{row['channel']}\t{STATUS_NAMES.get(row['status'], row['status'])}")
            if row["last_error"]:
                say(f"\t错误：{row['last_error']}")
        if not send:
            say("测试消息已排入发件箱，由 huanjie worker 发送；也可运行 huanjie outbox deliver 立即发送。")
    finish(0)


def register(app: typer.Typer) -> None:
    app.add_typer(outbox_app, name="outbox")
