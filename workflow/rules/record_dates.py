"""The plausible range of a date recorded for an election (issue 16: backdating).

A date a committee records — the voter list's or a supplementary list's publication, an appeal's
filing — must lie inside the election's own schedule: not before the plan starts (its earliest
planned milestone or phase; a plan never starts more than a year before election day), not after
election day, and never in the future. Each refusal names the rule it applies. Milestone
completion dates have their own check (workflow/commands/elections.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from workflow.errors import DomainError

# A 换届 schedule runs about half a year; a year bounds every plan of the kinds we know.
PLAN_SPAN = timedelta(days=365)


def plan_start(election_day: date, plan_dates: Iterable[date | None]) -> date:
    """The first day of the election's schedule: its earliest planned date, or a year before
    election day when the plan names none earlier."""
    return min((d for d in plan_dates if d is not None), default=election_day - PLAN_SPAN)


def _out_of_range(field: str, message: str) -> DomainError:
    return DomainError("E_DATE_OUT_OF_RANGE", message, field)


def check_list_date(
    on: date,
    *,
    start: date,
    election_day: date,
    today: date,
    first_published: date | None = None,
    field: str = "on",
    list_source: str = "",
    appeals_source: str = "",
) -> date:
    """A voter list's (or supplementary list's) publication date (EL 28: published before
    election day, after registration; EL 29: its date starts the five days of appeals, so a
    backdated list would shut every appeal out). The citations come from the election's kind
    (`list_source`: the list milestone's, `appeals_source`: the appeals')."""
    cite_list = f"（{list_source}）" if list_source else ""
    cite_appeals = f"（{appeals_source}）" if appeals_source else ""
    if on > today:
        raise DomainError("E_DATE_IN_FUTURE", f"公布日期 {on} 晚于今天 {today}", field)
    if on < start:
        raise _out_of_range(
            field,
            f"公布日期 {on} 早于本次选举工作安排的开始（{start}）：选民名单须在选民登记之后公布"
            f"{cite_list}，且其日期决定申诉期限{cite_appeals}，不能倒填",
        )
    if on > election_day:
        raise _out_of_range(
            field, f"公布日期 {on} 晚于选举日 {election_day}：选民名单应在选举日以前公布{cite_list}"
        )
    if first_published is not None and on < first_published:
        raise _out_of_range(
            field, f"补正名单的公布日期 {on} 早于选民名单首次公布的日期 {first_published}{cite_list}"
        )
    return on


def check_appeal_date(filed_on: date, *, election_day: date, field: str = "on", source: str = "") -> date:
    """An appeal about the list is filed before election day (EL 29: the committee decides
    within three days, and a court before election day; after it the list has been used);
    `source` is the kind's citation of the appeals rule."""
    if filed_on > election_day:
        raise _out_of_range(
            field,
            f"申诉日期 {filed_on} 晚于选举日 {election_day}：对选民名单的申诉应在选举日以前提出"
            + (f"（{source}）" if source else ""),
        )
    return filed_on
