"""A kind's counting parameters (`[counting]` in config/kinds/*.toml), pure.

Thresholds are named rules or tables; each compares a count with a share of a base, strictly
("more than", 超过) or not ("at least", 不少于), in integer arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from math import ceil, floor
from typing import Any

# Quantities a threshold may compare. `votes` is a candidate's for-votes.
QUANTITIES = ("registered_voters", "entitled", "present", "ballots_issued", "ballots_returned", "votes")
LABELS = {
    "registered_voters": "登记选民数",
    "entitled": "应到会有选举权的人数",
    "present": "实到会有选举权的人数",
    "ballots_issued": "参加投票的人数（发出选票数）",
    "ballots_returned": "投票数（收回选票数，含废票）",
    "votes": "得票",
}
_DIGITS = "〇一二三四五六七八九十"


def _chinese_number(n: int) -> str:
    return _DIGITS[n] if 0 <= n <= 10 else str(n)


def _share_text(share: Fraction) -> str:
    if share == Fraction(1, 2):
        return "半数"
    return f"{_chinese_number(share.denominator)}分之{_chinese_number(share.numerator)}"


def _fraction(value: Any, where: str) -> Fraction:
    try:
        result = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f'{where}：{value!r} 不是有效的分数（如 "1/2"）') from None
    if not 0 <= result <= 1 and not where.endswith("_more"):
        raise ValueError(f"{where}：比例 {value!r} 应在 0 和 1 之间")
    if result < 0:
        raise ValueError(f"{where}：比例 {value!r} 不能为负数")
    return result


# -- parameters -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Threshold:
    """`measure` compared with a share of `base`: strictly more than (超过) or at least (达到)."""

    measure: str
    base: str
    share: Fraction
    strict: bool
    # What the base counts where it is not the voters, e.g. 户的代表数 or 居民代表数 (RCL 2025
    # art. 19 ¶1) for the registered base of a household or representatives' vote.
    base_label: str | None = None

    @property
    def base_text(self) -> str:
        return self.base_label or LABELS[self.base]

    def passes(self, measured: int, base_value: int) -> bool:
        left, right = measured * self.share.denominator, base_value * self.share.numerator
        return left > right if self.strict else left >= right

    def describe(self, measured: int, base_value: int, *, subject: str = "") -> str:
        verb = (
            ("超过" if self.strict else "达到")
            if self.passes(measured, base_value)
            else ("未超过" if self.strict else "未达到")
        )
        who = subject or LABELS[self.measure]
        unit = "票" if self.measure == "votes" else "人"
        return f"{who} {measured} {unit}，{verb}{self.base_text} {base_value} 的{_share_text(self.share)}"

    def requirement(self) -> str:
        verb = "超过" if self.strict else "不少于"
        return f"{LABELS[self.measure]}{verb}{self.base_text}的{_share_text(self.share)}"


# Named thresholds the kind files use; a kind may instead give a table
# `{ of = "ballots_issued", more_than = "1/2" }` or `{ of = "ballots_returned", at_least = "1/3" }`
# (turnout tables also take `count = "ballots_issued" | "present"`).
TURNOUT_PRESETS = {
    # EL 45 ¶1, VCL 15 ¶2: more than half of the registered voters vote.
    "registered_more_than_half": Threshold("ballots_issued", "registered_voters", Fraction(1, 2), True),
    # Party rules: members present exceed 4/5 of those who should attend.
    "present_more_than_four_fifths": Threshold("present", "entitled", Fraction(4, 5), True),
}
VOTE_PRESETS = {
    # EL 45 ¶1, VCL 15 ¶2: more than half of the votes of those who took part.
    "participants_more_than_half": Threshold("votes", "ballots_issued", Fraction(1, 2), True),
    # Party rules: yes-votes above half of the voting members present.
    "present_more_than_half": Threshold("votes", "present", Fraction(1, 2), True),
    # EL 45 ¶5, VCL 15 ¶2: runoff winners need at least 1/3 of the ballots (invalid included).
    "one_third_of_ballots": Threshold("votes", "ballots_returned", Fraction(1, 3), False),
    "registered_more_than_half": Threshold("votes", "registered_voters", Fraction(1, 2), True),
}


@dataclass(frozen=True)
class ListRatio:
    """How many names a runoff list for k seats holds: ⌈k(1+min_more)⌉ … ⌊k(1+max_more)⌋,
    at least k + 1 when `more_than_seats` (the list must outnumber the seats).

    `statutory` says whether the law itself fixes the size (EL 31, 45 ¶4) or the kind only
    orders the list by votes and the size is the committee's (VCL 15 ¶2: "第一次投票未当选的
    人员得票多的为候选人", no ratio)."""

    min_more: Fraction
    max_more: Fraction
    more_than_seats: bool = False
    statutory: bool = True

    def bounds(self, seats: int) -> tuple[int, int]:
        low = ceil(seats * (1 + self.min_more))
        if self.more_than_seats:
            low = max(low, seats + 1)
        high = max(low, floor(seats * (1 + self.max_more)))
        return low, high

    @property
    def label(self) -> str:
        return "法定差额比例" if self.statutory else "本选举类型设定的候选人人数（法律未规定比例）"


