"""Body of GET /api/v1/grid: the command centre's grid (workflow/views/grid.py)."""

from __future__ import annotations

from service.api.schemas.common import Out


class Place(Out):
    code: str | None
    name: str


class GridCell(Out):
    key: str
    state: str  # overdue / blocked / due_soon / not_yet_due / done_late / done / waived
    planned: str | None
    latest: str | None
    done_on: str | None
    days: int | None  # days overdue (state overdue) or left against the bound
    chased: int
    chased_last: str | None


class GridRow(Out):
    election_id: int
    title: str
    state: str
    state_name: str
    anchor_date: str
    jurisdiction: Place
    counts: dict[str, int]
    cells: list[GridCell]


class GridColumn(Out):
    key: str
    name: str
    phase: str
    phase_name: str


class KindGrid(Out):
    kind: str
    kind_name: str
    headline: list[str]
    columns: list[GridColumn]
    per_milestone: dict[str, dict[str, int]]
    rows_total: int  # this kind's rows; `rows` is one page of them, most urgent first
    rows: list[GridRow]


class RollupArea(Out):
    code: str | None
    name: str
    elections: int
    counts: dict[str, int]


class Grid(Out):
    today: str
    jurisdiction: Place
    rows_total: int
    totals: dict[str, int]
    rollup: list[RollupArea]
    kinds: list[KindGrid]


class ChaseOutcome(Out):
    election_id: int
    jurisdiction: str
    key: str | None
    milestone: str | None
    outcome: str  # sent / already / no_channel / nothing
    channels: list[str]
    text: str


class ChaseResult(Out):
    items: list[ChaseOutcome]
