"""Synthetic county for the district tests and benchmark: townships of villages on a grid.

A grid of villages (4-neighbour adjacency, a few diagonal links, a few links removed as rivers
would), cut into rectangular townships; each township has a larger seat town. Seeded, so every
run sees the same county.
"""

from __future__ import annotations

import csv
import io
import random

from workflow.rules.units import Unit


def synthetic_county(
    columns: int = 20,
    rows: int = 15,
    township_columns: int = 5,
    township_rows: int = 3,
    seed: int = 2021,
    median: int = 1900,
) -> list[Unit]:
    """About `columns × rows` villages in (columns/township_columns) × (rows/township_rows)
    townships. Populations are log-normal around `median`, seat towns 2–3 times larger."""
    rng = random.Random(seed)
    code = {}
    for y in range(rows):
        for x in range(columns):
            township = (y // township_rows) * (columns // township_columns) + x // township_columns
            code[x, y] = (
                f"T{township + 1:02d}V{(y % township_rows) * township_columns + x % township_columns + 1:02d}"
            )
    edges: set[frozenset] = set()
    for x, y in code:
        for dx, dy in ((1, 0), (0, 1)):
            if (x + dx, y + dy) in code:
                edges.add(frozenset({(x, y), (x + dx, y + dy)}))
        if (x + 1, y + 1) in code and rng.random() < 0.15:
            edges.add(frozenset({(x, y), (x + 1, y + 1)}))
    for edge in sorted(edges, key=sorted):
        if rng.random() < 0.06:
            edges.discard(edge)  # a river without a bridge; the grid stays connected in practice
    neighbours: dict[tuple[int, int], list[str]] = {cell: [] for cell in code}
    for edge in edges:
        a, b = sorted(edge)
        neighbours[a].append(code[b])
        neighbours[b].append(code[a])
    units = []
    for row_number, (cell, unit_code) in enumerate(sorted(code.items(), key=lambda kv: kv[1]), start=2):
        population = int(rng.lognormvariate(0, 0.35) * median)
        if unit_code.endswith("V08"):
            population = int(population * rng.uniform(2.0, 3.0))  # the township's seat town
        population = max(200, population)
        units.append(
            Unit(
                code=unit_code,
                name=f"{unit_code[:3]}乡第{int(unit_code[4:])}村",
                population=population,
                row=row_number,
                parent=unit_code[:3],
                neighbours=tuple(sorted(neighbours[cell])),
            )
        )
    return units


def to_csv(units: list[Unit]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name", "population", "parent", "neighbours"])
    for u in units:
        writer.writerow([u.code, u.name, u.population, u.parent, ";".join(u.neighbours)])
    return out.getvalue()
