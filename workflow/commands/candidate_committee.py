"""Candidate commands: the election committee's roster and the candidates who still sit on
it (EL 10: a committee member who becomes a candidate must resign).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands.candidate_records import ACTIVE, audit_change, candidates_of
from workflow.commands.elections import get_election, kind_of
from workflow.errors import Conflict, DomainError, not_found
from workflow.events import CommitteeMemberAdded, CommitteeMemberResigned
from workflow.rules import candidates as rules
from workflow.store.candidates import CommitteeMember


# -- the election committee (EL 10) ---------------------------------------------------------
def add_committee_member(
    session: Session,
    election_id: int,
    *,
    name: str,
    role: str,
    clock: Clock,
    actor: str,
    id_number: str | None = None,
    birth_date: date | None = None,
    appointed_on: date | None = None,
) -> CommitteeMember:
    get_election(session, election_id)
    if not name.strip() or not role.strip():
        raise DomainError("E_NAME_REQUIRED", "请填写选举委员会组成人员的姓名和职务", "name")
    number = rules.normalise_id(id_number) if id_number else None
    member = CommitteeMember(
        election_id=election_id,
        name=name.strip(),
        role=role.strip(),
        id_hash=rules.id_hash(number) if number else None,
        id_masked=rules.mask_id(number) if number else None,
        birth_date=birth_date,
        appointed_on=appointed_on,
    )
    session.add(member)
    session.flush()
    audit_change(
        session,
        CommitteeMemberAdded,
        str(member.id),
        {"name": member.name, "role": member.role, "id": member.id_masked},
        clock=clock,
        actor=actor,
    )
    return member


def resign_committee_member(
    session: Session, election_id: int, member_id: int, *, on: date, clock: Clock, actor: str
) -> CommitteeMember:
    member = session.get(CommitteeMember, member_id)
    if member is None or member.election_id != election_id:
        raise not_found("选举委员会组成人员", member_id, "member_id")
    if member.resigned_on is not None:
        raise Conflict("E_ALREADY_RESIGNED", f"{member.name} 已于 {member.resigned_on} 辞去职务", "member_id")
    member.resigned_on = on
    session.flush()
    audit_change(
        session,
        CommitteeMemberResigned,
        str(member.id),
        {"name": member.name, "resigned_on": on},
        clock=clock,
        actor=actor,
    )
    return member


def committee(session: Session, election_id: int) -> list[CommitteeMember]:
    return list(
        session.execute(
            select(CommitteeMember)
            .where(CommitteeMember.election_id == election_id)
            .order_by(CommitteeMember.id)
        ).scalars()
    )


def conflicts(session: Session, election_id: int) -> list[rules.CommitteeConflict]:
    """Active candidates who still sit on the election committee (EL 10: must resign)."""
    people = [
        rules.Person(c.name, c.id_hash, c.birth_date, c.district)
        for c in candidates_of(session, election_id, None, ACTIVE)
    ]
    seats = [
        rules.CommitteeSeat(m.name, m.role, m.id_hash, m.birth_date, m.resigned_on)
        for m in committee(session, election_id)
    ]
    rule = kind_of(get_election(session, election_id)).cite("committee_member_candidate")
    return rules.committee_conflicts(people, seats, rule)
