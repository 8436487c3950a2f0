"""A province's (or a city's) whole 县乡两级 round in one transaction: an election for every county
under it and, under each county's election, one for each of that county's townships.

Built on `create_round` (elections.py): one call for the counties, one per county for its
townships (each township election's parent is its county's). The jurisdiction tree is read level by
level (one SELECT per level, not one per county). EL 9 (选举委员会 of county and township) and the
县乡两级 practice of one election day for both levels are what the two plans express."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.calendar import HolidayCalendar
from workflow.clock import Clock
from workflow.commands.elections import create_round
from workflow.commands.jurisdictions import find_jurisdiction
from workflow.errors import DomainError
from workflow.plan import Plan
from workflow.store.models import Election, Jurisdiction


@dataclass(frozen=True)
class ProvinceRound:
    counties: list[Election]
    townships: dict[int, list[Election]]  # county election id → its townships' elections

    @property
    def count(self) -> int:
        return len(self.counties) + sum(len(t) for t in self.townships.values())


def subtree(session: Session, root: Jurisdiction) -> dict[int, list[Jurisdiction]]:
    """Every jurisdiction under `root`, as parent id → children (in code order); one SELECT per
    level of the tree."""
    children: dict[int, list[Jurisdiction]] = {}
    frontier = [root.id]
    while frontier:
        found = session.execute(
            select(Jurisdiction).where(Jurisdiction.parent_id.in_(frontier)).order_by(Jurisdiction.code)
        ).scalars()
        frontier = []
        for jurisdiction in found:
            children.setdefault(jurisdiction.parent_id, []).append(jurisdiction)
            frontier.append(jurisdiction.id)
    return children


def _under(children: dict[int, list[Jurisdiction]], start: int, level: str, stop: str) -> list[Jurisdiction]:
    """Descendants of `start` at `level`, not looking below a `stop`-level jurisdiction."""
    found, stack = [], list(reversed(children.get(start, [])))
    while stack:
        node = stack.pop()
        if node.level == level:
            found.append(node)
        elif node.level != stop:
            stack.extend(reversed(children.get(node.id, [])))
    return sorted(found, key=lambda j: j.code)


def create_province_round(
    session: Session,
    province_code: str,
    county_plan: Plan,
    township_plan: Plan,
    *,
    clock: Clock,
    actor: str,
    title_format: str = "{title}（{name}）",
    accept_violations: str | None = None,
    holidays: HolidayCalendar | None = None,
    counties: Sequence[str] | None = None,
) -> ProvinceRound:
    """Create the round for every county under `province_code` (or only `counties`) and every
    township under each; all or nothing."""
    root = find_jurisdiction(session, province_code)
    children = subtree(session, root)
    county_nodes = _under(children, root.id, "county", "county")
    if counties:
        wanted = set(counties)
        unknown = sorted(wanted - {c.code for c in county_nodes})
        if unknown:
            raise DomainError(
                "E_NOT_FOUND", f"{root.name}下没有这些县级区域：{'、'.join(unknown)}", "counties"
            )
        county_nodes = [c for c in county_nodes if c.code in wanted]
    if not county_nodes:
        raise DomainError("E_NO_JURISDICTIONS", f"{root.name}下没有县级行政区域", "province")
    county_round = create_round(
        session,
        county_plan,
        [c.code for c in county_nodes],
        clock=clock,
        actor=actor,
        title_format=title_format,
        accept_violations=accept_violations,
        holidays=holidays,
    )
    by_code = {e.jurisdiction.code: e for e in county_round.elections}
    townships: dict[int, list[Election]] = {}
    for county in county_nodes:
        codes = [t.code for t in _under(children, county.id, "township", "township")]
        if not codes:
            continue
        election = by_code[county.code]
        created = create_round(
            session,
            dataclasses.replace(township_plan, parent_election=election.id),
            codes,
            clock=clock,
            actor=actor,
            title_format=title_format,
            accept_violations=accept_violations,
            holidays=holidays,
        )
        townships[election.id] = created.elections
    return ProvinceRound(county_round.elections, townships)
