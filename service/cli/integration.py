"""`huanjie districts apply`: store an apportionment or a district division as the election's
districts (the District table), in one audited transaction."""

from __future__ import annotations

from pathlib import Path

import typer

from service.cli.common import finish, handled, print_json, say, state
from service.cli.districts import _read, districts_app
from workflow.commands.districts import apply_districts, plan_from_units
from workflow.errors import DomainError
from workflow.rules.units import read_units

JSON = typer.Option(False, "--json", help="以 JSON 输出到标准输出")


@districts_app.command("apply")
def districts_apply(
    ctx: typer.Context,
    units_file: Path = typer.Argument(
        ..., help="选区人口表（code,name,population）或单元表（另加 parent,neighbours 列，按单元划分选区）"
    ),
    election_id: int = typer.Option(..., "--election", help="选举编号"),
    seats: int = typer.Option(..., "--seats", help="应选代表总名额"),
    tolerance: str = typer.Option("0.15", "--tolerance", help="按单元划分时每名代表人口的偏差限度"),
    as_json: bool = JSON,
) -> None:
    """把名额分配或选区划分方案存为本次选举的选区（不办结任何节点；公布相应公告后办结）。"""
    cli = state(ctx)
    with handled(as_json):
        text = _read(units_file)
        graph = True
        try:
            units = read_units(text, with_graph=True)
        except DomainError as error:
            if error.code != "E_CSV_MISSING_COLUMN" or error.field not in ("parent", "neighbours"):
                raise
            graph = False  # no parent/neighbours columns: each row is a district
            units = read_units(text)
        plan = plan_from_units(units, seats, graph=graph, tolerance=tolerance)
        with cli.database().transaction() as session:
            payload = apply_districts(
                session,
                election_id,
                plan["districts"],
                clock=cli.clock,
                actor=cli.actor,
                method=plan["method"],
            )
    if as_json:
        print_json(payload)
    else:
        for d in payload["districts"]:
            scope = f"\t范围 {d['area']}" if d.get("area") else ""
            typer.echo(f"{d['code']}\t{d['name']}\t{d['population']}\t{d['seats']}{scope}")
        say(
            f"已保存 {len(payload['districts'])} 个选区、{payload['seats']} 名代表"
            f"（新增 {len(payload['added'])}，修改 {len(payload['changed'])}，删除 {len(payload['removed'])}）；"
            "请公布代表名额分配方案公告和选区划分公告"
        )
    finish(0)


def register(app: typer.Typer) -> None:
    """The command joins the `districts` group at import."""
