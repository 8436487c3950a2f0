"""`huanjie rounds create`: a province's (or a city's) whole 县乡两级 round — every county's and every
township's election — in one process and one transaction."""

from __future__ import annotations

from pathlib import Path

import typer

from service.cli.common import JSON, Reply, handled, run, say
from workflow.calendar import HolidayCalendar
from workflow.commands.province_round import create_province_round
from workflow.plan import load_plan

app = typer.Typer(help="整轮换届：一次创建全省（全市）各县、乡两级选举", no_args_is_help=True)


@app.command("create")
def rounds_create(
    ctx: typer.Context,
    province: str = typer.Option(..., "--province", help="省（或设区的市）的行政区划代码"),
    plan_file: Path = typer.Option(..., "--plan", help="县级选举的计划文件（TOML）"),
    township_plan_file: Path = typer.Option(
        None, "--township-plan", help="乡级选举的计划文件（默认与县级同一计划）"
    ),
    counties: list[str] = typer.Option(None, "--county", help="只为这些县级区域创建（可重复；默认全部）"),
    title: str = typer.Option(
        "{title}（{name}）", "--title", help="选举名称格式：{title} 计划名称，{name} 区域名称，{code} 代码"
    ),
    accept_violations: str = typer.Option(
        None, "--accept-violations", help="确需违反法定期限时的理由（记入审计日志）"
    ),
    as_json: bool = JSON,
) -> None:
    """为省（市）内每个县及其每个乡镇按计划创建选举，乡级选举挂在本县选举之下；一个事务完成，出错则全部不建。"""
    with handled(as_json):
        county_plan = load_plan(plan_file)
        township_plan = load_plan(township_plan_file) if township_plan_file else county_plan

    def work(session, cli) -> Reply:
        created = create_province_round(
            session,
            province,
            county_plan,
            township_plan,
            clock=cli.clock,
            actor=cli.actor,
            title_format=title,
            accept_violations=accept_violations,
            holidays=HolidayCalendar(),
            counties=counties or None,
        )
        rows = [
            {
                "id": county.id,
                "jurisdiction": county.jurisdiction.code,
                "title": county.title,
                "townships": [
                    {"id": t.id, "jurisdiction": t.jurisdiction.code, "title": t.title}
                    for t in created.townships.get(county.id, [])
                ],
            }
            for county in created.counties
        ]
        payload = {"counties": rows, "county_count": len(rows), "count": created.count}

        def text() -> None:
            for row in rows:
                typer.echo(
                    f"{row['id']}\t{row['jurisdiction']}\t{row['title']}\t乡镇 {len(row['townships'])} 个"
                )
            say(f"已创建 {len(rows)} 个县级、{created.count - len(rows)} 个乡级选举，共 {created.count} 个。")

        return Reply(payload, text)

    run(ctx, as_json, work)
