"""Response models of the HTTP API: what each route returns today, field for field.

They document the bodies in /openapi.json and guard them: a body with a key its model does not
declare is refused (extra="forbid"), so a field added to a view without its model fails loudly
in the tests instead of being dropped silently by FastAPI's response filtering. Dates the views
already turned into ISO text are `str`; dates and datetimes still as objects are `date` and
`datetime` (pydantic writes them exactly as the untyped bodies did). Where a body is open-ended
(a tally document, a vote the law requires next, a voter list row, an audit entry's before and
after), the field is `dict[str, Any]`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# -- operations ----------------------------------------------------------------------------------
class Health(_Out):
    status: str = Field(description="ok 或 error")
    database: str = Field(description="数据库方言（postgresql、sqlite），不可连接时为 unreachable")


# -- jurisdictions -------------------------------------------------------------------------------
class JurisdictionRef(_Out):
    code: str
    name: str
    level: str


class JurisdictionOut(JurisdictionRef):
    parent: str | None = Field(description="上级的行政区划代码")
    timezone: str
    committee_name: str | None


class JurisdictionList(_Out):
    items: list[JurisdictionOut]
    total: int


class JurisdictionDetail(JurisdictionOut):
    contacts: list[Any]
    children: list[JurisdictionRef]


# -- elections -----------------------------------------------------------------------------------
class MilestoneDue(_Out):
    key: str
    name: str
    planned: str | None
    latest: str | None


class NextDeadline(MilestoneDue):
    date: str
    days_left: int


class Progress(_Out):
    state_name: str
    settled: int
    total: int
    percent: int
    next_deadline: NextDeadline | None
    overdue: list[MilestoneDue]
    plan_late: list[MilestoneDue]
    blocked: list[str]


class ElectionSummary(_Out):
    id: int
    kind: str
    title: str
    jurisdiction: JurisdictionRef
    anchor_date: str
    state: str
    version: int
    parent_election_id: int | None
    progress: Progress


class ElectionList(_Out):
    items: list[ElectionSummary]
    total: int
    limit: int
    offset: int


class Refusal(_Out):
    code: str
    message: str
    milestone: str | None


class NextPhase(_Out):
    target: str | None
    allowed: bool
    refusals: list[Refusal]


class MilestoneOut(_Out):
    key: str
    name: str
    phase: str
    planned: str | None
    earliest: str | None
    latest: str | None
    status: str
    done_on: str | None
    done_by: str | None
    late: bool
    waived_reason: str | None
    computed: bool
    rule: str


class ElectionOut(_Out):
    """One election in full. The anchor date is given twice: as anchor_date and under the
    kind's own name for it (election_day, or term_ends for a party branch); routes returning
    it drop unset fields, so only the kind's key appears."""

    id: int
    kind: str
    kind_name: str
    kind_version: int
    title: str
    jurisdiction: JurisdictionRef
    election_day: str | None = Field(None, description="选举日（anchor 为 election_day 的类型）")
    term_ends: str | None = Field(None, description="任期届满日（anchor 为 term_ends 的类型）")
    anchor_date: str
    statute: str | None
    state: str
    state_name: str
    version: int
    parent_election_id: int | None
    phase_windows: dict[str, Any] = Field(description="阶段键 → [开始, 结束]")
    phase_entered_on: dict[str, Any] = Field(description="阶段键 → 进入日期")
    blocked_reasons: list[Any]
    next: NextPhase | None
    milestones: list[MilestoneOut]
    progress: Progress


class PlanWarning(_Out):
    key: str | None
    code: str
    message: str


class MilestoneCheck(_Out):
    key: str
    planned: str | None
    latest: str | None
    earliest: str | None
    ok: bool
    rule: str


class ElectionCreated(_Out):
    election: ElectionOut
    warnings: list[PlanWarning]
    accepted_violations: list[str]


class RoundElection(_Out):
    id: int
    jurisdiction: str
    title: str


class RoundCreated(_Out):
    elections: list[RoundElection]
    count: int
    warnings: list[PlanWarning]
    accepted_violations: list[str]


class Transitioned(_Out):
    id: int
    from_: str = Field(alias="from")
    to: str | None
    election: ElectionOut


class Rescheduled(_Out):
    id: int
    anchor_date: str
    ok: bool
    violations: list[MilestoneCheck]
    warnings: list[PlanWarning]
    election: ElectionOut


class MilestoneCompleted(_Out):
    election_id: int
    key: str
    status: str
    done_on: str | None
    late: bool
    done_by: str | None


class MilestoneWaived(_Out):
    election_id: int
    key: str
    status: str
    waived_reason: str | None


# -- records -------------------------------------------------------------------------------------
class Reminder(_Out):
    id: int
    election_id: int
    milestone_key: str
    kind: str
    lead_days: int | None
    target_date: str | None
    fire_at: str | None
    status: str
    handled_at: str | None


class ReminderList(_Out):
    items: list[Reminder]
    total: int
    limit: int
    offset: int


class AuditEntry(_Out):
    id: int
    at: str | None
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any
    hash: str


class AuditList(_Out):
    items: list[AuditEntry]
    total: int
    limit: int
    offset: int


class ChainReport(_Out):
    ok: bool
    entries: int
    broken_at: int | None
    reason: str | None


# -- voters --------------------------------------------------------------------------------------
class VoterDistrict(_Out):
    code: str
    name: str
    seats: int | None
    population: int | None
    area: str | None


class VoterDistrictCount(VoterDistrict):
    voters: int


