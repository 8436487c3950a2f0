"""Proposed division of small units into electoral districts (EL 25–26), pure and deterministic.

Input: units (villages, residents' groups, residents' committees) with population, parent
(township) and neighbour lists; the total number of seats N; a tolerance (default ±15%).
Output: districts of 1–3 seats (EL 25), each contiguous along the neighbour lists, each with a
population per deputy within the tolerance of the mean m = P / N (EL 26), and a plain Chinese
account of everything that could not be satisfied.

Method (see docs/districts.md):
1. Graph. Neighbour lists are made symmetric (an asymmetric pair is a warning, and the two units
   are treated as adjacent: adjacency on the ground is mutual). Unknown codes are warnings.
2. Components. Each connected component must be divided on its own; it gets its seats by the
   same bounded equal-proportions rule as `apportion` (at least 1, at most 3 per unit).
3. Walk. The units of a component are put in a walk order that finishes one parent (township)
   before moving to the next and where every unit is adjacent to an earlier one, starting from
   a peripheral unit. Every prefix of the walk is therefore contiguous.
4. Cut. A dynamic programme cuts the walk into consecutive runs, each contiguous (checked with
   an incremental union–find) with 1–3 seats, using exactly the component's seats, minimising
   lexicographically (districts outside the tolerance, parents mixed in a district, Σ s·(r−m)²).
5. Improve. Boundary units move to a neighbouring district, and single seats move between
   districts, whenever that strictly lowers the same lexicographic cost and keeps every
   district contiguous, until no such move is left (a local optimum; each move strictly
   decreases a cost over a finite set, so it terminates). A district still outside the
   tolerance is re-cut together with one to three rings of neighbouring districts (same
   seats, several walk starts), kept only when cheaper; then the moves run again.

Arithmetic is exact (integers): a district with population Q and s seats deviates by
d = Q·N − s·P (deviation = d / (s·P)); it is within tolerance t = a/b when b·|d| ≤ a·s·P.
Units are sorted by code first and every choice breaks ties by code or walk position, so the
proposal does not depend on the order of the rows.

The graph, the cost and the cut are in `district_graph`, the local search in `district_search`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from workflow.errors import DomainError
from workflow.rules.apportion import DISTRICT_RULE, LAW_KIND, MAX_SEATS, allocate
from workflow.rules.district_graph import EXHAUSTIVE, Graph, Scorer, best_cut
from workflow.rules.district_search import Division
from workflow.rules.units import Unit

DEFAULT_TOLERANCE = Fraction(15, 100)
METHOD = "walk_cut_dp_local_search"
METHOD_TEXT = (
    "按邻接关系排出先走完一个乡镇再进入下一个的单元顺序，用动态规划把顺序切成相连的选区（每区一至三名，"
    "优先满足偏差限度、其次不跨乡镇、再次每名代表人口最接近平均数），再逐个调整边界单元和名额直至不能改进"
)


@dataclass(frozen=True)
class ProposedDistrict:
    code: str
    units: tuple[str, ...]
    names: tuple[str, ...]
    parents: tuple[str, ...]
    population: int
    seats: int
    per_deputy: Fraction
    deviation: Fraction
    within_tolerance: bool
    contiguous: bool

    @property
    def name(self) -> str:
        if len(self.names) <= 3:
            return "、".join(self.names)
        return f"{self.names[0]}等{len(self.names)}个单元"

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "units": list(self.units),
            "parents": list(self.parents),
            "population": self.population,
            "seats": self.seats,
            "per_deputy": round(float(self.per_deputy), 4),
            "deviation": round(float(self.deviation), 4),
            "within_tolerance": self.within_tolerance,
            "contiguous": self.contiguous,
        }


@dataclass(frozen=True)
class Problem:
    """One thing that could not be satisfied, said plainly."""

    kind: str  # unit_too_populous | isolated_unit | island | out_of_tolerance
    district: str | None
    units: tuple[str, ...]
    message: str

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "district": self.district,
            "units": list(self.units),
            "message": self.message,
        }


@dataclass
class Proposal:
    districts: list[ProposedDistrict]
    unsatisfied: list[Problem]
    warnings: list[str]
    seats: int
    population: int
    tolerance: Fraction
    mean_per_deputy: Fraction = field(init=False)

    def __post_init__(self) -> None:
        self.mean_per_deputy = Fraction(self.population, self.seats)

    @property
    def ok(self) -> bool:
        return not self.unsatisfied

    def as_dict(self) -> dict:
        return {
            "districts": [d.as_dict() for d in self.districts],
            "unsatisfied": [p.as_dict() for p in self.unsatisfied],
            "warnings": self.warnings,
            "seats": self.seats,
            "population": self.population,
            "mean_per_deputy": round(float(self.mean_per_deputy), 4),
            "tolerance": float(self.tolerance),
            "within_tolerance": sum(d.within_tolerance for d in self.districts),
            "method": METHOD,
            "method_text": METHOD_TEXT,
        }


def _percent(value: Fraction) -> str:
    return f"{float(value) * 100:+.1f}%"


def parse_tolerance(text: str | float | Fraction) -> Fraction:
    """A tolerance such as "0.15" or "15%" as an exact fraction strictly between 0 and 1."""
    try:
        raw = str(text).strip()
        value = Fraction(raw[:-1]) / 100 if raw.endswith("%") else Fraction(raw)
    except (ValueError, ZeroDivisionError):
        raise DomainError(
            "E_BAD_TOLERANCE", f"偏差限度应为 0 到 1 之间的小数（如 0.15），实际为 {text!r}", "tolerance"
        ) from None
    if not 0 < value < 1:
        raise DomainError(
            "E_BAD_TOLERANCE", f"偏差限度应大于 0 且小于 1（如 0.15），实际为 {text!r}", "tolerance"
        )
    return value


def _check_seats(graph: Graph, seats: int, components: list[list[int]]) -> None:
    """Refuse seats that no division can hold: more than three per unit, or fewer than one per
    connected part (EL 25)."""
    if seats > MAX_SEATS * len(graph.units):
        raise DomainError(
            "E_SEATS_TOO_MANY",
            f"代表名额 {seats} 名超过单元数 {len(graph.units)} 的三倍：即使每个单元单独成区、每区三名也容纳不下（{DISTRICT_RULE}）",
            "seats",
        )
    if seats < len(components):
        raise DomainError(
            "E_SEATS_TOO_FEW",
            f"单元分成 {len(components)} 个互不相连的部分，每部分至少要有一个选区、一名代表，代表名额 {seats} 名不够（{DISTRICT_RULE}）；请核对相邻关系",
            "seats",
        )


def _divide(
    graph: Graph, components: list[list[int]], seats: int, scorer: Scorer
) -> tuple[Division, dict[int, tuple[int, int]]]:
    """Give each connected part its seats, cut its best walk, then improve and repair; returns
    the division and each unit's (part, position in its walk)."""
    keys = [f"{n:06d}" for n in range(len(components))]
    component_seats = allocate(
        {k: sum(graph.population[u] for u in c) for k, c in zip(keys, components, strict=True)},
        seats,
        lower=1,
        upper={k: MAX_SEATS * len(c) for k, c in zip(keys, components, strict=True)},
    )
    division = Division(graph, scorer)
    walk_position: dict[int, tuple[int, int]] = {}
    for number, (key, members) in enumerate(zip(keys, components, strict=True)):
        starts: list[int | None] = [None, *(members if len(members) <= EXHAUSTIVE else [])]
        found = best_cut(graph, members, component_seats[key], scorer, starts)
        assert found is not None, "every prefix of a walk is contiguous, so a cut always exists"
        _, runs, order = found
        walk_position.update({u: (number, i) for i, u in enumerate(order)})
        for run, s in runs:
            division.add(run, s)
    division.improve()
    division.repair()
    return division, walk_position


