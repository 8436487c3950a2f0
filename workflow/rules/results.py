"""District results, pure: how the counted rounds of one district add up, and which vote the
law requires next. A runoff (另行选举) and a tie-break vote are rounds of the same election's
voting phase, never a new election.

Each round's result is the counting contract's document (CONTRACTS.md, `huanjie tally`):
{"valid", "reasons", "elected", "unfilled", "runoff", "tie_break"}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workflow.errors import DomainError
from workflow.rules.candidates import rank_by_votes

FIRST, RUNOFF, TIE_BREAK = "first", "runoff", "tie_break"
RESULT_KEYS = frozenset({"valid", "reasons", "elected", "unfilled", "runoff", "tie_break"})


@dataclass(frozen=True)
class Round:
    number: int
    purpose: str
    votes: Mapping[str, int]  # the round's input votes, name → count
    result: Mapping[str, Any]


@dataclass(frozen=True)
class Elected:
    name: str
    votes: int
    round: int


@dataclass
class Progress:
    seats: int
    elected: list[Elected] = field(default_factory=list)
    # The next vote the law requires: {"purpose", "seats", "candidates", …}; None when done.
    pending: dict[str, Any] | None = None
    void_rounds: int = 0

    @property
    def done(self) -> bool:
        return self.pending is None

    @property
    def vacant(self) -> int:
        return self.seats - len(self.elected) if self.done else 0

    def as_dict(self) -> dict:
        return {
            "seats": self.seats,
            "elected": [{"name": e.name, "votes": e.votes, "round": e.round} for e in self.elected],
            "pending": self.pending,
            "vacant": self.vacant,
            "done": self.done,
        }


def check_result_document(result: Mapping[str, Any]) -> None:
    missing = sorted(RESULT_KEYS - set(result))
    if missing:
        raise DomainError("E_BAD_RESULT", f"计票结果缺少字段：{'、'.join(missing)}", "result")


def tie_break_result(
    seats: int, candidates: Sequence[str], votes: Mapping[str, int], rule: str = ""
) -> dict:
    """A new vote among the tied (EL 45 ¶3: 以得票多的当选); a tie again asks for another vote.
    `rule` is the kind's citation for ranking (`CountingParams.source("ranking")`)."""
    unknown = sorted(set(votes) - set(candidates))
    if unknown:
        raise DomainError(
            "E_NOT_IN_TIE_BREAK", f"{'、'.join(unknown)} 不在票数相等需再次投票的名单中", "votes"
        )
    ranking = rank_by_votes({name: votes.get(name, 0) for name in candidates}, seats)
    tie = None
    if ranking.tied:
        tie = {"seats": ranking.open_places, "candidates": list(ranking.tied)}
    return {
        "valid": True,
        "reasons": [f"{rule + '：' if rule else ''}就票数相等的候选人再次投票，以得票多的当选"],
        "elected": list(ranking.selected),
        "unfilled": seats - len(ranking.selected),
        "runoff": None,
        "tie_break": tie,
    }


def progress(seats: int, rounds: Sequence[Round]) -> Progress:
    """Replay a district's rounds in order and say what is elected and what vote comes next."""
    state = Progress(seats=seats, pending={"purpose": FIRST, "seats": seats})
    after_tie: dict[str, Any] | None = None  # a runoff that waits for a tie-break to finish
    for rnd in rounds:
        if state.pending is None:
            raise DomainError("E_DISTRICT_DONE", "该选区的选举已完成，不能再登记计票", "round")
        if rnd.purpose != state.pending["purpose"]:
            raise DomainError(
                "E_WRONG_ROUND",
                f"该选区下一轮应为{PURPOSE_NAMES[state.pending['purpose']]}，而不是{PURPOSE_NAMES[rnd.purpose]}",
                "round",
            )
        result = rnd.result
        if not result["valid"]:
            # A void round is voted again with the same list (重新选举).
            state.void_rounds += 1
            state.pending = {**state.pending, "after_void": True}
            continue
        for name in result["elected"]:
            state.elected.append(Elected(name, int(rnd.votes.get(name, 0)), rnd.number))
        runoff = result.get("runoff")
        if result.get("tie_break"):
            tie = result["tie_break"]
            if rnd.purpose == FIRST and runoff:
                after_tie = runoff
            state.pending = {
                "purpose": TIE_BREAK,
                "seats": tie["seats"],
                "candidates": list(tie["candidates"]),
            }
        elif rnd.purpose == FIRST and runoff:
            state.pending = _runoff_pending(runoff)
        elif rnd.purpose == TIE_BREAK and after_tie:
            state.pending, after_tie = _runoff_pending(after_tie), None
        else:
            # After a runoff, seats still unfilled stay vacant (EL 45; provincial rules).
            state.pending = None
    return state


def _runoff_pending(runoff: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "purpose": RUNOFF,
        "seats": runoff["seats"],
        "candidates": list(runoff["candidates"]),
        "min_candidates": runoff.get("min_candidates"),
        "max_candidates": runoff.get("max_candidates"),
    }


def check_runoff_list(pending: Mapping[str, Any], chosen: Sequence[str], rule: str = "") -> None:
    """The runoff list goes by first-round votes (EL 45 ¶4, VCL 15 ¶2): a prefix of the offered
    list, with as many names as the kind allows. `rule` is the kind's citation for the runoff
    (`CountingParams.source("runoff")`)."""
    cited = f"（{rule}）" if rule else ""
    offered = list(pending["candidates"])
    if len(set(chosen)) != len(chosen):
        raise DomainError("E_BAD_RUNOFF_LIST", "另行选举候选人名单有重复", "runoff_candidates")
    least = pending.get("min_candidates") or 0
    most = pending.get("max_candidates") or len(offered)
    size = len(chosen)
    if size > most or (size < least and size < len(offered)):
        raise DomainError(
            "E_BAD_RUNOFF_LIST",
            f"另行选举应选 {pending['seats']} 名，候选人应为 {least}–{most} 名{cited}，实为 {size} 名",
            "runoff_candidates",
        )
    if set(chosen) != set(offered[:size]):
        raise DomainError(
            "E_BAD_RUNOFF_LIST",
            f"另行选举候选人应按第一次投票得票多少的顺序确定{cited}：应为 {'、'.join(offered[:size])}",
            "runoff_candidates",
        )


PURPOSE_NAMES = {FIRST: "第一次投票", RUNOFF: "另行选举", TIE_BREAK: "票数相等者再次投票"}
