"""`huanjie candidates committee …`: the election committee's members (EL 10: a member who
becomes a candidate resigns from the committee)."""

from __future__ import annotations

import typer

from service.cli.common import JSON, Reply, parse_date, run
from workflow.commands import candidate_committee

app = typer.Typer(help="选举委员会组成人员", no_args_is_help=True)


@app.command("add")
def committee_add(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    name: str = typer.Option(..., "--name"),
    role: str = typer.Option(..., "--role", help="主任、副主任、委员"),
    id_number: str = typer.Option(None, "--id-number"),
    appointed_on: str = typer.Option(None, "--appointed-on"),
    as_json: bool = JSON,
) -> None:
    """登记选举委员会组成人员。"""

    def work(s, cli) -> Reply:
        m = candidate_committee.add_committee_member(
            s,
            election_id,
            name=name,
            role=role,
            id_number=id_number,
            appointed_on=parse_date(appointed_on, "appointed_on"),
            clock=cli.clock,
            actor=cli.actor,
        )
        return Reply({"id": m.id, "name": m.name, "role": m.role}, f"已登记 {m.role} {m.name}（编号 {m.id}）")

    run(ctx, as_json, work)


@app.command("resign")
def committee_resign(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    member_id: int = typer.Argument(...),
    on: str = typer.Option(..., "--on", help="辞职日期"),
    as_json: bool = JSON,
) -> None:
    """登记组成人员辞去选举委员会职务（选举法第十条）。"""

    def work(s, cli) -> Reply:
        m = candidate_committee.resign_committee_member(
            s, election_id, member_id, on=parse_date(on, "on"), clock=cli.clock, actor=cli.actor
        )
        return Reply(
            {"id": m.id, "name": m.name, "resigned_on": m.resigned_on},
            f"{m.name} 已于 {m.resigned_on} 辞去职务",
        )

    run(ctx, as_json, work)
