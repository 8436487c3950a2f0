"""Candidate commands: open a district's candidate list, nominate (EL 30), withdraw.

The voter registry is an explicit argument (`registry`, by default the voter tables): seats
come from it when it knows the district, and joint nominators must be registered voters of the
district. A registry with no voter list to check against leaves the candidate's supporters
unchecked (`supporters_checked = None`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands.candidate_records import (
    ACTIVE,
    VoterRegistry,
    active_election,
    audit_change,
    before_voting,
    candidate_view,
    candidates_of,
    get_list,
    parse_enum,
    rules_for,
)
from workflow.commands.voter_registry import VoterTables
from workflow.errors import Conflict, DomainError, not_found
from workflow.events import CandidateListOpened, CandidateNominated, CandidateWithdrawn
from workflow.rules import candidates as rules
from workflow.store.candidates import Candidate, CandidateStatus, DistrictList, ListStatus, Supporter


# -- district lists -------------------------------------------------------------------------
def open_district(
    session: Session,
    election_id: int,
    district: str,
    *,
    seats: int | None,
    clock: Clock,
    actor: str,
    name: str | None = None,
    historical: bool = False,
    registry: VoterRegistry = VoterTables(),
) -> DistrictList:
    """Open a district's candidate list with its seats (from the registry when it knows them,
    else from a committee election's plan: its `seats`, the committee's size)."""
    election = active_election(session, election_id, historical)
    before_voting(election, historical)
    district = district.strip()
    if not district:
        raise DomainError("E_DISTRICT_REQUIRED", "请填写选区代码", "district")
    known = registry.district_seats(session, election_id, district)
    if known is None:
        known = election.seats
    seats = rules.district_seats(district, seats, known)
    rules.ratio_bounds(rules_for(election), seats)  # validates seats ≥ 1
    if session.execute(
        select(DistrictList.id).where(
            DistrictList.election_id == election_id, DistrictList.district == district
        )
    ).first():
        raise Conflict("E_DUPLICATE", f"选区 {district} 的候选人名单已建立", "district")
    row = DistrictList(
        election_id=election_id,
        district=district,
        name=name,
        seats=seats,
        status=ListStatus.OPEN,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit_change(
        session,
        CandidateListOpened,
        f"{election_id}/{district}",
        {"district": district, "name": name, "seats": seats},
        clock=clock,
        actor=actor,
    )
    return row


# -- nominations ----------------------------------------------------------------------------
def _open_list(session: Session, election_id: int, district: str) -> DistrictList:
    lst = get_list(session, election_id, district)
    if lst.status != ListStatus.OPEN:
        raise Conflict("E_LIST_CLOSED", f"选区 {district} 的候选人名单已公布，不再接受推荐", "district")
    return lst


def _refuse_duplicate(session: Session, election_id: int, district: str, name: str) -> None:
    duplicate = session.execute(
        select(Candidate.id).where(
            Candidate.election_id == election_id,
            Candidate.district == district,
            Candidate.name == name,
            Candidate.status.in_([str(s) for s in ACTIVE]),
        )
    ).first()
    if duplicate:
        raise Conflict("E_DUPLICATE", f"选区 {district} 已有候选人 {name}", "name")


def _existing(
    session: Session,
    election_id: int,
    lst: DistrictList,
    kind_by: rules.NominatorType,
    supporters: Sequence[str],
) -> rules.DistrictNominations:
    """The district's nominations so far, as the limits for this kind of nomination count them:
    per supporting voter for a joint nomination, per nominating organisation otherwise."""
    if kind_by is rules.NominatorType.VOTERS:
        normalised = [rules.normalise_id(n, "supporters") for n in supporters]
        counts = _supporter_counts(session, election_id, lst.district, [rules.id_hash(n) for n in normalised])
        return rules.DistrictNominations(
            seats=lst.seats, by_supporter={n: counts.get(rules.id_hash(n), 0) for n in normalised}
        )
    by_nominator: dict[str, int] = {}
    for c in candidates_of(session, election_id, lst.district, ACTIVE):
        for n in c.nominators or []:
            by_nominator[n] = by_nominator.get(n, 0) + 1
    return rules.DistrictNominations(seats=lst.seats, by_nominator=by_nominator)


def _supporter_counts(session: Session, election_id: int, district: str, hashes: list[str]) -> dict[str, int]:
    if not hashes:
        return {}
    rows = session.execute(
        select(Supporter.id_hash, func.count())
        .join(Candidate, Candidate.id == Supporter.candidate_id)
        .where(
            Supporter.election_id == election_id,
            Supporter.district == district,
            Supporter.id_hash.in_(hashes),
            Candidate.status.in_([str(s) for s in ACTIVE]),
        )
        .group_by(Supporter.id_hash)
    ).all()
    return dict(rows)


def _supporters_checked(
    session: Session, election_id: int, district: str, supporters: Sequence[str], registry: VoterRegistry
) -> bool | None:
    """True when every supporter is a registered voter of the district (EL 30); None when there
    is no voter list to check against (or no supporter to check)."""
    if not supporters:
        return None
    registered = registry.registered(session, election_id, district, supporters)
    if registered is None:
        return None
    missing = rules.unregistered(supporters, registered)
    if missing:
        raise DomainError(
            "E_SUPPORTER_NOT_REGISTERED",
            f"联名推荐人 {'、'.join(missing)} 不是本选区登记的选民（选举法第三十条）",
            "supporters",
        )
    return True


def _supporter_rows(election_id: int, district: str, numbers: Sequence[str]) -> list[Supporter]:
    """The joint nominators as stored: hashed and masked, never whole."""
    return [
        Supporter(
            election_id=election_id, district=district, id_hash=rules.id_hash(n), id_masked=rules.mask_id(n)
        )
        for n in numbers
    ]


def nominate(
    session: Session,
    election_id: int,
    district: str,
    *,
    name: str,
    sex: str,
    occupation: str,
    nominated_by: str,
    clock: Clock,
    actor: str,
    birth_date: date | None = None,
    ethnicity: str | None = None,
    party: str | None = None,
    education: str | None = None,
    incumbent: bool = False,
    nominators: Sequence[str] = (),
    supporters: Sequence[str] = (),
    id_number: str | None = None,
    historical: bool = False,
    registry: VoterRegistry = VoterTables(),
) -> Candidate:
    """Record a nomination (EL 30), checked against the limits and the registry's voter list."""
    election = active_election(session, election_id, historical)
    before_voting(election, historical)
    lst = _open_list(session, election_id, district)
    name = name.strip()
    sex = parse_enum(sex, rules.Sex, "sex", "性别")
    occupation = parse_enum(occupation, rules.Occupation, "occupation", "职业类别")
    kind_by = parse_enum(nominated_by, rules.NominatorType, "nominated_by", "推荐方式")
    _refuse_duplicate(session, election_id, district, name)
    own_id = rules.normalise_id(id_number, "id_number") if id_number else None
    nomination = rules.Nomination(
        district=district,
        name=name,
        nominated_by=kind_by,
        nominators=tuple(n.strip() for n in nominators if n.strip()),
        supporters=tuple(supporters),
    )
    existing = _existing(session, election_id, lst, kind_by, supporters)
    normalised = rules.check_nomination(rules_for(election), nomination, existing)
    checked = _supporters_checked(session, election_id, district, normalised, registry)
    if own_id and birth_date is None:
        birth_date = rules.birth_date_of(own_id)
    candidate = Candidate(
        election_id=election_id,
        district=district,
        name=name,
        sex=sex,
        birth_date=birth_date,
        ethnicity=ethnicity,
        party=party,
        education=(education or "").strip() or None,
        occupation=occupation,
        incumbent=incumbent,
        nominated_by=kind_by,
        nominators=list(nomination.nominators),
        id_hash=rules.id_hash(own_id) if own_id else None,
        id_masked=rules.mask_id(own_id) if own_id else None,
        status=CandidateStatus.NOMINATED,
        supporters_checked=checked,
        created_at=clock.now(),
    )
    candidate.supporters.extend(_supporter_rows(election_id, district, normalised))
    session.add(candidate)
    session.flush()
    audit_change(
        session,
        CandidateNominated,
        str(candidate.id),
        {**candidate_view(candidate), "supporter_ids": [rules.mask_id(n) for n in normalised]},
        clock=clock,
        actor=actor,
    )
    return candidate


def withdraw(
    session: Session, election_id: int, candidate_id: int, *, reason: str, clock: Clock, actor: str
) -> Candidate:
    if not reason.strip():
        raise DomainError("E_REASON_REQUIRED", "候选人退出须说明理由", "reason")
    active_election(session, election_id)
    candidate = session.get(Candidate, candidate_id)
    if candidate is None or candidate.election_id != election_id:
        raise not_found("候选人", candidate_id, "candidate_id")
    if candidate.status not in ACTIVE:
        raise Conflict("E_NOT_ACTIVE", f"{candidate.name} 不在候选人名单中", "candidate_id")
    before = {"status": candidate.status}
    candidate.status = CandidateStatus.WITHDRAWN
    candidate.note = reason.strip()
    session.flush()
    audit_change(
        session,
        CandidateWithdrawn,
        str(candidate.id),
        {"status": candidate.status, "reason": candidate.note},
        before=before,
        clock=clock,
        actor=actor,
    )
    return candidate
