"""Electoral districts (选区) of an election: add, list, look up (EL 24, 25).

A district's scope (选区范围) is printed in the 选区划分公告; its seats (one to three, EL 25)
feed the candidates part.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands import elections
from workflow.errors import Conflict, DomainError, not_found
from workflow.events import DistrictAdded
from workflow.store.audit import record
from workflow.store.voters import District, Voter, VoterStatus

AREA_MAX = 2000  # 选区范围: a district's villages, communities or units, printed in the 选区划分公告


def clean_area(area: str | None, *, code: str | None = None) -> str | None:
    """A district's scope (选区范围) as stored: stripped, empty as None, at most AREA_MAX
    characters (EL 25: districts are divided by residence area or by production/work units)."""
    area = (area or "").strip() or None
    if area is not None and len(area) > AREA_MAX:
        which = f"选区 {code} 的选区范围" if code else "选区范围"
        raise DomainError(
            "E_DISTRICT_INVALID", f"{which}不能超过 {AREA_MAX} 个字符（现为 {len(area)} 个）", "area"
        )
    return area


def add_district(
    session: Session,
    election_id: int,
    *,
    code: str,
    name: str,
    seats: int | None = None,
    population: int | None = None,
    area: str | None = None,
    clock: Clock,
    actor: str,
) -> District:
    elections.get_election(session, election_id)
    code = code.strip()
    if not code or not name.strip():
        raise DomainError("E_DISTRICT_INVALID", "选区代码和名称不能为空", "code")
    if seats is not None and not 1 <= seats <= 3:
        raise DomainError("E_DISTRICT_SEATS", "每一选区选一名至三名代表（选举法第二十五条）", "seats")
    area = clean_area(area)
    exists = session.execute(
        select(District.id).where(District.election_id == election_id, District.code == code)
    ).first()
    if exists:
        raise Conflict("E_DUPLICATE", f"选区代码 {code} 已存在", "code")
    district = District(
        election_id=election_id, code=code, name=name.strip(), seats=seats, population=population, area=area
    )
    session.add(district)
    session.flush()
    record(
        session,
        DistrictAdded(
            entity_id=f"{election_id}/{code}",
            after={
                "code": code,
                "name": district.name,
                "seats": seats,
                "population": population,
                "area": area,
            },
        ),
        actor=actor,
        clock=clock,
    )
    return district


def list_districts(session: Session, election_id: int) -> list[dict]:
    counts = dict(
        session.execute(
            select(Voter.district_id, func.count())
            .where(Voter.election_id == election_id, Voter.status == VoterStatus.ACTIVE)
            .group_by(Voter.district_id)
        ).all()
    )
    districts = session.execute(
        select(District).where(District.election_id == election_id).order_by(District.code)
    ).scalars()
    return [
        {
            "code": d.code,
            "name": d.name,
            "seats": d.seats,
            "population": d.population,
            "area": d.area,
            "voters": counts.get(d.id, 0),
        }
        for d in districts
    ]


def find_district(session: Session, election_id: int, code: str) -> District:
    district = session.execute(
        select(District).where(District.election_id == election_id, District.code == code)
    ).scalar_one_or_none()
    if district is None:
        raise not_found("选区", code, "district")
    return district


def district_lookup(session: Session, election_id: int) -> dict[str, int]:
    lookup: dict[str, int] = {}
    for district_id, code, name in session.execute(
        select(District.id, District.code, District.name).where(District.election_id == election_id)
    ):
        lookup.setdefault(name, district_id)
        lookup[code] = district_id  # a code wins over another district's identical name
    return lookup


def district_codes(session: Session, election_id: int) -> dict[int, str]:
    """District id → code."""
    return {
        district_id: code
        for code, district_id in session.execute(
            select(District.code, District.id).where(District.election_id == election_id)
        )
    }
