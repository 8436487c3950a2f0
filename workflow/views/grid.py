"""The command centre's grid: rows = the elections under a jurisdiction, columns = the kind's
milestones grouped by phase, one state per cell, with counts, filters and an urgency order.

One function (`grid`) feeds the dashboard page, the JSON API and the 进度通报 export. It costs a
fixed number of SQL statements whatever the number of rows: the subtree and the elections in
one, every milestone of those elections in one, the chase counts in one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Integer, cast, func, null, select
from sqlalchemy.orm import Session

from workflow.events import MilestoneChased
from workflow.kinds import KindSpec, get_kind, resolve_kind
from workflow.machine import FINAL_STATES, SUSPENDED, state_name
from workflow.store.models import AuditEntry, AuditHead, Election, Jurisdiction, Milestone, MilestoneStatus
from workflow.timetable import Dates, approval_triggered

# The cell states, most urgent first (the order of the legend and of the counts).
OVERDUE = "overdue"
BLOCKED = "blocked"
DUE_SOON = "due_soon"
NOT_YET_DUE = "not_yet_due"
DONE_LATE = "done_late"
DONE = "done"
WAIVED = "waived"
NOT_APPLICABLE = "not_applicable"  # an approval whose trigger has not arisen (workflow/timetable.py)
STATES = (OVERDUE, BLOCKED, DUE_SOON, NOT_YET_DUE, DONE_LATE, DONE, WAIVED, NOT_APPLICABLE)
STATE_TEXT = {
    OVERDUE: "已逾期",
    BLOCKED: "受阻",
    DUE_SOON: "即将到期",
    NOT_YET_DUE: "未到期",
    DONE_LATE: "逾期办结",
    DONE: "按期办结",
    WAIVED: "已免除",
    NOT_APPLICABLE: "不适用",
}
OPEN_STATES = (OVERDUE, BLOCKED, DUE_SOON, NOT_YET_DUE)


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    phase: str | None = None  # the election's current phase
    state: str | None = None  # rows with at least one cell in this state
    overdue_only: bool = False
    search: str | None = None  # in the election's title or the jurisdiction's name
    include_finished: bool = False  # closed and cancelled elections


@dataclass(slots=True)
class Cell:
    key: str
    state: str
    planned: date | None
    earliest: date | None
    latest: date | None
    done_on: date | None
    days: int | None  # days overdue (> 0) or days left (≥ 0) against the bound; None when settled
    chased: int = 0
    chased_last: date | None = None

    @property
    def bound(self) -> date | None:
        return self.latest or self.planned

    @property
    def title(self) -> str:
        """The text shown on hover and on tap."""
        parts = [STATE_TEXT[self.state]]
        if self.done_on:
            parts.append(f"办结 {self.done_on}")
        if self.latest:
            parts.append(f"法定最迟 {self.latest}")
        elif self.planned:
            parts.append(f"计划 {self.planned}")
        if self.state == OVERDUE and self.days:
            parts.append(f"逾期 {self.days} 天")
        elif self.state in (DUE_SOON, NOT_YET_DUE, BLOCKED) and self.days is not None:
            # No statutory bound passed; a past planned date is late against the committee's plan.
            parts.append(f"剩余 {self.days} 天" if self.days >= 0 else f"晚于计划 {-self.days} 天")
        if self.chased:
            parts.append(f"已催办 {self.chased} 次，最近 {self.chased_last:%m-%d}")
        return " · ".join(parts)


@dataclass(frozen=True)
class Column:
    key: str
    name: str
    phase: str
    phase_name: str
    source: str


class _Cells:
    """What a grid's rows need to build their `Cell`s when first asked: the chase counts and
    the turning of chase instants into local dates (one per grid, shared by its rows)."""

    __slots__ = ("chased", "to_local")

    def __init__(self, chased: dict, to_local):
        self.chased = chased
        self.to_local = to_local

    def build(self, election_id: int, found: list, states: list, days: list) -> dict[str, Cell]:
        chased, to_local = self.chased, self.to_local
        cells = {}
        for m, state, left in zip(found, states, days, strict=True):
            # m: (election id, key, planned, earliest, latest, status, done_on, late)
            key = m[1]
            count, last = chased.get((election_id, key), (0, None)) if chased else (0, None)
            cells[key] = Cell(
                key,
                state,
                m[2],
                m[3],
                m[4],
                m[6] if state in (DONE, DONE_LATE) else None,
                left,
                count,
                to_local(last) if last else None,
            )
        return cells


@dataclass(eq=False)
class Row:
    election_id: int
    title: str
    kind: str
    state: str
    state_name: str
    anchor_date: date
    jurisdiction_code: str
    jurisdiction_name: str
    jurisdiction_level: str
    area: str | None  # the root's direct child this row rolls up into (None: the root itself)
    counts: Counter = field(default_factory=Counter)
    most_overdue: int = 0  # the most days any cell is overdue
    soonest: int = 10**6  # the fewest days left of a due-soon or blocked cell
    # The cells, kept compact (the milestone rows, their states and days, in column order) and
    # built into `Cell`s only when asked: a province's page and JSON show a few hundred of its
    # thousands of rows, while counts, roll-up and order need only the states.
    _found: list = field(default_factory=list, repr=False)
    _states: list = field(default_factory=list, repr=False)
    _days: list = field(default_factory=list, repr=False)
    _source: _Cells | None = field(default=None, repr=False)
    _cells: dict | None = field(default=None, repr=False)

    @property
    def cells(self) -> dict[str, Cell]:
        """milestone key → Cell, in column order (built once, on first use)."""
        cells = self._cells
        if cells is None:
            source = self._source or _Cells({}, None)
            cells = self._cells = source.build(self.election_id, self._found, self._states, self._days)
        return cells

    def urgency(self) -> tuple:
        """Most overdue first, then most overdue items, then the nearest deadline."""
        return (-self.most_overdue, -self.counts[OVERDUE], -self.counts[BLOCKED], self.soonest, self.election_id)


@dataclass
class KindGrid:
    kind: str
    kind_name: str
    phases: list[tuple[str, str, int]]  # (key, name, number of columns)
    columns: list[Column]
    rows: list[Row]
    # milestone key → state → number of rows
    per_milestone: dict[str, Counter]

    def headline(self) -> list[str]:
        """「5 个乡镇已逾期：公布选民名单」 lines, the worst first."""
        lines = []
        names = {c.key: c.name for c in self.columns}
        for state in (OVERDUE, BLOCKED, DUE_SOON):
            for key, counter in sorted(self.per_milestone.items(), key=lambda kv: -kv[1][state]):
                if counter[state]:
                    lines.append(f"{counter[state]} 个选举{STATE_TEXT[state]}：{names[key]}")
        return lines


@dataclass
class Grid:
    today: date
    root_code: str
    root_name: str
    kinds: list[KindGrid]
    totals: Counter  # state → cells
    rows_total: int
    rollup: list[dict]  # per direct child area: name, code, elections, state counts

    def rows(self) -> list[Row]:
        """Every row, of every kind, most urgent first (the phone's list)."""
        return sorted((row for k in self.kinds for row in k.rows), key=Row.urgency)


def cell_state(
    m, spec_before_open: bool, today: date, lead: int, active: bool, suspended: bool
) -> tuple[str, int | None]:
    """One milestone's state on `today` (m: anything with status, done_on, late, latest and
    planned_date)."""
    return _state(m.status, m.done_on, m.late, m.latest, m.planned_date, spec_before_open, today, lead, active, suspended)


def _state(status, done_on, late, latest, planned, before_open, today, lead, active, suspended):
    if status == MilestoneStatus.WAIVED:
        return WAIVED, None
    if status == MilestoneStatus.DONE and done_on is not None and done_on <= today:
        return (DONE_LATE if late else DONE), None
    bound = latest or planned
    days = None if bound is None else (bound - today).days
    if active and latest is not None and today > latest:
        return OVERDUE, (today - latest).days
    if not active:
        return NOT_YET_DUE, days
    # Blocked: it cannot be done yet (a milestone it must follow is open, or the election is
    # suspended). Overdue wins over blocked, so a cell is never red twice.
    if suspended or before_open:
        return BLOCKED, days
    if days is not None and days <= lead:
        return DUE_SOON, days
    return NOT_YET_DUE, days


def _columns(kind: KindSpec) -> tuple[list[Column], list[tuple[str, str, int]]]:
    columns = []
    phases = []
    for phase in kind.phases:
        keys = [k for k, s in kind.milestones.items() if s.phase == phase.key and not s.computed]
        if not keys:
            continue
        phases.append((phase.key, phase.name, len(keys)))
        for key in keys:
            spec = kind.milestones[key]
            columns.append(Column(key, spec.name, phase.key, phase.name, spec.source))
    return columns, phases


def _approvals(kind: KindSpec) -> tuple[tuple[str, str], ...]:
    """(approval key, the key it approves) of each approval milestone of the kind."""
    return tuple((k, s.approves) for k, s in kind.milestones.items() if s.type == "approval" and s.approves)


def _add_columns(section: KindGrid, order: list, kind: KindSpec, keys: list[str]) -> None:
    """Columns for milestones a province's variant adds (e.g. Zhejiang's art. 29 and art. 51
    milestones), each after its phase's last column; the phase groups follow."""
    phase_rank = {p.key: i for i, p in enumerate(kind.phases)}
    for key in (k for k in kind.milestones if k in keys):
        spec = kind.milestones[key]
        if spec.computed or key in section.per_milestone:
            continue
        rank = phase_rank.get(spec.phase, len(phase_rank))
        at = len(section.columns)
        for i, column in enumerate(section.columns):
            if phase_rank.get(column.phase, len(phase_rank)) > rank:
                at = i
                break
        section.columns.insert(at, Column(key, spec.name, spec.phase, kind.phase(spec.phase).name, spec.source))
        order.insert(at, (key, tuple(k for k, s in kind.milestones.items() if key in s.before)))
        section.per_milestone[key] = Counter()
    groups: list[tuple[str, str, int]] = []
    for column in section.columns:
        if groups and groups[-1][0] == column.phase:
            groups[-1] = (column.phase, column.phase_name, groups[-1][2] + 1)
        else:
            groups.append((column.phase, column.phase_name, 1))
    section.phases = groups


class _Converted(dict):
    """value → converted value, each distinct value converted once (None stays None)."""

    def __init__(self, convert):
        super().__init__({None: None})
        self.convert = convert

    def __missing__(self, value):
        converted = self[value] = self.convert(value)
        return converted


def subtree_with_area(root_id: int):
    """A recursive CTE: (id, area) for the root (area NULL) and everything below it, area being
    the root's direct child the jurisdiction lies under."""
    tree = select(Jurisdiction.id.label("id"), cast(null(), Integer).label("area")).where(Jurisdiction.id == root_id)
    tree = tree.cte("grid_tree", recursive=True)
    child = select(
        Jurisdiction.id,
        func.coalesce(tree.c.area, Jurisdiction.id),
    ).where(Jurisdiction.parent_id == tree.c.id)
    return tree.union_all(child)


def chase_counts(session: Session, election_ids: set[int]) -> dict[tuple[int, str], tuple[int, datetime]]:
    """(election id, milestone key) → (chases, last chase), from the audit log, in one query."""
    rows = session.execute(
        select(AuditEntry.entity_id, func.count(), func.max(AuditEntry.at))
        .where(AuditEntry.action == MilestoneChased.action)
        .group_by(AuditEntry.entity_id)
    ).all()
    found = {}
    for entity_id, count, last in rows:
        election, _, key = (entity_id or "").partition("/")
        if election.isdigit() and int(election) in election_ids:
            found[(int(election), key)] = (count, last)
    return found


def grid(
    session: Session,
    root: Jurisdiction,
    today: date,
    filters: Filters = Filters(),
    *,
    local=None,
) -> Grid:
    """The grid under `root` as of `today` (local). `local(datetime) -> date` turns the chase
    instants into local dates (default: UTC dates)."""
    tree = subtree_with_area(root.id)
    where = []
    if filters.kind:
        where.append(Election.kind == filters.kind)
    if filters.phase:
        where.append(Election.state == filters.phase)
    if not filters.include_finished:
        where.append(Election.state.not_in(list(FINAL_STATES)))
    elections = session.execute(
        select(
            Election.id,
            Election.title,
            Election.kind,
            Election.state,
            Election.anchor_date,
            Election.statute,
            Jurisdiction.code,
            Jurisdiction.name,
            Jurisdiction.level,
            tree.c.area,
        )
        .join(tree, tree.c.id == Election.jurisdiction_id)
        .join(Jurisdiction, Jurisdiction.id == Election.jurisdiction_id)
        .where(*where)
        .order_by(Election.id)
    ).all()
    if filters.search:
        needle = filters.search.strip()
        elections = [e for e in elections if needle in e.title or needle in e.name]
    ids = {e.id for e in elections}
    milestones: dict[int, list] = {}
    if ids:
        chosen = (
            select(Election.id)
            .join(tree, tree.c.id == Election.jurisdiction_id)
            .where(*where)
        )
        # Plain tuples from the driver, not SQLAlchemy rows: making 10,000s of Row objects (and
        # the garbage collections they set off, kept alive in a cached grid) was a third of an
        # uncached province grid (bench/grid.py). The dates are converted as SQLAlchemy would
        # (SQLite stores text), once per distinct value.
        connection = session.connection()
        columns = (
            Milestone.election_id,
            Milestone.key,
            Milestone.planned_date,
            Milestone.earliest,
            Milestone.latest,
            Milestone.status,
            Milestone.done_on,
            Milestone.late,
        )
        result = connection.execute(select(*columns).where(Milestone.election_id.in_(chosen)))
        try:
            fetched = result.cursor.fetchall()  # at once: row by row costs twice as much
        finally:
            result.close()
        dialect = connection.dialect
        as_date = Milestone.planned_date.type.dialect_impl(dialect).result_processor(dialect, None)
        as_bool = Milestone.late.type.dialect_impl(dialect).result_processor(dialect, None)
        if as_date is not None or as_bool is not None:
            dates = _Converted(as_date or (lambda value: value))
            flags = _Converted(as_bool or (lambda value: value))
            fetched = [
                (e, key, dates[planned], dates[earliest], dates[latest], status, dates[done_on], flags[late])
                for e, key, planned, earliest, latest, status, done_on, late in fetched
            ]
        for row in fetched:
            found = milestones.get(row[0])
            if found is None:
                milestones[row[0]] = [row]
            else:
                found.append(row)
    chased = chase_counts(session, ids) if ids else {}
    source = _Cells(chased, local or (lambda instant: instant.date()))
    by_kind: dict[str, KindGrid] = {}
    # Per kind, once: its columns, each column's predecessors (the kind's `before` ordering), lead days.
    shapes: dict[str, tuple] = {}
    resolved: dict[tuple, KindSpec] = {}  # (kind, jurisdiction, anchor, statute) → the kind as it applies
    pending, waived, done = MilestoneStatus.PENDING, MilestoneStatus.WAIVED, MilestoneStatus.DONE
    overdue_only, wanted_state = filters.overdue_only, filters.state
    # The inner loop works on plain values (the milestone rows' fields, state strings, day
    # counts): no Cell, Counter or per-cell tuple is made for the thousands of cells of a province.
    for e in elections:
        shape = shapes.get(e.kind)
        if shape is None:
            kind = get_kind(e.kind)
            columns, phases = _columns(kind)
            section = KindGrid(e.kind, kind.name, phases, columns, [], {c.key: Counter() for c in columns})
            by_kind[e.kind] = section
            order = [
                (c.key, tuple(k for k, s in kind.milestones.items() if c.key in s.before)) for c in columns
            ]
            names = {state: state_name(kind, state) for state in (*kind.phase_keys, *FINAL_STATES, SUSPENDED)}
            tally = {c.key: dict.fromkeys(STATES, 0) for c in columns}  # per column: state → rows
            known = set(kind.milestones)  # the milestone keys with a column or none to have (computed)
            shape = shapes[e.kind] = (
                section,
                order,
                max(kind.reminders.lead_days, default=0),
                names,
                kind,
                tally,
                dict(_approvals(kind)),
                known,
            )
        section, order, lead, names, kind, tally, approvals, known = shape
        active = e.state not in FINAL_STATES
        suspended = e.state == SUSPENDED
        open_check = active and not suspended
        rows_m = {m[1]: m for m in milestones.get(e.id, ())}
        if not known.issuperset(rows_m):  # a province's variant adds milestones: the kind as it applies
            added = [k for k in rows_m if k not in known]
            spec_key = (e.kind, e.code, e.anchor_date, e.statute)
            applied = resolved.get(spec_key)
            if applied is None:
                applied = resolved[spec_key] = resolve_kind(
                    e.kind, jurisdiction=e.code, on=e.anchor_date, statute=e.statute
                )
            _add_columns(section, order, applied, added)
            for key in section.per_milestone:
                if key not in tally:
                    tally[key] = dict.fromkeys(STATES, 0)
            approvals.update(_approvals(applied))  # the section's: a variant's approvals too
            known.update(added)
        # Approvals whose trigger has not arisen are not applicable (不适用), not pending; a
        # triggered one without a bound of its own is due before the act it approves.
        waiting = set()
        for key, approved in approvals.items():
            m = rows_m.get(key)
            if m is None or m[5] in (waived, done):
                continue
            # m: (election id, key, planned, earliest, latest, status, done_on, late)
            target = rows_m.get(approved)
            bounds = None if target is None else Dates(target[3], target[4], target[2], target[6])
            if not approval_triggered(bounds):
                waiting.add(key)
            elif m[4] is None:
                rows_m[key] = (*m[:4], bounds.done_on or bounds.planned, *m[5:])  # its deadline as its latest
        settled = None
        found, states, days_left = [], [], []
        counts = dict.fromkeys(STATES, 0)
        most_overdue, soonest = 0, 10**6
        for key, predecessors in order:
            m = rows_m.get(key)
            if m is None:
                continue
            # m: (election id, key, planned, earliest, latest, status, done_on, late)
            status = m[5]
            if status == done and m[6] is not None and m[6] <= today:
                state, days = (DONE_LATE if m[7] else DONE), None
            elif status == waived:
                state, days = WAIVED, None
            elif waiting and key in waiting:
                state, days = NOT_APPLICABLE, None
            elif status == pending and open_check and m[4] is not None and today > m[4]:
                state, days = OVERDUE, (today - m[4]).days  # the common case, without the call
            else:
                before_open = False
                if predecessors:
                    if settled is None:
                        settled = {
                            k for k, o in rows_m.items()
                            if o[5] == waived or (o[5] == done and o[6] and o[6] <= today)
                        }
                        settled |= waiting  # nothing waits for an approval that is not needed
                    before_open = any(k not in settled for k in predecessors)
                state, days = _state(status, m[6], m[7], m[4], m[2], before_open, today, lead, active, suspended)
            if state == OVERDUE:
                if days > most_overdue:
                    most_overdue = days
            elif days is not None and days < soonest and state in (DUE_SOON, BLOCKED):
                soonest = days
            counts[state] += 1
            found.append(m)
            states.append(state)
            days_left.append(days)
        if overdue_only and not counts[OVERDUE]:
            continue
        if wanted_state and not counts.get(wanted_state):
            continue
        section.rows.append(
            Row(
                e.id,
                e.title,
                e.kind,
                e.state,
                names.get(e.state) or state_name(kind, e.state),
                e.anchor_date,
                e.code,
                e.name,
                e.level,
                e.area,
                Counter({s: n for s, n in counts.items() if n}),
                most_overdue,
                soonest,
                found,
                states,
                days_left,
                source,
            )
        )
        for m, state in zip(found, states, strict=True):
            tally[m[1]][state] += 1
    totals: Counter = Counter()
    for shape in shapes.values():
        section, tally = shape[0], shape[5]
        section.rows.sort(key=Row.urgency)
        for key, per_state in tally.items():
            counter = section.per_milestone[key]
            for state, n in per_state.items():
                if n:
                    counter[state] += n
                    totals[state] += n
    rollup = _rollup(session, root, [r for s in by_kind.values() for r in s.rows])
    kinds = sorted(by_kind.values(), key=lambda k: -len(k.rows))
    return Grid(
        today, root.code, root.name, [k for k in kinds if k.rows], totals, sum(len(k.rows) for k in kinds), rollup
    )


def _rollup(session: Session, root: Jurisdiction, rows: list[Row]) -> list[dict]:
    """Per direct child of the root (each county of a province, each township of a county):
    its elections and their cell counts; the rows of the root's own elections count as 本级."""
    areas: dict[int | None, dict] = {}
    for row in rows:
        item = areas.get(row.area)
        if item is None:
            item = areas[row.area] = {"area_id": row.area, "elections": 0, "counts": Counter()}
        item["elections"] += 1
        counter = item["counts"]
        for state, n in row.counts.items():
            counter[state] += n
    if not areas:
        return []
    ids = [a for a in areas if a is not None]
    found = {
        row.id: (row.code, row.name)
        for row in session.execute(
            select(Jurisdiction.id, Jurisdiction.code, Jurisdiction.name).where(Jurisdiction.id.in_(ids))
        )
    } if ids else {}
    out = []
    for area_id, item in areas.items():
        item["code"], item["name"] = found.get(area_id, (None, f"{root.name}（本级）"))
        out.append(item)
    out.sort(key=lambda a: (-a["counts"][OVERDUE], -a["counts"][BLOCKED], a["name"]))
    return out


def data_version(session: Session) -> tuple:
    """What the grid is made of, as one cheap statement, for a cache key: the audit head (every
    change the grid shows is audited — completions, corrections, waivers, phase moves, chases,
    jurisdictions — and moves the head in the same transaction) and the elections' count and
    version sum (every change to an election or its milestones bumps its version), so a write
    that bypassed the audit log still changes the key."""
    head = session.get(AuditHead, 1)
    count, versions = session.execute(
        select(func.count(Election.id), func.coalesce(func.sum(Election.version), 0))
    ).one()
    return (head.seq, head.hash) if head is not None else (0, ""), int(count), int(versions)


def grid_dict(g: Grid, *, limit: int | None = None, offset: int = 0) -> dict:
    """The grid as JSON-friendly data (the API's body). Counts cover every row; `limit` and
    `offset` page each kind's rows (most urgent first)."""
    end = None if limit is None else offset + limit
    return {
        "today": g.today.isoformat(),
        "jurisdiction": {"code": g.root_code, "name": g.root_name},
        "rows_total": g.rows_total,
        "totals": {s: g.totals[s] for s in STATES},
        "rollup": [
            {"code": a["code"], "name": a["name"], "elections": a["elections"], "counts": {s: a["counts"][s] for s in STATES}}
            for a in g.rollup
        ],
        "kinds": [
            {
                "kind": k.kind,
                "kind_name": k.kind_name,
                "headline": k.headline(),
                "columns": [
                    {"key": c.key, "name": c.name, "phase": c.phase, "phase_name": c.phase_name} for c in k.columns
                ],
                "per_milestone": {key: {s: counter[s] for s in STATES} for key, counter in k.per_milestone.items()},
                "rows_total": len(k.rows),
                "rows": [
                    {
                        "election_id": r.election_id,
                        "title": r.title,
                        "state": r.state,
                        "state_name": r.state_name,
                        "anchor_date": r.anchor_date.isoformat(),
                        "jurisdiction": {"code": r.jurisdiction_code, "name": r.jurisdiction_name},
                        "counts": {s: r.counts[s] for s in STATES if r.counts[s]},
                        "cells": [
                            {
                                "key": c.key,
                                "state": c.state,
                                "planned": c.planned.isoformat() if c.planned else None,
                                "latest": c.latest.isoformat() if c.latest else None,
                                "done_on": c.done_on.isoformat() if c.done_on else None,
                                "days": c.days,
                                "chased": c.chased,
                                "chased_last": c.chased_last.isoformat() if c.chased_last else None,
                            }
                            for c in r.cells.values()
                        ],
                    }
                    for r in k.rows[offset:end]
                ],
            }
            for k in g.kinds
        ],
    }


def late_items(g: Grid) -> list[dict]:
    """Every overdue cell: township, milestone, bound, days late (the report's second sheet)."""
    items = []
    for k in g.kinds:
        names = {c.key: c.name for c in k.columns}
        for r in k.rows:
            for c in r.cells.values():
                if c.state == OVERDUE:
                    items.append(
                        {
                            "jurisdiction": r.jurisdiction_name,
                            "title": r.title,
                            "milestone": names[c.key],
                            "latest": c.latest,
                            "days": c.days,
                            "chased": c.chased,
                        }
                    )
    items.sort(key=lambda i: (-(i["days"] or 0), i["jurisdiction"]))
    return items
