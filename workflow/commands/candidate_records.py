"""The candidates part's shared pieces: reading district lists and candidates, the guards
every candidate command applies (the election is active, voting has not begun), the audit helper
and the voter registry the nominations and proxies consult (`VoterRegistry`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands.elections import get_election, kind_of
from workflow.errors import Conflict, DomainError, not_found
from workflow.events import Event
from workflow.machine import FINAL_STATES, SUSPENDED
from workflow.rules import candidates as rules
from workflow.store.audit import record
from workflow.store.candidates import Candidate, CandidateStatus, DistrictList
from workflow.store.models import Election

ACTIVE = (CandidateStatus.NOMINATED, CandidateStatus.PRELIMINARY, CandidateStatus.OFFICIAL)


# -- the voter registry hook ------------------------------------------------------------------
class VoterRegistry(Protocol):
    """What nominations and proxies need from the voter registry (feat/voters)."""

    def district_seats(self, session: Session, election_id: int, district: str) -> int | None:
        """The district's seats, or None when the registry does not know the district."""

    def registered(
        self, session: Session, election_id: int, district: str, id_numbers: Sequence[str]
    ) -> set[str] | None:
        """Which of these normalised ID numbers are registered voters of the district;
        None when there is no voter list to check against."""


class NoVoterRegistry:
    """No voter tables: seats come from the district list, supporters stay unchecked."""

    def district_seats(self, session: Session, election_id: int, district: str) -> int | None:
        return None

    def registered(
        self, session: Session, election_id: int, district: str, id_numbers: Sequence[str]
    ) -> set[str] | None:
        return None


# -- helpers --------------------------------------------------------------------------------
def rules_for(election: Election) -> rules.CandidateRules:
    """The kind's rules for this election, with its voting method's overlay (e.g. proxies)."""
    return rules.CandidateRules.of(kind_of(election), election.voting_method)


def active_election(session: Session, election_id: int, historical: bool = False) -> Election:
    """The election, refused when finished, suspended or cancelled. `historical` loads a past
    election's records (the demo's 2011 round): no state checks, no milestones completed."""
    election = get_election(session, election_id, for_update=True)
    if historical:
        return election
    if election.state in FINAL_STATES or election.state == SUSPENDED:
        raise Conflict("E_ELECTION_NOT_ACTIVE", "选举已结束、暂停或取消，不能办理", "election_id")
    return election


def before_voting(election: Election, historical: bool = False) -> None:
    if historical:
        return
    kind = kind_of(election)
    voting = kind.candidates.get("voting_phase")
    phases = kind.phase_keys
    if voting in phases and election.state in phases and phases.index(election.state) >= phases.index(voting):
        raise Conflict("E_TOO_LATE", "选举已进入投票阶段，不能再办理候选人事项", "election_id")


def get_list(session: Session, election_id: int, district: str) -> DistrictList:
    found = session.execute(
        select(DistrictList).where(DistrictList.election_id == election_id, DistrictList.district == district)
    ).scalar_one_or_none()
    if found is None:
        raise not_found("选区候选人名单", f"{election_id}/{district}", "district")
    return found


def district_lists(session: Session, election_id: int) -> list[DistrictList]:
    return list(
        session.execute(
            select(DistrictList)
            .where(DistrictList.election_id == election_id)
            .order_by(DistrictList.district)
        ).scalars()
    )


def candidates_of(
    session: Session, election_id: int, district: str | None = None, statuses: Sequence[str] | None = None
) -> list[Candidate]:
    query = select(Candidate).where(Candidate.election_id == election_id)
    if district is not None:
        query = query.where(Candidate.district == district)
    if statuses is not None:
        query = query.where(Candidate.status.in_([str(s) for s in statuses]))
    return list(session.execute(query.order_by(Candidate.district, Candidate.id)).scalars())


def audit_change(
    session: Session,
    event: type[Event],
    entity_id: str,
    after: dict,
    *,
    clock: Clock,
    actor: str,
    before: dict | None = None,
) -> None:
    record(
        session,
        event(entity_id=entity_id, before=before, after=after),
        actor=actor,
        clock=clock,
    )


def parse_enum(value: str, enum: type, field: str, what: str):
    try:
        return enum(value)
    except ValueError:
        allowed = "、".join(e.value for e in enum)
        raise DomainError("E_BAD_VALUE", f"{what}无效：{value!r}（可用：{allowed}）", field) from None


def candidate_view(c: Candidate, supporters: int | None = None) -> dict:
    """`supporters`: the count of the candidate's supporters when the caller has counted them
    for many candidates at once (else read from the candidate, one query each)."""
    return {
        "id": c.id,
        "district": c.district,
        "name": c.name,
        "sex": c.sex,
        "birth_date": c.birth_date,
        "ethnicity": c.ethnicity,
        "party": c.party,
        "education": c.education,
        "occupation": c.occupation,
        "incumbent": c.incumbent,
        "nominated_by": c.nominated_by,
        "nominators": c.nominators,
        "supporters": len(c.supporters) if supporters is None else supporters,
        "supporters_checked": c.supporters_checked,
        "status": c.status,
        "primary_votes": c.primary_votes,
    }
