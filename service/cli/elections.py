"""`huanjie elections …`: create (one or a round), list, show, move through the phases, reschedule."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer

from service.cli.common import JSON, Reply, handled, parse_date, run, say
from service.cli.jurisdictions import check_level
from workflow.calendar import HolidayCalendar
from workflow.commands import elections as commands
from workflow.commands import jurisdictions as jurisdiction_commands
from workflow.errors import DomainError
from workflow.kinds import get_kind
from workflow.machine import Trigger, state_name
from workflow.plan import load_plan
from workflow.views import elections as election_views

app = typer.Typer(help="选举", no_args_is_help=True)

ACCEPT_VIOLATIONS = typer.Option(None, "--accept-violations", help="确需违反法定期限时的理由（记入审计日志）")
LIST_FIELDS = ("id", "kind", "title", "jurisdiction", "anchor_date", "state", "state_name", "version")
MILESTONE_STATUSES = {"pending": "待办", "done": "已办结", "overdue": "已逾期", "waived": "已免除"}


@app.command("create")
def elections_create(
    ctx: typer.Context,
    plan_file: Path = typer.Option(..., "--plan", help="计划文件（TOML）"),
    accept_violations: str = ACCEPT_VIOLATIONS,
    voting_method: str = typer.Option(
        None,
        "--voting-method",
        help="选举方式（居委会选举）：all 全体选民 / households 每户派代表 / representatives 居民代表",
    ),
    as_json: bool = JSON,
) -> None:
    """按计划创建选举；计划不符合法定期限时拒绝，除非说明理由。"""
    with handled(as_json):
        plan = load_plan(plan_file)

    def work(session, cli) -> Reply:
        created = commands.create_election(
            session,
            plan,
            clock=cli.clock,
            actor=cli.actor,
            accept_violations=accept_violations,
            holidays=HolidayCalendar(),
            voting_method=voting_method,
        )
        election_id = created.election.id
        payload = {
            "id": election_id,
            "warnings": [w.as_dict() for w in created.report.warnings],
            "accepted_violations": [v.key for v in created.report.violations],
        }

        def text() -> None:
            typer.echo(election_id)
            say(f"已创建选举 {election_id}：{plan.title}")

        return Reply(payload, text)

    run(ctx, as_json, work)


@app.command("create-round")
def elections_create_round(
    ctx: typer.Context,
    plan_file: Path = typer.Option(..., "--plan", help="计划文件（TOML）：日期、阶段时间与上级选举"),
    jurisdictions: list[str] = typer.Option(None, "--jurisdiction", help="行政区划代码（可重复）"),
    under: str = typer.Option(None, "--under", help="为该行政区域的全部直接下级各建一次选举"),
    parent_election: int = typer.Option(None, "--parent-election", help="上级选举编号（如县级选举）"),
    level: str = typer.Option(None, "--level", help="与 --under 同用：只取该层级（如 township）"),
    title: str = typer.Option(
        "{title}（{name}）", "--title", help="选举名称格式：{title} 计划名称，{name} 区域名称，{code} 代码"
    ),
    accept_violations: str = ACCEPT_VIOLATIONS,
    as_json: bool = JSON,
) -> None:
    """按同一计划为多个行政区域同时创建选举（如县乡两级换届中的各乡镇），一个事务完成。"""
    with handled(as_json):
        plan = load_plan(plan_file)
        if parent_election is not None:
            plan = dataclasses.replace(plan, parent_election=parent_election)
        if level:
            check_level(level)
        if level and not under:
            raise DomainError("E_BAD_OPTION", "--level 须与 --under 同用", "level")

    def work(session, cli) -> Reply:
        codes = list(jurisdictions or [])
        if under:
            codes += jurisdiction_commands.child_codes(session, under, level)
            if not codes:
                raise DomainError(
                    "E_NO_JURISDICTIONS",
                    f"行政区域 {under} 下没有{'该层级的' if level else ''}下级区域",
                    "under",
                )
        created = commands.create_round(
            session,
            plan,
            codes,
            clock=cli.clock,
            actor=cli.actor,
            title_format=title,
            accept_violations=accept_violations,
            holidays=HolidayCalendar(),
        )
        rows = [
            {"id": e.id, "jurisdiction": e.jurisdiction.code, "title": e.title} for e in created.elections
        ]
        payload = {
            "elections": rows,
            "count": len(rows),
            "warnings": [w.as_dict() for w in created.report.warnings],
            "accepted_violations": [v.key for v in created.report.violations],
        }

        def text() -> None:
            for row in rows:
                typer.echo(f"{row['id']}\t{row['jurisdiction']}\t{row['title']}")
            say(f"已按计划为 {len(rows)} 个行政区域创建选举")

        return Reply(payload, text)

    run(ctx, as_json, work)


@app.command("list")
def elections_list(
    ctx: typer.Context,
    jurisdiction: str = typer.Option(None, "--jurisdiction", help="行政区划代码"),
    kind: str = typer.Option(None, "--kind", help="选举类型"),
    as_json: bool = JSON,
) -> None:
    """列出选举。"""

    def work(session, cli) -> Reply:
        rows = election_views.list_rows(session, jurisdiction=jurisdiction, kind=kind)

        def text() -> None:
            for r in rows:
                typer.echo(
                    f"{r['id']}\t{r['state_name']}\t{r['anchor_date']}\t{r['jurisdiction']['name']}\t{r['title']}"
                )

        return Reply([{k: r[k] for k in LIST_FIELDS} for r in rows], text)

    run(ctx, as_json, work, reading=True)


def _show(view: dict) -> None:
    typer.echo(f"{view['title']}（{view['kind_name']}）")
    typer.echo(f"状态：{view['state_name']}    {get_kind(view['kind']).anchor_name}：{view['anchor_date']}")
    if view.get("voting_method"):
        typer.echo(f"选举方式：{view['voting_method']['name']}（{view['voting_method']['rule']}）")
    for m in view["milestones"]:
        latest = f"最迟 {m['latest']}" if m["latest"] else ""
        done = f"{m['done_on']}{'（逾期办结）' if m['late'] else ''}" if m["done_on"] else ""
        status = MILESTONE_STATUSES.get(m["status"], m["status"]) if m.get("applicable", True) else "不适用"
        typer.echo(f"  [{status}] {m['name']}（{m['key']}）  计划 {m['planned'] or '—'}  {latest}  {done}")
    nxt = view["next"]
    if nxt and not nxt["allowed"]:
        typer.echo("进入下一阶段尚需：" + "；".join(r["message"] for r in nxt["refusals"]))


@app.command("show")
def elections_show(ctx: typer.Context, election_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """显示选举的阶段、节点和法定期限。"""

    def work(session, cli) -> Reply:
        view = election_views.describe(commands.get_election(session, election_id))
        return Reply(view, lambda: _show(view))

    run(ctx, as_json, work, reading=True)


@app.command("method")
def elections_method(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    method: str = typer.Argument(
        ..., help="all 全体选民 / households 每户派代表 / representatives 居民（小组）代表"
    ),
    as_json: bool = JSON,
) -> None:
    """设定选举方式（居委会组织法：全体选民、每户派代表或居民代表选举）；投票开始后不能更改。"""

    def work(session, cli) -> Reply:
        election = commands.set_voting_method(session, election_id, method, clock=cli.clock, actor=cli.actor)
        session.flush()
        view = election_views.describe(election).get("voting_method") or {}
        payload = {
            "id": election_id,
            "voting_method": view.get("key"),
            "name": view.get("name"),
            "rule": view.get("rule"),
        }
        return Reply(payload, f"选举 {election_id} 的选举方式：{view.get('name')}（{view.get('rule')}）")

    run(ctx, as_json, work)


def _refusal_document(error: DomainError) -> dict:
    """A refused transition lists every reason beside the error."""
    if isinstance(error, commands.TransitionRefused):
        return {"error": error.as_dict(), "refusals": election_views.refusal_dicts(error.decision.refusals)}
    return {"error": error.as_dict()}


def _transition(
    ctx: typer.Context, election_id: int, trigger: Trigger, reason: str | None, as_json: bool
) -> None:
    def work(session, cli) -> Reply:
        decision = commands.transition(
            session, election_id, trigger, clock=cli.clock, actor=cli.actor, reason=reason
        )
        kind = commands.kind_of(commands.get_election(session, election_id))
        return Reply(
            {"id": election_id, "from": decision.source, "to": decision.target},
            f"选举 {election_id}：{state_name(kind, decision.source)} → {state_name(kind, decision.target)}",
        )

    run(ctx, as_json, work, document=_refusal_document)


@app.command("advance")
def elections_advance(
    ctx: typer.Context, election_id: int = typer.Argument(...), as_json: bool = JSON
) -> None:
    """推进到下一阶段（条件不满足时列出原因）。"""
    _transition(ctx, election_id, Trigger.ADVANCE, None, as_json)


@app.command("suspend")
def elections_suspend(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="暂停理由"),
    as_json: bool = JSON,
) -> None:
    """暂停选举（须说明理由）。"""
    _transition(ctx, election_id, Trigger.SUSPEND, reason, as_json)


@app.command("resume")
def elections_resume(
    ctx: typer.Context, election_id: int = typer.Argument(...), as_json: bool = JSON
) -> None:
    """恢复已暂停的选举。"""
    _transition(ctx, election_id, Trigger.RESUME, None, as_json)


@app.command("cancel")
def elections_cancel(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="取消理由"),
    as_json: bool = JSON,
) -> None:
    """取消选举（须说明理由）。"""
    _transition(ctx, election_id, Trigger.CANCEL, reason, as_json)


@app.command("reschedule")
def elections_reschedule(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    election_day: str = typer.Option(None, "--election-day", help="新的选举日 YYYY-MM-DD"),
    term_ends: str = typer.Option(None, "--term-ends", help="新的任期届满日 YYYY-MM-DD（党支部）"),
    keep_plan: bool = typer.Option(
        False, "--keep-plan", help="未办结节点的计划日期保持不变（默认随选举日平移）"
    ),
    accept_violations: str = ACCEPT_VIOLATIONS,
    as_json: bool = JSON,
) -> None:
    """调整选举日（或任期届满日），重新计算全部法定期限。"""
    with handled(as_json):
        if (election_day is None) == (term_ends is None):
            raise DomainError("E_MISSING_ANCHOR", "请给出 --election-day 或 --term-ends 之一", "election_day")
        new_anchor = parse_date(election_day or term_ends, "election_day" if election_day else "term_ends")

    def work(session, cli) -> Reply:
        report = commands.reschedule(
            session,
            election_id,
            new_anchor,
            clock=cli.clock,
            actor=cli.actor,
            shift_plan=not keep_plan,
            accept_violations=accept_violations,
            holidays=HolidayCalendar(),
        )
        payload = {
            "id": election_id,
            "anchor_date": new_anchor.isoformat(),
            "ok": report.ok,
            "milestones": [m.as_dict() for m in report.milestones],
            "violations": [m.as_dict() for m in report.violations],
            "warnings": [w.as_dict() for w in report.warnings],
        }
        return Reply(payload, f"选举 {election_id} 已改期至 {new_anchor}，法定期限已重新计算。")

    run(ctx, as_json, work)
