"""`huanjie tallies …`: record each district's rounds (first vote, runoff, tie-break)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from service.cli.common import JSON, Reply, run
from service.cli.voting import DISTRICT, parse_votes
from workflow.commands import results as res
from workflow.commands import tallies
from workflow.errors import DomainError

app = typer.Typer(help="登记各选区计票结果（含另行选举、再次投票）", no_args_is_help=True)


def _tally_reply(s, election_id: int, district: str, rec) -> Reply:
    nxt = res.next_vote(s, election_id, district)
    payload = {
        "district": district,
        "round": rec.round,
        "purpose": rec.purpose,
        "result": rec.result,
        "next": nxt,
    }
    elected = "、".join(rec.result.get("elected") or []) or "无"
    tail = (
        "选举完成"
        if nxt is None
        else f"下一步：{res.rules.PURPOSE_NAMES[nxt['purpose']]}（应选 {nxt['seats']} 名）"
    )
    validity = "有效" if rec.result["valid"] else "无效"
    return Reply(payload, f"选区 {district} 第 {rec.round} 轮：{validity}，当选 {elected}；{tail}")


def _read_tally(tally_file: Path) -> dict:
    try:
        data = json.loads(tally_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DomainError("E_BAD_TALLY_FILE", f"无法读取计票文件 {tally_file}：{exc}", "file") from None
    if not isinstance(data, dict):
        raise DomainError("E_BAD_TALLY_FILE", "计票文件应为 JSON 对象", "file")
    return data


@app.command("record")
def tallies_record(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    tally_file: Path = typer.Argument(..., help="TALLY.json（与 huanjie tally 的输入相同）"),
    district: str = DISTRICT,
    as_json: bool = JSON,
) -> None:
    """计票并登记一个选区的一轮投票（第一次投票或另行选举）。"""

    def work(s, cli) -> Reply:
        rec = tallies.record(
            s, election_id, district, _read_tally(tally_file), clock=cli.clock, actor=cli.actor
        )
        return _tally_reply(s, election_id, district, rec)

    run(ctx, as_json, work)


@app.command("tie-break")
def tallies_tie_break(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = DISTRICT,
    votes: list[str] = typer.Option(..., "--votes", help="再次投票得票：姓名=票数（可多次）"),
    as_json: bool = JSON,
) -> None:
    """登记票数相等者再次投票的结果（选举法第四十五条）。"""

    def work(s, cli) -> Reply:
        rec = res.record_tie_break(
            s, election_id, district, parse_votes(votes), clock=cli.clock, actor=cli.actor
        )
        return _tally_reply(s, election_id, district, rec)

    run(ctx, as_json, work)


@app.command("list")
def tallies_list(
    ctx: typer.Context, election_id: int = typer.Argument(...), district: str = DISTRICT, as_json: bool = JSON
) -> None:
    """列出一个选区已登记的各轮计票。"""

    def work(s, cli) -> Reply:
        items = [
            {
                "round": r.round,
                "purpose": r.purpose,
                "input": r.input,
                "result": r.result,
                "recorded_by": r.recorded_by,
                "recorded_at": r.recorded_at,
            }
            for r in res.rounds_of(s, election_id, district)
        ]
        text = "\n".join(
            f"第 {r['round']} 轮（{r['purpose']}）：当选 {'、'.join(r['result']['elected']) or '无'}"
            for r in items
        )
        return Reply({"district": district, "rounds": items}, text or "尚无计票")

    run(ctx, as_json, work, reading=True)
