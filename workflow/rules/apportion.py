"""Seats allocated to districts by population (EL 15, 25–26), pure and exact.

Method: **bounded equal proportions (Huntington–Hill) with 1–3 seats per district**, which is
the exact minimiser of the spread of population per deputy.

Why this method. EL 26 asks that the population each deputy represents be roughly equal
across districts (每一代表所代表的人口数应当大体相等). Look at it from the deputies' side: each of
the N deputies represents r_i = p_i / s_i people, where district i has population p_i and s_i
seats. Their mean is exactly m = P / N, and their variance is

    V = (1/N) · Σ_i s_i · (p_i/s_i − m)²  =  (1/N) · Σ_i p_i²/s_i  −  m².

So minimising the variance means minimising F(s) = Σ_i p_i²/s_i subject to Σ s_i = N and
1 ≤ s_i ≤ 3 (EL 25: each district elects one to three deputies; EL 15: even the smallest area
keeps at least one). F is a sum of convex functions of the integer s_i, so the greedy that
starts every district at 1 seat and hands out the remaining seats one at a time to the largest
marginal gain p_i²/s_i − p_i²/(s_i+1) = p_i² / (s_i(s_i+1)) reaches the global minimum
(separable convex resource allocation; Gross 1956, Fox 1966). That priority is the
Huntington–Hill divisor √(s(s+1)), which is why the method carries that name; the bounds are
enforced by never offering a fourth seat. For the same reason no single seat moved between two
districts can lower V: global optimality implies the local property the issue asks for, and
the tests check the local property directly against V.

Largest remainder within the bounds was considered and not chosen: clamping a quota-based
method to 1–3 seats needs an ad-hoc redistribution step with no criterion it provably
optimises, and it suffers the Alabama paradox.

Exact arithmetic throughout: priorities and deviations are Fractions; floats appear only when
the result is rendered for output (rounded to 4 decimals). Ties in priority are broken by
district code (smaller code first), after sorting the input by code, so the result does not
depend on row order.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from workflow.errors import DomainError
from workflow.kinds import get_kind

# The district size (one to three deputies) and every citation below are the people's congress
# kind's data (config/kinds/people_congress.toml, [law] and [citations]; EL 25 ¶2).
LAW_KIND = get_kind("people_congress")
MIN_SEATS, MAX_SEATS = LAW_KIND.law["district_seats"]
DISTRICT_RULE = LAW_KIND.cite("district_size")
METHOD = "bounded_huntington_hill"
METHOD_TEXT = (
    f"按人口数分配（{LAW_KIND.cite('apportion')}）：每个选区先分配一名，其余名额逐一分给"
    "p²/(s(s+1)) 最大的选区（亨廷顿—希尔等比例法，每选区一至三名），"
    "使每名代表所代表人口数的方差最小"
)


def allocate(
    populations: Mapping[str, int],
    total: int,
    *,
    lower: int | Mapping[str, int] = MIN_SEATS,
    upper: int | Mapping[str, int] = MAX_SEATS,
) -> dict[str, int]:
    """Seats per code minimising Σ p²/s with Σ s = total and lower ≤ s ≤ upper.

    `lower` must be at least 1 (a district with no seat is not a district). Raises DomainError
    when the bounds make `total` impossible.
    """
    codes = sorted(populations)
    low = {c: lower if isinstance(lower, int) else lower[c] for c in codes}
    high = {c: upper if isinstance(upper, int) else upper[c] for c in codes}
    if any(v < 1 for v in low.values()):
        raise ValueError("lower bound must be at least 1")
    floor_total = sum(low.values())
    ceiling_total = sum(high.values())
    if total < floor_total:
        raise DomainError(
            "E_SEATS_TOO_FEW",
            f"代表名额 {total} 名少于选区数 {len(codes)}：每个选区至少应选一名代表（{DISTRICT_RULE}）"
            if isinstance(lower, int) and lower == 1
            else f"代表名额 {total} 名少于下限合计 {floor_total} 名（{DISTRICT_RULE}）",
            "seats",
        )
    if total > ceiling_total:
        raise DomainError(
            "E_SEATS_TOO_MANY",
            f"代表名额 {total} 名超过选区数的三倍 {ceiling_total} 名：每个选区至多应选三名代表（{DISTRICT_RULE}）"
            if isinstance(upper, int) and upper == MAX_SEATS
            else f"代表名额 {total} 名超过上限合计 {ceiling_total} 名（{DISTRICT_RULE}）",
            "seats",
        )
    seats = dict(low)
    heap = [(-_gain(populations[c], seats[c]), c) for c in codes if seats[c] < high[c]]
    heapq.heapify(heap)
    for _ in range(total - floor_total):
        _, code = heapq.heappop(heap)
        seats[code] += 1
        if seats[code] < high[code]:
            heapq.heappush(heap, (-_gain(populations[code], seats[code]), code))
    return seats


def _gain(population: int, seats: int) -> Fraction:
    """How much F = Σ p²/s falls when a district at `seats` gets one more."""
    return Fraction(population * population, seats * (seats + 1))


def variance(populations: Mapping[str, int], seats: Mapping[str, int]) -> Fraction:
    """Variance, over all deputies, of the population each represents (the method's criterion)."""
    total_population = sum(populations.values())
    total_seats = sum(seats.values())
    mean = Fraction(total_population, total_seats)
    return (
        sum((Fraction(populations[c] ** 2, seats[c]) for c in populations), Fraction(0)) / total_seats
        - mean * mean
    )


@dataclass(frozen=True)
class DistrictSeats:
    code: str
    name: str
    population: int
    seats: int
    per_deputy: Fraction
    deviation: Fraction  # fraction of the mean population per deputy (CONTRACTS: 0.05 = 5%)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "population": self.population,
            "seats": self.seats,
            "per_deputy": round(float(self.per_deputy), 4),
            "deviation": round(float(self.deviation), 4),
        }


