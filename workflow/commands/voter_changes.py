"""Single changes to the register: one voter added or removed (EL 27), and the
deprived-of-rights list, which removes anyone on it (EL 4). After publication each change also
goes to the supplementary list (workflow/commands/voter_list.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands import elections
from workflow.commands.voter_districts import find_district
from workflow.commands.voter_list import is_published, supplement, today_for
from workflow.errors import Conflict, not_found
from workflow.events import DeprivedListLoaded, VoterAdded, VoterRemoved
from workflow.rules import ric
from workflow.rules.voter_rows import (
    DeprivedRow,
    check_addition,
    check_late_registration,
    check_village_migrant,
    exclusion_ground,
    exclusion_note,
    read_deprived,
)
from workflow.store.audit import record
from workflow.store.models import Election
from workflow.store.voters import (
    AddedReason,
    DeprivedPerson,
    District,
    RemovedReason,
    SupplementaryChange,
    Voter,
    VoterStatus,
)


def find_voter(session: Session, election_id: int, number: str) -> Voter:
    number = ric.normalize(number)
    voter = session.execute(
        select(Voter).where(Voter.election_id == election_id, Voter.id_hash == ric.id_hash(number))
    ).scalar_one_or_none()
    if voter is None:
        raise not_found("选民", ric.mask(number), "id_number")
    return voter


# -- deprived of political rights -------------------------------------------------------------
def exclusion_notes(session: Session, election: Election) -> dict[str, str]:
    """Each number excluded on election day → its ground in words with the kind's citation:
    deprived of political rights (EL 27 ¶1), suspended by the procuratorate or court (1983
    NPCSC provisions, item 4), confirmed incapacity (EL 27 ¶2); from the list's 原因 column."""
    citations = elections.kind_of(election).citations
    rows = session.execute(
        select(DeprivedPerson.id_number, DeprivedPerson.until, DeprivedPerson.reason).where(
            DeprivedPerson.election_id == election.id
        )
    )
    return {
        number: exclusion_note(exclusion_ground(reason), citations)
        for number, until, reason in rows
        if until is None or until >= election.anchor_date
    }


@dataclass
class ExcludeReport:
    loaded: int = 0
    unchanged: int = 0
    removed: list[dict] = field(default_factory=list)  # registered voters taken off
    rejected: list[dict] = field(default_factory=list)
    # 县乡两级: the other level's lists the same rows were loaded into (register_levels.exclude),
    # each {"election_id", "loaded", "removed"}.
    mirrored: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "loaded": self.loaded,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "rejected": self.rejected,
            "mirrored": self.mirrored,
        }


def load_deprived(
    session: Session,
    election_id: int,
    header: list[object],
    rows: Iterable[tuple[int, list[object]]],
    *,
    clock: Clock,
    actor: str,
) -> ExcludeReport:
    """Load the deprived-of-rights list (columns 姓名, 公民身份号码, optional 剥夺期限至 / 原因).
    Anyone on it who is registered is removed (EL 27: 依照法律被剥夺政治权利的人 … 除名)."""
    election = elections.get_election(session, election_id)
    found, rejected = read_deprived(header, rows)
    report = ExcludeReport(rejected=rejected)
    _store_deprived(session, election_id, found, report)
    session.flush()
    deprived = exclusion_notes(session, election)
    today = today_for(election, clock)
    if deprived:
        registered = session.execute(
            select(Voter).where(Voter.election_id == election_id, Voter.status == VoterStatus.ACTIVE)
        ).scalars()
        for voter in registered:
            if voter.id_number in deprived:
                # The note names the ground and cites it (EL 27; suspension: 1983 provisions).
                remove(session, election, voter, RemovedReason.DEPRIVED, deprived[voter.id_number], today)
                report.removed.append({"id_masked": ric.mask(voter.id_number), "name": voter.name})
    if report.loaded or report.removed:
        record(
            session,
            DeprivedListLoaded(
                entity_id=str(election_id),
                after={"loaded": report.loaded, "removed": [r["id_masked"] for r in report.removed]},
            ),
            actor=actor,
            clock=clock,
        )
    return report


def _store_deprived(
    session: Session, election_id: int, found: list[DeprivedRow], report: ExcludeReport
) -> None:
    """New people are added; a known one's term is updated (a later row of the file wins)."""
    known = {
        person.id_number: person
        for person in session.execute(
            select(DeprivedPerson).where(DeprivedPerson.election_id == election_id)
        ).scalars()
    }
    for row in found:
        person = known.get(row.id_number)
        if person is not None and person.until == row.until:
            report.unchanged += 1
        elif person is not None:
            person.until = row.until
            report.loaded += 1
        else:
            person = DeprivedPerson(
                election_id=election_id,
                id_number=row.id_number,
                id_hash=ric.id_hash(row.id_number),
                name=row.name,
                until=row.until,
                reason=row.reason,
            )
            session.add(person)
            known[row.id_number] = person
            report.loaded += 1


