"""`huanjie demo`: load the demo county."""

from __future__ import annotations

import typer

from demo.county import build_demo
from service.cli.common import Reply, handled, run, say, set_now, state
from workflow.timeutil import parse_instant


def demo(
    ctx: typer.Context,
    now: str = typer.Option(None, "--now", help="以此时刻为“今天”生成演示数据（ISO 日期时间，默认当前时间）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    """载入演示数据：京山县（2011 年种子计划与本届）、乡镇、党支部、社区居委会。"""
    with handled(as_json):
        if now:
            set_now(state(ctx), parse_instant(now))

    def work(session, cli) -> Reply:
        result = build_demo(session, clock=cli.clock, actor=cli.actor)

        def text() -> None:
            for note in result.notes:
                say(note)
            if result.created:
                say(f"已载入演示数据：{len(result.elections)} 个选举。")
                for name, election_id in result.elections.items():
                    say(f"  {election_id}\t{name}")

        return Reply({"created": result.created, "elections": result.elections, "notes": result.notes}, text)

    run(ctx, as_json, work)