@dataclass(frozen=True)
class Apportionment:
    districts: tuple[DistrictSeats, ...]
    seats: int
    population: int
    mean_per_deputy: Fraction
    variance: Fraction
    method: str = METHOD

    @property
    def max_abs_deviation(self) -> Fraction:
        return max(abs(d.deviation) for d in self.districts)

    def as_dict(self) -> dict:
        relative_sd = float(self.variance) ** 0.5 / float(self.mean_per_deputy) if self.population else 0.0
        return {
            "districts": [d.as_dict() for d in self.districts],
            "method": self.method,
            "method_text": METHOD_TEXT if self.method == METHOD else TOWNSHIP_METHOD_TEXT,
            "seats": self.seats,
            "population": self.population,
            "mean_per_deputy": round(float(self.mean_per_deputy), 4),
            "max_abs_deviation": round(float(self.max_abs_deviation), 4),
            "relative_sd": round(relative_sd, 4),
        }


def describe(
    populations: Mapping[str, int], seats: Mapping[str, int], code: str
) -> tuple[Fraction, Fraction]:
    """Population per deputy of one district and its deviation from the mean, exactly."""
    total_population = sum(populations.values())
    total_seats = sum(seats.values())
    per_deputy = Fraction(populations[code], seats[code])
    if total_population == 0:
        return per_deputy, Fraction(0)
    return per_deputy, per_deputy * total_seats / total_population - 1


TOWNSHIP_METHOD = "huntington_hill_at_least_one"
TOWNSHIP_METHOD_TEXT = (
    f"按人口数把县级人民代表大会代表名额分配到各乡、民族乡、镇（{LAW_KIND.cite('township_apportion')}：按照每一代表"
    "所代表的城乡人口数相同的原则；人口特少的乡、民族乡、镇，至少应有代表一人）：每个乡镇先分配一名，其余名额"
    "逐一分给 p²/(s(s+1)) 最大的乡镇（亨廷顿—希尔等比例法，名额不设上限），使每名代表所代表人口数的方差最小"
)


def apportion_townships(townships: Sequence[tuple[str, str, int]], total: int) -> Apportionment:
    """Allocate a county congress's `total` seats to its (code, name, population) townships.

    EL 15 ¶1: by population, each deputy representing the same number of people, and a
    township with very small population keeps at least one deputy. Unlike districts (EL 25:
    one to three), a township has no upper bound. Same method and exact arithmetic as
    `apportion`; the result's `method` says which was used."""
    if len(townships) > total >= 1:
        raise DomainError(
            "E_SEATS_TOO_FEW",
            f"代表名额 {total} 名少于乡镇数 {len(townships)}：人口特少的乡、民族乡、镇，至少应有代表一人"
            f"（{LAW_KIND.cite('township_apportion')}）",
            "seats",
        )
    return apportion(townships, total, per_unit_max=None)


def apportion(
    districts: Sequence[tuple[str, str, int]], total: int, *, per_unit_max: int | None = MAX_SEATS
) -> Apportionment:
    """Allocate `total` seats to (code, name, population) districts, 1–3 seats each
    (`per_unit_max=None`: at least one each and no upper bound, see `apportion_townships`).

    The result lists districts in the order given; the allocation itself does not depend on
    that order.
    """
    if total < 1:
        raise DomainError("E_BAD_SEATS", "代表名额应为正整数", "seats")
    populations: dict[str, int] = {}
    for code, _name, population in districts:
        if code in populations:
            raise DomainError("E_DUPLICATE_CODE", f"选区代码 {code} 重复", "code")
        if population <= 0:
            raise DomainError("E_BAD_POPULATION", f"选区 {code} 的人口数应为正整数", "population")
        populations[code] = population
    if not populations:
        raise DomainError("E_NO_DISTRICTS", "没有选区", "districts")
    seats = allocate(populations, total, upper=total if per_unit_max is None else per_unit_max)
    rows = []
    for code, name, population in districts:
        per_deputy, deviation = describe(populations, seats, code)
        rows.append(DistrictSeats(code, name, population, seats[code], per_deputy, deviation))
    total_population = sum(populations.values())
    return Apportionment(
        tuple(rows),
        total,
        total_population,
        Fraction(total_population, total),
        variance(populations, seats),
        METHOD if per_unit_max is not None else TOWNSHIP_METHOD,
    )
