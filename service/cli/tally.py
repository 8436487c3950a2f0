"""`huanjie tally TALLY.json`: count one round from a counting sheet, pure (no database)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from service.cli.common import JSON, Reply, offline, say
from workflow.errors import DomainError
from workflow.rules.tally import TallyResult, count_tally_document


def _read(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DomainError("E_FILE_NOT_FOUND", f"找不到计票文件：{path}", "file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DomainError("E_FILE_UNREADABLE", f"无法读取计票文件 {path}：{exc}", "file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DomainError(
            "E_TALLY_SYNTAX", f"计票文件不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）", "file"
        ) from None


def _report(result: TallyResult) -> None:
    say("选举有效。" if result.valid else "选举无效：" + "；".join(result.reasons))
    for decision in result.decisions:
        say(f"  · {decision.reason}（{decision.rule}）")
    if result.valid:
        say(f"当选：{'、'.join(result.elected) or '无'}；未选出名额：{result.unfilled}")
    if result.tie_break:
        tie = result.tie_break
        say(f"须就票数相等者再次投票：{'、'.join(tie.candidates)}，选出 {tie.seats} 名")
    if result.runoff:
        runoff = result.runoff
        say(
            f"另行选举 {runoff.seats} 名，候选人 {runoff.min_candidates}–{runoff.max_candidates} 名："
            f"{'、'.join(runoff.candidates)}"
        )


def tally(
    tally_file: Path = typer.Argument(..., help="计票文件（JSON）"),
    as_json: bool = JSON,
) -> None:
    """按法定规则计票：有效性、当选、票数相等再次投票、另行选举。0 已计票，2 输入有误。"""

    def work() -> Reply:
        result = count_tally_document(_read(tally_file))
        return Reply(result.as_dict(), lambda: _report(result))

    offline(as_json, work)
