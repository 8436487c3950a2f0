"""Seat allocation (代表名额分配) as the committee records it: the total decided by the standing
committee (EL 12: base, one more per N people, cap; a province may add up to 5 %) with its
document number and population base, and — for the county of a 县乡两级 round — the total shared
among the townships by population, every township however small keeping at least one seat
(EL 15), each township's share then going to its districts of one to three seats (EL 25).
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from workflow.clock import Clock
from workflow.commands import elections, register_levels
from workflow.errors import DomainError
from workflow.events import SeatsDecided
from workflow.rules.apportion import allocate
from workflow.rules.quota import total_seats
from workflow.store.audit import record
from workflow.store.tally_entries import SeatDecision
from workflow.store.voters import District
from workflow.timeutil import local_date


def statutory(election, population: int) -> dict | None:
    """What EL 12 gives for this population (the kind's quota rule of the election's statute),
    or None when the kind has no quota rule for the jurisdiction's level."""
    kind = elections.kind_of(election)
    level = election.jurisdiction.level
    if not kind.quota:
        return None
    try:
        result = total_seats(kind, level, population, election.statute)
    except DomainError:
        return None
    extra = kind.quota_extra  # EL 12 ¶3: the provincial standing committee may add up to max_percent
    percent = int(extra.get("max_percent", 0))
    most = result.seats + result.seats * percent // 100
    return {**result.as_dict(), "most": most, "extra_percent": percent, "extra_source": extra.get("source", "")}


def record_decision(
    session: Session,
    election_id: int,
    *,
    total: int,
    document: str,
    population: int,
    decided_on: date | None = None,
    clock: Clock,
    actor: str,
) -> SeatDecision:
    """Record (or correct) the standing committee's decision on the total of deputies."""
    election = elections.get_election(session, election_id)
    document = (document or "").strip()
    if not document:
        raise DomainError("E_DOCUMENT_REQUIRED", "请填写人大常委会决定的文号", "document")
    if total < 1:
        raise DomainError("E_BAD_SEATS", "代表名额应为正整数", "total")
    if population < 1:
        raise DomainError("E_BAD_POPULATION", "人口基数应为正整数", "population")
    today = local_date(clock.now(), election.jurisdiction.timezone)
    decided_on = decided_on or today
    if decided_on > today:
        raise DomainError("E_DATE_IN_FUTURE", f"决定日期 {decided_on} 晚于今天 {today}", "decided_on")
    law = statutory(election, population)
    if law is not None and total > law["most"]:
        raise DomainError(
            "E_QUOTA_EXCEEDED",
            f"代表总名额 {total} 超过法定名额：{law['rule']}；经省级人大常委会决定另加至多 {law['extra_percent']}% 共 {law['most']} 名（{law['extra_source']}）",
            "total",
        )
    row = session.execute(
        select(SeatDecision).where(SeatDecision.election_id == election_id)
    ).scalar_one_or_none()
    before = None
    if row is None:
        row = SeatDecision(election_id=election_id)
        session.add(row)
    else:
        before = {"total": row.total, "document": row.document, "population": row.population}
    row.total, row.document, row.population = total, document, population
    row.decided_on, row.decided_by, row.recorded_at = decided_on, actor, clock.now()
    session.flush()
    record(
        session,
        SeatsDecided(
            entity_id=str(election_id),
            before=before,
            after={"total": total, "document": document, "population": population, "decided_on": decided_on},
        ),
        actor=actor,
        clock=clock,
    )
    return row


def allocation(session: Session, election_id: int) -> dict:
    """The recorded decision, what EL 12 gives, and for a round's county the townships' shares
    (EL 15: by population, at least one each) beside the seats of their districts."""
    election = elections.get_election(session, election_id)
    decision = session.execute(
        select(SeatDecision).where(SeatDecision.election_id == election_id)
    ).scalar_one_or_none()
    seats_in_districts = session.execute(
        select(func.coalesce(func.sum(District.seats), 0)).where(District.election_id == election_id)
    ).scalar_one()
    out = {
        "decision": decision,
        "statutory": statutory(election, decision.population) if decision else None,
        "district_seats": int(seats_in_districts),
        "townships": [],
    }
    towns = register_levels.township_elections(session, election_id)
    if not towns or decision is None:
        return out
    ids = [town.id for town in towns]
    population = dict(
        session.execute(
            select(District.election_id, func.coalesce(func.sum(District.population), 0))
            .where(District.election_id.in_(ids))
            .group_by(District.election_id)
        ).all()
    )
    # The county districts each township's districts belong to (each counted once per township).
    links = (
        select(District.election_id.label("town"), District.county_district_id.label("county_district"))
        .where(District.election_id.in_(ids), District.county_district_id.is_not(None))
        .distinct()
        .subquery()
    )
    county_district = aliased(District)
    county_seats = dict(
        session.execute(
            select(links.c.town, func.coalesce(func.sum(county_district.seats), 0))
            .join(county_district, county_district.id == links.c.county_district)
            .group_by(links.c.town)
        ).all()
    )
    rows = [
        {
            "code": town.jurisdiction.code,
            "name": town.jurisdiction.name,
            "population": int(population.get(town.id, 0)),
            "in_districts": int(county_seats.get(town.id, 0)),
        }
        for town in towns
    ]
    populated = {r["code"]: r["population"] for r in rows if r["population"] > 0}
    if populated and decision.total >= len(populated):
        shares = allocate(populated, decision.total, lower=1, upper=decision.total)
        total_population = sum(populated.values())
        for r in rows:
            seats = shares.get(r["code"])
            r["seats"] = seats
            if seats:
                per = Fraction(r["population"], seats)
                r["per_seat"] = round(float(per))
                r["deviation"] = f"{float(per * decision.total / total_population - 1) * 100:+.1f}%"
    out["townships"] = rows
    return out
