"""Bodies of …/candidates, …/tallies and …/results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from service.api.schemas.common import Out


class CandidateList(Out):
    district: str
    name: str | None
    seats: int
    status: str
    method: str | None
    preliminary_on: date | None
    official_on: date | None


class CandidateOut(Out):
    id: int
    district: str
    name: str
    sex: str
    birth_date: date | None
    ethnicity: str | None
    party: str | None
    education: str | None = Field(None, description="文化程度")
    occupation: str
    incumbent: bool
    nominated_by: str
    nominators: list[Any] | None
    supporters: int = Field(description="联名推荐人数")
    supporters_checked: bool | None
    status: str
    primary_votes: int | None


class CandidatesView(Out):
    districts: list[CandidateList]
    candidates: list[CandidateOut]


class CandidateListOpened(Out):
    district: str
    name: str | None
    seats: int
    status: str


class PublishedCandidate(Out):
    name: str
    sex: str
    born: str | None
    ethnicity: str | None
    party: str | None
    occupation: str
    incumbent: bool
    nominated_by: str
    nominators: list[Any]
    primary_votes: int | None


class PublishedCandidateList(Out):
    district: str
    name: str | None
    seats: int
    published_on: date | None
    candidates: list[PublishedCandidate]


class PublishedCandidates(Out):
    election_id: int
    title: str
    stage: str
    districts: list[PublishedCandidateList]


class RatioCheck(Out):
    district: str
    seats: int
    count: int
    min_candidates: int
    max_candidates: int | None
    ok: bool
    rule: str


class PreliminaryDistrict(RatioCheck):
    next: str = Field(description="consultation_or_primary / more_nominations / official")


class PreliminaryPublished(Out):
    election_id: int
    milestone: str
    on: date | None
    districts: list[PreliminaryDistrict]


class OfficialDistrict(RatioCheck):
    method: str


class CommitteeConflict(Out):
    candidate: str
    district: str | None
    member: str
    role: str
    certain: bool
    message: str


class OfficialPublished(Out):
    election_id: int
    milestone: str | None
    on: date | None
    districts: list[OfficialDistrict]
    conflicts: list[CommitteeConflict]
    warnings: list[str]


class TallyRecorded(Out):
    district: str
    round: int
    purpose: str
    result: dict[str, Any]
    next: dict[str, Any] | None = Field(description="下一次投票（目的、名额、候选人），无则为 null")


class TallyRound(Out):
    round: int
    purpose: str
    input: dict[str, Any]
    result: dict[str, Any]
    recorded_by: str
    recorded_at: datetime


class TallyRounds(Out):
    district: str
    rounds: list[TallyRound]


class Deputy(Out):
    id: int
    district: str
    name: str
    votes: int
    round: int
    write_in: bool
    qualification: str
    reviewed_on: date | None
    review_note: str | None
    certificate_number: str | None
    certificate_issued_on: date | None


class DistrictResult(Out):
    district: str
    seats: int
    status: str
    elected: list[Deputy]
    invalidated: int
    vacant: int
    pending: dict[str, Any] | None
    rounds: int
    published_on: date | None


class ResultsView(Out):
    election_id: int
    districts: list[DistrictResult]


class ResultsPublished(Out):
    election_id: int
    on: date
    published: list[str]
    milestone: str | None
