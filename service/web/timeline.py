"""The election timeline as SVG geometry (pure): phases as bars from their planned windows,
milestones as numbered marks with their statutory bounds, election day and today as lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from workflow.kinds import KindSpec
from workflow.store.models import Election

WIDTH = 960
LEFT, RIGHT = 10, 10
AXIS = 34
ROW = 46


@dataclass
class Timeline:
    width: int
    height: int
    ticks: list[dict] = field(default_factory=list)
    phases: list[dict] = field(default_factory=list)
    marks: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    note: str | None = None


def _dates(election: Election) -> list[date]:
    found = [election.anchor_date]
    for start, end in (election.phase_windows or {}).values():
        found += [date.fromisoformat(d) for d in (start, end) if d]
    for m in election.milestones:
        found += [d for d in (m.planned_date, m.latest, m.earliest, m.done_on) if d]
    return found


def build(election: Election, kind: KindSpec, today: date, numbers: dict[str, int]) -> Timeline:
    dates = _dates(election)
    first, last = min(dates) - timedelta(days=3), max(dates) + timedelta(days=3)
    today_shown = first - timedelta(days=30) <= today <= last + timedelta(days=30)
    if today_shown:
        first, last = min(first, today - timedelta(days=2)), max(last, today + timedelta(days=2))
    span = max((last - first).days, 1)
    usable = WIDTH - LEFT - RIGHT

    def x(day: date) -> float:
        return round(LEFT + usable * (day - first).days / span, 1)

    rows = {p.key: i for i, p in enumerate(kind.phases)}
    timeline = Timeline(WIDTH, AXIS + ROW * len(kind.phases) + 8)
    timeline.ticks = _ticks(first, last, span, x)
    timeline.phases = _phase_bars(election, kind, rows, first, last, x)
    timeline.marks = [
        mark for m in election.milestones if (mark := _mark(m, kind, rows, today, numbers, x)) is not None
    ]
    timeline.lines.append({"x": x(election.anchor_date), "label": kind.anchor_name, "kind": "anchor"})
    if today_shown:
        timeline.lines.append({"x": x(today), "label": "今天", "kind": "today"})
    else:
        timeline.note = f"今天（{today}）不在时间轴范围内"
    return timeline


def _ticks(first: date, last: date, span: int, x) -> list[dict]:
    """Weekly ticks on Mondays for a short election, else the first of each month."""
    ticks = []
    step = 7 if span <= 130 else 30
    day = first + timedelta(days=(7 - first.weekday()) % 7) if step == 7 else first.replace(day=1)
    while day <= last:
        if day >= first:
            ticks.append({"x": x(day), "label": f"{day.month}/{day.day}"})
        day = (
            day + timedelta(days=step)
            if step == 7
            else (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        )
    return ticks


def _phase_bars(election: Election, kind: KindSpec, rows: dict[str, int], first: date, last: date, x) -> list:
    phase_order = list(rows)
    current = phase_order.index(election.state) if election.state in rows else None
    windows = election.phase_windows or {}
    phases = []
    for key, index in rows.items():
        y = AXIS + index * ROW
        start, end = windows.get(key, [None, None])
        bar = None
        if start or end:
            s = date.fromisoformat(start) if start else first
            e = date.fromisoformat(end) if end else last
            state = (
                "current"
                if index == current
                else ("past" if current is not None and index < current else "future")
            )
            if election.state == "closed":
                state = "past"
            bar = {"x": x(s), "w": max(x(e + timedelta(days=1)) - x(s), 3), "state": state}
        phases.append({"key": key, "name": kind.phase(key).name, "y": y, "bar": bar})
    return phases


def _mark(m, kind: KindSpec, rows: dict[str, int], today: date, numbers: dict[str, int], x) -> dict | None:
    """One milestone on its phase's row: done, late, waived, overdue or pending."""
    y = AXIS + rows.get(m.phase, 0) * ROW
    spec = kind.milestones[m.key]
    when = m.done_on or m.planned_date or m.latest
    if when is None:
        return None
    late_now = not m.settled and m.latest is not None and today > m.latest
    status = (
        "waived"
        if m.status == "waived"
        else "done"
        if m.done_on
        else "overdue"
        if late_now
        else "pending"
    )
    if m.late:
        status = "late"
    return {
        "n": numbers.get(m.key, 0),
        "name": spec.name,
        "x": x(when),
        "y": y + 30,
        "status": status,
        "computed": spec.computed,
        "earliest": x(m.earliest) if m.earliest else None,
        "latest": x(m.latest) if m.latest else None,
        "title": f"{spec.name}：{'办结' if m.done_on else '计划'} {when}"
        + (f"，最迟 {m.latest}" if m.latest else ""),
    }
