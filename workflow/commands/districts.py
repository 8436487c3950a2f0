"""Store a seat apportionment or a district division in the District table.

The pure rules (workflow/rules/apportion.py, workflow/rules/districting.py) only propose; this
command makes a plan the election's districts, in the caller's transaction, audited once. It
completes nothing: the committee publishes the 代表名额分配方案公告 and the 选区划分公告, which
complete `quotas_allocated` and `districts_published` (EL 12, 15, 25, 26).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands import elections
from workflow.commands.voter_districts import clean_area
from workflow.errors import Conflict, DomainError
from workflow.events import DistrictsApplied
from workflow.machine import FINAL_STATES, SUSPENDED
from workflow.rules.apportion import apportion
from workflow.rules.districting import propose
from workflow.rules.units import Unit
from workflow.store.audit import record
from workflow.store.voters import District, Voter

DISTRICTS_MILESTONE = "districts_published"
LIST_MILESTONE = "voter_list_published"


@dataclass(frozen=True)
class PlannedDistrict:
    code: str
    name: str
    seats: int
    population: int
    units: tuple[str, ...] = ()
    area: str | None = None  # 选区范围, printed in the 选区划分公告


def plan_from_units(units: Sequence[Unit], seats: int, *, graph: bool, tolerance: str = "0.15") -> dict:
    """A plan from a units file: each unit a district (apportionment), or units grouped into
    districts (division, when the file has parent and neighbours columns). A division that
    leaves a district outside the tolerance or not contiguous is refused, with the reasons.
    Each district's scope (`area`, 选区范围) is its own name in an apportionment, and the names
    of its units, in the file's order, in a division."""
    if not graph:
        result = apportion([(u.code, u.name, u.population) for u in units], seats)
        planned = [
            PlannedDistrict(d.code, d.name, d.seats, d.population, area=d.name) for d in result.districts
        ]
        return {"method": "apportion", "districts": planned, "report": result.as_dict()}
    proposal = propose(units, seats, tolerance)
    if not proposal.ok:
        reasons = "；".join(p.message for p in proposal.unsatisfied) or "划分方案未满足要求"
        raise DomainError("E_PROPOSAL_UNSATISFIED", f"选区划分方案不能采用：{reasons}", "file")
    # The scope lists a district's units in the committee's own order (the file's), not in the
    # order the division happened to walk them.
    order = {u.code: (index, u.name) for index, u in enumerate(units)}
    planned = [
        PlannedDistrict(
            d.code,
            d.name,
            d.seats,
            d.population,
            d.units,
            area="、".join(order[c][1] for c in sorted(d.units, key=lambda code: order[code][0])),
        )
        for d in proposal.districts
    ]
    return {"method": "propose", "districts": planned, "report": proposal.as_dict()}


def apply_districts(
    session: Session,
    election_id: int,
    planned: Sequence[PlannedDistrict],
    *,
    clock: Clock,
    actor: str,
    method: str = "manual",
) -> dict:
    """Make `planned` the election's districts: add new codes, update seats, population, name
    and scope (area) of existing ones, delete those left out (only when nobody is registered there).
    Refused once the district division has been published or the voter list is out
    (EL 25-28: districts come before the list)."""
    election = elections.get_election(session, election_id, for_update=True)
    _check_adjustable(election)
    areas = check_planned(planned)
    existing = {
        d.code: d
        for d in session.execute(select(District).where(District.election_id == election_id)).scalars()
    }
    dropped = sorted(set(existing) - {p.code for p in planned})
    _check_unused(session, election_id, dropped)
    before = {
        c: {"name": d.name, "seats": d.seats, "population": d.population, "area": d.area}
        for c, d in existing.items()
    }
    added, changed = _write_districts(session, election_id, planned, areas, existing, dropped)
    after = {
        p.code: {"name": p.name, "seats": p.seats, "population": p.population, "area": areas[p.code]}
        for p in planned
    }
    record(
        session,
        DistrictsApplied(
            entity_id=str(election_id),
            before=before or None,
            after={"method": method, "districts": after},
        ),
        actor=actor,
        clock=clock,
    )
    return {
        "election_id": election_id,
        "method": method,
        "seats": sum(p.seats for p in planned),
        "districts": [
            {
                "code": p.code,
                "name": p.name,
                "seats": p.seats,
                "population": p.population,
                "area": areas[p.code],
                "units": list(p.units),
            }
            for p in planned
        ],
        "added": added,
        "changed": changed,
        "removed": dropped,
    }


def _check_adjustable(election) -> None:
    if election.state in FINAL_STATES or election.state == SUSPENDED:
        raise Conflict("E_ELECTION_NOT_ACTIVE", "选举已结束、暂停或取消，不能调整选区", "election_id")
    kind = elections.kind_of(election)
    for key, what in ((DISTRICTS_MILESTONE, "选区划分已公布"), (LIST_MILESTONE, "选民名单已公布")):
        if key in kind.milestones and election.milestone(key).settled:
            raise Conflict(
                "E_DISTRICTS_FIXED", f"{what}，不能再调整选区（选举法第二十五条至第二十八条）", "election_id"
            )


def check_planned(planned: Sequence[PlannedDistrict]) -> dict[str, str | None]:
    """A plan's own rules (pure): at least one district, unique codes, one to three seats each.
    Returns each district's cleaned scope (area)."""
    if not planned:
        raise DomainError("E_NO_DISTRICTS", "方案中没有选区", "file")
    codes = [p.code for p in planned]
    if len(set(codes)) != len(codes):
        raise DomainError("E_DUPLICATE_CODE", "方案中的选区代码重复", "code")
    for p in planned:
        if not 1 <= p.seats <= 3:  # EL 25: one to three deputies per district
            raise DomainError(
                "E_DISTRICT_SEATS", f"选区 {p.code} 应选一名至三名代表（选举法第二十五条）", "seats"
            )
    return {p.code: clean_area(p.area, code=p.code) for p in planned}


def _check_unused(session: Session, election_id: int, dropped: list[str]) -> None:
    """A district left out of the plan may go only if nobody is registered there."""
    registered = dict(
        session.execute(
            select(District.code, func.count(Voter.id))
            .join(Voter, Voter.district_id == District.id)
            .where(District.election_id == election_id)
            .group_by(District.code)
        ).all()
    )
    in_use = [code for code in dropped if registered.get(code)]
    if in_use:
        raise Conflict(
            "E_DISTRICT_IN_USE",
            f"选区 {'、'.join(in_use)} 已登记选民，不能从方案中删去；请先调整这些选民的选区",
            "file",
        )


def _write_districts(session, election_id, planned, areas, existing, dropped) -> tuple[list, list]:
    for code in dropped:
        session.delete(existing[code])
    added, changed = [], []
    for p in planned:
        row, area = existing.get(p.code), areas[p.code]
        if row is None:
            session.add(
                District(
                    election_id=election_id,
                    code=p.code,
                    name=p.name,
                    seats=p.seats,
                    population=p.population,
                    area=area,
                )
            )
            added.append(p.code)
        elif (row.name, row.seats, row.population, row.area) != (p.name, p.seats, p.population, area):
            row.name, row.seats, row.population, row.area = p.name, p.seats, p.population, area
            changed.append(p.code)
    session.flush()
    return added, changed
