"""Counting a round of voting, pure: validity, winners, tie-breaks, runoff lists, vacancies.

Every threshold is a parameter of the kind (`[counting]` in config/kinds/*.toml) and every
decision carries its reason (Chinese, for the committee) and its rule (law and article).
Arithmetic is on integers only: "more than half" is `2 × votes > base`, never a float.

    result = count_round("people_congress", TallyInput(...))
    result.as_dict()  # the JSON contract of `huanjie tally` (../shared/CONTRACTS.md, Counting)

Semantics fixed by CONTRACTS.md: voters who took part = `ballots_issued`; a round is void when
`ballots_returned > ballots_issued`; the runoff threshold "at least 1/3 of the ballots" is
`3 × votes ≥ ballots_returned`; `elected` is ordered by votes, then name (code points).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from workflow.errors import DomainError
from workflow.kinds import KindSpec, counting_params
from workflow.rules.ballots import Ballot, BallotCount, Mark, count_ballots
from workflow.rules.counting_params import LABELS, CountingParams, ListRatio, Threshold
from workflow.rules.voting_method import ALL, method_name

__all__ = [
    "Ballot",
    "BallotCount",
    "CountingParams",
    "Decision",
    "ListRatio",
    "Mark",
    "RunoffList",
    "TallyInput",
    "TallyResult",
    "Threshold",
    "TieBreak",
    "count_ballots",
    "count_round",
    "count_tally_document",
]


# -- input ------------------------------------------------------------------------------------
_COUNT_FIELDS = ("seats", "ballots_issued", "ballots_returned", "invalid_ballots")
_OPTIONAL_COUNTS = ("registered_voters", "entitled", "present")
_DOCUMENT_FIELDS = {"kind", "method", "round", "votes", "runoff_candidates", *_COUNT_FIELDS, *_OPTIONAL_COUNTS}


def _bad_input(message: str, field: str) -> DomainError:
    return DomainError("E_BAD_TALLY", message, field)


# EL 25: a directly elected district returns one to three deputies; the largest indirect
# election (a provincial congress electing its NPC deputies) returns under 200. No lawful count
# has more seats than this, nor more ballots than a 32-bit column holds.
MAX_SEATS = 500
MAX_COUNT = 2**31 - 1


def _count(value: Any, field: str, *, minimum: int = 0, maximum: int = MAX_COUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad_input(f"{field} 必须是整数，收到 {value!r}", field)
    if value < minimum:
        raise _bad_input(
            f"{field} 不能{'为负数' if minimum == 0 else f'小于 {minimum}'}，收到 {value}", field
        )
    if value > maximum:
        raise _bad_input(f"{field} 不能大于 {maximum}，收到 {value}", field)
    return value


@dataclass(frozen=True)
class TallyInput:
    """One round's counting sheet. In round 2 (另行选举) `seats` is the seats still to fill and
    `votes` holds only `runoff_candidates`."""

    kind: str
    seats: int
    ballots_issued: int
    ballots_returned: int
    invalid_ballots: int
    votes: Mapping[str, int]
    round: int = 1
    runoff_candidates: tuple[str, ...] = ()
    registered_voters: int | None = None
    entitled: int | None = None
    present: int | None = None
    # How the voters voted where the kind offers several ways (`[counting.methods]`), e.g. RCL
    # 2025 art. 14: "households" (每户派代表) or "representatives" (居民代表); None: all voters.
    method: str | None = None

    def quantity(self, name: str, votes: int = 0) -> int:
        return votes if name == "votes" else getattr(self, name)

    @classmethod
    def from_dict(cls, data: Any) -> TallyInput:
        """From a TALLY.json document; each problem names its field (exit 2 at the CLI)."""
        if not isinstance(data, Mapping):
            raise _bad_input("计票文件应为 JSON 对象", "")
        unknown = sorted(set(data) - _DOCUMENT_FIELDS)
        if unknown:
            raise _bad_input(f"计票文件含未知字段 {unknown[0]!r}", unknown[0])
        for name in ("kind", *_COUNT_FIELDS, "votes"):
            if name not in data or data[name] is None:
                raise _bad_input(f"计票文件缺少字段 {name}", name)
        kind = data["kind"]
        if not isinstance(kind, str) or not kind:
            raise _bad_input("kind 必须是选举类型的键", "kind")
        votes = data["votes"]
        if not isinstance(votes, Mapping):
            raise _bad_input("votes 应为 {姓名: 票数} 对象", "votes")
        runoff = data.get("runoff_candidates")
        if runoff is not None and (
            not isinstance(runoff, list) or not all(isinstance(n, str) for n in runoff)
        ):
            raise _bad_input("runoff_candidates 应为姓名列表", "runoff_candidates")
        optional = {name: _count(data[name], name) for name in _OPTIONAL_COUNTS if data.get(name) is not None}
        method = data.get("method")
        if method is not None and (not isinstance(method, str) or not method):
            raise _bad_input("method 应为选举方式的键（如 households、representatives）", "method")
        return cls(
            kind=kind,
            seats=data["seats"],
            ballots_issued=data["ballots_issued"],
            ballots_returned=data["ballots_returned"],
            invalid_ballots=data["invalid_ballots"],
            votes=dict(votes),
            round=data.get("round", 1),
            runoff_candidates=tuple(runoff or ()),
            method=method,
            **optional,
        )

    @classmethod
    def from_ballot_count(
        cls, count: BallotCount, *, kind: str, seats: int, ballots_issued: int, **extra: Any
    ) -> TallyInput:
        """A round's input from ballot-level counting (`count_ballots`)."""
        return cls(
            kind=kind,
            seats=seats,
            ballots_issued=ballots_issued,
            ballots_returned=count.ballots_returned,
            invalid_ballots=count.invalid_ballots,
            votes=dict(count.votes),
            **extra,
        )