# -- single additions and removals ---------------------------------------------------------------
def add_voter(
    session: Session,
    election_id: int,
    *,
    district: str,
    name: str,
    id_number: str,
    reason: AddedReason,
    clock: Clock,
    actor: str,
    voter_group: str | None = None,
    address: str | None = None,
    hukou: str | None = None,
    ethnicity: str | None = None,
    proof: str | None = None,
    appeal_id: int | None = None,
    resident_since: date | None = None,
    basis: str | None = None,
    applied: bool = False,
    consent: str | None = None,
    applied_on: date | None = None,
    consent_on: date | None = None,
) -> Voter:
    """Register one voter (newly 18, moved in, migrant with proof, rights restored; EL 27). In
    a village election a migrant instead qualifies by VCL 13 ¶2 (三) (2025: art. 16 ¶2 (三)):
    `resident_since` (and the `basis`), `applied` (the day: `applied_on`, kept on the record),
    and the meeting's `consent` (given on `consent_on`). After the list is published an addition
    is a supplementary registration, refused after the kind's registration cutoff (Zhejiang
    art. 29: E − 12); an upheld appeal's addition is not."""
    election = elections.get_election(session, election_id)
    target = find_district(session, election_id, district)
    reason = AddedReason(reason)
    kind = elections.kind_of(election)
    if reason is not AddedReason.APPEAL and is_published(election):
        check_late_registration(kind, election_day=election.anchor_date, on=today_for(election, clock))
    village_migrant = reason is AddedReason.MIGRANT and "migrant_min_years" in kind.law
    if village_migrant:
        proof = check_village_migrant(
            kind.law,
            kind.citations,
            on=today_for(election, clock),
            since=resident_since,
            basis=basis,
            applied=applied,
            consent=consent,
            applied_on=applied_on,
            consent_on=consent_on,
        )
    record_data = check_addition(
        name,
        id_number,
        election_day=election.anchor_date,
        migrant=reason is AddedReason.MIGRANT and not village_migrant,
        proof=proof,
        deprived=exclusion_notes(session, election),
    )
    number = record_data["id_number"]
    existing = session.execute(
        select(Voter).where(Voter.election_id == election_id, Voter.id_hash == ric.id_hash(number))
    ).scalar_one_or_none()
    today = today_for(election, clock)
    if existing is not None and existing.status == VoterStatus.ACTIVE:
        code = session.get(District, existing.district_id).code
        raise Conflict(
            "E_ALREADY_REGISTERED", f"此人已在选区 {code} 登记，不得重复登记（不重登）", "id_number"
        )
    voter, before = _registration(existing, election_id, target.id, record_data, reason)
    if existing is None:
        session.add(voter)
    voter.voter_group = voter_group
    voter.address = address
    voter.hukou = hukou
    voter.ethnicity = ethnicity
    voter.proof = proof
    voter.applied_on = applied_on if village_migrant else None
    session.flush()
    supplement(session, election, voter, SupplementaryChange.ADD, reason.value, today, appeal_id=appeal_id)
    record(
        session,
        VoterAdded(
            entity_id=str(voter.id),
            before=before,
            after={
                "id_masked": ric.mask(number),
                "district": target.code,
                "reason": reason.value,
                "proof": proof,
            },
        ),
        actor=actor,
        clock=clock,
    )
    return voter


def _registration(
    existing: Voter | None, election_id: int, district_id: int, data: dict, reason: AddedReason
) -> tuple[Voter, dict | None]:
    """The voter row to register, and what it was before: registered before and removed
    (e.g. moved out and back), the same row comes back; else a new row."""
    if existing is None:
        number = data["id_number"]
        voter = Voter(
            election_id=election_id,
            district_id=district_id,
            name=data["name"],
            sex=data["sex"],
            id_number=number,
            id_hash=ric.id_hash(number),
            birth_date=data["birth_date"],
            status=VoterStatus.ACTIVE,
            added_reason=reason.value,
        )
        return voter, None
    before = {"status": existing.status, "district": existing.district_id}
    existing.status = VoterStatus.ACTIVE
    existing.district_id = district_id
    existing.name = data["name"]
    existing.removed_reason = existing.removed_on = existing.removed_note = None
    existing.added_reason = reason.value
    return existing, before


def remove(
    session: Session,
    election: Election,
    voter: Voter,
    reason: RemovedReason,
    note: str | None,
    on: date,
    appeal_id: int | None = None,
) -> None:
    """Take a voter off the register; the change goes to the supplementary list."""
    voter.status = VoterStatus.REMOVED
    voter.removed_reason = reason.value
    voter.removed_on = on
    voter.removed_note = note
    session.flush()
    supplement(
        session,
        election,
        voter,
        SupplementaryChange.REMOVE,
        reason.value,
        on,
        details=note,
        appeal_id=appeal_id,
    )


def remove_voter(
    session: Session,
    election_id: int,
    id_number: str,
    *,
    reason: RemovedReason,
    clock: Clock,
    actor: str,
    note: str | None = None,
    appeal_id: int | None = None,
) -> Voter:
    """Take a voter off the list with a reason (deceased, deprived, moved out; EL 27)."""
    election = elections.get_election(session, election_id)
    voter = find_voter(session, election_id, id_number)
    if voter.status != VoterStatus.ACTIVE:
        raise Conflict("E_ALREADY_REMOVED", f"此选民已于 {voter.removed_on} 除名", "id_number")
    reason = RemovedReason(reason)
    remove(session, election, voter, reason, note, today_for(election, clock), appeal_id)
    record(
        session,
        VoterRemoved(
            entity_id=str(voter.id),
            before={"status": VoterStatus.ACTIVE.value},
            after={
                "status": voter.status,
                "reason": reason.value,
                "note": note,
                "id_masked": ric.mask(voter.id_number),
            },
        ),
        actor=actor,
        clock=clock,
    )
    return voter
