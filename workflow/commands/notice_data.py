"""What notices are made of: the stored election as a dict, and the data providers
(docs/notices.md, "Data providers") that read the voters' and candidates' records.

`build_context` fetches what a template needs through `providers` (by default `PROVIDERS`, every
part's; tests pass their own) and hands the rows to the pure `notices.context.assemble`.

Nothing is invented: a provider returns only what is stored, and an empty list when there is
nothing yet (the notice is then refused with E_NO_DATA). Voter rows carry no ID number and no
address; candidate and committee rows come from tables that never store a whole ID number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notices import forms
from notices.catalog import PROVIDER_NAMES, TemplateSpec, get_spec
from notices.context import assemble, check_district_known, check_request, sanitize
from notices.render import cn_number
from workflow.commands import candidate_records, seat_allocation
from workflow.commands import results as res
from workflow.commands.elections import kind_of
from workflow.commands.notice_settings import wording_paragraphs
from workflow.commands.voter_exports import CHANGE_NAMES, REASON_NAMES
from workflow.errors import Conflict, DomainError
from workflow.events import jsonable
from workflow.kinds import get_kind
from workflow.rules import candidates as cand_rules
from workflow.rules import stroke_order
from workflow.store.candidates import (
    CandidateStatus,
    CommitteeMember,
    Deputy,
    DistrictList,
    DistrictResult,
    ListStatus,
    ResultStatus,
    TallyRecord,
)
from workflow.store.models import Election
from workflow.store.voters import (
    District,
    SupplementaryEntry,
    Voter,
    VoterListEntry,
    VoterListVersion,
    VoterStatus,
)

Provider = Callable[[Session, Election, str | None], Any]

VOTER_SEX = {"M": "男", "F": "女"}
CANDIDATE_SEX = {cand_rules.Sex.MALE.value: "男", cand_rules.Sex.FEMALE.value: "女"}


def bare_name(name: str | None) -> str | None:
    """Templates print `<name>选区`: the stored name loses a trailing 选区."""
    if name and name.endswith("选区") and len(name) > 2:
        return name[: -len("选区")]
    return name


def _district_rows(session: Session, election_id: int) -> list[District]:
    return list(
        session.execute(
            select(District).where(District.election_id == election_id).order_by(District.code)
        ).scalars()
    )


# -- districts ------------------------------------------------------------------------------------
def districts(session: Session, election: Election, district: str | None) -> list[dict]:
    """The District table (the source of districts). An election whose districts exist only as
    candidate lists (no voter register) shows those."""
    rows = [
        {
            "code": d.code,
            "name": bare_name(d.name),
            "seats": d.seats,
            "population": d.population,
            "area": d.area,
        }
        for d in _district_rows(session, election.id)
    ]
    if not rows:
        rows = [
            {
                "code": lst.district,
                "name": bare_name(lst.name) or lst.district,
                "seats": lst.seats,
                "area": None,  # candidate lists carry no scope
            }
            for lst in candidate_records.district_lists(session, election.id)
        ]
    return rows


def _names(session: Session, election_id: int, lists: list[DistrictList] | None = None) -> dict[str, str]:
    """Each district's name (the District table's over the candidate list's); `lists`: the
    election's candidate lists when the caller has read them already."""
    if lists is None:
        lists = candidate_records.district_lists(session, election_id)
    names = {lst.district: lst.name for lst in lists if lst.name}
    names.update({d.code: d.name for d in _district_rows(session, election_id)})
    return {code: bare_name(name) for code, name in names.items()}


# -- voters ---------------------------------------------------------------------------------------
def _voter_row(v: Voter) -> dict:
    return {
        "name": v.name,
        "sex": VOTER_SEX.get(v.sex, v.sex),
        "birth_date": v.birth_date,
        "ethnicity": v.ethnicity,
        "group": v.voter_group,
    }


