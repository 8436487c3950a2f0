"""`huanjie appeals …`: appeals against the voter list (EL 29)."""

from __future__ import annotations

import typer

from service.cli.common import JSON, Reply, handled, parse_date, run, say
from workflow.commands import appeals as appeal_commands
from workflow.commands.elections import get_election
from workflow.errors import DomainError

app = typer.Typer(help="对选民名单的申诉（选举法第二十九条）", no_args_is_help=True)

ELECTION = typer.Option(..., "--election", help="选举编号")


def _appeal_payload(session, appeal) -> dict:
    return appeal_commands.appeal_dict(appeal, get_election(session, appeal.election_id))


def _correction(items: list[str] | None) -> dict[str, str] | None:
    """`--set field=value` options as the fields an appeal asks to correct."""
    if not items:
        return None
    correction = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise DomainError("E_APPEAL_CORRECTION", f"更正项格式应为 字段=值：{item}", "set")
        correction[key.strip()] = value.strip()
    return correction


@app.command("file")
def appeals_file(
    ctx: typer.Context,
    election_id: int = ELECTION,
    filer: str = typer.Option(..., "--filer", help="申诉人"),
    request: str = typer.Option(
        ..., "--request", help="add（请求增列）/ remove（请求除名）/ correct（请求更正）"
    ),
    subject_name: str = typer.Option(..., "--subject-name", help="所涉人员姓名"),
    subject_id: str = typer.Option(None, "--subject-id", help="所涉人员公民身份号码"),
    reason: str = typer.Option(..., "--reason", help="申诉理由"),
    district: str = typer.Option(None, "--district", help="请求增列时所在选区代码"),
    correct: list[str] = typer.Option(
        None, "--set", help="更正项，如 name=张三 或 voter_group=第2组（可重复）"
    ),
    on: str = typer.Option(None, "--on", help="申诉日期（默认今天）"),
    as_json: bool = JSON,
) -> None:
    """受理申诉：须在选民名单公布之日起五日内提出，选举委员会三日内作出处理决定。"""
    with handled(as_json):
        correction = _correction(correct)

    def work(session, cli) -> Reply:
        appeal = appeal_commands.file_appeal(
            session,
            election_id,
            filer=filer,
            request=request,
            subject_name=subject_name,
            subject_id_number=subject_id,
            reason=reason,
            district=district,
            correction=correction,
            filed_on=parse_date(on, "on"),
            clock=cli.clock,
            actor=cli.actor,
        )
        payload = _appeal_payload(session, appeal)
        return Reply(payload, f"已受理申诉 {payload['id']}，应于 {payload['decide_by']} 以前作出处理决定。")

    run(ctx, as_json, work)


@app.command("decide")
def appeals_decide(
    ctx: typer.Context,
    appeal_id: int = typer.Argument(..., help="申诉编号"),
    upheld: bool = typer.Option(None, "--upheld/--rejected", help="支持申诉 / 驳回申诉"),
    reason: str = typer.Option(None, "--reason", help="处理理由（驳回时必填）"),
    on: str = typer.Option(None, "--on", help="处理日期（默认今天）"),
    as_json: bool = JSON,
) -> None:
    """作出处理决定：支持则更正名单并列入补正名单；驳回须说明理由。"""
    with handled(as_json):
        if upheld is None:
            raise DomainError("E_DECISION_REQUIRED", "请用 --upheld 或 --rejected 指明处理结果", "upheld")

    def work(session, cli) -> Reply:
        appeal = appeal_commands.decide_appeal(
            session,
            appeal_id,
            upheld=upheld,
            reason=reason,
            decided_on=parse_date(on, "on"),
            clock=cli.clock,
            actor=cli.actor,
        )
        payload = _appeal_payload(session, appeal)
        result = "支持" if payload["status"] == "upheld" else "驳回"
        after = (
            f"申诉人不服的，可在 {payload['court_suit_deadline']} 以前向人民法院起诉。"
            if payload["court_suit_deadline"]
            else f"请依法公布处理结果（{payload['after_decision']}）。"
        )
        return Reply(payload, f"申诉 {appeal_id} 已{result}。{after}")

    run(ctx, as_json, work)


@app.command("list")
def appeals_list(ctx: typer.Context, election_id: int = ELECTION, as_json: bool = JSON) -> None:
    """列出申诉、申诉期限和起诉期限。"""

    def work(session, cli) -> Reply:
        payload = appeal_commands.list_appeals(session, election_id, clock=cli.clock)

        def text() -> None:
            say(
                f"名单公布 {payload['published_on']}，申诉截止 {payload['filing_ends']}，起诉截止 {payload['court_suit_deadline'] or '无（法律未规定起诉）'}"
            )
            for a in payload["appeals"]:
                say(
                    f"  {a['id']}\t{a['status']}\t{a['filer']} → {a['subject']}（{a['request']}）\t限 {a['decide_by']}"
                )

        return Reply(payload, text)

    run(ctx, as_json, work, reading=True)


@app.command("close")
def appeals_close(
    ctx: typer.Context,
    election_id: int = ELECTION,
    on: str = typer.Option(None, "--on", help="办结日期（默认：申诉期届满日或最后处理日）"),
    as_json: bool = JSON,
) -> None:
    """申诉期届满且全部处理完毕后，办结「选民资格申诉处理完毕」。"""

    def work(session, cli) -> Reply:
        milestone = appeal_commands.close_appeals(
            session, election_id, on=parse_date(on, "on"), clock=cli.clock, actor=cli.actor
        )
        payload = {"key": milestone.key, "done_on": milestone.done_on, "late": milestone.late}
        return Reply(payload, f"申诉处理已于 {payload['done_on']} 办结。")

    run(ctx, as_json, work)
