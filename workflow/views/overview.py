"""Read-side views shared by the API and the dashboard: scoped, paginated election lists and
each election's progress, next deadline and overdue items as of a given local date."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from workflow.commands.elections import kind_of
from workflow.machine import FINAL_STATES, state_name
from workflow.store.models import Election, Jurisdiction, MilestoneStatus
from workflow.timetable import approvals_due, not_applicable

# The dashboard's order of levels, from the top down.
LEVEL_ORDER = {
    "province": 0,
    "city": 1,
    "county": 2,
    "township": 3,
    "party_org": 4,
    "community": 5,
    "village": 6,
}


@dataclass(frozen=True)
class Page:
    items: list[Election]
    total: int
    limit: int
    offset: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    @property
    def number(self) -> int:
        """This page's number, from 1."""
        return self.offset // self.limit + 1


def list_elections_page(
    session: Session,
    *,
    scope: Collection[int],
    jurisdiction_ids: Collection[int] | None = None,
    state: str | None = None,
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
    overview: bool = False,
) -> Page:
    """Elections in `scope` (jurisdiction ids), optionally narrowed, ordered by id — or, for
    the dashboard's `overview`, open ones first, then by level (province → village), then id,
    in SQL so that every page continues the one before. Three statements for any page size:
    the count, the page, its jurisdictions and milestones (selectin)."""
    where = [Election.jurisdiction_id.in_(list(scope))]
    if jurisdiction_ids is not None:
        where.append(Election.jurisdiction_id.in_(list(jurisdiction_ids)))
    if state:
        where.append(Election.state == state)
    if kind:
        where.append(Election.kind == kind)
    total = session.execute(select(func.count(Election.id)).where(*where)).scalar_one()
    query = select(Election).where(*where)
    if overview:
        query = query.join(Jurisdiction, Election.jurisdiction_id == Jurisdiction.id).order_by(
            case((Election.state.in_(list(FINAL_STATES)), 1), else_=0),
            case(LEVEL_ORDER, value=Jurisdiction.level, else_=9),
            Election.id,
        )
    else:
        query = query.order_by(Election.id)
    rows = (
        session.execute(
            query.options(selectinload(Election.jurisdiction), selectinload(Election.milestones))
            .limit(limit)
            .offset(offset)
        )
        .scalars()
        .all()
    )
    return Page(list(rows), total, limit, offset)


def progress(election: Election, today: date) -> dict:
    """Progress, the next deadline and what is wrong, for one election on `today` (local).

    A pending milestone is overdue the day after its statutory latest bound, and late against
    the committee's own plan the day after its planned date (CONTRACTS.md). `problems` says
    each problem once, the most urgent first: an overdue milestone that also holds up the next
    phase is one line (not 已逾期 and 受阻 twice). The next deadline is the earliest unmet
    bound: an overdue one (days_left < 0, shown as 逾期N天) before any future date.
    """
    kind = kind_of(election)
    active = election.state not in FINAL_STATES
    # Not in the figure: computed dates, and approvals whose trigger has not arisen (不适用).
    waiting = not_applicable(kind, election.milestones)
    due = approvals_due(kind, election.milestones)  # triggered approvals: before the approved act
    workable = [m for m in election.milestones if not kind.milestones[m.key].computed and m.key not in waiting]
    settled = sum(1 for m in workable if m.settled)
    # The phase guard's refusals are stored as texts; a milestone's text names the milestone.
    missing = {spec.missing_text: key for key, spec in kind.milestones.items()}
    blocked_texts = [
        r.get("message", str(r)) if isinstance(r, dict) else str(r) for r in election.blocked_reasons or []
    ]
    blocking = {missing[t] for t in blocked_texts if t in missing}
    overdue, plan_late, bounds = [], [], []
    for m in workable:
        if m.settled or not active:
            continue
        spec = kind.milestones[m.key]
        latest = m.latest or due.get(m.key)
        item = {
            "key": m.key,
            "name": spec.name,
            "planned": m.planned_date.isoformat() if m.planned_date else None,
            "latest": latest.isoformat() if latest else None,
        }
        if m.status == MilestoneStatus.OVERDUE or (latest and today > latest):
            overdue.append(item)
            bound = latest or m.planned_date
            bounds.append((0, bound, item))
            continue
        elif m.planned_date and today > m.planned_date:
            plan_late.append(item)
            bound = latest or m.planned_date  # the plan is missed: the statutory bound is next
        else:
            bound = m.planned_date or latest
        if bound:
            bounds.append((1, bound, item))
    bounds.sort(key=lambda b: (b[0], b[1] or date.max))
    next_deadline = None
    if bounds and bounds[0][1]:
        rank, target, item = bounds[0]
        next_deadline = {
            **item,
            "date": target.isoformat(),
            "days_left": (target - today).days,  # < 0: overdue (or, when not, behind the plan)
            "overdue": rank == 0,
        }
    problems = []
    for o in sorted(overdue, key=lambda o: o["latest"] or ""):
        days = (today - date.fromisoformat(o["latest"])).days if o["latest"] else 0
        text = f"已逾期{days}天：{o['name']}（最迟 {o['latest']}）" if days > 0 else f"已逾期：{o['name']}"
        if o["key"] in blocking:
            text += "，下一阶段因此受阻"
        problems.append({"level": "bad", "key": o["key"], "days": days, "text": text})
    late_keys = {o["key"] for o in overdue}
    settled_keys = {m.key for m in election.milestones if m.settled}
    behind_plan = {o["key"]: (today - date.fromisoformat(o["planned"])).days for o in plan_late}
    for text in blocked_texts:
        key = missing.get(text)
        if key in late_keys or key in settled_keys:
            continue  # said above on its overdue line, or done since the sweep saw it
        line = f"受阻：{text}"
        if key in behind_plan:
            line += f"（晚于计划{behind_plan[key]}天）"
        problems.append({"level": "bad", "key": key, "days": behind_plan.pop(key, None), "text": line})
    for o in sorted(plan_late, key=lambda o: o["planned"] or ""):
        if o["key"] not in behind_plan:
            continue  # said on its 受阻 line
        days = behind_plan[o["key"]]
        problems.append(
            {"level": "warn", "key": o["key"], "days": days, "text": f"晚于计划{days}天：{o['name']}（计划 {o['planned']}）"}
        )
    return {
        "state_name": state_name(kind, election.state),
        "settled": settled,
        "total": len(workable),
        "percent": round(100 * settled / len(workable)) if workable else 100,
        "next_deadline": next_deadline,
        "overdue": overdue,
        "plan_late": plan_late,
        "blocked": blocked_texts,
        "problems": problems,
    }


def summary(election: Election, today: date) -> dict:
    """One row of a list: identity, phase and progress."""
    j: Jurisdiction = election.jurisdiction
    return {
        "id": election.id,
        "kind": election.kind,
        "title": election.title,
        "jurisdiction": {"code": j.code, "name": j.name, "level": j.level},
        "anchor_date": election.anchor_date.isoformat(),
        "state": election.state,
        "version": election.version,
        "parent_election_id": election.parent_election_id,
        "progress": progress(election, today),
    }
