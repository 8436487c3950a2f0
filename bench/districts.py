"""Benchmark: district division and seat allocation on a synthetic county.

    .venv/bin/python bench/districts.py [--scale 1] [--repeat 3]

Scale 1 is the test county (20 townships × 15 villages = 300 units, ~270 county seats); scale k
has about k times as many (smaller) units for the same county. Figures are printed as ratios
against a baseline measured in the same run: reading the CSV and finding the connected
components of the neighbour graph, i.e. the least any division must do. Whatever the scale, the
run also times `propose` on the test county itself, as tests/test_districting.py calls it (that
test used to assert it took under 3 s).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.districts_data import synthetic_county, to_csv
from workflow.kinds import get_kind
from workflow.rules.apportion import apportion
from workflow.rules.district_graph import Graph
from workflow.rules.districting import propose
from workflow.rules.quota import total_seats
from workflow.rules.units import read_units


def best_of(repeat: int, action) -> tuple[float, object]:
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        timings.append(time.perf_counter() - started)
    return min(timings), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="units relative to the 300-village county")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    side = max(1, round(math.sqrt(args.scale)))
    units = synthetic_county(
        columns=20 * side,
        rows=15 * side,
        township_columns=5 * side,
        township_rows=3 * side,
        median=max(50, round(1900 / args.scale)),
    )
    text = to_csv(units)
    population = sum(u.population for u in units)
    seats = total_seats(get_kind("people_congress"), "county", population).seats

    def baseline():
        parsed = read_units(text, with_graph=True)
        return Graph(parsed, []).components()

    def division():
        return propose(read_units(text, with_graph=True), seats)

    test_units = synthetic_county()
    test_seats = total_seats(get_kind("people_congress"), "county", sum(u.population for u in test_units)).seats

    base, _ = best_of(args.repeat, baseline)
    elapsed, proposal = best_of(args.repeat, division)
    test_county_time, _ = best_of(args.repeat, lambda: propose(test_units, test_seats))
    districts = [(d.code, d.name, d.population) for d in proposal.districts]
    allocation_time, _ = best_of(args.repeat, lambda: apportion(districts, seats))

    within = sum(d.within_tolerance for d in proposal.districts)
    mixed = sum(len(d.parents) > 1 for d in proposal.districts)
    worst = max(abs(d.deviation) for d in proposal.districts)
    print(f"units {len(units)}, population {population:,}, seats {seats}")
    print(f"baseline (read CSV + components): {base * 1000:.1f} ms")
    print(f"districts propose: {elapsed * 1000:.1f} ms = {elapsed / base:.1f}× baseline")
    print(
        f"propose on the test county ({len(test_units)} units, {test_seats} seats): "
        f"{test_county_time * 1000:.1f} ms = {test_county_time / base:.1f}× baseline"
    )
    print(
        f"apportion {len(districts)} districts: {allocation_time * 1000:.1f} ms = "
        f"{allocation_time / base:.2f}× baseline"
    )
    print(
        f"districts {len(proposal.districts)}: {within} within ±15% ({within / len(proposal.districts):.1%}), "
        f"{mixed} across townships, worst deviation {float(worst):.1%}, unsatisfied {len(proposal.unsatisfied)}"
    )


if __name__ == "__main__":
    main()