def _check(tally: TallyInput, params: CountingParams) -> None:
    """Refuse what cannot be counted (exit 2), naming the field."""
    _count(tally.seats, "seats", minimum=1, maximum=MAX_SEATS)  # EL 25 (see MAX_SEATS)
    for name in ("ballots_issued", "ballots_returned", "invalid_ballots"):
        _count(getattr(tally, name), name)
    if tally.round not in (1, 2) or isinstance(tally.round, bool):
        raise _bad_input(f"round 只能是 1（第一次投票）或 2（另行选举），收到 {tally.round!r}", "round")
    for name in params.required_fields():
        value = getattr(tally, name)
        if value is None:
            raise _bad_input(f"选举类型 {tally.kind} 的计票需要字段 {name}（{LABELS[name]}）", name)
        _count(value, name)
    if tally.registered_voters is not None and tally.ballots_issued > tally.registered_voters:
        raise _bad_input(
            f"发出选票 {tally.ballots_issued} 张，多于登记选民 {tally.registered_voters} 人", "ballots_issued"
        )
    if tally.entitled is not None and tally.present is not None and tally.present > tally.entitled:
        raise _bad_input(f"实到会 {tally.present} 人，多于应到会 {tally.entitled} 人", "present")
    if tally.invalid_ballots > tally.ballots_returned:
        raise _bad_input(
            f"废票 {tally.invalid_ballots} 张，多于收回选票 {tally.ballots_returned} 张", "invalid_ballots"
        )
    valid = tally.ballots_returned - tally.invalid_ballots
    total = 0
    for name, votes in tally.votes.items():
        if not isinstance(name, str) or not name.strip():
            raise _bad_input("votes 中有空姓名", "votes")
        _count(votes, f"votes.{name}")
        if votes > valid:
            raise _bad_input(f"{name} 得票 {votes}，多于有效选票 {valid} 张", f"votes.{name}")
        total += votes
    if total > valid * tally.seats:  # each valid ballot names at most `seats` people (EL 44 ¶2)
        raise _bad_input(f"总票数 {total} 多于有效选票 {valid} 张 × 应选名额 {tally.seats}", "votes")
    if tally.round == 2:
        if not tally.runoff_candidates:
            raise _bad_input("另行选举（round 2）须给出 runoff_candidates", "runoff_candidates")
        if len(set(tally.runoff_candidates)) != len(tally.runoff_candidates):
            raise _bad_input("runoff_candidates 中有重复的姓名", "runoff_candidates")
        if not params.write_ins:
            allowed = set(tally.runoff_candidates)
            for name in tally.votes:
                if name not in allowed:
                    raise _bad_input(f"{name} 不在另行选举候选人名单中", f"votes.{name}")
    elif tally.runoff_candidates:
        raise _bad_input("runoff_candidates 只用于另行选举（round 2）", "runoff_candidates")


# -- results ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """One step of the count: a stable code, the reason in Chinese, the rule it applies."""

    code: str
    reason: str
    rule: str
    names: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"code": self.code, "reason": self.reason, "rule": self.rule, "names": list(self.names)}


@dataclass(frozen=True)
class RunoffList:
    seats: int
    candidates: tuple[str, ...]
    min_candidates: int
    max_candidates: int

    def as_dict(self) -> dict:
        return {
            "seats": self.seats,
            "candidates": list(self.candidates),
            "min_candidates": self.min_candidates,
            "max_candidates": self.max_candidates,
        }


