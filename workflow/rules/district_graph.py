"""The search primitives of the district division (see `workflow.rules.districting`): the unit
graph, the exact lexicographic cost of a district, the walk that keeps townships together and
the dynamic programme that cuts a walk into contiguous districts of 1–3 seats. Pure.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from workflow.errors import DomainError
from workflow.rules.apportion import MAX_SEATS, MIN_SEATS
from workflow.rules.units import Unit

_SLACK = 3  # seats of leeway around the tolerance window in the DP (for districts that cannot fit)
EXHAUSTIVE = 16  # up to this many units, walks from every start are tried
_DRIFT = 6  # how far a prefix of the walk may stray from its proportional share of seats
_MAX_RUN = 80  # units in one district, a bound that keeps the DP linear in practice


class Graph:
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


class Scorer:
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


def walk(graph: Graph, members: list[int], start: int | None = None) -> list[int]:
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


def _prefix_sums(graph: Graph, order: list[int], scorer: Scorer) -> tuple[list[int], list[int]]:
    """Populations of the walk's prefixes, plain and with each unit capped at three seats'
    worth (a unit cannot use more)."""
    three = MAX_SEATS * scorer.P * (scorer.a + scorer.b) // (scorer.N * scorer.b)
    prefix, prefix_capped = [0], [0]
    for u in order:
        prefix.append(prefix[-1] + graph.population[u])
        prefix_capped.append(prefix_capped[-1] + min(graph.population[u], three))
    return prefix, prefix_capped


@dataclass(frozen=True)
class _SeatWindow:
    """Seats a prefix of the walk may use: near its share of the seats (drift at most _DRIFT)
    and near what the tolerance allows (give or take _SLACK). Integer arithmetic:
    x / (m·(1 ± t)) = x·N·b / (P·(b ± a)) for t = a/b."""

    prefix: list[int]
    prefix_capped: list[int]
    seats: int
    scorer: Scorer
    windowed: bool

    def __call__(self, i: int) -> tuple[int, int]:
        prefix, capped, seats = self.prefix, self.prefix_capped, self.seats
        total, total_capped = prefix[-1], capped[-1]
        if not self.windowed or not total_capped:
            return 0, seats
        P, N, ta, tb = self.scorer.P, self.scorer.N, self.scorer.a, self.scorer.b
        share_floor = seats * capped[i] // total_capped
        share_ceil = -(-seats * capped[i] // total_capped)
        lo = max(capped[i] * N * tb // (P * (ta + tb)) - _SLACK, share_ceil - _DRIFT)
        hi = min(prefix[i] * N * tb // (P * (tb - ta)) + 1 + _SLACK, share_floor + _DRIFT)
        rest_lo = (total_capped - capped[i]) * N * tb // (P * (ta + tb)) - _SLACK
        rest_hi = (total - prefix[i]) * N * tb // (P * (tb - ta)) + 1 + _SLACK
        return max(lo, seats - rest_hi, 0), min(hi, seats - rest_lo, seats)


def _runs_ending_at(
    graph: Graph,
    order: list[int],
    i: int,
    prefix: list[int],
    best: list[dict[int, tuple[int, int, int]]],
    scorer: Scorer,
    window: tuple[int, int],
    capped: bool,
) -> None:
    """Fill best[i]: for each seat total k in the window, the cheapest cut of order[:i] whose
    last run order[j:i] is contiguous, as (cost, j, seats of the last run)."""
    lo, hi = window
    here = best[i]
    # Grow the run order[j:i] backwards with a union–find to know when it is contiguous.
    root: dict[int, int] = {}

    def find(x: int) -> int:
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
            last_cost = scorer.cost(q, s, len(parents))
            for k_before, (cost_before, _, _) in best[j].items():
                k = k_before + s
                if k < lo or k > hi:
                    continue
                total_cost = cost_before + last_cost
                known = here.get(k)
                if known is None or total_cost < known[0]:
                    here[k] = (total_cost, j, s)


def cut(graph: Graph, order: list[int], seats: int, scorer: Scorer, *, windowed: bool, capped: bool):
    """Best cut of the walk into contiguous runs of 1–3 seats using exactly `seats` seats."""
    length = len(order)
    prefix, prefix_capped = _prefix_sums(graph, order, scorer)
    window = _SeatWindow(prefix, prefix_capped, seats, scorer, windowed)
    best: list[dict[int, tuple[int, int, int]]] = [dict() for _ in range(length + 1)]
    best[0][0] = (0, -1, 0)
    for i in range(1, length + 1):
        lo, hi = window(i)
        if lo > hi:
            continue
        _runs_ending_at(graph, order, i, prefix, best, scorer, (lo, hi), capped)
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


def run_cost(graph: Graph, scorer: Scorer, run: list[int], seats: int) -> int:
    return scorer.cost(sum(graph.population[u] for u in run), seats, len({graph.parent[u] for u in run}))


def best_cut(graph: Graph, members: list[int], seats: int, scorer: Scorer, starts: list[int | None]):
    """The cheapest cut over walks from several starts: (cost, runs, walk) or None."""
    best = None
    for start in starts:
        order = walk(graph, members, start)
        runs = (
            cut(graph, order, seats, scorer, windowed=True, capped=True)
            or cut(graph, order, seats, scorer, windowed=False, capped=True)
            or cut(graph, order, seats, scorer, windowed=False, capped=False)
        )
        if runs is None:  # pragma: no cover - every prefix of a walk is contiguous
            continue
        cost = sum(run_cost(graph, scorer, run, s) for run, s in runs)
        if best is None or cost < best[0]:
            best = (cost, runs, order)
    return best
