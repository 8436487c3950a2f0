"""`huanjie outbox …`: look at the notification outbox, re-queue a parked one, run one delivery pass,
send a committee's channels a test message."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import typer

from schedules import delivery
from service.cli.common import JSON, Reply, handled, reply, run, say, set_now, state
from workflow.commands.jurisdictions import find_jurisdiction
from workflow.timeutil import parse_instant
from workflow.views import outbox

app = typer.Typer(help="通知发件箱", no_args_is_help=True)
STATUS_NAMES = {"pending": "待发送", "sent": "已发送", "failed": "发送失败"}


def _status(row: dict) -> str:
    return STATUS_NAMES.get(row["status"], row["status"])


@app.command("list")
def list_notifications(
    ctx: typer.Context,
    status: str = typer.Option(None, "--status", help="只列出此状态：pending、sent 或 failed"),
    limit: int = typer.Option(200, "--limit", min=1, help="最多列出的条数（最新的在前）"),
    as_json: bool = JSON,
) -> None:
    """列出发件箱中的通知（失败的附带错误原因）。"""
    with handled(as_json):
        outbox.check_status(status)

    def work(session, cli) -> Reply:
        rows = [
            delivery.describe(row) for row in outbox.latest_notifications(session, status=status, limit=limit)
        ]

        def text() -> None:
            if not rows:
                say("发件箱中没有符合条件的通知。")
            for row in rows:
                say(
                    f"{row['id']}\t{_status(row)}\t{row['channel']}\t第 {row['attempts']} 次\t{row['subject']}"
                )
                if row["last_error"]:
                    say(f"\t错误：{row['last_error']}")

        return Reply({"notifications": rows}, text)

    run(ctx, as_json, work, reading=True)


@app.command("retry")
def retry(
    ctx: typer.Context,
    notification_id: int = typer.Argument(..., help="通知编号"),
    as_json: bool = JSON,
) -> None:
    """将发送失败的通知重新排入发送队列。"""

    def work(session, cli) -> Reply:
        row = delivery.retry(session, notification_id, clock=cli.clock, actor=cli.actor)
        return Reply({"notification": delivery.describe(row)}, f"通知 {notification_id} 已重新排入发送队列。")

    run(ctx, as_json, work)


@app.command("deliver")
def deliver(
    ctx: typer.Context,
    now: str = typer.Option(None, "--now", help="以此时刻为当前时间（ISO 日期时间，供运维与测试使用）"),
    batch: int = typer.Option(100, "--batch", min=1, help="每批领取的通知数"),
    as_json: bool = JSON,
) -> None:
    """发送一轮到期的通知：成功的标为已发送，失败的按退避重试，最终失败的搁置并记录原因。"""
    # Not `run`: delivery claims and sends in batches, one transaction each.
    cli = state(ctx)
    with handled(as_json):
        if now:
            set_now(cli, parse_instant(now))
        report = delivery.deliver_all(cli.database(), cli.clock, batch=batch)
    text = (
        f"本轮处理 {report.handled} 条：已发送 {report.sent}，待重试 {report.retrying}，"
        f"发送失败 {report.failed}。"
    )
    reply(Reply(report.as_dict(), text), as_json)


@app.command("test")
def test_channels(
    ctx: typer.Context,
    jurisdiction: str = typer.Argument(
        ..., help="行政区划代码：向其选举委员会的全部联系渠道各发一条测试消息"
    ),
    send: bool = typer.Option(False, "--send", help="排入后立即发送一轮，并显示每个渠道的结果"),
    now: str = typer.Option(None, "--now", help="以此时刻为当前时间（ISO 日期时间，供运维与测试使用）"),
    as_json: bool = JSON,
) -> None:
    """发送渠道测试消息：检查钉钉、企业微信、邮件、Webhook 等配置是否可用，早于第一个法定期限发现问题。"""
    # Not `run`: queue (one transaction), optionally deliver (its own), then read the outcome.
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
            shown = [delivery.describe(row) for row in outbox.notifications_by_id(session, ids)]

    def text() -> None:
        for row in shown:
            say(f"{row['id']}\t{row['channel']}\t{_status(row)}")
            if row["last_error"]:
                say(f"\t错误：{row['last_error']}")
        if not send:
            say("测试消息已排入发件箱，由 huanjie worker 发送；也可运行 huanjie outbox deliver 立即发送。")

    reply(Reply({"notifications": shown}, text), as_json)