def _island_warnings(graph: Graph, components: list[list[int]], main: int) -> list[str]:
    """A warning for each part other than the most populous one: a unit with no neighbour, or
    an island that can only be divided within itself."""
    warnings = []
    for n, members in enumerate(components):
        if n == main:
            continue
        codes = [graph.units[u].code for u in members]
        if len(members) == 1:
            warnings.append(
                f"单元 {codes[0]}（{graph.units[members[0]].name}）没有相邻单元，只能单独成区；请核对相邻关系"
            )
        else:
            warnings.append(
                f"单元 {'、'.join(codes)} 与其余单元不相连（孤岛），只能在内部划分选区；请核对相邻关系"
            )
    return warnings


def _problem(
    graph: Graph,
    scorer: Scorer,
    district: ProposedDistrict,
    members: list[int],
    component: list[int],
    on_main: bool,
    mean: Fraction,
    tolerance: Fraction,
) -> Problem:
    """Why a district is outside the tolerance, said plainly: a unit too populous for three
    seats, a unit with no neighbour, an island, or no contiguous combination found."""
    code, unit_codes, names, s = district.code, district.units, district.names, district.seats
    limit = f"±{float(tolerance) * 100:g}%"
    figures = f"{s} 名代表，每名代表 {float(district.per_deputy):.0f} 人，比平均数 {float(mean):.0f} 人偏差 {_percent(district.deviation)}，超出 {limit}"
    heavy = [u for u in members if not scorer.fits_three(graph.population[u])]
    if heavy:
        u = heavy[0]
        return Problem(
            "unit_too_populous",
            code,
            unit_codes,
            f"单元 {graph.units[u].code}（{graph.units[u].name}）人口 {graph.population[u]} 人，一个选区最多选三名代表"
            f"（{DISTRICT_RULE}），选区 {code} {figures}：应把该单元拆成更小的单元（如村民小组、居民小组）再划分",
        )
    if len(component) == 1:
        return Problem(
            "isolated_unit",
            code,
            unit_codes,
            f"单元 {unit_codes[0]}（{names[0]}）没有相邻单元，只能单独成为选区 {code}：{figures}",
        )
    if set(component) == set(members) or not on_main:
        island = [graph.units[u].code for u in component]
        return Problem(
            "island",
            code,
            unit_codes,
            f"单元 {'、'.join(island)} 与其余单元不相连（孤岛），选区 {code}（{'、'.join(unit_codes)}）{figures}",
        )
    return Problem(
        "out_of_tolerance",
        code,
        unit_codes,
        f"选区 {code}（{'、'.join(unit_codes)}）{figures}：未找到使它在限度以内的相连组合（可人工调整边界，或放宽限度）",
    )


