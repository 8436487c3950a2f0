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
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from workflow.errors import DomainError
from workflow.rules.apportion import MAX_SEATS, MIN_SEATS, allocate
from workflow.rules.units import Unit

DEFAULT_TOLERANCE = Fraction(15, 100)
METHOD = "walk_cut_dp_local_search"
METHOD_TEXT = (
    "按邻接关系排出先走完一个乡镇再进入下一个的单元顺序，用动态规划把顺序切成相连的选区（每区一至三名，"
    "优先满足偏差限度、其次不跨乡镇、再次每名代表人口最接近平均数），再逐个调整边界单元和名额直至不能改进"
)
_SLACK = 3  # seats of leeway around the tolerance window in the DP (for districts that cannot fit)
_EXHAUSTIVE = 16  # up to this many units, walks from every start are tried
_DRIFT = 6  # how far a prefix of the walk may stray from its proportional share of seats
_MAX_RUN = 80  # units in one district, a bound that keeps the DP linear in practice


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


class _Graph:
    """Units sorted by code, with symmetric adjacency as index lists."""

    def __init__(self, units: Sequence[Unit], warnings: list[str]):
        self.units = sorted(units, key=lambda u: u.code)
        self.index = {u.code: i for i, u in enumerate(self.units)}
        if len(self.index) != len(self.units):
            seen: set[str] = set()
            for u in self.units:
                if u.code in seen:
                    raise DomainError(
                        "E_CSV_DUPLICATE_CODE", f"第 {u.row} 行 code（代码）{u.code} 重复", "code"
                    )
                seen.add(u.code)
        self.population = [u.population for u in self.units]
        self.parent = [u.parent for u in self.units]
        listed: list[set[int]] = [set() for _ in self.units]
        unknown: dict[str, list[str]] = {}
        for i, u in enumerate(self.units):
            for code in u.neighbours:
                j = self.index.get(code)
                if j is None:
                    unknown.setdefault(u.code, []).append(code)
                elif j != i:
                    listed[i].add(j)
        for code, missing in unknown.items():
            warnings.append(f"单元 {code} 的相邻单元 {'、'.join(missing)} 不在文件中，已忽略")
        adjacency = [set(s) for s in listed]
        one_sided = []
        for i, targets in enumerate(listed):
            for j in targets:
                if i not in listed[j]:
                    adjacency[j].add(i)
                    one_sided.append((self.units[i].code, self.units[j].code))
        for a, b in sorted(one_sided):
            warnings.append(f"相邻关系不对称：单元 {a} 列出了 {b}，但 {b} 没有列出 {a}；已按相邻处理，请核对")
        self.adjacency = [sorted(s) for s in adjacency]

    def components(self) -> list[list[int]]:
        seen = [False] * len(self.units)
        result = []
        for start in range(len(self.units)):
            if seen[start]:
                continue
            seen[start] = True
            queue, members = deque([start]), [start]
            while queue:
                u = queue.popleft()
                for v in self.adjacency[u]:
                    if not seen[v]:
                        seen[v] = True
                        queue.append(v)
                        members.append(v)
            result.append(sorted(members))
        return result

    def connected(self, members: set[int]) -> bool:
        if not members:
            return False
        start = next(iter(members))
        seen = {start}
        queue = deque([start])
        while queue:
            u = queue.popleft()
            for v in self.adjacency[u]:
                if v in members and v not in seen:
                    seen.add(v)
                    queue.append(v)
        return len(seen) == len(members)


