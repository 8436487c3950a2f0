"""`huanjie apportion` and `huanjie districts …`: seats by population, a proposed division, and the
election's stored districts.

`apportion` and `districts propose` read a CSV file (UTF-8 or GBK) and change nothing in the
database; `districts apply` stores a plan as the election's districts (the District table) in one
audited transaction; `districts add/list` keep the stored districts by hand.
"""

from __future__ import annotations

from pathlib import Path

import typer

from service.cli.common import JSON, Reply, handled, offline, run, say
from workflow.commands import voter_districts
from workflow.commands.district_plans import plan_from_text
from workflow.commands.districts import apply_districts
from workflow.errors import DomainError
from workflow.rules.apportion import METHOD_TEXT, apportion
from workflow.rules.districting import propose
from workflow.rules.units import decode, read_units

app = typer.Typer(help="选区：划分方案、登记与列表", no_args_is_help=True)


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

    def work() -> Reply:
        units = read_units(_read(units_file))
        payload = apportion([(u.code, u.name, u.population) for u in units], seats).as_dict()

        def text() -> None:
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

        return Reply(payload, text)

    offline(as_json, work)


@app.command("propose")
def districts_propose(
    units_file: Path = typer.Argument(..., help="单元表（CSV，列：code,name,population,parent,neighbours）"),
    seats: int = typer.Option(..., "--seats", help="应选代表总名额"),
    tolerance: str = typer.Option(
        "0.15", "--tolerance", help="每名代表人口偏离平均数的限度（默认 0.15，即 ±15%）"
    ),
    as_json: bool = JSON,
) -> None:
    """由村、居民小组等单元提出选区划分方案：0 全部满足，1 有无法满足的要求，2 输入有误。"""

    def work() -> Reply:
        units = read_units(_read(units_file), with_graph=True)
        proposal = propose(units, seats, tolerance)
        payload = proposal.as_dict()

        def text() -> None:
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

        return Reply(payload, text, 0 if proposal.ok else 1)

    offline(as_json, work)


@app.command("add")
def districts_add(
    ctx: typer.Context,
    election_id: int = typer.Argument(..., help="选举编号"),
    code: str = typer.Argument(..., help="选区代码（本次选举内唯一）"),
    name: str = typer.Argument(..., help="选区名称"),
    seats: int = typer.Option(None, "--seats", help="应选代表名额（1–3）"),
    population: int = typer.Option(None, "--population", help="选区人口数"),
    area: str = typer.Option(
        None,
        "--area",
        help="选区范围：所辖村（居）民委员会或单位，如「城关社区、五里铺村」（印入选区划分公告）",
    ),
    as_json: bool = JSON,
) -> None:
    """添加一个选区。"""

    def work(session, cli) -> Reply:
        district = voter_districts.add_district(
            session,
            election_id,
            code=code,
            name=name,
            seats=seats,
            population=population,
            area=area,
            clock=cli.clock,
            actor=cli.actor,
        )
        payload = {
            "code": district.code,
            "name": district.name,
            "seats": district.seats,
            "population": district.population,
            "area": district.area,
        }
        return Reply(payload, f"已添加选区 {code} {name}")

    run(ctx, as_json, work)


@app.command("list")
def districts_list(
    ctx: typer.Context, election_id: int = typer.Argument(..., help="选举编号"), as_json: bool = JSON
) -> None:
    """列出选区及其选民人数。"""

    def work(session, cli) -> Reply:
        items = voter_districts.list_districts(session, election_id)

        def text() -> None:
            for d in items:
                scope = f"\t范围 {d['area']}" if d["area"] else ""
                say(f"{d['code']}\t{d['name']}\t名额 {d['seats'] or '未定'}\t选民 {d['voters']}{scope}")

        return Reply({"districts": items}, text)

    run(ctx, as_json, work, reading=True)


def _plan(units_file: Path, seats: int, tolerance: str) -> dict:
    """A units file as a plan: divided by units when it has parent/neighbours columns, else one
    district per row (workflow/commands/district_plans.py, shared with the dashboard)."""
    return plan_from_text(_read(units_file), seats, tolerance)


@app.command("apply")
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
    with handled(as_json):
        plan = _plan(units_file, seats, tolerance)

    def work(session, cli) -> Reply:
        payload = apply_districts(
            session, election_id, plan["districts"], clock=cli.clock, actor=cli.actor, method=plan["method"]
        )

        def text() -> None:
            for d in payload["districts"]:
                scope = f"\t范围 {d['area']}" if d.get("area") else ""
                typer.echo(f"{d['code']}\t{d['name']}\t{d['population']}\t{d['seats']}{scope}")
            say(
                f"已保存 {len(payload['districts'])} 个选区、{payload['seats']} 名代表"
                f"（新增 {len(payload['added'])}，修改 {len(payload['changed'])}，删除 {len(payload['removed'])}）；"
                "请公布代表名额分配方案公告和选区划分公告"
            )

        return Reply(payload, text)

    run(ctx, as_json, work)
