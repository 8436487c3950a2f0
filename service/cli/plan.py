"""`huanjie plan check` and `huanjie quota`: the statutory checks that need no database."""

from __future__ import annotations

from pathlib import Path

import typer

from service.cli.common import JSON, Reply, offline, say
from workflow.calendar import HolidayCalendar, check_plan, reading
from workflow.kinds import get_kind, resolve_kind
from workflow.plan import load_plan
from workflow.rules.quota import total_seats

app = typer.Typer(help="选举工作计划", no_args_is_help=True)


@app.command("check")
def plan_check(plan_file: Path = typer.Argument(..., help="计划文件（TOML）"), as_json: bool = JSON) -> None:
    """对照法定期限检查计划：0 合规，1 有违反，2 输入有误。"""

    def work() -> Reply:
        plan = load_plan(plan_file)
        report = check_plan(plan.kind, plan.anchor, plan.milestones, HolidayCalendar())
        payload = {
            "ok": report.ok,
            "kind": plan.kind.key,
            plan.kind.anchor: plan.anchor.isoformat(),
            "milestones": [m.as_dict() for m in report.milestones],
            "violations": [m.as_dict() for m in report.violations],
            "warnings": [w.as_dict() for w in report.warnings],
            # Which rules applied and where each came from (issue 14).
            "statute": plan.statute,
            "variant": plan.kind.variant,
            "reading": reading(plan.kind),
            "rules_from": dict(sorted(plan.kind.provenance.items())),
        }
        if plan.kind.anchor != "election_day":
            payload["election_day"] = None

        def text() -> None:
            say(f"{plan.title}（{plan.kind.name}，{plan.kind.anchor_name} {plan.anchor}）")
            for m in report.milestones:
                mark = "✓" if m.ok else "✗"
                bound = f"最迟 {m.latest}" if m.latest else "—"
                say(f"  {mark} {m.name:<20} 计划 {m.planned or '未定'}  {bound}")
                for problem in m.problems:
                    say(f"      {problem}（{m.rule}）")
            for w in report.warnings:
                say(f"  ! {w.message}")
            say(f"适用法律版本：{plan.statute or '—'}；地方规定：{plan.kind.name if plan.kind.variant else '无（全国通用规则）'}")
            say("期间计法：" + ("严格（满N日）" if reading(plan.kind) == "strict" else "实务（选举日减N日）"))
            for path, origin in sorted(plan.kind.provenance.items()):
                say(f"  · {path} ← {origin}")
            say("计划符合法定期限。" if report.ok else f"计划有 {len(report.violations)} 处不符合法定期限。")

        return Reply(payload, text, 0 if report.ok else 1)

    offline(as_json, work)


def quota(
    level: str = typer.Option(..., "--level", help="county（县级）或 township（乡级）"),
    population: int = typer.Option(..., "--population", help="行政区域人口数"),
    statute: str = typer.Option(None, "--statute", help="法律版本：2010 或 2020（默认 2020）"),
    extra_percent: int = typer.Option(0, "--extra-percent", help="省级决定另加的百分比（至多 5）"),
    extra_decision: str = typer.Option(
        None, "--extra-decision", help="另加名额所依据的省级人大常委会决定（文号或名称）"
    ),
    as_json: bool = JSON,
) -> None:
    """按选举法第十二条计算代表总名额。"""

    def work() -> Reply:
        kind = resolve_kind("people_congress", statute=statute) if statute else get_kind("people_congress")
        result = total_seats(kind, level, population, statute, extra_percent, extra_decision)

        def text() -> None:
            typer.echo(result.seats)
            say(result.rule)

        return Reply(result.as_dict(), text)

    offline(as_json, work)
