"""Ballot-level counting, pure: paper ballots in, vote counts out.

A ballot lists the official candidates; beside each the voter marks for (赞成), against (反对)
or nothing / abstain (弃权), and may write in any other voter (另选他人, EL 41). A ballot that
votes for more people than there are seats is void (作废); blank or fewer is valid (EL 44 ¶2).

Identical ballots are grouped first (a district of 3,000 voters and 6 candidates has at most
3⁶ = 729 distinct mark patterns), so each pattern is checked and expanded once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter

from workflow.errors import DomainError


class Mark(StrEnum):
    FOR = "for"  # 赞成
    AGAINST = "against"  # 反对
    ABSTAIN = "abstain"  # 弃权 (an unmarked name is an abstention too)


_ALLOWED = {Mark.FOR, Mark.AGAINST, Mark.ABSTAIN, None, ""}


@dataclass(frozen=True, slots=True)
class Ballot:
    """One paper ballot. `marks` is either a sequence aligned with the candidate list (as the
    ballot is printed) or a mapping name → mark; names left out are abstentions."""

    marks: Sequence[str | None] | Mapping[str, str | None] = ()
    write_ins: Sequence[str] = ()


@dataclass(frozen=True)
class BallotCount:
    """What the scrutineers write on the counting sheet (计票单)."""

    candidates: tuple[str, ...]
    votes: dict[str, int]  # for-votes, write-ins included (a written-in person counts alike)
    against: dict[str, int]
    abstain: dict[str, int]
    ballots_returned: int
    invalid_ballots: int  # void: voted for more people than seats (EL 44 ¶2)
    write_ins: tuple[str, ...] = field(default=())  # written-in names, sorted

    @property
    def valid_ballots(self) -> int:
        return self.ballots_returned - self.invalid_ballots

    def as_dict(self) -> dict:
        return {
            "ballots_returned": self.ballots_returned,
            "invalid_ballots": self.invalid_ballots,
            "votes": dict(self.votes),
            "against": dict(self.against),
            "abstain": dict(self.abstain),
            "write_ins": list(self.write_ins),
        }


def _bad(message: str, field: str = "ballots") -> DomainError:
    return DomainError("E_BAD_BALLOT", message, field)


def _pattern_choice(
    marks: tuple, candidates: tuple[str, ...]
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Indices voted for, against and abstained in one aligned mark pattern."""
    if len(marks) != len(candidates):
        raise _bad(f"选票标记数 {len(marks)} 与候选人数 {len(candidates)} 不一致")
    chosen, against, abstain = [], [], []
    for index, mark in enumerate(marks):
        if mark not in _ALLOWED:
            raise _bad(f"无法识别的选票标记 {mark!r}（应为 for、against 或 abstain）")
        if mark == Mark.FOR:
            chosen.append(index)
        elif mark == Mark.AGAINST:
            against.append(index)
        else:
            abstain.append(index)
    return tuple(chosen), tuple(against), tuple(abstain)


def _normalised(marks: object, candidates: tuple[str, ...], positions: dict[str, int]) -> tuple:
    """Marks as a tuple aligned with the candidate list."""
    if not isinstance(marks, Mapping):
        return tuple(marks)  # type: ignore[arg-type]
    row: list = [None] * len(candidates)
    for name, mark in marks.items():
        if name not in positions:
            raise _bad(f"选票上标记了不在候选人名单中的 {name!r}（另选他人请写入 write_ins）")
        row[positions[name]] = mark
    return tuple(row)


def _grouped(ballots: Sequence[Ballot], names: tuple[str, ...], positions: dict[str, int]) -> Counter[tuple]:
    """Identical ballots grouped with their number, as (marks, write-ins)."""
    # Grouped in C (attrgetter + Counter); unhashable marks (a dict, a list) take the slower
    # path that normalises each ballot first.
    try:
        return Counter(map(attrgetter("marks", "write_ins"), ballots))
    except TypeError:
        return Counter((_normalised(b.marks, names, positions), tuple(b.write_ins)) for b in ballots)
    except AttributeError:
        raise _bad("选票应为 Ballot（marks 与 write_ins）") from None


def _voted_for(
    chosen: Iterable[int], raw_written: Iterable[str], positions: dict[str, int]
) -> tuple[set[int], list[str]]:
    """The listed candidates a ballot votes for (marked, or written in by name) and the other
    people written in; the same person named twice counts once."""
    written = sorted({w.strip() for w in raw_written if w and w.strip()}) if raw_written else ()
    listed = set(chosen)
    others = []
    for name in written:  # a written-in listed name is a vote for that candidate
        if name in positions:
            listed.add(positions[name])
        else:
            others.append(name)
    return listed, others


def count_ballots(
    ballots: Iterable[Ballot],
    seats: int,
    candidates: Sequence[str],
    *,
    write_ins: bool = True,
) -> BallotCount:
    """Count paper ballots for `seats` seats among the listed `candidates`.

    Over-marked ballots (more people voted for than seats, write-ins included) are void and
    counted in `invalid_ballots`. A write-in of a listed name is a vote for that candidate; the
    same person named twice on one ballot counts once. With `write_ins=False` (a kind or round
    that does not allow them) written names are ignored.
    """
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
        raise DomainError("E_BAD_SEATS", "应选名额必须是正整数", "seats")
    names = tuple(candidates)
    positions = {name: index for index, name in enumerate(names)}
    if len(positions) != len(names):
        raise DomainError("E_DUPLICATE_CANDIDATE", "候选人名单中有重复的姓名", "candidates")

    if not isinstance(ballots, list | tuple):
        ballots = list(ballots)
    groups = _grouped(ballots, names, positions)
    n = len(names)
    votes = [0] * n
    against = [0] * n
    abstain = [0] * n
    invalid = 0
    extra_votes: Counter[str] = Counter()
    cache: dict[tuple, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = {}
    for (raw_marks, raw_written), weight in groups.items():
        marks = raw_marks if type(raw_marks) is tuple else _normalised(raw_marks, names, positions)
        choice = cache.get(marks)
        if choice is None:
            choice = cache[marks] = _pattern_choice(marks, names)
        chosen, no, blank = choice
        listed, others = _voted_for(chosen, raw_written if write_ins else (), positions)
        if len(listed) + len(others) > seats:  # EL 44 ¶2: more people voted for than seats → void
            invalid += weight
            continue
        for i in listed:
            votes[i] += weight
        for i in no:
            if i not in listed:
                against[i] += weight
        for i in blank:
            if i not in listed:
                abstain[i] += weight
        for name in others:
            extra_votes[name] += weight
    returned = len(ballots)

    vote_map = dict(zip(names, votes, strict=True))
    for name, count in extra_votes.items():
        vote_map[name] = count
    return BallotCount(
        candidates=names,
        votes=vote_map,
        against=dict(zip(names, against, strict=True)),
        abstain=dict(zip(names, abstain, strict=True)),
        ballots_returned=returned,
        invalid_ballots=invalid,
        write_ins=tuple(sorted(extra_votes)),
    )