def voters(session: Session, election: Election, district: str | None) -> list[dict]:
    """A district's list in list-number order: the latest published version when the list is
    published (EL 28), else the register's active voters by group and registration."""
    if district is None:
        return []
    found = session.execute(
        select(District).where(District.election_id == election.id, District.code == district)
    ).scalar_one_or_none()
    if found is None:
        return []
    version = session.execute(
        select(VoterListVersion.id)
        .where(VoterListVersion.district_id == found.id)
        .order_by(VoterListVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    if version is not None:
        people = session.execute(
            select(Voter)
            .join(VoterListEntry, VoterListEntry.voter_id == Voter.id)
            .where(VoterListEntry.version_id == version)
            .order_by(VoterListEntry.seq)
        ).scalars()
    else:
        people = session.execute(
            select(Voter)
            .where(Voter.district_id == found.id, Voter.status == VoterStatus.ACTIVE)
            .order_by(func.coalesce(Voter.voter_group, ""), Voter.id)  # as `voters publish` numbers them
        ).scalars()
    return [_voter_row(v) for v in people]


def voter_corrections(session: Session, election: Election, district: str | None) -> list[dict]:
    """The district's supplementary list (补正名单): every change since publication."""
    if district is None:
        return []
    rows = session.execute(
        select(SupplementaryEntry, Voter)
        .join(Voter, Voter.id == SupplementaryEntry.voter_id)
        .join(District, District.id == SupplementaryEntry.district_id)
        .where(SupplementaryEntry.election_id == election.id, District.code == district)
        .order_by(SupplementaryEntry.id)
    ).all()
    return [
        {
            **_voter_row(voter),
            "change": CHANGE_NAMES.get(entry.change, entry.change),
            "reason": REASON_NAMES.get(entry.reason, entry.reason),
        }
        for entry, voter in rows
    ]


# -- candidates -----------------------------------------------------------------------------------
def _candidate_rows(session: Session, election: Election, district: str | None, stage: str) -> list[dict]:
    listed = (
        (ListStatus.PRELIMINARY, ListStatus.OFFICIAL) if stage == "preliminary" else (ListStatus.OFFICIAL,)
    )
    statuses = (
        [CandidateStatus.PRELIMINARY, CandidateStatus.NOT_SELECTED, CandidateStatus.OFFICIAL]
        if stage == "preliminary"
        else [CandidateStatus.OFFICIAL]
    )
    every = candidate_records.district_lists(session, election.id)
    names = _names(session, election.id, every)
    lists = [lst for lst in every if lst.status in listed and district in (None, lst.district)]
    # Every listed district's candidates in one query (not one per district), grouped here.
    by_district: dict[str, list] = {}
    if lists:
        for c in candidate_records.candidates_of(session, election.id, district, statuses):
            by_district.setdefault(c.district, []).append(c)
    rows = []
    for lst in lists:
        people = by_district.get(lst.district, [])
        # 以姓名笔划为序 (浙江省县乡两级人大代表选举实施细则第三十五条、第三十六条)
        for c in stroke_order.sort_names(people, stroke_order.load_table(), name=lambda c: c.name):
            rows.append(
                {
                    "district_code": lst.district,
                    "district_name": names.get(lst.district) or lst.district,
                    "seats": lst.seats,
                    "name": c.name,
                    "sex": CANDIDATE_SEX.get(c.sex, c.sex),
                    "birth_date": c.birth_date,
                    "ethnicity": c.ethnicity,
                    "party": forms.political_status(c.party),
                    "education": forms.education(c.education),
                    "position": cand_rules.OCCUPATION_NAMES.get(c.occupation, c.occupation),
                    "nominated_by": cand_rules.NOMINATOR_NAMES.get(c.nominated_by, c.nominated_by),
                }
            )
    return rows


def preliminary_candidates(session: Session, election: Election, district: str | None) -> list[dict]:
    return _candidate_rows(session, election, district, "preliminary")


def official_candidates(session: Session, election: Election, district: str | None) -> list[dict]:
    return _candidate_rows(session, election, district, "official")


def committee_members(session: Session, election: Election, district: str | None) -> list[dict]:
    """The election committee as it stands (members who resigned are left out)."""
    members = session.execute(
        select(CommitteeMember)
        .where(CommitteeMember.election_id == election.id, CommitteeMember.resigned_on.is_(None))
        .order_by(CommitteeMember.id)
    ).scalars()
    return [{"name": m.name, "role": m.role} for m in members]


# -- results --------------------------------------------------------------------------------------
def results(session: Session, election: Election, district: str | None) -> list[dict]:
    """Per district: the turnout of the round that decided validity (the last first-round
    vote; a void round voted again counts its new vote) and the deputies elected in every
    round (EL 45). Refused while a district still waits for a vote: a notice never announces
    partial results as final."""
    every = candidate_records.district_lists(session, election.id)
    names = _names(session, election.id, every)
    lists = [lst for lst in every if district in (None, lst.district)]
    status = {
        r.district: r.status
        for r in session.execute(
            select(DistrictResult).where(DistrictResult.election_id == election.id)
        ).scalars()
    }
    pending = [lst.district for lst in lists if status.get(lst.district) != ResultStatus.COMPLETE]
    if lists and pending:
        if all(status.get(code) is None for code in pending) and len(pending) == len(lists):
            return []  # nothing counted at all: E_NO_DATA
        raise Conflict(
            "E_RESULTS_PENDING",
            f"选区 {'、'.join(pending)} 尚未完成计票（或须另行选举、再次投票），不能公布选举结果",
            "district",
        )
    sex_of = {
        c.id: CANDIDATE_SEX.get(c.sex, c.sex) for c in candidate_records.candidates_of(session, election.id, district)
    }
    # Every district's rounds and deputies in one query each (not two per district), grouped
    # here in the order `res.rounds_of` and `res.deputies` give them for one district.
    rounds_by: dict[str, list[TallyRecord]] = {}
    deputies_by: dict[str, list[Deputy]] = {}
    if lists:
        query = select(TallyRecord).where(TallyRecord.election_id == election.id)
        if district is not None:
            query = query.where(TallyRecord.district == district)
        for r in session.execute(query.order_by(TallyRecord.district, TallyRecord.round)).scalars():
            rounds_by.setdefault(r.district, []).append(r)
        for d in res.deputies(session, election.id, district):
            deputies_by.setdefault(d.district, []).append(d)
    out = []
    for lst in lists:
        rounds = rounds_by.get(lst.district, [])
        first = [r for r in rounds if r.purpose in ("first", "revote")][-1]
        data = first.input
        issued = int(data.get("ballots_issued") or 0)
        returned = int(data.get("ballots_returned") or 0)
        invalid = int(data.get("invalid_ballots") or 0)
        elected = deputies_by.get(lst.district, [])
        out.append(
            {
                "code": lst.district,
                "name": names.get(lst.district) or lst.district,
                "seats": lst.seats,
                "registered": int(data.get("registered_voters") or 0),
                # EL 45: those who took part are counted by the ballots issued (the tally's rule).
                "participated": issued,
                "ballots_issued": issued,
                "ballots_returned": returned,
                "valid_ballots": returned - invalid,
                "invalid_ballots": invalid,
                "valid": bool(first.result.get("valid")),
                "elected": [
                    {
                        "name": d.name,
                        "sex": sex_of.get(d.candidate_id) if d.candidate_id else None,
                        "votes": d.votes,
                        **({"role": "另行选举当选"} if d.round > 1 else {}),
                    }
                    for d in elected
                ],
            }
        )
    return out


def allocation(session: Session, election: Election, district: str | None) -> dict | None:
    """The quota notice's allocation: the total the standing committee decided (EL 13, with its
    document and population base) shared among the round's townships by population, each at least
    one seat (EL 15), as workflow/commands/seat_allocation.py computes it for the allocation page.
    Without townships (a township's own election), the recorded total with `units` None: the
    notice prints the districts' seats, which must add up to it. None without a recorded decision
    (the notice then prints the districts' seats)."""
    found = seat_allocation.allocation(session, election.id)
    decision, towns = found["decision"], found["townships"]
    if decision is not None and not towns:  # a township's total, shared among its districts
        return {
            "total": decision.total,
            "population": decision.population,
            "document": decision.document,
            "decided_by": _deciding_body(election.jurisdiction),
            "units": None,
        }
    if decision is None or any(not t.get("seats") for t in towns):
        return None
    return {
        "total": decision.total,
        "population": decision.population,
        "document": decision.document,
        "decided_by": _deciding_body(election.jurisdiction),
        "units": [{"name": t["name"], "population": t["population"], "seats": t["seats"]} for t in towns],
    }


def _deciding_body(place) -> str | None:
    """Who fixes the total (EL 13): a county's by the provincial standing committee, a township's
    by the county's. (The recorded `decided_by` is the clerk who entered the decision.)"""
    wanted = {"county": "province", "township": "county"}.get(place.level)
    above = place.parent
    while above is not None and above.level != wanted:
        above = above.parent
    return f"{above.name}人民代表大会常务委员会" if above is not None else None


PROVIDERS = {
    "allocation": allocation,
    "districts": districts,
    "voters": voters,
    "voter_corrections": voter_corrections,
    "preliminary_candidates": preliminary_candidates,
    "official_candidates": official_candidates,
    "committee_members": committee_members,
    "results": results,
}


def _is_current(session: Session, election: Election) -> bool:
    """The jurisdiction's newest election of this kind: the one its recorded 届次 belongs to."""
    newest = session.execute(
        select(func.max(Election.anchor_date)).where(
            Election.jurisdiction_id == election.jurisdiction_id, Election.kind == election.kind
        )
    ).scalar_one()
    return newest is None or election.anchor_date >= newest


def election_data(election: Election, current: bool = True) -> dict:
    """The election as a dict. `current`: the jurisdiction's recorded 届次 is this round's (an
    earlier round's notices print no 届次 rather than the wrong one)."""
    kind = kind_of(election)  # the election's statute version and province: its citations
    place = election.jurisdiction
    milestones = {}
    for m in election.milestones:
        spec = kind.milestones[m.key]
        milestones[m.key] = {
            "name": spec.name,
            "source": spec.source,
            "text": spec.text,
            "planned": m.planned_date,
            "earliest": m.earliest,
            "latest": m.latest,
            "status": m.status,
            "done_on": m.done_on,
            "template": spec.template,
        }
    parent = place.parent
    term = place.congress_term if current else None
    return jsonable(
        {
            "id": election.id,
            "title": election.title,
            # what the notices call the election: 京山县第二十届人民代表大会代表选举 when the
            # 届次 is recorded, else the election's own title
            "subject": f"{place.name}第{cn_number(term)}届人民代表大会代表选举"
            if term and election.kind == "people_congress"
            else election.title,
            "kind": election.kind,
            "kind_name": kind.name,
            "anchor": kind.anchor,
            "anchor_name": kind.anchor_name,
            "anchor_date": election.anchor_date,
            "statute": election.statute,
            "state": election.state,
            "jurisdiction": {
                "code": place.code,
                "name": place.name,
                "level": place.level,
                "committee": place.committee_name,
                "parent": parent.name if parent else None,
                # 第X届: the congress this round elects (recorded per congress, 0011_notice_settings)
                "term": term,
                "term_name": f"第{cn_number(term)}届" if term else "",
                "congress": f"{place.name}{f'第{cn_number(term)}届' if term else ''}人民代表大会",
                "superior": place.superior_org,
                "numbering": place.notice_numbering or "year",
            },
            "milestones": milestones,
            "citations": dict(kind.citations),  # the articles the notices cite (statute version)
            "texts": dict(kind.texts),  # the statutory sentences they print (statute version)
        }
    )


def _fetch(
    session: Session,
    election: Election,
    spec: TemplateSpec,
    name: str,
    district: str | None,
    providers: Mapping[str, Provider],
):
    required = name in spec.needs
    fn = providers.get(name)
    if fn is None:
        if required:
            raise DomainError("E_NO_DATA", f"尚无{PROVIDER_NAMES[name]}，无法生成{spec.name}", "template")
        return None
    value = fn(session, election, district)
    if required and not value:
        where = f"选区 {district} " if district else ""
        raise DomainError("E_NO_DATA", f"{where}尚无{PROVIDER_NAMES[name]}，无法生成{spec.name}", "district")
    return sanitize(value) if value is not None else None


def build_context(
    session: Session,
    election: Election,
    template: str,
    *,
    district: str | None = None,
    issued_on: date,
    number: str | None = None,
    date_style: str = "arabic",
    options: dict | None = None,
    providers: Mapping[str, Provider] = PROVIDERS,
    draft: bool = False,
    wording: list[str] | None = None,
) -> dict:
    """Everything `template` renders from, as JSON-friendly data (stored with the notice). A
    template whose required data is missing or empty is refused with E_NO_DATA: a notice is never
    printed with an invented or empty list."""
    spec = get_spec(template)
    check_request(spec, election.kind, get_kind(election.kind).name, district, date_style)
    data: dict[str, Any] = {}
    names = (*spec.needs, *spec.optional)
    # Districts first: an unknown district is named as such, not as "no voters".
    for name in sorted(names, key=lambda n: n != "districts"):
        data[name] = _fetch(session, election, spec, name, district, providers)
        if name == "districts":
            check_district_known(data[name], district)
    return assemble(
        spec,
        election_data(election, current=_is_current(session, election)),
        data,
        district=district,
        issued_on=issued_on,
        number=number,
        date_style=date_style,
        options=options,
        draft=draft,
        wording=wording if wording is not None else wording_paragraphs(session, election.jurisdiction_id, spec.key),
    )