@dataclass(frozen=True)
class TieBreak:
    seats: int
    candidates: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"seats": self.seats, "candidates": list(self.candidates)}


@dataclass(frozen=True)
class TallyResult:
    """`unfilled` = seats − elected: seats that go to the tie-break or runoff, or stay vacant."""

    valid: bool
    reasons: tuple[str, ...]
    elected: tuple[str, ...]
    unfilled: int
    runoff: RunoffList | None
    tie_break: TieBreak | None
    decisions: tuple[Decision, ...] = ()

    def as_dict(self) -> dict:
        return {
            "valid": self.valid,
            "reasons": list(self.reasons),
            "elected": list(self.elected),
            "unfilled": self.unfilled,
            "runoff": self.runoff.as_dict() if self.runoff else None,
            "tie_break": self.tie_break.as_dict() if self.tie_break else None,
            "decisions": [d.as_dict() for d in self.decisions],
        }


def _ranked(votes: Mapping[str, int]) -> list[tuple[str, int]]:
    """By votes descending, then name in code-point order (CONTRACTS.md)."""
    return sorted(votes.items(), key=lambda item: (-item[1], item[0]))


def _names(items: Iterable[tuple[str, int]]) -> tuple[str, ...]:
    return tuple(name for name, _ in items)


def _join(names: Iterable[str]) -> str:
    return "、".join(names)


# -- counting ---------------------------------------------------------------------------------
def count_round(kind: Any, tally: TallyInput) -> TallyResult:
    """Count one round. `kind` is a `CountingParams`, a `KindSpec` or a kind key.

    Bad input raises DomainError (E_BAD_TALLY, naming the field); an invalid or void round is a
    result with `valid: false` and its reasons.
    """
    params = kind if isinstance(kind, CountingParams) else counting_params(kind, tally.method)
    if params.kind != tally.kind:
        raise _bad_input(f"计票文件的选举类型 {tally.kind} 与计票规则 {params.kind} 不一致", "kind")
    _check(tally, params)
    decisions: list[Decision] = []
    reasons = _void_reasons(params, tally, decisions)
    if reasons:
        return TallyResult(False, tuple(reasons), (), tally.seats, None, None, tuple(decisions))
    ranking, passing = _passing(params, tally, decisions)
    elected, tie_break = _cut_off(params, passing, tally.seats, decisions)
    _record_elected(params, tally, elected, decisions)
    short = tally.seats - len(elected) - (tie_break.seats if tie_break else 0)
    runoff = None
    if short and tally.round == 1:
        runoff = _runoff_list(params, short, [item for item in ranking if item not in elected], decisions)
    elif short and params.vacant_after_runoff:
        # Only where the kind's rules say so (e.g. Zhejiang art. 49 ¶3: 不再选举).
        decisions.append(
            Decision(
                "vacant",
                f"另行选举后当选人数仍少于应选名额，{short} 个名额不再选举，予以空缺",
                params.source("vacant"),
            )
        )
    elif short:
        # The Election Law says nothing of a vote after the runoff: the committee decides under
        # its province's rules, so the count neither declares the seat vacant nor re-runs it.
        decisions.append(
            Decision(
                "unfilled_after_runoff",
                f"另行选举后当选人数仍少于应选名额，{short} 个名额未选出；"
                f"此后如何处理，由选举委员会依照本省的实施细则决定",
                params.source("runoff"),
            )
        )
    if tally.round == 2:
        _record_write_ins(params, tally, decisions)
        _check_runoff_ratio(params, tally, decisions)
    return TallyResult(
        True,
        (),
        _names(elected),
        tally.seats - len(elected),
        runoff,
        tie_break,
        tuple(decisions),
    )


