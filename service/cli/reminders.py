"""`huanjie reminders list`: the reminders the scheduler wrote (the view: workflow/views/reminders.py)."""

from __future__ import annotations

from datetime import date

import typer

from service.cli.common import JSON, Reply, handled, run, say
from workflow.errors import DomainError
from workflow.views import reminders

app = typer.Typer(help="提醒", no_args_is_help=True)
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
        return Reply(rows, lambda: _reminders_text(rows))

    run(ctx, as_json, work, reading=True)


def _reminders_text(rows: list[dict]) -> None:
    for r in rows:
        what = r["milestone_key"] or r["phase"] or ""
        lead = f"（提前 {r['lead_days']} 天）" if r["kind"] == "lead" else ""
        typer.echo(
            f"{r['id']}\t{r['election_id']}\t{r['fire_at_local']:%Y-%m-%d %H:%M}\t{r['kind']}{lead}\t{what}\t{r['status']}"
        )
    say(f"共 {len(rows)} 条。")
