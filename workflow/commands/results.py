"""Result commands: record counted rounds per district (first round, runoff, tie-break vote),
publish results, review deputies' qualifications (EL 47) and issue certificates.

Counting itself is pure and lives elsewhere (`workflow.rules.tally`, used by
`workflow.commands.tallies`); `record_counted` stores a round that has been counted, together
with its input, and works out what the law requires next (`workflow.rules.results.progress`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands.candidate_records import audit_change, district_lists, get_list
from workflow.commands.elections import complete_milestone, get_election, kind_of
from workflow.errors import Conflict, DomainError, not_found
from workflow.events import CertificatesIssued, DeputyReviewed, ResultsPublished, TallyRecorded
from workflow.kinds import counting_params
from workflow.machine import FINAL_STATES, SUSPENDED
from workflow.rules import results as rules
from workflow.store.candidates import (
    Candidate,
    CandidateStatus,
    Deputy,
    DistrictList,
    DistrictResult,
    ListStatus,
    Qualification,
    ResultStatus,
    TallyRecord,
)
from workflow.store.models import Election
from workflow.timeutil import local_date

_STATUS = {
    rules.FIRST: ResultStatus.AWAITING,
    rules.RUNOFF: ResultStatus.RUNOFF_PENDING,
    rules.TIE_BREAK: ResultStatus.TIE_BREAK_PENDING,
}


def _voting_election(session: Session, election_id: int, historical: bool) -> Election:
    election = get_election(session, election_id, for_update=True)
    if historical:
        return election
    if election.state in FINAL_STATES or election.state == SUSPENDED:
        raise Conflict("E_ELECTION_NOT_ACTIVE", "选举已结束、暂停或取消，不能登记计票结果", "election_id")
    kind = kind_of(election)
    voting = kind.candidates.get("voting_phase")
    if voting and election.state != voting:
        raise Conflict(
            "E_NOT_VOTING",
            f"选举尚未进入或已离开「{kind.phase(voting).name}」阶段，不能登记计票结果（另行选举也在该阶段内进行）",
            "election_id",
        )
    return election


def rounds_of(session: Session, election_id: int, district: str) -> list[TallyRecord]:
    return list(
        session.execute(
            select(TallyRecord)
            .where(TallyRecord.election_id == election_id, TallyRecord.district == district)
            .order_by(TallyRecord.round)
        ).scalars()
    )


def _as_rounds(records: list[TallyRecord]) -> list[rules.Round]:
    return [rules.Round(r.round, r.purpose, dict(r.input.get("votes") or {}), r.result) for r in records]


def district_progress(session: Session, election_id: int, district: str) -> rules.Progress:
    lst = get_list(session, election_id, district)
    return rules.progress(lst.seats, _as_rounds(rounds_of(session, election_id, district)))


def _result_row(session: Session, election_id: int, lst: DistrictList) -> DistrictResult:
    row = session.execute(
        select(DistrictResult).where(
            DistrictResult.election_id == election_id, DistrictResult.district == lst.district
        )
    ).scalar_one_or_none()
    if row is None:
        row = DistrictResult(election_id=election_id, district=lst.district, seats=lst.seats)
        session.add(row)
    return row


def next_vote(session: Session, election_id: int, district: str) -> dict[str, Any] | None:
    """The vote the district needs next ({"purpose", "seats", "candidates", …}), or None."""
    return district_progress(session, election_id, district).pending


def record_counted(
    session: Session,
    election_id: int,
    district: str,
    tally_input: Mapping[str, Any],
    result: Mapping[str, Any],
    *,
    clock: Clock,
    actor: str,
    historical: bool = False,
) -> TallyRecord:
    """Store one counted round of a district and what follows from it (elected, runoff,
    tie-break vote, vacancies). `historical` records a past election whose phases are over."""
    election = _voting_election(session, election_id, historical)
    lst = get_list(session, election_id, district)
    if lst.status != ListStatus.OFFICIAL:
        raise Conflict("E_LIST_NOT_OFFICIAL", f"选区 {district} 的正式候选人名单尚未公布", "district")
    rules.check_result_document(result)
    records = rounds_of(session, election_id, district)
    before = rules.progress(lst.seats, _as_rounds(records))
    if before.pending is None:
        raise Conflict("E_DISTRICT_DONE", f"选区 {district} 的选举已完成，不能再登记计票", "district")
    purpose = before.pending["purpose"]
    _check_input(election, lst, before.pending, tally_input)
    record_row = TallyRecord(
        election_id=election_id,
        district=district,
        round=len(records) + 1,
        purpose=purpose,
        input=dict(tally_input),
        result=dict(result),
        recorded_by=actor,
        recorded_at=clock.now(),
    )
    session.add(record_row)
    session.flush()
    after = rules.progress(lst.seats, _as_rounds([*records, record_row]))
    _apply(session, election_id, lst, after)
    audit_change(
        session,
        TallyRecorded,
        f"{election_id}/{district}/{record_row.round}",
        {"purpose": purpose, "input": dict(tally_input), "result": dict(result), "next": after.pending},
        clock=clock,
        actor=actor,
    )
    return record_row


def _check_input(
    election: Election, lst: DistrictList, pending: Mapping[str, Any], data: Mapping[str, Any]
) -> None:
    purpose = pending["purpose"]
    if data.get("kind", election.kind) != election.kind:
        raise DomainError(
            "E_WRONG_KIND", f"计票文件的选举类型 {data.get('kind')} 与选举（{election.kind}）不符", "kind"
        )
    if purpose == rules.TIE_BREAK:
        return
    if data.get("seats") != pending["seats"]:
        raise DomainError(
            "E_WRONG_SEATS",
            f"选区 {lst.district} 本轮应选 {pending['seats']} 名，计票文件为 {data.get('seats')} 名",
            "seats",
        )
    expected_round = 2 if purpose == rules.RUNOFF else 1
    if int(data.get("round", 1)) != expected_round:
        raise DomainError(
            "E_WRONG_ROUND",
            f"选区 {lst.district} 本轮是{rules.PURPOSE_NAMES[purpose]}（round = {expected_round}）",
            "round",
        )
    if purpose == rules.RUNOFF:
        rules.check_runoff_list(
            pending, list(data.get("runoff_candidates") or []), counting_params(kind_of(election), election.voting_method).source("runoff")
        )


def _apply(session: Session, election_id: int, lst: DistrictList, progress: rules.Progress) -> None:
    row = _result_row(session, election_id, lst)
    row.seats = lst.seats
    row.elected_count = len(progress.elected)
    row.vacant = progress.vacant
    row.pending = progress.pending
    if progress.pending is None:
        row.status = ResultStatus.COMPLETE
    elif progress.pending.get("after_void"):
        row.status = ResultStatus.REVOTE_PENDING
    else:
        row.status = _STATUS[progress.pending["purpose"]]
    existing = {
        d.name: d
        for d in session.execute(
            select(Deputy).where(Deputy.election_id == election_id, Deputy.district == lst.district)
        ).scalars()
    }
    official = {
        c.name: c
        for c in session.execute(
            select(Candidate).where(
                Candidate.election_id == election_id,
                Candidate.district == lst.district,
                Candidate.status == CandidateStatus.OFFICIAL,
            )
        ).scalars()
    }
    for elected in progress.elected:
        if elected.name in existing:
            continue
        candidate = official.get(elected.name)
        session.add(
            Deputy(
                election_id=election_id,
                district=lst.district,
                name=elected.name,
                candidate_id=candidate.id if candidate else None,
                write_in=candidate is None,  # 另选他人 (EL 41)
                votes=elected.votes,
                round=elected.round,
                qualification=Qualification.PENDING,
            )
        )
    session.flush()


def record_tie_break(
    session: Session,
    election_id: int,
    district: str,
    votes: dict[str, int],
    *,
    clock: Clock,
    actor: str,
    historical: bool = False,
) -> TallyRecord:
    """The new vote among those tied at the cut-off (EL 45): most votes win."""
    get_list(session, election_id, district)
    pending = next_vote(session, election_id, district)
    if pending is None or pending["purpose"] != rules.TIE_BREAK:
        raise Conflict("E_NO_TIE_BREAK", f"选区 {district} 当前无需就票数相等的候选人再次投票", "district")
    ranking_rule = counting_params(kind_of(get_election(session, election_id))).source("ranking")
    result = rules.tie_break_result(pending["seats"], pending["candidates"], votes, ranking_rule)
    data = {
        "purpose": rules.TIE_BREAK,
        "seats": pending["seats"],
        "candidates": pending["candidates"],
        "votes": votes,
    }
    return record_counted(
        session, election_id, district, data, result, clock=clock, actor=actor, historical=historical
    )


# -- views ----------------------------------------------------------------------------------
def deputies(session: Session, election_id: int, district: str | None = None) -> list[Deputy]:
    query = select(Deputy).where(Deputy.election_id == election_id)
    if district:
        query = query.where(Deputy.district == district)
    return list(
        session.execute(
            query.order_by(Deputy.district, Deputy.round, Deputy.votes.desc(), Deputy.name)
        ).scalars()
    )


def deputy_view(d: Deputy) -> dict:
    return {
        "id": d.id,
        "district": d.district,
        "name": d.name,
        "votes": d.votes,
        "round": d.round,
        "write_in": d.write_in,
        "qualification": d.qualification,
        "reviewed_on": d.reviewed_on,
        "review_note": d.review_note,
        "certificate_number": d.certificate_number,
        "certificate_issued_on": d.certificate_issued_on,
    }


def results_view(session: Session, election_id: int) -> dict:
    get_election(session, election_id)
    # One query per table for every district (not three per district), grouped here.
    result_of = {
        r.district: r
        for r in session.execute(
            select(DistrictResult).where(DistrictResult.election_id == election_id)
        ).scalars()
    }
    rounds_in = dict(
        session.execute(
            select(TallyRecord.district, func.count())
            .where(TallyRecord.election_id == election_id)
            .group_by(TallyRecord.district)
        ).all()
    )
    elected_in: dict[str, list[Deputy]] = {}
    for d in deputies(session, election_id):
        elected_in.setdefault(d.district, []).append(d)
    districts = []
    for lst in district_lists(session, election_id):
        row = result_of.get(lst.district)
        elected = elected_in.get(lst.district, [])
        districts.append(
            {
                "district": lst.district,
                "seats": lst.seats,
                "status": row.status if row else ResultStatus.AWAITING,
                "elected": [deputy_view(d) for d in elected],
                # EL 47: an election found invalid leaves the seat to a by-election.
                "invalidated": sum(1 for d in elected if d.qualification == Qualification.INVALID),
                "vacant": row.vacant if row else 0,
                "pending": row.pending if row else {"purpose": rules.FIRST, "seats": lst.seats},
                "rounds": rounds_in.get(lst.district, 0),
                "published_on": row.published_on if row else None,
            }
        )
    return {"election_id": election_id, "districts": districts}


# -- publication (EL 46), qualification (EL 47), certificates --------------------------------
def publish_results(
    session: Session,
    election_id: int,
    *,
    clock: Clock,
    actor: str,
    district: str | None = None,
    on: date | None = None,
) -> dict:
    """Publish the results of one district, or of all (which completes the results milestone
    in the same transaction). A district still waiting for a vote is refused, by name."""
    election = get_election(session, election_id, for_update=True)
    kind = kind_of(election)
    today = local_date(clock.now(), election.jurisdiction.timezone)
    on = on or today
    if on > today:
        raise DomainError("E_DATE_IN_FUTURE", f"公布日期 {on} 晚于今天 {today}", "on")
    lists = district_lists(session, election_id)
    if district:
        lists = [get_list(session, election_id, district)]
    if not lists:
        raise DomainError("E_NO_DISTRICTS", "尚未建立任何选区的候选人名单", "district")
    rows = []
    unfinished = []
    for lst in lists:
        row = session.execute(
            select(DistrictResult).where(
                DistrictResult.election_id == election_id, DistrictResult.district == lst.district
            )
        ).scalar_one_or_none()
        if row is None or row.status != ResultStatus.COMPLETE:
            unfinished.append(lst.district)
        else:
            rows.append(row)
    if unfinished:
        raise Conflict(
            "E_RESULTS_PENDING",
            f"选区 {'、'.join(unfinished)} 尚未完成计票（或须另行选举、再次投票），不能公布选举结果",
            "district",
        )
    published = []
    for row in rows:
        if row.published_on is None:
            row.published_on, row.published_by = on, actor
            published.append(row.district)
    if district and not published:
        raise Conflict("E_ALREADY_PUBLISHED", f"选区 {district} 的选举结果已公布", "district")
    milestone = kind.candidates.get("results_milestone")
    completed = None
    if district is None and milestone:
        m = election.milestone(milestone)
        if not m.settled:
            completed = complete_milestone(
                session, election_id, milestone, clock=clock, actor=actor, on=on
            ).key
    session.flush()
    audit_change(
        session,
        ResultsPublished,
        str(election_id),
        {"on": on, "districts": published, "milestone": completed},
        clock=clock,
        actor=actor,
    )
    return {"election_id": election_id, "on": on, "published": published, "milestone": completed}


def _deputy(session: Session, election_id: int, deputy_id: int) -> Deputy:
    deputy = session.get(Deputy, deputy_id)
    if deputy is None or deputy.election_id != election_id:
        raise not_found("当选人", deputy_id, "deputy_id")
    return deputy


def review_qualification(
    session: Session,
    election_id: int,
    deputy_id: int,
    *,
    valid: bool,
    clock: Clock,
    actor: str,
    note: str | None = None,
    on: date | None = None,
) -> Deputy:
    """EL 47: the credentials committee confirms a deputy's qualification or finds the election
    invalid (a finding of invalidity needs its reason). Only after the result is published."""
    election = get_election(session, election_id)
    deputy = _deputy(session, election_id, deputy_id)
    row = session.execute(
        select(DistrictResult).where(
            DistrictResult.election_id == election_id, DistrictResult.district == deputy.district
        )
    ).scalar_one()
    if row.published_on is None:
        raise Conflict(
            "E_NOT_PUBLISHED", f"选区 {deputy.district} 的选举结果尚未公布，不能审查代表资格", "deputy_id"
        )
    if deputy.qualification != Qualification.PENDING:
        raise Conflict("E_ALREADY_REVIEWED", f"{deputy.name} 的代表资格已审查", "deputy_id")
    if not valid and not (note and note.strip()):
        raise DomainError("E_REASON_REQUIRED", "确定当选无效须说明理由（选举法第四十七条）", "note")
    before = {"qualification": deputy.qualification}
    deputy.qualification = Qualification.CONFIRMED if valid else Qualification.INVALID
    deputy.reviewed_on = on or local_date(clock.now(), election.jurisdiction.timezone)
    deputy.review_note = note.strip() if note else None
    session.flush()
    audit_change(
        session,
        DeputyReviewed,
        str(deputy.id),
        deputy_view(deputy),
        before=before,
        clock=clock,
        actor=actor,
    )
    return deputy


def issue_certificates(
    session: Session,
    election_id: int,
    *,
    clock: Clock,
    actor: str,
    on: date | None = None,
    district: str | None = None,
) -> list[Deputy]:
    """Number and issue certificates (当选证书) to deputies whose qualification is confirmed.
    Numbers are `<jurisdiction>-<year>-<NNNN>`, in order of issue, never reused."""
    election = get_election(session, election_id, for_update=True)
    on = on or local_date(clock.now(), election.jurisdiction.timezone)
    prefix = f"{election.jurisdiction.code}-{election.anchor_date.year}-"
    issued_before = session.execute(
        select(func.count())
        .select_from(Deputy)
        .where(Deputy.election_id == election_id, Deputy.certificate_number.is_not(None))
    ).scalar_one()
    due = [
        d
        for d in deputies(session, election_id, district)
        if d.qualification == Qualification.CONFIRMED and d.certificate_number is None
    ]
    for offset, deputy in enumerate(due, start=1):
        deputy.certificate_number = f"{prefix}{issued_before + offset:04d}"
        deputy.certificate_issued_on = on
    session.flush()
    if due:
        audit_change(
            session,
            CertificatesIssued,
            str(election_id),
            {"on": on, "certificates": {d.name: d.certificate_number for d in due}},
            clock=clock,
            actor=actor,
        )
    return due


def certificate_data(session: Session, election_id: int, deputy_id: int) -> dict:
    """What a certificate of election (当选证书) prints."""
    election = get_election(session, election_id)
    deputy = _deputy(session, election_id, deputy_id)
    if deputy.certificate_number is None:
        raise Conflict(
            "E_NO_CERTIFICATE", f"{deputy.name} 尚未颁发当选证书（须先通过代表资格审查）", "deputy_id"
        )
    candidate = deputy.candidate
    row = session.execute(
        select(DistrictResult).where(
            DistrictResult.election_id == election_id, DistrictResult.district == deputy.district
        )
    ).scalar_one()
    return {
        "number": deputy.certificate_number,
        "name": deputy.name,
        "sex": candidate.sex if candidate else None,
        "district": deputy.district,
        "election": election.title,
        "jurisdiction": election.jurisdiction.name,
        "committee": election.jurisdiction.committee_name,
        "elected_on": row.published_on,
        "votes": deputy.votes,
        "issued_on": deputy.certificate_issued_on,
        "text": f"{deputy.name}同志于{_cn_date(row.published_on)}当选为{election.title.removesuffix('换届选举')}。",
    }


def _cn_date(day: date | None) -> str:
    return "" if day is None else f"{day.year}年{day.month}月{day.day}日"
