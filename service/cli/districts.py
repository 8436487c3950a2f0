"""`huanjie apportion` and `huanjie districts propose`: seats by population and district division.

Both read a CSV file (UTF-8 or GBK) and change nothing in the database.
"""

from __future__ import annotations

from pathlib import Path

import typer

from service.cli.common import finish, handled, print_json, say
from workflow.errors import DomainError
from workflow.rules.apportion import METHOD_TEXT, apportion
from workflow.rules.districting import propose
from workflow.rules.units import decode, read_units

districts_app = typer.Typer(help="选区：划分方案、登记与列表", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="以 JSON 输出到标准输出")


def _read(path: Path) -> str:
    try:
        return decode(path.read_bytes())
    except FileNotFoundError:
        raise DomainError("E_FILE_NOT_FOUND", f"找不到文件：{path}", "file") from None
    except IsADirectoryError:
        raise DomainError("E_FILE_NOT_FOUND", f"不是文件：{path}", "file") from None


def _percent(value: float) -> str:
    return f"{value * 100:+.1f}%"


def apportion_command(
    units_file: Path = typer.Argument(..., help="选区人口表（CSV，列：code,name,population）"),
    seats: int = typer.Option(..., "--seats", help="应选代表总名额"),
    as_json: bool = JSON,
) -> None:
    """按人口数把代表名额分配到各选区（每区一至三名，选举法第二十五、二十六条）。"""
    with handled(as_json):
        units = read_units(_read(units_file))
        result = apportion([(u.code, u.name, u.population) for u in units], seats)
    payload = result.as_dict()
    if as_json:
        print_json(payload)
    else:
        typer.echo("代码\t名称\t人口\t名额\t每名代表人口\t偏差")
        for d in payload["districts"]:
            typer.echo(
                f"{d['code']}\t{d['name']}\t{d['population']}\t{d['seats']}\t"
                f"{d['per_deputy']:.0f}\t{_percent(d['deviation'])}"
            )
        say(METHOD_TEXT)
        say(
            f"共 {payload['seats']} 名，{len(payload['districts'])} 个选区，平均每名代表 "
            f"{payload['mean_per_deputy']:.0f} 人，最大偏差 ±{payload['max_abs_deviation'] * 100:.1f}%"
        )
    finish(0)


@districts_app.command("propose")
def districts_propose(
    units_file: Path = typer.Argument(..., help="单元表（CSV，列：code,name,population,parent,neighbours）"),
    seats: int = typer.Option(..., "--seats", help="应选代表总名额"),
    tolerance: str = typer.Option(
        "0.15", "--tolerance", help="每名代表人口偏离平均数的限度（默认 0.15，即 ±15%）"
    ),
    as_json: bool = JSON,
) -> None:
    """由村、居民小组等单元提出选区划分方案：0 全部满足，1 有无法满足的要求，2 输入有误。"""
    with handled(as_json):
        units = read_units(_read(units_file), with_graph=True)
        proposal = propose(units, seats, tolerance)
    payload = proposal.as_dict()
    if as_json:
        print_json(payload)
    else:
        typer.echo("选区\t名额\t人口\t每名代表人口\t偏差\t单元")
        for d in payload["districts"]:
            mark = "" if d["within_tolerance"] else " ✗"
            typer.echo(
                f"{d['code']}\t{d['seats']}\t{d['population']}\t{d['per_deputy']:.0f}\t"
                f"{_percent(d['deviation'])}{mark}\t{'、'.join(d['units'])}"
            )
        for warning in proposal.warnings:
            say(f"注意：{warning}")
        for problem in proposal.unsatisfied:
            say(f"未能满足：{problem.message}")
        say(
            f"共 {len(payload['districts'])} 个选区、{payload['seats']} 名代表，平均每名代表 "
            f"{payload['mean_per_deputy']:.0f} 人；{payload['within_tolerance']} 个选区在 "
            f"±{payload['tolerance'] * 100:g}% 以内。"
        )
    finish(0 if proposal.ok else 1)


def register(app: typer.Typer) -> None:
    app.command("apportion")(apportion_command)
    app.add_typer(districts_app, name="districts")