def _void_reasons(params: CountingParams, tally: TallyInput, decisions: list[Decision]) -> list[str]:
    """Why the round is void (EL 44 ¶1: more ballots than voters; turnout or quorum not met),
    recording the turnout decision either way and a warning when ballots exceed those present."""
    reasons: list[str] = []
    label = "另行选举" if tally.round == 2 else "本次选举"
    # EL 44 ¶1: more ballots returned than voters who voted → the round is void.
    if tally.ballots_returned > tally.ballots_issued:
        reason = (
            f"收回选票 {tally.ballots_returned} 张，多于发出选票（投票人数）{tally.ballots_issued} 张，"
            f"{label}无效"
        )
        decisions.append(Decision("void_more_ballots_than_voters", reason, params.source("void")))
        reasons.append(reason)
    turnout = params.turnout
    measured = tally.quantity(turnout.measure)
    base = tally.quantity(turnout.base)
    quorum = turnout.measure == "present"
    if not turnout.passes(measured, base):
        what = "到会人数不足法定人数" if quorum else "参加投票的人数未过法定比例"
        reason = f"{turnout.describe(measured, base)}，{what}，{label}无效"
        decisions.append(
            Decision("quorum_not_met" if quorum else "turnout_not_met", reason, params.source("turnout"))
        )
        reasons.append(reason)
    else:
        # Turnout met does not make a round valid that is already void for another reason.
        verdict = f"{label}有效" if not reasons else f"但{label}因上述原因无效"
        decisions.append(
            Decision(
                "quorum_met" if quorum else "turnout_met",
                f"{turnout.describe(measured, base)}，{verdict}",
                params.source("turnout"),
            )
        )
    if tally.present is not None and tally.ballots_issued > tally.present:
        # Not a refusal: a sheet with the present count short of the ballots is still counted
        # (the quorum above decides validity), but the committee should check it.
        decisions.append(
            Decision(
                "ballots_exceed_present",
                f"发出选票 {tally.ballots_issued} 张，多于实到会人数 {tally.present} 人，请核查",
                params.source("void"),
            )
        )
    return reasons


def _threshold(params: CountingParams, tally: TallyInput):
    """The votes needed to be elected in this round (a runoff has its own) and its rule."""
    if tally.round == 2:
        return params.runoff_threshold, params.source("runoff_threshold")
    return params.elected, params.source("elected")


