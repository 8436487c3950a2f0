"""Options and wording shared by the candidates, tallies and results commands."""

from __future__ import annotations

import typer

from workflow.errors import DomainError

DISTRICT = typer.Option(..., "--district", help="选区代码")
STATUS_NAMES = {
    "open": "接受推荐",
    "preliminary": "初步名单已公布",
    "official": "正式名单已公布",
    "nominated": "已推荐",
    "not_selected": "未列入正式名单",
    "withdrawn": "已退出",
    "awaiting": "待计票",
    "revote_pending": "须重新投票",
    "runoff_pending": "须另行选举",
    "tie_break_pending": "须就票数相等者再次投票",
    "complete": "已完成",
}


def parse_votes(pairs: list[str]) -> dict[str, int]:
    """`姓名=票数` options as a mapping from name to votes."""
    votes: dict[str, int] = {}
    for pair in pairs:
        name, sep, count = pair.rpartition("=")
        if not sep or not name.strip() or not count.strip().isdigit():
            raise DomainError("E_BAD_VOTES", f"票数格式应为 姓名=票数：{pair!r}", "votes")
        votes[name.strip()] = int(count)
    return votes