def _proposed_district(
    graph: Graph, scorer: Scorer, division: Division, d: int, members: list[int], code: str, mean: Fraction
) -> ProposedDistrict:
    q, s = division.population[d], division.seats[d]
    per_deputy = Fraction(q, s)
    return ProposedDistrict(
        code=code,
        units=tuple(graph.units[u].code for u in members),
        names=tuple(graph.units[u].name for u in members),
        parents=tuple(sorted(division.parents[d])),
        population=q,
        seats=s,
        per_deputy=per_deputy,
        deviation=per_deputy / mean - 1,
        within_tolerance=scorer.within(q, s),
        contiguous=graph.connected(set(members)),
    )


def propose(units: Sequence[Unit], seats: int, tolerance: Fraction = DEFAULT_TOLERANCE) -> Proposal:
    """Propose districts for `seats` deputies from `units`; see the module docstring."""
    if seats < 1:
        raise DomainError("E_BAD_SEATS", "代表名额应为正整数", "seats")
    tolerance = parse_tolerance(tolerance)
    if not units:
        raise DomainError("E_NO_UNITS", "没有可划分的单元", "units")
    warnings: list[str] = []
    graph = Graph(units, warnings)
    population = sum(graph.population)
    if population == 0:
        raise DomainError("E_BAD_POPULATION", "全部单元人口合计为 0，无法按人口划分选区", "population")
    components = graph.components()
    _check_seats(graph, seats, components)
    scorer = Scorer(population, seats, tolerance, len(graph.units))
    division, walk_position = _divide(graph, components, seats, scorer)

    main = max(range(len(components)), key=lambda n: (sum(graph.population[u] for u in components[n]), -n))
    component_of = {u: n for n, c in enumerate(components) for u in c}
    warnings.extend(_island_warnings(graph, components, main))

    mean = Fraction(population, seats)
    districts: list[ProposedDistrict] = []
    problems: list[Problem] = []
    ordered = sorted(division.live(), key=lambda d: min(walk_position[u] for u in division.members[d]))
    for number, d in enumerate(ordered, start=1):
        members = sorted(division.members[d], key=lambda u: walk_position[u])
        district = _proposed_district(graph, scorer, division, d, members, f"D{number:03d}", mean)
        districts.append(district)
        if not district.within_tolerance:
            n = component_of[members[0]]
            problems.append(
                _problem(graph, scorer, district, members, components[n], n == main, mean, tolerance)
            )
    warnings.extend(_township_warnings(graph, districts))
    return Proposal(districts, problems, warnings, seats, population, tolerance)


def _township_warnings(graph: Graph, districts: list[ProposedDistrict]) -> list[str]:
    """EL 15 ¶1: in a county congress a township with very small population keeps at least one
    deputy. A township (parent) with no district of its own, only shares of districts mixed
    with other townships, cannot be sure of one: warn, naming it and where it was put."""
    parents = {u.parent for u in graph.units if u.parent}
    if len(parents) < 2:
        return []
    own = {d.parents[0] for d in districts if len(d.parents) == 1}
    population: dict[str, int] = {}
    for unit in graph.units:
        population[unit.parent] = population.get(unit.parent, 0) + unit.population
    warnings = []
    for parent in sorted(parents - own):
        where = "、".join(d.code for d in districts if parent in d.parents)
        warnings.append(
            f"乡镇 {parent}（人口 {population[parent]}）没有单独的选区，与其他乡镇合并划入 {where}，"
            f"不能保证选出本乡镇的代表；人口特少的乡、民族乡、镇，至少应有代表一人（{LAW_KIND.cite('township_apportion')}），"
            f"请将其单独划为选区或先按乡镇分配名额（apportion_townships）"
        )
    return warnings
