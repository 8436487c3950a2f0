"""Total number of deputies (Election Law art. 12), pure.

The quota rules themselves (base, one more per full N people, cap, small-population threshold,
source) are data in the kind file, one set per statute version (2010 and 2020).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.errors import DomainError
from workflow.kinds import KindSpec


@dataclass(frozen=True)
class QuotaResult:
    seats: int
    formula_seats: int
    capped: bool
    extra: int
    may_be_fewer: bool
    rule: str

    def as_dict(self) -> dict:
        return {
            "seats": self.seats,
            "formula_seats": self.formula_seats,
            "capped": self.capped,
            "extra": self.extra,
            "may_be_fewer": self.may_be_fewer,
            "rule": self.rule,
        }


def total_seats(
    kind: KindSpec,
    level: str,
    population: int,
    statute: str | None = None,
    extra_percent: int = 0,
    extra_decision: str | None = None,
) -> QuotaResult:
    """Seats for a county or township congress. The provincial addition is applied after the
    cap and rounded down (CONTRACTS.md); it needs the provincial standing committee's decision
    (`extra_decision`, its title or number), the condition of the kind's `[quota_extra]`."""
    statute = statute or kind.default_statute
    if statute not in kind.quota:
        known = "、".join(kind.quota) or "无"
        raise DomainError("E_UNKNOWN_STATUTE", f"未知的法律版本 {statute!r}（可用：{known}）", "statute")
    rules = kind.quota[statute]
    if level not in rules:
        known = "、".join(rules)
        raise DomainError("E_UNKNOWN_LEVEL", f"未知的层级 {level!r}（可用：{known}）", "level")
    if population < 0:
        raise DomainError("E_BAD_POPULATION", "人口数不能为负数", "population")
    extra_rule = kind.quota_extra
    most = int(extra_rule.get("max_percent", 0))
    if not 0 <= extra_percent <= most:
        raise DomainError(
            "E_BAD_EXTRA_PERCENT",
            f"另加名额比例应在 0 到 {most} 之间（{extra_rule.get('source', kind.name)}）",
            "extra_percent",
        )
    if extra_percent and not (extra_decision and extra_decision.strip()):
        raise DomainError(
            "E_EXTRA_NEEDS_DECISION",
            f"另加名额须{extra_rule['condition']}（{extra_rule['source']}）；请写明该决定（extra_decision）",
            "extra_decision",
        )
    rule = rules[level]
    formula = rule.base + population // rule.per
    capped = formula > rule.cap
    seats = min(formula, rule.cap)
    extra = seats * extra_percent // 100
    may_be_fewer = population < rule.small_population
    text = f"{rule.source}：基数{rule.base}名，每{rule.per:,}人增加一名，最多不超过{rule.cap}名"
    if may_be_fewer:
        text += f"；人口不足{rule.small_population:,}人的，代表总名额可以少于{rule.base}名"
    if extra:
        text += (
            f"；依{extra_decision.strip()}另加{extra_percent}%（{extra_rule['source']}；"
            f"向下取整，在上限之后计算）共{extra}名"
        )
    return QuotaResult(seats + extra, formula, capped, extra, may_be_fewer, text)
