"""Candidate commands: district lists, nominations, preliminary and official lists, primaries,
the committee roster and its conflicts, proxies and mobile ballot boxes.

Each function works inside the caller's transaction and audits what it changes. The voter
registry is reached through `voter_registry()` (see `VoterRegistry`), so that this part does not
import the voter tables: with no registry wired, supporters are validated (GB 11643) but not
checked against the voter list, and the candidate records that (`supporters_checked = None`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands.elections import complete_milestone, get_election, kind_of
from workflow.errors import Conflict, DomainError, not_found
from workflow.events import Recorded
from workflow.machine import FINAL_STATES, SUSPENDED
from workflow.rules import candidates as rules
from workflow.store.audit import record
from workflow.store.candidates import (
    Candidate,
    CandidateStatus,
    CommitteeMember,
    DistrictList,
    ListStatus,
    MobileBox,
    Proxy,
    Supporter,
)
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


def _default_registry() -> VoterRegistry:
    # The voter tables are part of huanjie: nominations are checked against them by default.
    from workflow.commands.voter_registry import VoterTables

    return VoterTables()


_REGISTRY: list[VoterRegistry] = [_default_registry()]


def use_voter_registry(registry: VoterRegistry) -> None:
    """Wire the voter registry (called once at start-up by the module that owns voters)."""
    _REGISTRY[0] = registry


def voter_registry() -> VoterRegistry:
    return _REGISTRY[0]


# -- helpers --------------------------------------------------------------------------------
def rules_for(election: Election) -> rules.CandidateRules:
    return rules.CandidateRules.of(kind_of(election))


def _active_election(session: Session, election_id: int, historical: bool = False) -> Election:
    """The election, refused when finished, suspended or cancelled. `historical` loads a past
    election's records (the demo's 2011 round): no state checks, no milestones completed."""
    election = get_election(session, election_id, for_update=True)
    if historical:
        return election
    if election.state in FINAL_STATES or election.state == SUSPENDED:
        raise Conflict("E_ELECTION_NOT_ACTIVE", "选举已结束、暂停或取消，不能办理", "election_id")
    return election


def _before_voting(election: Election, historical: bool = False) -> None:
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


def _audit(session: Session, action: str, entity: str, entity_id: str, after: dict, *, clock: Clock, actor: str,
           before: dict | None = None) -> None:  # fmt: skip
    record(
        session,
        Recorded(action=action, entity=entity, entity_id=entity_id, before=before, after=after),
        actor=actor,
        clock=clock,
    )


def _enum(value: str, enum: type, field: str, what: str):
    try:
        return enum(value)
    except ValueError:
        allowed = "、".join(e.value for e in enum)
        raise DomainError("E_BAD_VALUE", f"{what}无效：{value!r}（可用：{allowed}）", field) from None


def candidate_view(c: Candidate) -> dict:
    return {
        "id": c.id,
        "district": c.district,
        "name": c.name,
        "sex": c.sex,
        "birth_date": c.birth_date,
        "ethnicity": c.ethnicity,
        "party": c.party,
        "occupation": c.occupation,
        "incumbent": c.incumbent,
        "nominated_by": c.nominated_by,
        "nominators": c.nominators,
        "supporters": len(c.supporters),
        "supporters_checked": c.supporters_checked,
        "status": c.status,
        "primary_votes": c.primary_votes,
    }


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
) -> DistrictList:
    """Open a district's candidate list with its seats (from the registry when it knows them)."""
    election = _active_election(session, election_id, historical)
    _before_voting(election, historical)
    district = district.strip()
    if not district:
        raise DomainError("E_DISTRICT_REQUIRED", "请填写选区代码", "district")
    known = voter_registry().district_seats(session, election_id, district)
    if seats is None:
        seats = known
    if seats is None:
        raise DomainError("E_SEATS_REQUIRED", f"请填写选区 {district} 的应选名额", "seats")
    if known is not None and known != seats:
        raise DomainError(
            "E_SEATS_MISMATCH", f"选区 {district} 的应选名额为 {known} 名，与填写的 {seats} 名不符", "seats"
        )
    rules.ratio_bounds(rules_for(election), seats)  # validates seats ≥ 1
    if session.execute(
        select(DistrictList.id).where(
            DistrictList.election_id == election_id, DistrictList.district == district
        )
    ).first():
        raise Conflict("E_DUPLICATE", f"选区 {district} 的候选人名单已建立", "district")
    row = DistrictList(
        election_id=election_id, district=district, name=name, seats=seats, status=ListStatus.OPEN,
        created_at=clock.now(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    _audit(session, "candidates.list_opened", "district_list", f"{election_id}/{district}",
           {"district": district, "name": name, "seats": seats}, clock=clock, actor=actor)  # fmt: skip
    return row


# -- nominations ----------------------------------------------------------------------------
def _existing(session: Session, election_id: int, lst: DistrictList) -> rules.DistrictNominations:
    active = candidates_of(session, election_id, lst.district, ACTIVE)
    by_nominator: dict[str, int] = {}
    for c in active:
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
    incumbent: bool = False,
    nominators: Sequence[str] = (),
    supporters: Sequence[str] = (),
    id_number: str | None = None,
    historical: bool = False,
) -> Candidate:
    """Record a nomination (EL 30), checked against the limits and, when wired, the voter list."""
    election = _active_election(session, election_id, historical)
    _before_voting(election, historical)
    lst = get_list(session, election_id, district)
    if lst.status != ListStatus.OPEN:
        raise Conflict("E_LIST_CLOSED", f"选区 {district} 的候选人名单已公布，不再接受推荐", "district")
    name = name.strip()
    sex = _enum(sex, rules.Sex, "sex", "性别")
    occupation = _enum(occupation, rules.Occupation, "occupation", "职业类别")
    kind_by = _enum(nominated_by, rules.NominatorType, "nominated_by", "推荐方式")
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
    own_id = rules.normalise_id(id_number, "id_number") if id_number else None
    candidate_rules = rules_for(election)
    nomination = rules.Nomination(
        district=district, name=name, nominated_by=kind_by,
        nominators=tuple(n.strip() for n in nominators if n.strip()), supporters=tuple(supporters),
    )  # fmt: skip
    existing = _existing(session, election_id, lst)
    if kind_by is rules.NominatorType.VOTERS:
        normalised = [rules.normalise_id(n, "supporters") for n in supporters]
        counts = _supporter_counts(session, election_id, district, [rules.id_hash(n) for n in normalised])
        existing = rules.DistrictNominations(
            seats=lst.seats, by_supporter={n: counts.get(rules.id_hash(n), 0) for n in normalised}
        )
    normalised = rules.check_nomination(candidate_rules, nomination, existing)
    checked = None
    if normalised:
        registered = voter_registry().registered(session, election_id, district, normalised)
        if registered is not None:
            missing = sorted(rules.mask_id(n) for n in normalised if n not in registered)
            if missing:
                raise DomainError(
                    "E_SUPPORTER_NOT_REGISTERED",
                    f"联名推荐人 {'、'.join(missing)} 不是本选区登记的选民（选举法第三十条）",
                    "supporters",
                )
            checked = True
    if own_id and birth_date is None:
        birth_date = date(int(own_id[6:10]), int(own_id[10:12]), int(own_id[12:14]))
    candidate = Candidate(
        election_id=election_id, district=district, name=name, sex=sex, birth_date=birth_date,
        ethnicity=ethnicity, party=party, occupation=occupation, incumbent=incumbent,
        nominated_by=kind_by, nominators=list(nomination.nominators),
        id_hash=rules.id_hash(own_id) if own_id else None,
        id_masked=rules.mask_id(own_id) if own_id else None,
        status=CandidateStatus.NOMINATED, supporters_checked=checked, created_at=clock.now(),
    )  # fmt: skip
    for number in normalised:
        candidate.supporters.append(
            Supporter(election_id=election_id, district=district, id_hash=rules.id_hash(number),
                      id_masked=rules.mask_id(number))
        )  # fmt: skip
    session.add(candidate)
    session.flush()
    _audit(session, "candidate.nominated", "candidate", str(candidate.id),
           {**candidate_view(candidate), "supporter_ids": [rules.mask_id(n) for n in normalised]},
           clock=clock, actor=actor)  # fmt: skip
    return candidate


def withdraw(
    session: Session, election_id: int, candidate_id: int, *, reason: str, clock: Clock, actor: str
) -> Candidate:
    if not reason.strip():
        raise DomainError("E_REASON_REQUIRED", "候选人退出须说明理由", "reason")
    _active_election(session, election_id)
    candidate = session.get(Candidate, candidate_id)
    if candidate is None or candidate.election_id != election_id:
        raise not_found("候选人", candidate_id, "candidate_id")
    if candidate.status not in ACTIVE:
        raise Conflict("E_NOT_ACTIVE", f"{candidate.name} 不在候选人名单中", "candidate_id")
    before = {"status": candidate.status}
    candidate.status = CandidateStatus.WITHDRAWN
    candidate.note = reason.strip()
    session.flush()
    _audit(session, "candidate.withdrawn", "candidate", str(candidate.id),
           {"status": candidate.status, "reason": candidate.note}, before=before, clock=clock, actor=actor)  # fmt: skip
    return candidate


# -- lists ----------------------------------------------------------------------------------
def _ratio_view(candidate_rules: rules.CandidateRules, lst: DistrictList, count: int) -> dict:
    return {"district": lst.district, **rules.check_ratio(candidate_rules, lst.seats, count).as_dict()}


def publish_preliminary(
    session: Session, election_id: int, *, clock: Clock, actor: str, on: date | None = None,
    historical: bool = False,
) -> dict:  # fmt: skip
    """Publish every district's preliminary list (EL 32: by E − 15) and complete the milestone
    in the same transaction. Districts outside the ratio are reported: above the upper bound
    they go to consultation or a primary; below the lower bound more nominations are needed."""
    election = _active_election(session, election_id, historical)
    kind = kind_of(election)
    milestone = kind.candidates.get("preliminary_milestone")
    if not milestone:
        raise DomainError("E_NO_PRELIMINARY_LIST", f"{kind.name}不公布初步候选人名单", "election_id")
    lists = district_lists(session, election_id)
    if not lists:
        raise DomainError("E_NO_DISTRICTS", "尚未建立任何选区的候选人名单", "district")
    candidate_rules = rules_for(election)
    report = []
    for lst in lists:
        if lst.status != ListStatus.OPEN:
            raise Conflict("E_LIST_PUBLISHED", f"选区 {lst.district} 的初步候选人名单已公布", "district")
        nominated = candidates_of(session, election_id, lst.district, [CandidateStatus.NOMINATED])
        if not nominated:
            raise DomainError("E_NO_CANDIDATES", f"选区 {lst.district} 尚无代表候选人", "district")
        for c in nominated:
            c.status = CandidateStatus.PRELIMINARY
        lst.status = ListStatus.PRELIMINARY
        view = _ratio_view(candidate_rules, lst, len(nominated))
        view["next"] = (
            "consultation_or_primary"
            if view["max_candidates"] is not None and len(nominated) > view["max_candidates"]
            else ("more_nominations" if len(nominated) < view["min_candidates"] else "official")
        )
        report.append(view)
    if not historical:
        done = complete_milestone(session, election_id, milestone, clock=clock, actor=actor, on=on)
        on = done.done_on
    elif on is None:
        on = election.milestone(milestone).done_on
    for lst in lists:
        lst.preliminary_on = on
    session.flush()
    _audit(session, "candidates.preliminary_published", "election", str(election_id),
           {"on": on, "districts": report}, clock=clock, actor=actor)  # fmt: skip
    return {"election_id": election_id, "milestone": milestone, "on": on, "districts": report}


def consult(
    session: Session, election_id: int, district: str, keep: Sequence[str], *, clock: Clock, actor: str
) -> DistrictList:
    """Consultation (协商, EL 32): the voters' groups agree on the official candidates."""
    return _select(session, election_id, district, list(keep), "consultation", None, clock=clock, actor=actor)


def primary(
    session: Session, election_id: int, district: str, votes: dict[str, int], *, clock: Clock, actor: str,
    size: int | None = None,
) -> DistrictList:  # fmt: skip
    """A primary (预选, EL 32): the official list follows the order of primary votes. A tie that
    crosses the cut-off is refused: the committee votes again among the tied."""
    election = get_election(session, election_id)
    lst = get_list(session, election_id, district)
    least, most = rules.ratio_bounds(rules_for(election), lst.seats)
    size = size if size is not None else (most if most is not None else least)
    if not least <= size <= (most if most is not None else size):
        raise DomainError("E_BAD_SIZE", f"选区 {district} 的正式候选人应为 {least}–{most} 名", "size")
    ranking = rules.rank_by_votes(votes, size)
    if ranking.tied:
        raise DomainError(
            "E_PRIMARY_TIE",
            f"预选得票相等：{'、'.join(ranking.tied)} 争 {ranking.open_places} 个名额，请就其再次预选",
            "votes",
        )
    return _select(
        session, election_id, district, list(ranking.selected), "primary", votes, clock=clock, actor=actor
    )


def _select(
    session: Session, election_id: int, district: str, keep: list[str], method: str,
    votes: dict[str, int] | None, *, clock: Clock, actor: str,
) -> DistrictList:  # fmt: skip
    election = _active_election(session, election_id)
    _before_voting(election)
    lst = get_list(session, election_id, district)
    if lst.status != ListStatus.PRELIMINARY:
        raise Conflict(
            "E_NOT_PRELIMINARY", f"选区 {district} 的初步候选人名单尚未公布或已确定正式名单", "district"
        )
    current = candidates_of(
        session, election_id, district, [CandidateStatus.PRELIMINARY, CandidateStatus.NOT_SELECTED]
    )
    names = {c.name for c in current}
    unknown = sorted(set(keep) - names) + sorted(set(votes or {}) - names)
    if unknown:
        raise DomainError(
            "E_NOT_A_CANDIDATE", f"{'、'.join(unknown)} 不在选区 {district} 的初步候选人名单中", "keep"
        )
    for c in current:
        c.status = CandidateStatus.PRELIMINARY if c.name in keep else CandidateStatus.NOT_SELECTED
        if votes is not None:
            c.primary_votes = int(votes.get(c.name, 0))
    lst.method = method
    session.flush()
    _audit(session, f"candidates.{method}", "district_list", f"{election_id}/{district}",
           {"kept": sorted(keep), "votes": votes}, clock=clock, actor=actor)  # fmt: skip
    return lst


def publish_official(
    session: Session, election_id: int, *, clock: Clock, actor: str, on: date | None = None,
    historical: bool = False,
) -> dict:  # fmt: skip
    """Publish every district's official list (EL 32: by E − 7) and complete the milestone in
    the same transaction. A list outside the kind's competitive ratio is refused, naming the
    district and the rule. Committee conflicts and structure warnings are reported."""
    election = _active_election(session, election_id, historical)
    kind = kind_of(election)
    milestone = kind.candidates.get("official_milestone")
    has_preliminary = bool(kind.candidates.get("preliminary_milestone"))
    lists = district_lists(session, election_id)
    if not lists:
        raise DomainError("E_NO_DISTRICTS", "尚未建立任何选区的候选人名单", "district")
    candidate_rules = rules_for(election)
    source = CandidateStatus.PRELIMINARY if has_preliminary else CandidateStatus.NOMINATED
    expected = ListStatus.PRELIMINARY if has_preliminary else ListStatus.OPEN
    report = []
    for lst in lists:
        if lst.status != expected:
            why = "初步候选人名单尚未公布" if lst.status == ListStatus.OPEN else "正式候选人名单已公布"
            raise Conflict("E_LIST_NOT_READY", f"选区 {lst.district} 的{why}", "district")
        chosen = candidates_of(session, election_id, lst.district, [source])
        check = rules.check_ratio(candidate_rules, lst.seats, len(chosen))
        if not check.ok:
            raise rules.ratio_error(lst.district, check)
        for c in chosen:
            c.status = CandidateStatus.OFFICIAL
        lst.status = ListStatus.OFFICIAL
        lst.method = lst.method or "direct"
        report.append({"district": lst.district, **check.as_dict(), "method": lst.method})
    if milestone and not historical:
        done = complete_milestone(session, election_id, milestone, clock=clock, actor=actor, on=on)
        on = done.done_on
    elif milestone and on is None:
        on = election.milestone(milestone).done_on
    for lst in lists:
        lst.official_on = on
    session.flush()
    found = [c.as_dict() for c in conflicts(session, election_id)]
    warnings = structure(session, election_id).warnings
    _audit(session, "candidates.official_published", "election", str(election_id),
           {"on": on, "districts": report, "conflicts": found}, clock=clock, actor=actor)  # fmt: skip
    return {
        "election_id": election_id, "milestone": milestone, "on": on, "districts": report,
        "conflicts": found, "warnings": warnings,
    }  # fmt: skip


def _profiles(cands: Sequence[Candidate]) -> list[rules.Profile]:
    return [rules.Profile(c.name, c.sex, c.party, c.occupation, c.ethnicity, c.incumbent) for c in cands]


def structure(session: Session, election_id: int, district: str | None = None) -> rules.StructureReport:
    """The structure report over the current list (official where published, else active)."""
    election = get_election(session, election_id)
    cands = candidates_of(session, election_id, district, ACTIVE)
    if any(c.status == CandidateStatus.OFFICIAL for c in cands):
        cands = [c for c in cands if c.status == CandidateStatus.OFFICIAL]
    scope = f"选区 {district}" if district else election.title
    return rules.structure_report(rules_for(election), _profiles(cands), scope)


# -- the election committee (EL 10) ---------------------------------------------------------
def add_committee_member(
    session: Session, election_id: int, *, name: str, role: str, clock: Clock, actor: str,
    id_number: str | None = None, birth_date: date | None = None, appointed_on: date | None = None,
) -> CommitteeMember:  # fmt: skip
    get_election(session, election_id)
    if not name.strip() or not role.strip():
        raise DomainError("E_NAME_REQUIRED", "请填写选举委员会组成人员的姓名和职务", "name")
    number = rules.normalise_id(id_number) if id_number else None
    member = CommitteeMember(
        election_id=election_id, name=name.strip(), role=role.strip(),
        id_hash=rules.id_hash(number) if number else None, id_masked=rules.mask_id(number) if number else None,
        birth_date=birth_date, appointed_on=appointed_on,
    )  # fmt: skip
    session.add(member)
    session.flush()
    _audit(session, "committee.member_added", "committee_member", str(member.id),
           {"name": member.name, "role": member.role, "id": member.id_masked}, clock=clock, actor=actor)  # fmt: skip
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
    _audit(session, "committee.member_resigned", "committee_member", str(member.id),
           {"name": member.name, "resigned_on": on}, clock=clock, actor=actor)  # fmt: skip
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
    return rules.committee_conflicts(people, seats)


# -- proxies (EL 42) and mobile ballot boxes (EL 38) ----------------------------------------
def record_proxy(
    session: Session, election_id: int, district: str, *, grantor_name: str, grantor_id: str,
    holder_name: str, holder_id: str, consent_document: str, approved: bool, clock: Clock, actor: str,
    consent_on: date | None = None, relationship: str | None = None,
) -> Proxy:  # fmt: skip
    election = _active_election(session, election_id)
    get_list(session, election_id, district)
    grantor = rules.normalise_id(grantor_id, "grantor")
    holder = rules.normalise_id(holder_id, "holder")
    registered = voter_registry().registered(session, election_id, district, [grantor, holder])
    if registered is not None:
        missing = sorted(rules.mask_id(n) for n in (grantor, holder) if n not in registered)
        if missing:
            raise DomainError(
                "E_NOT_REGISTERED", f"{'、'.join(missing)} 不是本选区登记的选民（选举法第四十二条）", "holder"
            )
    holder_hash, grantor_hash = rules.id_hash(holder), rules.id_hash(grantor)

    def count(column, value) -> int:
        return session.execute(
            select(func.count()).select_from(Proxy).where(Proxy.election_id == election_id, column == value)
        ).scalar_one()

    rules.check_proxy(
        rules_for(election),
        rules.ProxyRequest(grantor, holder, consent_document or "", approved, relationship),
        holder_count=count(Proxy.holder_id_hash, holder_hash),
        grantor_count=count(Proxy.grantor_id_hash, grantor_hash),
    )
    if count(Proxy.holder_id_hash, grantor_hash) or count(Proxy.grantor_id_hash, holder_hash):
        raise DomainError(
            "E_PROXY_CHAIN", "受托人本人已委托他人投票，或委托人已接受他人委托，不能转委托", "holder"
        )
    proxy = Proxy(
        election_id=election_id, district=district, grantor_name=grantor_name.strip(), grantor_id_hash=grantor_hash,
        grantor_id_masked=rules.mask_id(grantor), holder_name=holder_name.strip(), holder_id_hash=holder_hash,
        holder_id_masked=rules.mask_id(holder), consent_document=consent_document.strip(), consent_on=consent_on,
        relationship_to_grantor=relationship, recorded_by=actor, recorded_at=clock.now(),
    )  # fmt: skip
    session.add(proxy)
    session.flush()
    _audit(session, "proxy.recorded", "proxy", str(proxy.id), proxy_view(proxy), clock=clock, actor=actor)
    return proxy


def proxy_view(p: Proxy) -> dict:
    return {
        "id": p.id, "district": p.district, "grantor": p.grantor_name, "grantor_id": p.grantor_id_masked,
        "holder": p.holder_name, "holder_id": p.holder_id_masked, "consent_document": p.consent_document,
        "consent_on": p.consent_on, "relationship": p.relationship_to_grantor,
    }  # fmt: skip


def proxies(session: Session, election_id: int, district: str | None = None) -> list[Proxy]:
    query = select(Proxy).where(Proxy.election_id == election_id)
    if district:
        query = query.where(Proxy.district == district)
    return list(session.execute(query.order_by(Proxy.id)).scalars())


def record_mobile_box(
    session: Session, election_id: int, district: str, *, label: str, reason: str, scrutineers: Sequence[str],
    clock: Clock, actor: str, staff: Sequence[str] = (), voters_served: int | None = None,
    ballots_issued: int | None = None, ballots_returned: int | None = None,
) -> MobileBox:  # fmt: skip
    election = _active_election(session, election_id)
    get_list(session, election_id, district)
    if not reason.strip():
        raise DomainError(
            "E_REASON_REQUIRED",
            "流动票箱仅用于行动不便或居住分散且交通不便的选民，请说明理由（选举法第三十八条）",
            "reason",
        )
    names = [c.name for c in candidates_of(session, election_id, district, ACTIVE)]
    cleaned = rules.check_mobile_box(rules_for(election), scrutineers, names)
    if ballots_issued is not None and ballots_returned is not None and ballots_returned > ballots_issued:
        raise DomainError(
            "E_BALLOTS_EXCEED",
            f"流动票箱收回 {ballots_returned} 张，多于发出的 {ballots_issued} 张（选举法第四十四条）",
            "ballots_returned",
        )
    if session.execute(
        select(MobileBox.id).where(
            MobileBox.election_id == election_id, MobileBox.district == district, MobileBox.label == label
        )
    ).first():
        raise Conflict("E_DUPLICATE", f"选区 {district} 已登记流动票箱 {label}", "label")
    box = MobileBox(
        election_id=election_id, district=district, label=label, reason=reason.strip(), scrutineers=cleaned,
        staff=[s.strip() for s in staff if s.strip()], voters_served=voters_served, ballots_issued=ballots_issued,
        ballots_returned=ballots_returned, recorded_by=actor, recorded_at=clock.now(),
    )  # fmt: skip
    session.add(box)
    session.flush()
    _audit(
        session,
        "mobile_box.recorded",
        "mobile_box",
        str(box.id),
        mobile_box_view(box),
        clock=clock,
        actor=actor,
    )
    return box


def mobile_box_view(b: MobileBox) -> dict:
    return {
        "id": b.id, "district": b.district, "label": b.label, "reason": b.reason, "scrutineers": b.scrutineers,
        "staff": b.staff, "voters_served": b.voters_served, "ballots_issued": b.ballots_issued,
        "ballots_returned": b.ballots_returned,
    }  # fmt: skip


def mobile_boxes(session: Session, election_id: int, district: str | None = None) -> list[MobileBox]:
    query = select(MobileBox).where(MobileBox.election_id == election_id)
    if district:
        query = query.where(MobileBox.district == district)
    return list(session.execute(query.order_by(MobileBox.id)).scalars())


# -- what a list notice shows (EL 32: the candidates' basic information) --------------------
SEX_NAMES = {rules.Sex.MALE: "男", rules.Sex.FEMALE: "女"}


def published_list(session: Session, election_id: int, stage: str = "official") -> dict:
    """A published list per district, as the notices print it (no ID numbers). `stage` is
    "preliminary" (everyone on the preliminary list) or "official"."""
    if stage not in ("preliminary", "official"):
        raise DomainError("E_BAD_VALUE", f"名单类型无效：{stage!r}（可用：preliminary、official）", "stage")
    election = get_election(session, election_id)
    statuses = (
        [CandidateStatus.OFFICIAL]
        if stage == "official"
        else [CandidateStatus.PRELIMINARY, CandidateStatus.NOT_SELECTED, CandidateStatus.OFFICIAL]
    )
    districts = []
    for lst in district_lists(session, election_id):
        on = lst.official_on if stage == "official" else lst.preliminary_on
        people = sorted(candidates_of(session, election_id, lst.district, statuses), key=lambda c: c.name)
        districts.append(
            {
                "district": lst.district,
                "name": lst.name,
                "seats": lst.seats,
                "published_on": on,
                "candidates": [
                    {
                        "name": c.name,
                        "sex": SEX_NAMES.get(c.sex, c.sex),
                        "born": f"{c.birth_date.year}年{c.birth_date.month}月" if c.birth_date else None,
                        "ethnicity": c.ethnicity,
                        "party": c.party,
                        "occupation": rules.OCCUPATION_NAMES.get(c.occupation, c.occupation),
                        "incumbent": c.incumbent,
                        "nominated_by": rules.NOMINATOR_NAMES.get(c.nominated_by, c.nominated_by),
                        "nominators": list(c.nominators or []),
                        "primary_votes": c.primary_votes,
                    }
                    for c in people
                ],
            }
        )
    return {"election_id": election_id, "title": election.title, "stage": stage, "districts": districts}
