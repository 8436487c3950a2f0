"""`huanjie candidates proxies …`: proxy votes (EL 42: at most three per voter)."""

from __future__ import annotations

import typer

from service.cli.common import JSON, Reply, parse_date, run
from service.cli.voting import DISTRICT
from workflow.commands import candidate_polling

app = typer.Typer(help="委托投票（选举法第四十二条）", no_args_is_help=True)


@app.command("add")
def proxies_add(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = DISTRICT,
    grantor: str = typer.Option(..., "--grantor", help="委托人姓名"),
    grantor_id: str = typer.Option(..., "--grantor-id", help="委托人身份号码"),
    holder: str = typer.Option(..., "--holder", help="受托人姓名"),
    holder_id: str = typer.Option(..., "--holder-id", help="受托人身份号码"),
    consent: str = typer.Option(..., "--consent", help="书面委托书编号"),
    approved: bool = typer.Option(False, "--approved", help="已经选举委员会同意"),
    consent_on: str = typer.Option(None, "--consent-on"),
    relationship: str = typer.Option(None, "--relationship", help="与委托人关系（村委会选举限近亲属）"),
    as_json: bool = JSON,
) -> None:
    """登记委托投票：每一选民接受的委托不得超过三人（选举法第四十二条）。"""

    def work(s, cli) -> Reply:
        p = candidate_polling.record_proxy(
            s,
            election_id,
            district,
            grantor_name=grantor,
            grantor_id=grantor_id,
            holder_name=holder,
            holder_id=holder_id,
            consent_document=consent,
            approved=approved,
            consent_on=parse_date(consent_on, "consent_on"),
            relationship=relationship,
            clock=cli.clock,
            actor=cli.actor,
        )
        return Reply(candidate_polling.proxy_view(p), f"已登记 {p.grantor_name} 委托 {p.holder_name} 代为投票")

    run(ctx, as_json, work)


@app.command("list")
def proxies_list(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = typer.Option(None, "--district"),
    as_json: bool = JSON,
) -> None:
    """列出委托投票。"""

    def work(s, cli) -> Reply:
        items = [candidate_polling.proxy_view(p) for p in candidate_polling.proxies(s, election_id, district)]
        text = "\n".join(f"{p['grantor']} → {p['holder']}（{p['consent_document']}）" for p in items)
        return Reply({"proxies": items}, text or "无")

    run(ctx, as_json, work, reading=True)
