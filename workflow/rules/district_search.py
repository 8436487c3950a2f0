"""The local search of the district division (see `workflow.rules.districting`): boundary
units and single seats move between districts while that strictly lowers the lexicographic
cost; districts still outside the tolerance are re-cut with their neighbours. Pure.
"""

from __future__ import annotations

from collections import Counter

from workflow.rules.apportion import MAX_SEATS, MIN_SEATS
from workflow.rules.district_graph import EXHAUSTIVE, Graph, Scorer, best_cut


class Division:
    """Districts of one proposal while the local search moves units and seats between them."""

    def __init__(self, graph: Graph, scorer: Scorer):
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
        if len(units) <= EXHAUSTIVE // 2 + 4:
            starts += [u for u in units if u not in starts]
        found = best_cut(self.graph, units, seats, self.scorer, starts)
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