RATIO_PRESETS = {
    # EL 31, 45 ¶4: one third to one time more than the seats (⌈4k/3⌉ … 2k; 2 for one seat).
    "one_third_to_double": ListRatio(Fraction(1, 3), Fraction(1)),
    # Party rules: at least 20% more (⌈1.2k⌉); no statutory maximum — 2k is the project default.
    "at_least_one_fifth_more": ListRatio(Fraction(1, 5), Fraction(1)),
}

# Where a kind file gives no `[counting.sources]` entry, the decision cites `source`.
SOURCE_KEYS = ("void", "turnout", "elected", "ranking", "runoff", "runoff_threshold", "vacant")


@dataclass(frozen=True)
class CountingParams:
    """A kind's counting rules, read from its `[counting]` table."""

    kind: str
    turnout: Threshold
    elected: Threshold
    runoff_threshold: Threshold
    runoff_ratio: ListRatio
    write_ins: bool = True
    uncontested_allowed: bool = False
    vacant_after_runoff: bool = False  # seats unfilled after the runoff are left vacant
    sources: Mapping[str, str] = field(default_factory=dict)

    def source(self, key: str) -> str:
        return self.sources.get(key) or self.sources.get("default") or ""

    def required_fields(self) -> tuple[str, ...]:
        """Input quantities the thresholds compare (e.g. `entitled`/`present` for a branch)."""
        used = {t.base for t in (self.turnout, self.elected, self.runoff_threshold)} | {self.turnout.measure}
        return tuple(q for q in ("registered_voters", "entitled", "present") if q in used)

    @classmethod
    def from_table(cls, kind: str, table: Mapping[str, Any]) -> CountingParams:
        """Parse a `[counting]` table; raises ValueError naming the key."""
        turnout_value = table.get("turnout", table.get("quorum"))
        if turnout_value is None:
            raise ValueError("counting.turnout（或 quorum）缺失")
        sources = dict(table.get("sources", {}))
        sources.setdefault("default", str(table.get("source", "")))
        unknown = set(sources) - {*SOURCE_KEYS, "default", "over_marked", "write_ins", "mobile_box", "proxy"}
        if unknown:
            raise ValueError(f"counting.sources：未知的键 {sorted(unknown)}")
        return cls(
            kind=kind,
            turnout=_threshold(turnout_value, "counting.turnout", TURNOUT_PRESETS, turnout=True),
            elected=_threshold(table.get("elected"), "counting.elected", VOTE_PRESETS),
            runoff_threshold=_threshold(
                table.get("runoff_threshold"), "counting.runoff_threshold", VOTE_PRESETS
            ),
            runoff_ratio=_ratio(table.get("runoff_ratio"), "counting.runoff_ratio"),
            write_ins=bool(table.get("write_ins", True)),
            uncontested_allowed=bool(table.get("uncontested_allowed", False)),
            vacant_after_runoff=bool(table.get("vacant_after_runoff", False)),
            sources=sources,
        )



def _threshold(value: Any, where: str, presets: dict[str, Threshold], turnout: bool = False) -> Threshold:
    if isinstance(value, str):
        if value not in presets:
            raise ValueError(f"{where}：未知的规则 {value!r}（可用：{'、'.join(presets)}）")
        return presets[value]
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} 缺失或格式有误")
    base = value.get("of")
    if base not in QUANTITIES or base == "votes":
        raise ValueError(f"{where}.of：未知的基数 {base!r}")
    if ("more_than" in value) == ("at_least" in value):
        raise ValueError(f"{where}：应给出 more_than 或 at_least 之一")
    strict = "more_than" in value
    share = _fraction(value["more_than" if strict else "at_least"], where)
    measure = (
        value.get("count", ("present" if base == "entitled" else "ballots_issued")) if turnout else "votes"
    )
    if measure not in ("ballots_issued", "present", "votes"):
        raise ValueError(f"{where}.count：未知的计数 {measure!r}")
    label = value.get("base_label")
    if label is not None and (not isinstance(label, str) or not label.strip()):
        raise ValueError(f"{where}.base_label 应为文字（如 户的代表数）")
    return Threshold(measure, base, share, strict, label)


def _ratio(value: Any, where: str) -> ListRatio:
    if isinstance(value, str):
        if value not in RATIO_PRESETS:
            raise ValueError(f"{where}：未知的规则 {value!r}（可用：{'、'.join(RATIO_PRESETS)}）")
        return RATIO_PRESETS[value]
    if not isinstance(value, Mapping) or "min_more" not in value or "max_more" not in value:
        raise ValueError(f"{where} 缺失或格式有误（应给出 min_more 与 max_more）")
    unknown = set(value) - {"min_more", "max_more", "more_than_seats", "statutory"}
    if unknown:
        raise ValueError(f"{where}：未知的键 {sorted(unknown)}")
    low = _fraction(value["min_more"], f"{where}.min_more")
    high = _fraction(value["max_more"], f"{where}.max_more")
    if high < low:
        raise ValueError(f"{where}：max_more 不能小于 min_more")
    return ListRatio(
        low, high, bool(value.get("more_than_seats", False)), bool(value.get("statutory", True))
    )
