"""Bodies of /api/v1/elections: one election, lists, creation, transitions, milestones."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from service.api.schemas.common import JurisdictionRef, Out


class MilestoneDue(Out):
    key: str
    name: str
    planned: str | None
    latest: str | None


class NextDeadline(MilestoneDue):
    date: str
    days_left: int  # < 0: past the bound
    overdue: bool = False  # past its statutory bound (else, when days_left < 0, behind the plan)


class Problem(Out):
    level: str  # bad (overdue, blocked) or warn (late against the plan)
    key: str | None  # the milestone, when the problem is one
    days: int | None  # days overdue or late
    text: str


class Progress(Out):
    state_name: str
    settled: int
    total: int
    percent: int
    next_deadline: NextDeadline | None
    overdue: list[MilestoneDue]
    plan_late: list[MilestoneDue]
    blocked: list[str]
    problems: list[Problem] = []


class ElectionSummary(Out):
    id: int
    kind: str
    title: str
    jurisdiction: JurisdictionRef
    anchor_date: str
    state: str
    version: int
    parent_election_id: int | None
    progress: Progress


class ElectionList(Out):
    items: list[ElectionSummary]
    total: int
    limit: int
    offset: int


class Refusal(Out):
    code: str
    message: str
    milestone: str | None


class NextPhase(Out):
    target: str | None
    allowed: bool
    refusals: list[Refusal]


class MilestoneOut(Out):
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
    applicable: bool = Field(
        True, description="false：审批类节点的前提未出现（如未调整选举日），不适用，不计入进度"
    )


class VotingMethodChoice(Out):
    key: str
    name: str


class VotingMethodOut(Out):
    key: str = Field(description="all 全体选民 / households 每户派代表 / representatives 居民（小组）代表")
    name: str
    rule: str = Field(description="所依据的条文")
    choices: list[VotingMethodChoice]


class ElectionOut(Out):
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
    voting_method: VotingMethodOut | None = Field(
        None, description="选举方式（仅居委会选举等可选择选举方式的类型）"
    )
    progress: Progress


class PlanWarning(Out):
    key: str | None
    code: str
    message: str


class MilestoneCheck(Out):
    key: str
    planned: str | None
    latest: str | None
    earliest: str | None
    ok: bool
    rule: str


class ElectionCreated(Out):
    election: ElectionOut
    warnings: list[PlanWarning]
    accepted_violations: list[str]


class RoundElection(Out):
    id: int
    jurisdiction: str
    title: str


class RoundCreated(Out):
    elections: list[RoundElection]
    count: int
    warnings: list[PlanWarning]
    accepted_violations: list[str]


class Transitioned(Out):
    id: int
    from_: str = Field(alias="from")
    to: str | None
    election: ElectionOut


class Rescheduled(Out):
    id: int
    anchor_date: str
    ok: bool
    violations: list[MilestoneCheck]
    warnings: list[PlanWarning]
    election: ElectionOut


class MilestoneCompleted(Out):
    election_id: int
    key: str
    status: str
    done_on: str | None
    late: bool
    done_by: str | None


class MilestoneWaived(Out):
    election_id: int
    key: str
    status: str
    waived_reason: str | None