def _passing(
    params: CountingParams, tally: TallyInput, decisions: list[Decision]
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Everyone ranked, and those who reach the threshold; a decision for each who does not."""
    threshold, threshold_rule = _threshold(params, tally)
    votes = dict(tally.votes)
    for name in tally.runoff_candidates:  # a runoff candidate nobody voted for has 0 votes
        votes.setdefault(name, 0)
    ranking = _ranked(votes)
    threshold_base = tally.quantity(threshold.base)
    passing = [(n, v) for n, v in ranking if threshold.passes(v, threshold_base)]
    for name, count in ranking:
        if not threshold.passes(count, threshold_base):
            decisions.append(
                Decision(
                    "below_threshold",
                    f"{threshold.describe(count, threshold_base, subject=f'{name} 得票')}，不能当选",
                    threshold_rule,
                    (name,),
                )
            )
    return ranking, passing


def _cut_off(
    params: CountingParams, passing: list[tuple[str, int]], seats: int, decisions: list[Decision]
) -> tuple[list[tuple[str, int]], TieBreak | None]:
    """Who among those passing is elected, and the tie-break vote a tie at the cut-off needs."""
    if len(passing) <= seats:
        return passing, None
    # EL 45 ¶3: more pass than seats → the most votes win; a tie at the cut-off → a new vote.
    tie_break = None
    cutoff = passing[seats - 1][1]
    if passing[seats][1] == cutoff:
        elected = [(n, v) for n, v in passing if v > cutoff]
        tied = [(n, v) for n, v in passing if v == cutoff]
        tie_break = TieBreak(seats - len(elected), _names(tied))
        decisions.append(
            Decision(
                "tie_break",
                f"{_join(_names(tied))} 均得 {cutoff} 票，票数相等不能确定当选人，"
                f"应就票数相等的候选人再次投票，选出 {tie_break.seats} 名",
                params.source("ranking"),
                _names(tied),
            )
        )
    else:
        elected = passing[:seats]
    outranked = [(n, v) for n, v in passing if v < cutoff]
    if outranked:
        decisions.append(
            Decision(
                "outranked",
                f"达到当选票数的人数（{len(passing)}）多于应选名额 {seats} 名，以得票多的当选；"
                f"{_join(_names(outranked))} 得票较少，不能当选",
                params.source("ranking"),
                _names(outranked),
            )
        )
    return elected, tie_break


def _record_elected(
    params: CountingParams, tally: TallyInput, elected: list[tuple[str, int]], decisions: list[Decision]
) -> None:
    threshold, threshold_rule = _threshold(params, tally)
    threshold_base = tally.quantity(threshold.base)
    for name, count in elected:
        decisions.append(
            Decision(
                "elected",
                f"{threshold.describe(count, threshold_base, subject=f'{name} 得票')}，当选",
                threshold_rule,
                (name,),
            )
        )


def _record_write_ins(params: CountingParams, tally: TallyInput, decisions: list[Decision]) -> None:
    """A voter may write in anyone in any round (EL 41 另选其他任何选民): the names outside the
    runoff list are counted like the listed ones, and said so."""
    listed = set(tally.runoff_candidates)
    others = tuple(sorted(name for name in tally.votes if name not in listed))
    if others:
        decisions.append(
            Decision(
                "write_in",
                f"{_join(others)} 不在另行选举候选人名单中，系选民另选的人，其得票依法计算",
                params.source("write_ins"),
                others,
            )
        )


def _check_runoff_ratio(params: CountingParams, tally: TallyInput, decisions: list[Decision]) -> None:
    """A runoff list outside the kind's list size is counted but flagged for the committee."""
    low, high = params.runoff_ratio.bounds(tally.seats)
    if not low <= len(tally.runoff_candidates) <= high:
        decisions.append(
            Decision(
                "runoff_list_outside_ratio",
                f"另行选举候选人 {len(tally.runoff_candidates)} 名，不在{params.runoff_ratio.label}要求的 "
                f"{low}–{high} 名之间，请核查候选人名单",
                params.source("runoff"),
            )
        )


def _runoff_list(
    params: CountingParams, seats: int, pool: list[tuple[str, int]], decisions: list[Decision]
) -> RunoffList:
    """EL 45 ¶4: the not-yet-elected in order of first-round votes, within the list ratio.

    Ties never split a group of equal votes: the list ends at the last group boundary that fits
    the maximum. When no boundary lies between the minimum and the maximum, the whole tied group
    is listed and the committee must narrow it (a decision says so) — the list then exceeds
    `max_candidates`, which callers can detect.
    """
    low, high = params.runoff_ratio.bounds(seats)
    rule = params.source("runoff")
    if len(pool) <= high:
        candidates = pool
    else:
        cutoff = pool[high - 1][1]
        if pool[high][1] < cutoff:
            candidates = pool[:high]
        else:
            above = [(n, v) for n, v in pool if v > cutoff]
            tied = [(n, v) for n, v in pool if v == cutoff]
            if len(above) >= low:
                candidates = above
                decisions.append(
                    Decision(
                        "runoff_list_tie_left_out",
                        f"{_join(_names(tied))} 均得 {cutoff} 票，列入将超过最多 {high} 名，"
                        f"故候选人名单以得票更多的 {len(above)} 人为准",
                        rule,
                        _names(tied),
                    )
                )
            else:
                candidates = above + tied
                decisions.append(
                    Decision(
                        "runoff_list_tie",
                        f"{_join(_names(tied))} 均得 {cutoff} 票，争夺候选人名单最后 {low - len(above)}–"
                        f"{high - len(above)} 个位置；依得票多少无法确定，须由选举委员会依法确定"
                        f"（如就票数相等者再次投票）",
                        rule,
                        _names(tied),
                    )
                )
    names = _names(candidates)
    text = (
        f"当选人数少于应选名额，不足的 {seats} 个名额另行选举；按第一次投票得票多少的顺序，候选人应为 {low}"
    )
    text += " 名" if low == high else f"–{high} 名"
    decisions.append(Decision("runoff", f"{text}：{_join(names) or '无'}", rule, names))
    if len(candidates) < low:
        decisions.append(
            Decision(
                "runoff_list_short",
                f"未当选的人员只有 {len(candidates)} 名，少于{params.runoff_ratio.label}要求的 {low} 名",
                rule,
                names,
            )
        )
    return RunoffList(seats, names, low, high)


def count_tally_document(data: Any) -> TallyResult:
    """Parse a TALLY.json document and count it with its kind's parameters."""
    tally = TallyInput.from_dict(data)
    return count_round(counting_params(tally.kind, tally.method), tally)


def count_for_election(kind: KindSpec, method: str | None, data: Any) -> TallyResult:
    """Parse a TALLY.json document and count it as the election applies the law: `kind` as
    resolved for it (statute version, province's variant) and its stored voting method
    (RCL 2025 art. 19 ¶1: the turnout differs by method). A document naming another method is
    refused (the election's method is set on the election, not per tally); one naming none is
    counted with the election's."""
    tally = TallyInput.from_dict(data)
    if tally.kind != kind.key:
        raise DomainError("E_WRONG_KIND", f"计票文件的选举类型 {tally.kind} 与选举（{kind.key}）不符", "kind")
    given = None if tally.method == ALL else tally.method
    if tally.method is not None and given != method:  # a document silent on it: the election's
        raise DomainError(
            "E_WRONG_METHOD",
            f"计票文件的选举方式（{method_name(kind, given)}）与本次选举设定的选举方式"
            f"（{method_name(kind, method)}）不符；如需更改，请在投票开始前更改选举的选举方式",
            "method",
        )
    return count_round(counting_params(kind, method), tally)
