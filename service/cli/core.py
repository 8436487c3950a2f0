"""Engine commands: plan check, quota, kinds, jurisdictions, elections, milestones, audit."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer

from service.cli.common import finish, handled, print_json, say, state
from service.cli.common import parse_date as _parse_date
from workflow.calendar import HolidayCalendar, check_plan
from workflow.commands import elections as commands
from workflow.errors import DomainError
from workflow.kinds import all_kinds, get_kind
from workflow.machine import Trigger, machine_for
from workflow.plan import LEVELS, load_plan
from workflow.rules.quota import total_seats
from workflow.store.audit import verify

plan_app = typer.Typer(help="选举工作计划", no_args_is_help=True)
elections_app = typer.Typer(help="选举", no_args_is_help=True)
milestones_app = typer.Typer(help="工作节点", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志", no_args_is_help=True)
kinds_app = typer.Typer(help="选举类型", no_args_is_help=True)
jurisdictions_app = typer.Typer(help="行政区域与选举委员会", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="以 JSON 输出到标准输出")
ACCEPT_VIOLATIONS = typer.Option(
    None, "--accept-violations", help="确需违反法定期限时的理由（记入审计日志）"
)


# -- plan ---------------------------------------------------------------------------------
@plan_app.command("check")
def plan_check(plan_file: Path = typer.Argument(..., help="计划文件（TOML）"), as_json: bool = JSON) -> None:
    """对照法定期限检查计划：0 合规，1 有违反，2 输入有误。"""
    with handled(as_json):
        plan = load_plan(plan_file)
        report = check_plan(plan.kind, plan.anchor, plan.milestones, HolidayCalendar())
    payload = {
        "ok": report.ok,
        "kind": plan.kind.key,
        plan.kind.anchor: plan.anchor.isoformat(),
        "milestones": [m.as_dict() for m in report.milestones],
        "violations": [m.as_dict() for m in report.violations],
        "warnings": [w.as_dict() for w in report.warnings],
    }
    if plan.kind.anchor != "election_day":
        payload["election_day"] = None
    if as_json:
        print_json(payload)
    else:
        say(f"{plan.title}（{plan.kind.name}，{plan.kind.anchor_name} {plan.anchor}）")
        for m in report.milestones:
            mark = "✓" if m.ok else "✗"
            bound = f"最迟 {m.latest}" if m.latest else "—"
            say(f"  {mark} {m.name:<20} 计划 {m.planned or '未定'}  {bound}")
            for problem in m.problems:
                say(f"      {problem}（{m.rule}）")
        for w in report.warnings:
            say(f"  ! {w.message}")
        say("计划符合法定期限。" if report.ok else f"计划有 {len(report.violations)} 处不符合法定期限。")
    finish(0 if report.ok else 1)


# -- quota --------------------------------------------------------------------------------
def quota(
    level: str = typer.Option(..., "--level", help="county（县级）或 township（乡级）"),
    population: int = typer.Option(..., "--population", help="行政区域人口数"),
    statute: str = typer.Option(None, "--statute", help="法律版本：2010 或 2020（默认 2020）"),
    extra_percent: int = typer.Option(0, "--extra-percent", help="省级决定另加的百分比（至多 5）"),
    as_json: bool = JSON,
) -> None:
    """按选举法第十二条计算代表总名额。"""
    with handled(as_json):
        result = total_seats(get_kind("people_congress"), level, population, statute, extra_percent)
    if as_json:
        print_json(result.as_dict())
    else:
        typer.echo(result.seats)
        say(result.rule)
    finish(0)


# -- kinds --------------------------------------------------------------------------------
@kinds_app.command("list")
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


@kinds_app.command("diagram")
def kinds_diagram(kind: str = typer.Argument(..., help="选举类型")) -> None:
    """输出选举类型的状态图（Mermaid）。"""
    with handled(False):
        spec = get_kind(kind)
    typer.echo(machine_for(spec).mermaid())
    finish(0)


# -- jurisdictions ------------------------------------------------------------------------
@jurisdictions_app.command("add")
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
    cli = state(ctx)
    with handled(as_json):
        if level not in LEVELS:
            raise DomainError("E_BAD_LEVEL", f"未知的层级 {level!r}（可用：{'、'.join(LEVELS)}）", "level")
        with cli.database().transaction() as session:
            j = commands.add_jurisdiction(
                session,
                code=code,
                name=name,
                level=level,
                parent_code=parent,
                clock=cli.clock,
                actor=cli.actor,
                committee_name=committee,
            )
            payload = {"id": j.id, "code": j.code, "name": j.name, "level": j.level}
    print_json(payload) if as_json else say(f"已添加：{name}（{code}）")
    finish(0)


# -- elections ----------------------------------------------------------------------------
@elections_app.command("create")
def elections_create(
    ctx: typer.Context,
    plan_file: Path = typer.Option(..., "--plan", help="计划文件（TOML）"),
    accept_violations: str = ACCEPT_VIOLATIONS,
    as_json: bool = JSON,
) -> None:
    """按计划创建选举；计划不符合法定期限时拒绝，除非说明理由。"""
    cli = state(ctx)
    with handled(as_json):
        plan = load_plan(plan_file)
        with cli.database().transaction() as session:
            created = commands.create_election(
                session,
                plan,
                clock=cli.clock,
                actor=cli.actor,
                accept_violations=accept_violations,
                holidays=HolidayCalendar(),
            )
            election_id = created.election.id
            warnings = [w.as_dict() for w in created.report.warnings]
    if as_json:
        print_json(
            {
                "id": election_id,
                "warnings": warnings,
                "accepted_violations": [v.key for v in created.report.violations],
            }
        )
    else:
        typer.echo(election_id)
        say(f"已创建选举 {election_id}：{plan.title}")
    finish(0)


@elections_app.command("create-round")
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
    cli = state(ctx)
    with handled(as_json):
        plan = load_plan(plan_file)
        if parent_election is not None:
            plan = dataclasses.replace(plan, parent_election=parent_election)
        if level and level not in LEVELS:
            raise DomainError("E_BAD_LEVEL", f"未知的层级 {level!r}（可用：{'、'.join(LEVELS)}）", "level")
        if level and not under:
            raise DomainError("E_BAD_OPTION", "--level 须与 --under 同用", "level")
        with cli.database().transaction() as session:
            codes = list(jurisdictions or [])
            if under:
                codes += commands.child_codes(session, under, level)
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
            warnings = [w.as_dict() for w in created.report.warnings]
    if as_json:
        print_json(
            {
                "elections": rows,
                "count": len(rows),
                "warnings": warnings,
                "accepted_violations": [v.key for v in created.report.violations],
            }
        )
    else:
        for row in rows:
            typer.echo(f"{row['id']}\t{row['jurisdiction']}\t{row['title']}")
        say(f"已按计划为 {len(rows)} 个行政区域创建选举")
    finish(0)


@elections_app.command("list")
def elections_list(
    ctx: typer.Context,
    jurisdiction: str = typer.Option(None, "--jurisdiction", help="行政区划代码"),
    kind: str = typer.Option(None, "--kind", help="选举类型"),
    as_json: bool = JSON,
) -> None:
    """列出选举。"""
    cli = state(ctx)
    with handled(as_json), cli.database().reading() as session:
        rows = [
            commands.describe(e)
            for e in commands.list_elections(session, jurisdiction=jurisdiction, kind=kind)
        ]
    if as_json:
        print_json(
            [
                {
                    k: r[k]
                    for k in (
                        "id",
                        "kind",
                        "title",
                        "jurisdiction",
                        "anchor_date",
                        "state",
                        "state_name",
                        "version",
                    )
                }
                for r in rows
            ]
        )
    else:
        for r in rows:
            typer.echo(
                f"{r['id']}\t{r['state_name']}\t{r['anchor_date']}\t{r['jurisdiction']['name']}\t{r['title']}"
            )
    finish(0)


@elections_app.command("show")
def elections_show(ctx: typer.Context, election_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """显示选举的阶段、节点和法定期限。"""
    cli = state(ctx)
    with handled(as_json), cli.database().reading() as session:
        view = commands.describe(commands.get_election(session, election_id))
    if as_json:
        print_json(view)
        finish(0)
    typer.echo(f"{view['title']}（{view['kind_name']}）")
    typer.echo(f"状态：{view['state_name']}    {get_kind(view['kind']).anchor_name}：{view['anchor_date']}")
    statuses = {"pending": "待办", "done": "已办结", "overdue": "已逾期", "waived": "已免除"}
    for m in view["milestones"]:
        latest = f"最迟 {m['latest']}" if m["latest"] else ""
        done = f"{m['done_on']}{'（逾期办结）' if m['late'] else ''}" if m["done_on"] else ""
        typer.echo(
            f"  [{statuses.get(m['status'], m['status'])}] {m['name']}  计划 {m['planned'] or '—'}  {latest}  {done}"
        )
    nxt = view["next"]
    if nxt and not nxt["allowed"]:
        typer.echo("进入下一阶段尚需：" + "；".join(r["message"] for r in nxt["refusals"]))
    finish(0)


def _transition(
    ctx: typer.Context, election_id: int, trigger: Trigger, reason: str | None, as_json: bool
) -> None:
    cli = state(ctx)
    with handled(as_json):
        try:
            with cli.database().transaction() as session:
                decision = commands.transition(
                    session, election_id, trigger, clock=cli.clock, actor=cli.actor, reason=reason
                )
                kind = commands.kind_of(commands.get_election(session, election_id))
        except commands.TransitionRefused as refused:
            if as_json:
                print_json(
                    {
                        "error": refused.as_dict(),
                        "refusals": commands.refusal_dicts(refused.decision.refusals),
                    }
                )
                finish(2)
            raise
    from workflow.machine import state_name

    if as_json:
        print_json({"id": election_id, "from": decision.source, "to": decision.target})
    else:
        say(f"选举 {election_id}：{state_name(kind, decision.source)} → {state_name(kind, decision.target)}")
    finish(0)


@elections_app.command("advance")
def elections_advance(
    ctx: typer.Context, election_id: int = typer.Argument(...), as_json: bool = JSON
) -> None:
    """推进到下一阶段（条件不满足时列出原因）。"""
    _transition(ctx, election_id, Trigger.ADVANCE, None, as_json)


@elections_app.command("suspend")
def elections_suspend(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="暂停理由"),
    as_json: bool = JSON,
) -> None:
    """暂停选举（须说明理由）。"""
    _transition(ctx, election_id, Trigger.SUSPEND, reason, as_json)


@elections_app.command("resume")
def elections_resume(
    ctx: typer.Context, election_id: int = typer.Argument(...), as_json: bool = JSON
) -> None:
    """恢复已暂停的选举。"""
    _transition(ctx, election_id, Trigger.RESUME, None, as_json)


@elections_app.command("cancel")
def elections_cancel(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="取消理由"),
    as_json: bool = JSON,
) -> None:
    """取消选举（须说明理由）。"""
    _transition(ctx, election_id, Trigger.CANCEL, reason, as_json)


@elections_app.command("reschedule")
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
    cli = state(ctx)
    with handled(as_json):
        if (election_day is None) == (term_ends is None):
            raise DomainError("E_MISSING_ANCHOR", "请给出 --election-day 或 --term-ends 之一", "election_day")
        new_anchor = _parse_date(election_day or term_ends, "election_day" if election_day else "term_ends")
        with cli.database().transaction() as session:
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
    print_json(payload) if as_json else say(f"选举 {election_id} 已改期至 {new_anchor}，法定期限已重新计算。")
    finish(0)


# -- milestones ---------------------------------------------------------------------------
@milestones_app.command("complete")
def milestones_complete(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    key: str = typer.Argument(..., help="节点键，如 voter_list_published"),
    on: str = typer.Option(None, "--on", help="办结日期 YYYY-MM-DD（默认今天）"),
    as_json: bool = JSON,
) -> None:
    """办结一个工作节点。"""
    cli = state(ctx)
    with handled(as_json):
        done_on = _parse_date(on, "on")
        with cli.database().transaction() as session:
            m = commands.complete_milestone(
                session, election_id, key, clock=cli.clock, actor=cli.actor, on=done_on
            )
            payload = {
                "election_id": election_id,
                "key": key,
                "done_on": m.done_on.isoformat(),
                "late": m.late,
            }
    if as_json:
        print_json(payload)
    else:
        say(f"已办结 {key}（{payload['done_on']}）" + ("，已超过法定期限" if payload["late"] else ""))
    finish(0)


@milestones_app.command("waive")
def milestones_waive(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    key: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="免除理由"),
    as_json: bool = JSON,
) -> None:
    """免除一个不适用的节点（须说明理由）。"""
    cli = state(ctx)
    with handled(as_json), cli.database().transaction() as session:
        commands.waive_milestone(session, election_id, key, reason=reason, clock=cli.clock, actor=cli.actor)
    print_json({"election_id": election_id, "key": key, "status": "waived"}) if as_json else say(
        f"已免除 {key}"
    )
    finish(0)


# -- audit --------------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify(ctx: typer.Context, as_json: bool = JSON) -> None:
    """校验审计日志的哈希链：0 完整，1 被篡改。"""
    cli = state(ctx)
    with cli.database().reading() as session:
        report = verify(session)
    if as_json:
        print_json(report.as_dict())
    elif report.ok:
        say(f"审计日志完整，共 {report.entries} 条。")
    else:
        say(f"审计日志在第 {report.broken_at} 条处断裂：{report.reason}")
    finish(0 if report.ok else 1)


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
    app.command("quota")(quota)
    app.add_typer(kinds_app, name="kinds")
    app.add_typer(jurisdictions_app, name="jurisdictions")
    app.add_typer(elections_app, name="elections")
    app.add_typer(milestones_app, name="milestones")
    app.add_typer(audit_app, name="audit")
