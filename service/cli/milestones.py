"""`huanjie milestones complete|waive|undo|redate`: the committee's milestones, done or not
applicable, and corrections of a recorded one (workflow/commands/corrections.py). A milestone is
named by its key or its Chinese name (`voter_list_published` or 公布选民名单)."""

from __future__ import annotations

import typer

from service.cli.common import JSON, Reply, handled, parse_date, run
from workflow.commands import corrections
from workflow.commands import elections as commands
from workflow.views.milestone_names import resolve_milestone

app = typer.Typer(help="工作节点", no_args_is_help=True)
MILESTONE = typer.Argument(..., help="节点键或名称，如 voter_list_published 或 公布选民名单")


@app.command("complete")
def milestones_complete(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    key: str = MILESTONE,
    on: str = typer.Option(None, "--on", help="办结日期 YYYY-MM-DD（默认今天）"),
    confirm_early: bool = typer.Option(False, "--confirm-early", help="日期早于选举日一年以上时确认无误"),
    as_json: bool = JSON,
) -> None:
    """办结一个工作节点。"""
    with handled(as_json):
        done_on = parse_date(on, "on")

    def work(session, cli) -> Reply:
        kind = commands.kind_of(commands.get_election(session, election_id))
        found = resolve_milestone(kind, key)
        m = commands.complete_milestone(
            session, election_id, found, clock=cli.clock, actor=cli.actor, on=done_on, confirm_early=confirm_early
        )
        name = kind.milestones[found].name
        payload = {
            "election_id": election_id,
            "key": found,
            "name": name,
            "done_on": m.done_on.isoformat(),
            "late": m.late,
        }
        late = "，已超过法定期限" if payload["late"] else ""
        return Reply(payload, f"已办结「{name}」（{found}，{payload['done_on']}）" + late)

    run(ctx, as_json, work)


@app.command("waive")
def milestones_waive(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    key: str = MILESTONE,
    reason: str = typer.Option(..., "--reason", help="免除理由"),
    as_json: bool = JSON,
) -> None:
    """免除一个不适用的节点（须说明理由）。"""

    def work(session, cli) -> Reply:
        kind = commands.kind_of(commands.get_election(session, election_id))
        found = resolve_milestone(kind, key)
        commands.waive_milestone(session, election_id, found, reason=reason, clock=cli.clock, actor=cli.actor)
        name = kind.milestones[found].name
        return Reply(
            {"election_id": election_id, "key": found, "name": name, "status": "waived"},
            f"已免除「{name}」（{found}）",
        )

    run(ctx, as_json, work)


@app.command("undo")
def milestones_undo(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    key: str = MILESTONE,
    reason: str = typer.Option(..., "--reason", help="撤销理由"),
    as_json: bool = JSON,
) -> None:
    """撤销办结（须说明理由；后续依赖节点已办结时拒绝）。"""

    def work(session, cli) -> Reply:
        key_found = resolve_milestone(commands.kind_of(commands.get_election(session, election_id)), key)
        m = corrections.undo_completion(session, election_id, key_found, reason=reason, clock=cli.clock, actor=cli.actor)
        return Reply({"election_id": election_id, "key": key_found, "status": m.status}, f"已撤销 {key_found} 的办结")

    run(ctx, as_json, work)


@app.command("redate")
def milestones_redate(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    key: str = MILESTONE,
    on: str = typer.Option(..., "--on", help="更正后的办结日期 YYYY-MM-DD"),
    reason: str = typer.Option(..., "--reason", help="更正理由"),
    confirm_early: bool = typer.Option(False, "--confirm-early", help="日期早于选举日一年以上时确认无误"),
    as_json: bool = JSON,
) -> None:
    """更正办结日期（须说明理由；后续依赖节点已办结时拒绝）。"""
    with handled(as_json):
        new = parse_date(on, "on")

    def work(session, cli) -> Reply:
        found = resolve_milestone(commands.kind_of(commands.get_election(session, election_id)), key)
        m = corrections.correct_date(
            session, election_id, found, new, reason=reason, clock=cli.clock, actor=cli.actor, confirm_early=confirm_early
        )
        payload = {"election_id": election_id, "key": found, "done_on": m.done_on.isoformat(), "late": m.late}
        return Reply(payload, f"已将 {found} 的办结日期更正为 {payload['done_on']}" + ("，已超过法定期限" if m.late else ""))

    run(ctx, as_json, work)
