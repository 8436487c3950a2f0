"""`huanjie kinds …`: the election kinds and their state diagrams."""

from __future__ import annotations

import typer

from service.cli.common import JSON, finish, handled, print_json
from workflow.kinds import all_kinds, get_kind
from workflow.machine import machine_for

app = typer.Typer(help="选举类型", no_args_is_help=True)


@app.command("list")
def kinds_list(as_json: bool = JSON) -> None:
    """列出可用的选举类型。"""
    kinds = all_kinds()
    if as_json:
        print_json(
            [
                {
                    "key": k.key,
                    "name": k.name,
                    "version": k.version,
                    "anchor": k.anchor,
                    "phases": list(k.phase_keys),
                    "milestones": list(k.milestones),
                }
                for k in kinds.values()
            ]
        )
    else:
        for k in kinds.values():
            typer.echo(f"{k.key}\t{k.name}\t阶段：{'、'.join(p.name for p in k.phases)}")
    finish(0)


@app.command("diagram")
def kinds_diagram(kind: str = typer.Argument(..., help="选举类型")) -> None:
    """输出选举类型的状态图（Mermaid）。"""
    with handled(False):
        spec = get_kind(kind)
    typer.echo(machine_for(spec).mermaid())
    finish(0)
