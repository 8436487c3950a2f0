"""`huanjie results …`: publish the results, review the deputies' qualification, issue certificates."""

from __future__ import annotations

import typer

from service.cli.common import JSON, Reply, parse_date, run
from service.cli.voting import STATUS_NAMES
from workflow.commands import results as res

app = typer.Typer(help="选举结果：公布、代表资格审查、当选证书", no_args_is_help=True)


@app.command("show")
def results_show(ctx: typer.Context, election_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """各选区选举结果与待进行的投票。"""

    def work(s, cli) -> Reply:
        view = res.results_view(s, election_id)
        lines = []
        for d in view["districts"]:
            names = "、".join(e["name"] for e in d["elected"]) or "无"
            lines.append(
                f"选区 {d['district']}（应选 {d['seats']}）：{STATUS_NAMES[d['status']]}；当选 {names}；缺额 {d['vacant']}"
            )
        return Reply(view, "\n".join(lines) or "尚无选区")

    run(ctx, as_json, work, reading=True)


@app.command("publish")
def results_publish(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = typer.Option(None, "--district", help="只公布一个选区（默认全部，并办结节点）"),
    on: str = typer.Option(None, "--on", help="公布日期（默认今天）"),
    as_json: bool = JSON,
) -> None:
    """公布选举结果（选举法第四十六条）；全部公布时办结「公布选举结果」节点。"""

    def work(s, cli) -> Reply:
        out = res.publish_results(
            s, election_id, district=district, on=parse_date(on, "on"), clock=cli.clock, actor=cli.actor
        )
        return Reply(
            out, f"已公布选区 {'、'.join(out['published']) or '（无新增）'} 的选举结果（{out['on']}）"
        )

    run(ctx, as_json, work)


@app.command("review")
def results_review(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    deputy_id: int = typer.Argument(...),
    valid: bool = typer.Option(..., "--valid/--invalid", help="代表资格有效或当选无效"),
    note: str = typer.Option(None, "--note", help="审查意见（当选无效时必填）"),
    on: str = typer.Option(None, "--on"),
    as_json: bool = JSON,
) -> None:
    """代表资格审查（选举法第四十七条）。"""

    def work(s, cli) -> Reply:
        d = res.review_qualification(
            s,
            election_id,
            deputy_id,
            valid=valid,
            note=note,
            on=parse_date(on, "on"),
            clock=cli.clock,
            actor=cli.actor,
        )
        return Reply(res.deputy_view(d), f"{d.name}：{'资格有效' if valid else '当选无效'}")

    run(ctx, as_json, work)


@app.command("certificates")
def results_certificates(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = typer.Option(None, "--district"),
    on: str = typer.Option(None, "--on"),
    as_json: bool = JSON,
) -> None:
    """为资格审查有效的当选人编号并颁发当选证书。"""

    def work(s, cli) -> Reply:
        issued = res.issue_certificates(
            s, election_id, district=district, on=parse_date(on, "on"), clock=cli.clock, actor=cli.actor
        )
        items = [res.deputy_view(d) for d in issued]
        text = "\n".join(f"{d['certificate_number']}\t{d['name']}" for d in items)
        return Reply({"issued": items}, text or "没有待颁发的证书")

    run(ctx, as_json, work)


@app.command("certificate")
def results_certificate(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    deputy_id: int = typer.Argument(...),
    as_json: bool = JSON,
) -> None:
    """当选证书内容。"""

    def work(s, cli) -> Reply:
        data = res.certificate_data(s, election_id, deputy_id)
        return Reply(
            data, f"当选证书 {data['number']}\n{data['text']}\n{data['committee']}  {data['issued_on']}"
        )

    run(ctx, as_json, work)
