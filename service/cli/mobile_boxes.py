"""`huanjie candidates mobile-boxes …`: mobile ballot boxes (EL 38: at least two scrutineers)."""

from __future__ import annotations

import typer

from service.cli.common import JSON, Reply, run
from service.cli.voting import DISTRICT
from workflow.commands import candidate_polling
from workflow.errors import DomainError

app = typer.Typer(help="流动票箱（选举法第三十八条）", no_args_is_help=True)


@app.command("add")
def boxes_add(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = DISTRICT,
    label: str = typer.Option(..., "--label", help="票箱编号"),
    reason: str = typer.Option(..., "--reason", help="设立理由（行动不便、居住分散且交通不便）"),
    scrutineer: list[str] = typer.Option(..., "--scrutineer", help="监票人（至少两名，可多次）"),
    staff: list[str] = typer.Option([], "--staff", help="其他工作人员（可多次）"),
    voters: int = typer.Option(None, "--voters", help="使用流动票箱的选民数"),
    issued: int = typer.Option(None, "--issued", help="发出选票数"),
    returned: int = typer.Option(None, "--returned", help="收回选票数"),
    relative: list[str] = typer.Option(
        [], "--relative", help="监票人与候选人的亲属关系「监票人:候选人:关系」（近亲属不得监票，可多次）"
    ),
    as_json: bool = JSON,
) -> None:
    """登记流动票箱（选举法第三十八条；至少两名监票人；候选人的近亲属不得担任监票人）。"""

    def work(s, cli) -> Reply:
        ties = []
        for text in relative:
            parts = text.replace("：", ":").split(":")
            if len(parts) != 3 or not all(p.strip() for p in parts):
                raise DomainError("E_BAD_RELATIVE", f"--relative 应为「监票人:候选人:关系」，收到 {text!r}", "relative")
            ties.append((parts[0], parts[1], parts[2]))
        b = candidate_polling.record_mobile_box(
            s,
            election_id,
            district,
            label=label,
            reason=reason,
            scrutineers=scrutineer,
            staff=staff,
            voters_served=voters,
            ballots_issued=issued,
            ballots_returned=returned,
            relatives=ties,
            clock=cli.clock,
            actor=cli.actor,
        )
        return Reply(candidate_polling.mobile_box_view(b), f"已登记选区 {district} 流动票箱 {b.label}")

    run(ctx, as_json, work)


@app.command("list")
def boxes_list(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = typer.Option(None, "--district"),
    as_json: bool = JSON,
) -> None:
    """列出流动票箱。"""

    def work(s, cli) -> Reply:
        items = [candidate_polling.mobile_box_view(b) for b in candidate_polling.mobile_boxes(s, election_id, district)]
        text = "\n".join(
            f"{b['district']} {b['label']}：{'、'.join(b['scrutineers'])}"
            + "".join(f"；{t['person']}是候选人{t['candidate']}的{t['relationship']}" for t in b["relatives"])
            for b in items
        )
        return Reply({"mobile_boxes": items}, text or "无")

    run(ctx, as_json, work, reading=True)
