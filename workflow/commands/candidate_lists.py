"""Candidate commands: publish the preliminary and official lists (EL 32), consultation and
primaries between them, the structure report, and the published list as notices print it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands.candidate_committee import conflicts
from workflow.commands.candidate_records import (
    ACTIVE,
    active_election,
    audit_change,
    before_voting,
    candidates_of,
    district_lists,
    get_list,
    rules_for,
)
from workflow.commands.elections import complete_milestone, get_election, kind_of
from workflow.errors import Conflict, DomainError
from workflow.events import CandidatesConsulted, OfficialListPublished, PreliminaryListPublished, PrimaryHeld
from workflow.rules import candidate_structure as list_structure
from workflow.rules import candidates as rules
from workflow.store.candidates import Candidate, CandidateStatus, DistrictList, ListStatus


# -- lists ----------------------------------------------------------------------------------
def _ratio_view(candidate_rules: rules.CandidateRules, lst: DistrictList, count: int) -> dict:
    return {"district": lst.district, **rules.check_ratio(candidate_rules, lst.seats, count).as_dict()}


def publish_preliminary(
    session: Session,
    election_id: int,
    *,
    clock: Clock,
    actor: str,
    on: date | None = None,
    historical: bool = False,
) -> dict:
    """Publish every district's preliminary list (EL 32: by E − 15) and complete the milestone
    in the same transaction. Districts outside the ratio are reported: above the upper bound
    they go to consultation or a primary; below the lower bound more nominations are needed."""
    election = active_election(session, election_id, historical)
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
    audit_change(
        session,
        PreliminaryListPublished,
        str(election_id),
        {"on": on, "districts": report},
        clock=clock,
        actor=actor,
    )
    return {"election_id": election_id, "milestone": milestone, "on": on, "districts": report}


# How the official candidates were settled (EL 32): the voters' groups agreed, or a primary.
SELECTED_BY = {"consultation": CandidatesConsulted, "primary": PrimaryHeld}


def consult(
    session: Session, election_id: int, district: str, keep: Sequence[str], *, clock: Clock, actor: str
) -> DistrictList:
    """Consultation (协商, EL 32): the voters' groups agree on the official candidates."""
    return _select(session, election_id, district, list(keep), "consultation", None, clock=clock, actor=actor)


def primary(
    session: Session,
    election_id: int,
    district: str,
    votes: dict[str, int],
    *,
    clock: Clock,
    actor: str,
    size: int | None = None,
) -> DistrictList:
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
    session: Session,
    election_id: int,
    district: str,
    keep: list[str],
    method: str,
    votes: dict[str, int] | None,
    *,
    clock: Clock,
    actor: str,
) -> DistrictList:
    election = active_election(session, election_id)
    before_voting(election)
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
    audit_change(
        session,
        SELECTED_BY[method],
        f"{election_id}/{district}",
        {"kept": sorted(keep), "votes": votes},
        clock=clock,
        actor=actor,
    )
    return lst


def publish_official(
    session: Session,
    election_id: int,
    *,
    clock: Clock,
    actor: str,
    on: date | None = None,
    historical: bool = False,
) -> dict:
    """Publish every district's official list (EL 32: by E − 7) and complete the milestone in
    the same transaction. A list outside the kind's competitive ratio is refused, naming the
    district and the rule. Committee conflicts and structure warnings are reported."""
    election = active_election(session, election_id, historical)
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
    audit_change(
        session,
        OfficialListPublished,
        str(election_id),
        {"on": on, "districts": report, "conflicts": found},
        clock=clock,
        actor=actor,
    )
    return {
        "election_id": election_id,
        "milestone": milestone,
        "on": on,
        "districts": report,
        "conflicts": found,
        "warnings": warnings,
    }


def _profiles(cands: Sequence[Candidate]) -> list[list_structure.Profile]:
    return [
        list_structure.Profile(c.name, c.sex, c.party, c.occupation, c.ethnicity, c.incumbent) for c in cands
    ]


def structure(
    session: Session, election_id: int, district: str | None = None
) -> list_structure.StructureReport:
    """The structure report over the current list (official where published, else active)."""
    election = get_election(session, election_id)
    cands = candidates_of(session, election_id, district, ACTIVE)
    if any(c.status == CandidateStatus.OFFICIAL for c in cands):
        cands = [c for c in cands if c.status == CandidateStatus.OFFICIAL]
    scope = f"选区 {district}" if district else election.title
    return list_structure.structure_report(rules_for(election), _profiles(cands), scope)


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
    # Every district's candidates in one query (not one per district), grouped here.
    listed: dict[str, list] = {}
    for c in candidates_of(session, election_id, None, statuses):
        listed.setdefault(c.district, []).append(c)
    districts = []
    for lst in district_lists(session, election_id):
        on = lst.official_on if stage == "official" else lst.preliminary_on
        people = sorted(listed.get(lst.district, []), key=lambda c: c.name)
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
