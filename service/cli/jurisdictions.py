"""`huanjie jurisdictions add`: places and their election committees."""

from __future__ import annotations

import typer

from service.cli.common import JSON, Reply, handled, run
from workflow.commands import jurisdictions as jurisdiction_commands
from workflow.errors import DomainError
from workflow.plan import LEVELS

app = typer.Typer(help="行政区域与选举委员会", no_args_is_help=True)


def check_level(level: str) -> None:
    if level not in LEVELS:
        raise DomainError("E_BAD_LEVEL", f"未知的层级 {level!r}（可用：{'、'.join(LEVELS)}）", "level")


@app.command("add")
def jurisdictions_add(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="行政区划代码"),
    name: str = typer.Argument(..., help="名称"),
    level: str = typer.Option(..., "--level", help="层级：" + "、".join(LEVELS)),
    parent: str = typer.Option(None, "--parent", help="上级行政区划代码"),
    committee: str = typer.Option(None, "--committee", help="选举委员会名称"),
    as_json: bool = JSON,
) -> None:
    """添加行政区域（及其选举委员会）。"""
    with handled(as_json):
        check_level(level)

    def work(session, cli) -> Reply:
        j = jurisdiction_commands.add_jurisdiction(
            session,
            code=code,
            name=name,
            level=level,
            parent_code=parent,
            clock=cli.clock,
            actor=cli.actor,
            committee_name=committee,
        )
        return Reply(
            {"id": j.id, "code": j.code, "name": j.name, "level": j.level}, f"已添加：{name}（{code}）"
        )

    run(ctx, as_json, work)
