"""Publishing the voter list: when it may be published, which districts get a new version and
which list numbers the voters keep or receive. Pure: data in, decision out.

Rules: EL 28 (the list is published E − 20; later additions, removals and corrections are
published as a supplementary list, 补正名单). A voter keeps the list number (and so the
选民证 number, see workflow/commands/voter_exports.py) across versions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from workflow.errors import DomainError

LIST_MILESTONE = "voter_list_published"


def check_publishable(*, kind_name: str, milestones: Iterable[str], districts: int) -> None:
    """Refuse a kind without the publication milestone, or an election without districts."""
    if LIST_MILESTONE not in milestones:
        raise DomainError("E_NO_VOTER_LIST", f"{kind_name}没有「公布选民名单」节点", "election_id")
    if not districts:
        raise DomainError("E_NO_DISTRICTS", "尚未设置选区，不能公布选民名单", "election_id")


def check_first_list(active_voters: int) -> None:
    """The first list needs someone on it."""
    if not active_voters:
        raise DomainError("E_NO_VOTERS", "尚未登记选民，不能公布选民名单", "election_id")


def supplement_date(on: date | None, today: date) -> date:
    """The supplementary list's publication date: the given day, never a future one."""
    published_on = on or today
    if published_on > today:
        raise DomainError("E_DATE_IN_FUTURE", f"公布日期 {published_on} 晚于今天 {today}", "on")
    return published_on


def changes_by_district(pending: Sequence[tuple[int, int]]) -> dict[int, list[int]]:
    """Pending supplementary entries as (entry id, district id), in filing order → the entry
    ids of each district. Nothing pending means there is nothing to publish."""
    if not pending:
        raise DomainError("E_NOTHING_TO_PUBLISH", "选民名单已公布，且没有待公布的补正", "election_id")
    grouped: dict[int, list[int]] = {}
    for entry_id, district_id in pending:
        grouped.setdefault(district_id, []).append(entry_id)
    return grouped


def number_supplement(
    kept: dict[int, int], previous_max: int, active: Iterable[int]
) -> list[tuple[int, int]]:
    """(voter id, list number) for everyone on a district's next version.

    `kept` maps the voters still active from the previous version to their numbers;
    `previous_max` is that version's highest number (a removed voter's number is never reused);
    `active` lists the district's active voters in registration order. Newcomers get the next
    numbers after every number used so far, in that order."""
    next_seq = max(max(kept.values(), default=0), previous_max)
    rows = []
    for voter_id in active:
        seq = kept.get(voter_id)
        if seq is None:
            next_seq += 1
            seq = next_seq
        rows.append((voter_id, seq))
    return rows
