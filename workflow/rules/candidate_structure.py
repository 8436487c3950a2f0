"""The structure report of a candidate list, pure: women ≥ 30%, CPC ≤ 65%, cadres < 25% (seed,
provincial practice), and the counts by occupation and ethnicity. Warnings, never errors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from workflow.rules.candidates import FRONT_LINE, CandidateRules, Occupation, Sex, is_cpc


# -- structure report -------------------------------------------------------------------------
@dataclass(frozen=True)
class Profile:
    """What the structure report needs to know about one candidate."""

    name: str
    sex: str
    party: str | None
    occupation: str
    ethnicity: str | None = None
    incumbent: bool = False


@dataclass(frozen=True)
class Share:
    key: str
    count: int
    total: int
    target: Fraction | None
    comparison: str  # "at_least" / "at_most" / "below"
    warning: str | None

    @property
    def share(self) -> Fraction | None:
        return Fraction(self.count, self.total) if self.total else None

    def as_dict(self) -> dict:
        share = self.share
        return {
            "key": self.key,
            "count": self.count,
            "total": self.total,
            "share": None if share is None else f"{share.numerator}/{share.denominator}",
            "percent": None if share is None else f"{float(share * 100):.1f}",  # display only
            "target": None if self.target is None else str(self.target),
            "comparison": self.comparison,
            "ok": self.warning is None,
            "warning": self.warning,
        }


@dataclass(frozen=True)
class StructureReport:
    total: int
    shares: tuple[Share, ...]
    occupations: dict[str, int]
    ethnicities: dict[str, int]
    incumbents: int
    front_line: int

    @property
    def warnings(self) -> list[str]:
        return [s.warning for s in self.shares if s.warning]

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "shares": [s.as_dict() for s in self.shares],
            "occupations": self.occupations,
            "ethnicities": self.ethnicities,
            "incumbents": self.incumbents,
            "front_line": self.front_line,
            "warnings": self.warnings,
        }


def _pct(value: Fraction) -> str:
    return f"{float(value * 100):g}%"


def structure_report(rules: CandidateRules, people: Sequence[Profile], scope: str = "") -> StructureReport:
    """Women ≥ 30%, CPC ≤ 65%, cadres < 25% (seed, provincial practice): warnings, not errors."""
    total = len(people)
    women = sum(1 for p in people if p.sex == Sex.FEMALE)
    cpc = sum(1 for p in people if is_cpc(p.party))
    cadres = sum(1 for p in people if p.occupation == Occupation.CADRE)
    prefix = f"{scope}：" if scope else ""
    shares = []

    def warn(bad: bool, text: str) -> str | None:
        return f"{prefix}{text}（结构要求，仅作提示）" if bad and total else None

    if rules.women_min is not None:
        bad = total > 0 and Fraction(women, total) < rules.women_min
        shares.append(
            Share(
                "women",
                women,
                total,
                rules.women_min,
                "at_least",
                warn(bad, f"妇女 {women}/{total}，低于 {_pct(rules.women_min)}"),
            )
        )
    if rules.women_members_min is not None:
        # A statutory requirement (VCL 6 ¶2), not a share: the list must let a woman be elected.
        bad = total > 0 and women < rules.women_members_min
        text = f"{prefix}候选人中妇女 {women} 名，{rules.cite('women_member')}：委员会成员中应当有妇女成员"
        shares.append(Share("women_member", women, total, None, "at_least", text if bad else None))
    if rules.cpc_max is not None:
        bad = total > 0 and Fraction(cpc, total) > rules.cpc_max
        shares.append(
            Share(
                "cpc",
                cpc,
                total,
                rules.cpc_max,
                "at_most",
                warn(bad, f"中共党员 {cpc}/{total}，超过 {_pct(rules.cpc_max)}"),
            )
        )
    if rules.cadre_max_exclusive is not None:
        bad = total > 0 and Fraction(cadres, total) >= rules.cadre_max_exclusive
        shares.append(
            Share(
                "cadres",
                cadres,
                total,
                rules.cadre_max_exclusive,
                "below",
                warn(bad, f"党政干部 {cadres}/{total}，未低于 {_pct(rules.cadre_max_exclusive)}"),
            )
        )
    occupations = Counter(str(p.occupation) for p in people)
    ethnicities = Counter(p.ethnicity or "未填" for p in people)
    return StructureReport(
        total=total,
        shares=tuple(shares),
        occupations=dict(sorted(occupations.items())),
        ethnicities=dict(sorted(ethnicities.items())),
        incumbents=sum(1 for p in people if p.incumbent),
        front_line=sum(1 for p in people if p.occupation in FRONT_LINE),
    )
