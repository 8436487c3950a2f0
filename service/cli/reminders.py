"""`huanjie reminders list`: the reminders the scheduler wrote (the view: workflow/views/reminders.py)."""

from __future__ import annotations

from datetime import date

import typer

from service.cli.common import JSON, Reply, handled, run, say
from workflow.errors import DomainError
from workflow.views import reminders
from workflow.views.milestone_names import milestone_names

app = typer.Typer(help="提醒", no_args_is_help=True)
# What each kind of reminder (workflow/timetable.py ReminderKind, and appeals' appeal_due) is called.
KIND_NAMES = {
    "lead": "提前提醒",
    "due_today": "今日到期",
    "plan_overdue": "超过计划日期",
    "overdue": "已逾期",
    "escalation": "上报督办",
    "deadline_passed": "法定期限已到",
    "phase_opens": "阶段开始",
    "advance_check": "检查能否推进阶段",
    "appeal_due": "申诉处理期限",
}
STATUS_NAMES = {"pending": "待发出", "done": "已发出", "cancelled": "已取消", "superseded": "已合并"}
FIELDS = (
    "id",
    "election_id",
    "milestone_key",
    "kind",
    "lead_days",
    "target_date",
    "fire_at",
    "fire_at_local",
    "status",
    "phase",
)


@app.command("list")
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
    with handled(as_json):
        wanted = reminders.check_status(status)
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

    def work(session, cli) -> Reply:
        rows = [
            {k: r[k] for k in FIELDS}
            for r in reminders.list_reminders(session, election_id=election, status=wanted, due_before=before)
        ]
        names = milestone_names(session, {r["election_id"] for r in rows})
        for r in rows:
            r["milestone_name"] = names.get(r["election_id"], {}).get(r["milestone_key"])
            r["kind_name"] = KIND_NAMES.get(r["kind"], r["kind"])
        return Reply(rows, lambda: _reminders_text(rows))

    run(ctx, as_json, work, reading=True)


def _reminders_text(rows: list[dict]) -> None:
    """One line per reminder: what it is called and its key, side by side."""
    for r in rows:
        if r["milestone_key"]:
            what = f"{r['milestone_name'] or ''}（{r['milestone_key']}）"
        else:
            what = f"阶段 {r['phase']}" if r["phase"] else ""
        label = f"提前 {r['lead_days']} 天提醒" if r["kind"] == "lead" else r["kind_name"]
        status = STATUS_NAMES.get(r["status"], r["status"])
        typer.echo(
            f"{r['id']}\t{r['election_id']}\t{r['fire_at_local']:%Y-%m-%d %H:%M}\t"
            f"{label}（{r['kind']}）\t{what}\t{status}（{r['status']}）"
        )
    say(f"共 {len(rows)} 条。")
