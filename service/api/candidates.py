"""/api/v1/elections/{id}/candidates, …/tallies and …/results.

The same command functions as `huanjie candidates|tallies|results` (workflow/commands/candidate_*.py,
tallies.py, results.py) in the request's one transaction, with the caller as the audit actor.
Writes need `can_write` (county admin, township staff); everyone in scope may read.
Candidates' own ID numbers (for the conflict check) are never returned.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from service.api.deps import Caller, Principal, Svc, Tx
from service.api.elections import EARLIEST_DAY, LATEST_DAY, ElectionId, visible_election
from service.api.problems import PROBLEM_RESPONSES
from service.api.schemas import candidates as schemas
from workflow.commands import candidate_lists, candidate_nominations, candidate_records, tallies
from workflow.commands import results as res
from workflow.views import candidates as candidate_views

router = APIRouter(prefix="/api/v1/elections", tags=["candidates"], responses=PROBLEM_RESPONSES)

CODE = r"^[0-9A-Za-z_.\-]{1,32}$"
DistrictCode = Annotated[str, Field(pattern=CODE, description="选区代码")]
DistrictQuery = Annotated[str | None, Query(pattern=CODE, description="选区代码")]
RequiredDistrict = Annotated[str, Query(pattern=CODE, description="选区代码")]
LawfulDate = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]
Name = Annotated[str, Field(min_length=1, max_length=100)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DistrictListCreate(_Body):
    district: DistrictCode
    seats: int | None = Field(None, ge=1, le=100, description="应选名额（选民登记已有选区时可省略）")
    name: str | None = Field(None, max_length=200, description="选区名称")


class Nomination(_Body):
    district: DistrictCode
    name: Name = Field(description="姓名")
    sex: str = Field(pattern=r"^(male|female)$", description="male 男 / female 女")
    occupation: str = Field(max_length=40, description="职业类别，如 farmer、worker、cadre")
    nominated_by: str = Field(
        pattern=r"^(party|organisation|voters)$",
        description="party 政党 / organisation 人民团体 / voters 选民联名",
    )
    nominators: list[Name] = Field(default_factory=list, max_length=50, description="推荐的政党或人民团体")
    supporters: list[Annotated[str, Field(max_length=32)]] = Field(
        default_factory=list, max_length=5000, description="联名推荐选民的公民身份号码"
    )
    birth_date: LawfulDate | None = None
    ethnicity: str | None = Field(None, max_length=40)
    party: str | None = Field(None, max_length=60)
    education: str | None = Field(None, max_length=20, description="文化程度，如 大学、大专、高中")
    incumbent: bool = False
    id_number: str | None = Field(None, max_length=32, description="候选人本人身份号码（回避核查，不公开）")


class OnBody(_Body):
    on: LawfulDate | None = Field(None, description="公布日期（默认今天）")


class ResultsPublish(_Body):
    district: DistrictCode | None = Field(None, description="只公布一个选区（默认全部，并办结节点）")
    on: LawfulDate | None = None


def _writable(session: Session, caller: Principal, election_id: int) -> None:
    visible_election(session, caller, election_id)
    caller.check_write()


# -- candidates ---------------------------------------------------------------------------------
@router.get(
    "/{election_id}/candidates",
    summary="各选区候选人名单与状态",
    response_model=schemas.CandidatesView,
)
def list_candidates(
    election_id: ElectionId, session: Tx, caller: Caller, district: DistrictQuery = None
) -> dict:
    visible_election(session, caller, election_id)
    return candidate_views.candidate_lists(session, election_id, district)


@router.post(
    "/{election_id}/candidates/districts",
    status_code=201,
    summary="建立一个选区的候选人名单",
    response_model=schemas.CandidateListOpened,
)
def open_district(
    election_id: ElectionId, body: DistrictListCreate, session: Tx, caller: Caller, svc: Svc
) -> dict:
    _writable(session, caller, election_id)
    lst = candidate_nominations.open_district(
        session,
        election_id,
        body.district,
        seats=body.seats,
        name=body.name,
        clock=svc.clock,
        actor=caller.username,
    )
    return {"district": lst.district, "name": lst.name, "seats": lst.seats, "status": lst.status}


@router.post(
    "/{election_id}/candidates",
    status_code=201,
    summary="登记代表候选人推荐（选举法第三十条）",
    response_model=schemas.CandidateOut,
)
def nominate(election_id: ElectionId, body: Nomination, session: Tx, caller: Caller, svc: Svc) -> dict:
    _writable(session, caller, election_id)
    c = candidate_nominations.nominate(
        session,
        election_id,
        body.district,
        name=body.name,
        sex=body.sex,
        occupation=body.occupation,
        nominated_by=body.nominated_by,
        nominators=body.nominators,
        supporters=body.supporters,
        birth_date=body.birth_date,
        ethnicity=body.ethnicity,
        party=body.party,
        education=body.education,
        incumbent=body.incumbent,
        id_number=body.id_number,
        clock=svc.clock,
        actor=caller.username,
    )
    return candidate_records.candidate_view(c)


@router.get(
    "/{election_id}/candidates/published",
    summary="已公布的候选人名单（初步或正式），不含身份号码",
    response_model=schemas.PublishedCandidates,
)
def published_list(
    election_id: ElectionId,
    session: Tx,
    caller: Caller,
    stage: Annotated[str, Query(pattern=r"^(preliminary|official)$")] = "official",
) -> dict:
    visible_election(session, caller, election_id)
    return candidate_lists.published_list(session, election_id, stage)


@router.post(
    "/{election_id}/candidates/publish-preliminary",
    summary="公布初步代表候选人名单（选举法第三十二条：选举日的十五日以前）",
    response_model=schemas.PreliminaryPublished,
)
def publish_preliminary(
    election_id: ElectionId,
    session: Tx,
    caller: Caller,
    svc: Svc,
    body: Annotated[OnBody | None, Body()] = None,
) -> dict:
    _writable(session, caller, election_id)
    return candidate_lists.publish_preliminary(
        session, election_id, on=(body or OnBody()).on, clock=svc.clock, actor=caller.username
    )


@router.post(
    "/{election_id}/candidates/publish-official",
    summary="公布正式代表候选人名单（选举法第三十二条：选举日的七日以前）；差额比例不符时拒绝",
    response_model=schemas.OfficialPublished,
)
def publish_official(
    election_id: ElectionId,
    session: Tx,
    caller: Caller,
    svc: Svc,
    body: Annotated[OnBody | None, Body()] = None,
) -> dict:
    _writable(session, caller, election_id)
    return candidate_lists.publish_official(
        session, election_id, on=(body or OnBody()).on, clock=svc.clock, actor=caller.username
    )


# -- tallies ------------------------------------------------------------------------------------
def _round_view(session: Session, election_id: int, district: str, rec) -> dict:
    return {
        "district": district,
        "round": rec.round,
        "purpose": rec.purpose,
        "result": rec.result,
        "next": res.next_vote(session, election_id, district),
    }


@router.post(
    "/{election_id}/tallies",
    status_code=201,
    summary="计票并登记一个选区的一轮投票（TALLY.json）",
    response_model=schemas.TallyRecorded,
)
def record_tally(
    election_id: ElectionId,
    district: RequiredDistrict,
    session: Tx,
    caller: Caller,
    svc: Svc,
    body: Annotated[dict[str, Any], Body(description="TALLY.json：与 huanjie tally 的输入相同")],
) -> dict:
    _writable(session, caller, election_id)
    rec = tallies.record(session, election_id, district, body, clock=svc.clock, actor=caller.username)
    return _round_view(session, election_id, district, rec)


@router.get(
    "/{election_id}/tallies",
    summary="一个选区已登记的各轮计票",
    response_model=schemas.TallyRounds,
)
def list_tallies(election_id: ElectionId, district: RequiredDistrict, session: Tx, caller: Caller) -> dict:
    visible_election(session, caller, election_id)
    rounds = [
        {
            "round": r.round,
            "purpose": r.purpose,
            "input": r.input,
            "result": r.result,
            "recorded_by": r.recorded_by,
            "recorded_at": r.recorded_at,
        }
        for r in res.rounds_of(session, election_id, district)
    ]
    return {"district": district, "rounds": rounds}


# -- results ------------------------------------------------------------------------------------
@router.get(
    "/{election_id}/results",
    summary="各选区选举结果与待进行的投票",
    response_model=schemas.ResultsView,
)
def show_results(election_id: ElectionId, session: Tx, caller: Caller) -> dict:
    visible_election(session, caller, election_id)
    return res.results_view(session, election_id)


@router.post(
    "/{election_id}/results/publish",
    summary="公布选举结果（选举法第四十六条）",
    response_model=schemas.ResultsPublished,
)
def publish_results(
    election_id: ElectionId,
    session: Tx,
    caller: Caller,
    svc: Svc,
    body: Annotated[ResultsPublish | None, Body()] = None,
) -> dict:
    _writable(session, caller, election_id)
    body = body or ResultsPublish()
    return res.publish_results(
        session, election_id, district=body.district, on=body.on, clock=svc.clock, actor=caller.username
    )