class _Scorer:
    """Exact cost of a district as one integer that orders lexicographically by
    (outside tolerance, parents mixed, s·(r − m)² scaled to an integer).

    Scaling: s·(q/s − P/N)²·N²·6 = 6·d²/s with d = q·N − s·P, an integer for s ∈ {1, 2, 3}.
    The weights exceed the largest possible sum of the lower terms over any proposal, so
    comparing integers is comparing the triples lexicographically (and stays additive).
    """

    def __init__(self, population: int, seats: int, tolerance: Fraction, units: int):
        self.P, self.N = population, seats
        self.a, self.b = tolerance.numerator, tolerance.denominator
        spread_bound = 54 * (units + 1) * (population * seats) ** 2 + 1  # > Σ 6·d²/s, |d| ≤ 3PN
        self.mixed_weight = spread_bound
        self.outside_weight = (units + 1) * spread_bound

    def within(self, q: int, s: int) -> bool:
        return self.b * abs(q * self.N - s * self.P) <= self.a * s * self.P

    def cost(self, q: int, s: int, parents: int) -> int:
        d = q * self.N - s * self.P
        outside = 0 if self.within(q, s) else self.outside_weight
        return outside + (parents - 1) * self.mixed_weight + (6 // s) * d * d

    def fits_three(self, q: int) -> bool:
        """Population no larger than three seats at the top of the tolerance."""
        return q * self.N * self.b <= MAX_SEATS * self.P * (self.a + self.b)


def _walk(graph: _Graph, members: list[int], start: int | None = None) -> list[int]:
    """Order a connected set of units so that each unit touches an earlier one and parents
    (townships) stay together. Starts from `start`, else from a peripheral unit."""
    if len(members) == 1:
        return list(members)
    member_set = set(members)
    adjacency = {u: [v for v in graph.adjacency[u] if v in member_set] for u in members}
    if start is None:
        # A peripheral start (double sweep): the unit farthest from the smallest code.
        first = min(members)
        distance = {first: 0}
        queue = deque([first])
        while queue:
            u = queue.popleft()
            for v in adjacency[u]:
                if v not in distance:
                    distance[v] = distance[u] + 1
                    queue.append(v)
        start = min(members, key=lambda u: (-distance[u], u))
    remaining = {u: len(adjacency[u]) for u in members}  # unvisited neighbours
    parent_left = Counter(graph.parent[u] for u in members)
    parent_size = dict(parent_left)
    visited: set[int] = set()
    order: list[int] = []
    stack: list[int] = []  # visited units that may still have unvisited neighbours

    def visit(u: int) -> None:
        visited.add(u)
        order.append(u)
        stack.append(u)
        parent_left[graph.parent[u]] -= 1
        for v in adjacency[u]:
            remaining[v] -= 1

    visit(start)
    while len(order) < len(members):
        current = graph.parent[order[-1]]
        choice = None
        if parent_left[current]:
            for v in reversed(stack):
                same = [w for w in adjacency[v] if w not in visited and graph.parent[w] == current]
                if same:
                    choice = min(same, key=lambda w: (remaining[w], w))
                    break
        if choice is None:
            while not any(w not in visited for w in adjacency[stack[-1]]):
                stack.pop()
            options = [w for w in adjacency[stack[-1]] if w not in visited]
            # Prefer finishing a parent already begun, then the unit with fewest open neighbours.
            choice = min(
                options,
                key=lambda w: (
                    0 if parent_left[graph.parent[w]] < parent_size[graph.parent[w]] else 1,
                    remaining[w],
                    w,
                ),
            )
        visit(choice)
    return order


def _cut(graph: _Graph, order: list[int], seats: int, scorer: _Scorer, *, windowed: bool, capped: bool):
    """Best cut of the walk into contiguous runs of 1–3 seats using exactly `seats` seats."""
    length = len(order)
    prefix = [0]
    prefix_capped = [0]  # populations capped at three seats' worth (a unit cannot use more)
    P, N, ta, tb = scorer.P, scorer.N, scorer.a, scorer.b
    three = MAX_SEATS * P * (ta + tb) // (N * tb)
    for u in order:
        prefix.append(prefix[-1] + graph.population[u])
        prefix_capped.append(prefix_capped[-1] + min(graph.population[u], three))
    total, total_capped = prefix[-1], prefix_capped[-1]

    def window(i: int) -> tuple[int, int]:
        """Seats a prefix may use: near its share of the seats (drift at most _DRIFT) and
        near what the tolerance allows (give or take _SLACK). Integer arithmetic:
        x / (m·(1 ± t)) = x·N·b / (P·(b ± a)) for t = a/b."""
        if not windowed or not total_capped:
            return 0, seats
        share_floor = seats * prefix_capped[i] // total_capped
        share_ceil = -(-seats * prefix_capped[i] // total_capped)
        lo = max(prefix_capped[i] * N * tb // (P * (ta + tb)) - _SLACK, share_ceil - _DRIFT)
        hi = min(prefix[i] * N * tb // (P * (tb - ta)) + 1 + _SLACK, share_floor + _DRIFT)
        rest_lo = (total_capped - prefix_capped[i]) * N * tb // (P * (ta + tb)) - _SLACK
        rest_hi = (total - prefix[i]) * N * tb // (P * (tb - ta)) + 1 + _SLACK
        return max(lo, seats - rest_hi, 0), min(hi, seats - rest_lo, seats)

    best: list[dict[int, tuple[int, int, int]]] = [dict() for _ in range(length + 1)]
    best[0][0] = (0, -1, 0)
    for i in range(1, length + 1):
        lo, hi = window(i)
        if lo > hi:
            continue
        here = best[i]
        # Grow the run order[j:i] backwards with a union–find to know when it is contiguous.
        root: dict[int, int] = {}

        def find(x: int, root=root) -> int:
            while root[x] != x:
                root[x] = root[root[x]]
                x = root[x]
            return x

        pieces = 0
        parents: Counter[str] = Counter()
        for j in range(i - 1, -1, -1):
            if capped and i - j > _MAX_RUN:
                break
            u = order[j]
            q = prefix[i] - prefix[j]
            if capped and i - j > 1 and not scorer.fits_three(q):
                break
            root[u] = u
            pieces += 1
            for v in graph.adjacency[u]:
                if v in root:
                    a, b = find(u), find(v)
                    if a != b:
                        root[a] = b
                        pieces -= 1
            parents[graph.parent[u]] += 1
            if pieces != 1 or not best[j]:
                continue
            for s in range(MIN_SEATS, MAX_SEATS + 1):
                run_cost = scorer.cost(q, s, len(parents))
                for k_before, (cost_before, _, _) in best[j].items():
                    k = k_before + s
                    if k < lo or k > hi:
                        continue
                    total_cost = cost_before + run_cost
                    known = here.get(k)
                    if known is None or total_cost < known[0]:
                        here[k] = (total_cost, j, s)
    if seats not in best[length]:
        return None
    runs = []
    i, k = length, seats
    while i > 0:
        _, j, s = best[i][k]
        runs.append((order[j:i], s))
        i, k = j, k - s
    runs.reverse()
    return runs


def _run_cost(graph: _Graph, scorer: _Scorer, run: list[int], seats: int) -> int:
    return scorer.cost(sum(graph.population[u] for u in run), seats, len({graph.parent[u] for u in run}))


def _best_cut(graph: _Graph, members: list[int], seats: int, scorer: _Scorer, starts: list[int | None]):
    """The cheapest cut over walks from several starts: (cost, runs, walk) or None."""
    best = None
    for start in starts:
        order = _walk(graph, members, start)
        runs = (
            _cut(graph, order, seats, scorer, windowed=True, capped=True)
            or _cut(graph, order, seats, scorer, windowed=False, capped=True)
            or _cut(graph, order, seats, scorer, windowed=False, capped=False)
        )
        if runs is None:  # pragma: no cover - every prefix of a walk is contiguous
            continue
        cost = sum(_run_cost(graph, scorer, run, s) for run, s in runs)
        if best is None or cost < best[0]:
            best = (cost, runs, order)
    return best


class _Division:
    """Districts of one proposal while the local search moves units and seats between them."""

    def __init__(self, graph: _Graph, scorer: _Scorer):
        self.graph, self.scorer = graph, scorer
        self.members: list[set[int]] = []
        self.seats: list[int] = []
        self.population: list[int] = []
        self.parents: list[Counter[str]] = []
        self.cost: list[int] = []
        self.alive: list[bool] = []
        self.assign: dict[int, int] = {}

    def add(self, units: list[int], seats: int) -> None:
        d = len(self.members)
        self.members.append(set(units))
        self.seats.append(seats)
        self.population.append(sum(self.graph.population[u] for u in units))
        self.parents.append(Counter(self.graph.parent[u] for u in units))
        self.cost.append(self._score(d))
        self.alive.append(True)
        for u in units:
            self.assign[u] = d

    def live(self) -> list[int]:
        return [d for d, alive in enumerate(self.alive) if alive]

    def _score(self, d: int) -> int:
        return self.scorer.cost(self.population[d], self.seats[d], len(self.parents[d]))

    def _move_unit(self) -> bool:
        graph, scorer = self.graph, self.scorer
        changed = False
        for u in sorted(self.assign):
            a = self.assign[u]
            if len(self.members[a]) == 1:
                continue
            p, parent = graph.population[u], graph.parent[u]
            targets = sorted({self.assign[v] for v in graph.adjacency[u]} - {a})
            for b in targets:
                parents_a = len(self.parents[a]) - (1 if self.parents[a][parent] == 1 else 0)
                parents_b = len(self.parents[b]) + (0 if self.parents[b][parent] else 1)
                before = self.cost[a] + self.cost[b]
                after = scorer.cost(self.population[a] - p, self.seats[a], parents_a) + scorer.cost(
                    self.population[b] + p, self.seats[b], parents_b
                )
                if after < before and graph.connected(self.members[a] - {u}):
                    self.members[a].discard(u)
                    self.members[b].add(u)
                    self.population[a] -= p
                    self.population[b] += p
                    self.parents[a][parent] -= 1
                    if not self.parents[a][parent]:
                        del self.parents[a][parent]
                    self.parents[b][parent] += 1
                    self.assign[u] = b
                    self.cost[a], self.cost[b] = self._score(a), self._score(b)
                    changed = True
                    break
        return changed

    def _move_seat(self) -> bool:
        """Move single seats from one district to another while that lowers the total cost.

        The cost is a sum over districts and lexicographic order is compatible with addition,
        so the best pair is the best giver together with the best (different) taker.
        """
        changed = False
        while True:
            give, take = [], []
            for d in self.live():
                q, s, k = self.population[d], self.seats[d], len(self.parents[d])
                if s > MIN_SEATS:
                    give.append((self.scorer.cost(q, s - 1, k) - self.cost[d], d))
                if s < MAX_SEATS:
                    take.append((self.scorer.cost(q, s + 1, k) - self.cost[d], d))
            give.sort()
            take.sort()
            best = None
            for delta_give, a in give[:2]:
                for delta_take, b in take[:2]:
                    if a != b:
                        total = delta_give + delta_take
                        if best is None or total < best[0]:
                            best = (total, a, b)
            if best is None or best[0] >= 0:
                return changed
            _, a, b = best
            self.seats[a] -= 1
            self.seats[b] += 1
            self.cost[a], self.cost[b] = self._score(a), self._score(b)
            changed = True

    def improve(self, passes: int = 200) -> None:
        for _ in range(passes):
            moved = self._move_unit()
            moved = self._move_seat() or moved
            if not moved:
                return

    def _neighbours(self, districts: set[int]) -> set[int]:
        return {
            self.assign[v] for d in districts for u in self.members[d] for v in self.graph.adjacency[u]
        } - districts

    def _redivide(self, district: int, rings: int) -> bool:
        """Cut the district and its neighbours (to `rings` steps) afresh with the same seats,
        trying several walk starts; keep the best if it lowers their total cost."""
        region = {district}
        for _ in range(rings):
            region |= self._neighbours(region)
        units = sorted(u for d in region for u in self.members[d])
        seats = sum(self.seats[d] for d in region)
        before = sum(self.cost[d] for d in region)
        starts: list[int | None] = [None, *sorted(self.members[district])[:3]]
        if len(units) <= _EXHAUSTIVE // 2 + 4:
            starts += [u for u in units if u not in starts]
        found = _best_cut(self.graph, units, seats, self.scorer, starts)
        best_runs = found[1] if found is not None and found[0] < before else None
        if best_runs is None:
            return False
        for d in region:
            self.alive[d] = False
        for run, s in best_runs:
            self.add(run, s)
        return True

    def repair(self, rounds: int = 3, max_units: int = 120) -> None:
        """Large-neighbourhood steps for districts outside the tolerance, then local moves."""
        for _ in range(rounds):
            repaired = False
            for d in self.live():
                if not self.alive[d] or self.scorer.within(self.population[d], self.seats[d]):
                    continue
                for rings in (1, 2, 3):
                    region = {d}
                    for _ in range(rings):
                        region |= self._neighbours(region)
                    if sum(len(self.members[r]) for r in region) > max_units:
                        break
                    if self._redivide(d, rings):
                        repaired = True
                        break
            if not repaired:
                return
            self.improve()


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


def propose(units: Sequence[Unit], seats: int, tolerance: Fraction = DEFAULT_TOLERANCE) -> Proposal:
    """Propose districts for `seats` deputies from `units`; see the module docstring."""
    if seats < 1:
        raise DomainError("E_BAD_SEATS", "代表名额应为正整数", "seats")
    tolerance = parse_tolerance(tolerance)
    if not units:
        raise DomainError("E_NO_UNITS", "没有可划分的单元", "units")
    warnings: list[str] = []
    graph = _Graph(units, warnings)
    population = sum(graph.population)
    if population == 0:
        raise DomainError("E_BAD_POPULATION", "全部单元人口合计为 0，无法按人口划分选区", "population")
    if seats > MAX_SEATS * len(graph.units):
        raise DomainError(
            "E_SEATS_TOO_MANY",
            f"代表名额 {seats} 名超过单元数 {len(graph.units)} 的三倍：即使每个单元单独成区、每区三名也容纳不下（选举法第二十五条）",
            "seats",
        )
    components = graph.components()
    if seats < len(components):
        raise DomainError(
            "E_SEATS_TOO_FEW",
            f"单元分成 {len(components)} 个互不相连的部分，每部分至少要有一个选区、一名代表，代表名额 {seats} 名不够（选举法第二十五条）；请核对相邻关系",
            "seats",
        )
    scorer = _Scorer(population, seats, tolerance, len(graph.units))
    keys = [f"{n:06d}" for n in range(len(components))]
    component_seats = allocate(
        {k: sum(graph.population[u] for u in c) for k, c in zip(keys, components, strict=True)},
        seats,
        lower=1,
        upper={k: MAX_SEATS * len(c) for k, c in zip(keys, components, strict=True)},
    )
    division = _Division(graph, scorer)
    walk_position: dict[int, tuple[int, int]] = {}
    for number, (key, members) in enumerate(zip(keys, components, strict=True)):
        starts: list[int | None] = [None, *(members if len(members) <= _EXHAUSTIVE else [])]
        found = _best_cut(graph, members, component_seats[key], scorer, starts)
        assert found is not None, "every prefix of a walk is contiguous, so a cut always exists"
        _, runs, order = found
        walk_position.update({u: (number, i) for i, u in enumerate(order)})
        for run, s in runs:
            division.add(run, s)
    division.improve()
    division.repair()

    main = max(range(len(components)), key=lambda n: (sum(graph.population[u] for u in components[n]), -n))
    component_of = {u: n for n, c in enumerate(components) for u in c}
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

    mean = Fraction(population, seats)
    limit = f"±{float(tolerance) * 100:g}%"
    districts: list[ProposedDistrict] = []
    problems: list[Problem] = []
    ordered = sorted(division.live(), key=lambda d: min(walk_position[u] for u in division.members[d]))
    for number, d in enumerate(ordered, start=1):
        members = sorted(division.members[d], key=lambda u: walk_position[u])
        q, s = division.population[d], division.seats[d]
        code = f"D{number:03d}"
        per_deputy = Fraction(q, s)
        deviation = per_deputy / mean - 1
        unit_codes = tuple(graph.units[u].code for u in members)
        names = tuple(graph.units[u].name for u in members)
        within = scorer.within(q, s)
        district = ProposedDistrict(
            code=code,
            units=unit_codes,
            names=names,
            parents=tuple(sorted(division.parents[d])),
            population=q,
            seats=s,
            per_deputy=per_deputy,
            deviation=deviation,
            within_tolerance=within,
            contiguous=graph.connected(set(members)),
        )
        districts.append(district)
        if within:
            continue
        figures = f"{s} 名代表，每名代表 {float(per_deputy):.0f} 人，比平均数 {float(mean):.0f} 人偏差 {_percent(deviation)}，超出 {limit}"
        heavy = [u for u in members if not scorer.fits_three(graph.population[u])]
        component = components[component_of[members[0]]]
        if heavy:
            u = heavy[0]
            problems.append(
                Problem(
                    "unit_too_populous",
                    code,
                    unit_codes,
                    f"单元 {graph.units[u].code}（{graph.units[u].name}）人口 {graph.population[u]} 人，一个选区最多选三名代表"
                    f"（选举法第二十五条），选区 {code} {figures}：应把该单元拆成更小的单元（如村民小组、居民小组）再划分",
                )
            )
        elif len(component) == 1:
            problems.append(
                Problem(
                    "isolated_unit",
                    code,
                    unit_codes,
                    f"单元 {unit_codes[0]}（{names[0]}）没有相邻单元，只能单独成为选区 {code}：{figures}",
                )
            )
        elif set(component) == set(members) or component_of[members[0]] != main:
            island = [graph.units[u].code for u in component]
            problems.append(
                Problem(
                    "island",
                    code,
                    unit_codes,
                    f"单元 {'、'.join(island)} 与其余单元不相连（孤岛），选区 {code}（{'、'.join(unit_codes)}）{figures}",
                )
            )
        else:
            problems.append(
                Problem(
                    "out_of_tolerance",
                    code,
                    unit_codes,
                    f"选区 {code}（{'、'.join(unit_codes)}）{figures}：未找到使它在限度以内的相连组合（可人工调整边界，或放宽限度）",
                )
            )
    return Proposal(districts, problems, warnings, seats, population, tolerance)