class VoterDistrictList(_Out):
    election_id: int
    districts: list[VoterDistrictCount]


class ImportReport(_Out):
    accepted: int
    unchanged: int
    warnings: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    duplicates: list[dict[str, Any]]
    committed: bool


class ListVersion(_Out):
    version: int
    published_on: date
    voters: int
    changes: int


class VoterDistrictStatus(VoterDistrictCount):
    versions: list[ListVersion]


class AppealsSummary(_Out):
    filing_ends: date
    window_open: bool
    pending: int
    overdue: list[int]
    total: int


class VotersStatus(_Out):
    election_id: int
    voters: int
    removed: int
    published: date | None
    districts: list[VoterDistrictStatus]
    appeals: AppealsSummary | None


class VoterPage(_Out):
    title: str
    items: list[dict[str, Any]] = Field(description="名单的行：列名见 COLUMN_KEYS（seq、name、id_number …）")
    total: int
    limit: int
    offset: int


class PublishedDistrict(_Out):
    code: str
    name: str
    version: int
    voters: int
    changes: int


class VotersPublished(_Out):
    supplementary: bool
    published_on: date
    districts: list[PublishedDistrict]
    voters: int


class AppealOut(_Out):
    id: int
    filer: str
    request: str
    subject: str
    subject_id_masked: str | None
    reason: str
    correction: dict[str, Any] | None
    filed_on: date
    decide_by: date
    status: str
    decision_reason: str | None
    decided_on: date | None
    late: bool
    court_suit_deadline: date


class AppealList(_Out):
    published_on: date
    filing_ends: date
    window_open: bool
    court_suit_deadline: date
    pending: int
    overdue: list[int]
    appeals: list[AppealOut]


# -- candidates, tallies, results ----------------------------------------------------------------
class CandidateList(_Out):
    district: str
    name: str | None
    seats: int
    status: str
    method: str | None
    preliminary_on: date | None
    official_on: date | None


class CandidateOut(_Out):
    id: int
    district: str
    name: str
    sex: str
    birth_date: date | None
    ethnicity: str | None
    party: str | None
    occupation: str
    incumbent: bool
    nominated_by: str
    nominators: list[Any] | None
    supporters: int = Field(description="联名推荐人数")
    supporters_checked: bool | None
    status: str
    primary_votes: int | None


class CandidatesView(_Out):
    districts: list[CandidateList]
    candidates: list[CandidateOut]


class CandidateListOpened(_Out):
    district: str
    name: str | None
    seats: int
    status: str


class PublishedCandidate(_Out):
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


class PublishedCandidateList(_Out):
    district: str
    name: str | None
    seats: int
    published_on: date | None
    candidates: list[PublishedCandidate]


class PublishedCandidates(_Out):
    election_id: int
    title: str
    stage: str
    districts: list[PublishedCandidateList]


class RatioCheck(_Out):
    district: str
    seats: int
    count: int
    min_candidates: int
    max_candidates: int | None
    ok: bool
    rule: str


class PreliminaryDistrict(RatioCheck):
    next: str = Field(description="consultation_or_primary / more_nominations / official")


class PreliminaryPublished(_Out):
    election_id: int
    milestone: str
    on: date | None
    districts: list[PreliminaryDistrict]


class OfficialDistrict(RatioCheck):
    method: str


class CommitteeConflict(_Out):
    candidate: str
    district: str | None
    member: str
    role: str
    certain: bool
    message: str


class OfficialPublished(_Out):
    election_id: int
    milestone: str | None
    on: date | None
    districts: list[OfficialDistrict]
    conflicts: list[CommitteeConflict]
    warnings: list[str]


class TallyRecorded(_Out):
    district: str
    round: int
    purpose: str
    result: dict[str, Any]
    next: dict[str, Any] | None = Field(description="下一次投票（目的、名额、候选人），无则为 null")


class TallyRound(_Out):
    round: int
    purpose: str
    input: dict[str, Any]
    result: dict[str, Any]
    recorded_by: str
    recorded_at: datetime


class TallyRounds(_Out):
    district: str
    rounds: list[TallyRound]


class Deputy(_Out):
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


class DistrictResult(_Out):
    district: str
    seats: int
    status: str
    elected: list[Deputy]
    invalidated: int
    vacant: int
    pending: dict[str, Any] | None
    rounds: int
    published_on: date | None


class ResultsView(_Out):
    election_id: int
    districts: list[DistrictResult]


class ResultsPublished(_Out):
    election_id: int
    on: date
    published: list[str]
    milestone: str | None


# -- notices -------------------------------------------------------------------------------------
class NoticeVersion(_Out):
    id: int
    district: str | None
    version: int
    number: str | None
    format: str
    issued_on: date
    sha256: str
    published_at: datetime
    published_by: str


class NoticeTemplate(_Out):
    template: str
    name: str
    scope: str
    milestone: str | None
    milestone_status: str | None
    ready: bool
    missing_data: list[str]
    published: list[NoticeVersion]


class NoticeCatalog(_Out):
    election_id: int
    title: str
    kind: str
    templates: list[NoticeTemplate]


class NoticePublished(_Out):
    id: int
    election_id: int
    template: str
    district: str | None
    title: str
    number: str | None
    version: int
    format: str
    issued_on: date
    sha256: str
    template_version: str
    milestone_completed: str | None
    note: str | None
    download_url: str


class ImportRejected(ImportReport):
    """The 422 of an import with rejected rows: a problem document carrying the report."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None
    instance: str
