"""Election commands: the one service layer that the CLI and the HTTP API both call.

Each function works inside the caller's transaction (`with db.transaction() as session`) and
takes the clock and the actor explicitly; nothing here reads the wall clock.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import flag_modified

from workflow.calendar import HolidayCalendar, PlanReport, check_plan, compute_bounds, provisional_years
from workflow.clock import Clock
from workflow.commands.jurisdictions import resolve_jurisdiction
from workflow.commands.reminders import write_reminders, write_round_reminders
from workflow.errors import Conflict, DomainError, not_found
from workflow.events import (
    ElectionCreated,
    ElectionRescheduled,
    MilestoneCompleted,
    MilestoneWaived,
    PhaseAdvanced,
    VotingMethodChanged,
)
from workflow.kinds import KindSpec, resolve_kind
from workflow.machine import FINAL_STATES, SUSPENDED, Decision, Trigger, machine_for
from workflow.plan import Plan
from workflow.rules.record_dates import plan_start
from workflow.rules.voting_method import check_method, method_name
from workflow.store.audit import record, record_many
from workflow.store.candidates import TallyRecord
from workflow.store.models import Election, Jurisdiction, Milestone, MilestoneStatus
from workflow.store.tally_entries import TallyEntry
from workflow.timeutil import local_date


class TransitionRefused(DomainError):
    """A trigger the state machine refuses, with every reason."""

    def __init__(self, decision: Decision):
        reasons = "；".join(r.message for r in decision.refusals)
        super().__init__("E_TRANSITION_REFUSED", f"不能执行：{reasons}", "state")
        self.decision = decision


class PlanViolations(DomainError):
    def __init__(self, report: PlanReport):
        keys = "、".join(v.key for v in report.violations)
        super().__init__(
            "E_PLAN_VIOLATIONS",
            f"计划不符合法定期限（{keys}）；如确需按此计划执行，请使用 --accept-violations 说明理由",
            "milestones",
        )
        self.report = report


# -- elections ----------------------------------------------------------------------------
def get_election(session: Session, election_id: int, *, for_update: bool = False) -> Election:
    query = (
        select(Election)
        .where(Election.id == election_id)
        # The jurisdiction in the same SELECT (an election always has one), milestones in a second.
        .options(selectinload(Election.milestones), joinedload(Election.jurisdiction, innerjoin=True))
    )
    if for_update and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Election)
    election = session.execute(query).scalar_one_or_none()
    if election is None:
        raise not_found("选举", election_id, "election_id")
    return election


def kind_of(election: Election) -> KindSpec:
    """The kind as it applies to this election: its statute version and its province's variant."""
    return resolve_kind(
        election.kind,
        jurisdiction=election.jurisdiction.code,
        on=election.anchor_date,
        statute=election.statute,
    )


@dataclass(frozen=True)
class Created:
    election: Election
    report: PlanReport


def create_election(
    session: Session,
    plan: Plan,
    *,
    clock: Clock,
    actor: str,
    accept_violations: str | None = None,
    holidays: HolidayCalendar | None = None,
    voting_method: str | None = None,
) -> Created:
    """Create an election from a checked plan. A plan that breaks a bound is refused unless
    the committee accepts the violations with a reason, which goes into the audit log.
    `voting_method`: how the voters vote where the kind offers several ways (RCL art. 14)."""
    method = check_method(plan.kind, voting_method)
    report = check_plan(plan.kind, plan.anchor, plan.milestones, holidays)
    if report.violations and not (accept_violations and accept_violations.strip()):
        raise PlanViolations(report)
    jurisdiction = resolve_jurisdiction(session, plan.jurisdiction, clock, actor)
    if plan.parent_election is not None:
        get_election(session, plan.parent_election)
    election = _new_election(plan, report, jurisdiction, plan.title, clock)
    election.voting_method = method
    session.add(election)
    session.flush()
    record(session, _created(election, report, accept_violations), actor=actor, clock=clock)
    write_reminders(session, election, clock)
    return Created(election, report)


def _new_election(
    plan: Plan, report: PlanReport, jurisdiction: Jurisdiction, title: str, clock: Clock
) -> Election:
    now = clock.now()
    first_phase = plan.kind.phase_keys[0]
    election = Election(
        kind=plan.kind.key,
        kind_version=plan.kind.version,
        title=title,
        jurisdiction=jurisdiction,
        anchor_date=plan.anchor,
        statute=plan.statute,
        state=first_phase,
        phase_windows={
            key: [w.start.isoformat() if w.start else None, w.end.isoformat() if w.end else None]
            for key, w in plan.phases.items()
        },
        phase_entered_on={first_phase: local_date(now, jurisdiction.timezone).isoformat()},
        parent_election_id=plan.parent_election,
        blocked_reasons=[],
        provisional_years=provisional_years(report),
        seats=plan.seats,
        created_at=now,
        updated_at=now,
    )
    not_applicable = plan.not_applicable()  # e.g. no committee meeting in a small branch
    for check in report.milestones:
        election.milestones.append(
            Milestone(
                key=check.key,
                phase=check.phase,
                planned_date=check.planned,
                earliest=check.earliest,
                latest=check.latest,
                status=MilestoneStatus.WAIVED if check.key in not_applicable else MilestoneStatus.PENDING,
                waived_reason=not_applicable.get(check.key),
            )
        )
    return election


def _created(
    election: Election, report: PlanReport, accept_violations: str | None, **extra
) -> ElectionCreated:
    after = election_summary(election) | extra
    if report.violations:
        after["accepted_violations"] = {
            "reason": accept_violations,
            "milestones": [v.key for v in report.violations],
        }
    return ElectionCreated(entity_id=str(election.id), after=after)


@dataclass(frozen=True)
class RoundCreated:
    elections: list[Election]
    report: PlanReport


TITLE_FIELDS = ("title", "name", "code")


def round_title(title_format: str, plan: Plan, jurisdiction: Jurisdiction) -> str:
    """An election's title in a round: `{title}` (the plan's), `{name}` and `{code}` (the
    jurisdiction's) in the committee's own wording. Only the bare fields: no attribute or index
    access (`{title.x}`), no conversion, no format spec (`{name:>1000000000}` would allocate)."""
    values = {"title": plan.title, "name": jurisdiction.name, "code": jurisdiction.code}
    refused = DomainError(
        "E_BAD_TITLE",
        f"标题格式 {title_format[:100]!r} 有误：只能使用 {{title}}、{{name}}、{{code}}（不带格式说明）",
        "title",
    )
    parts: list[str] = []
    try:
        for literal, field, spec, conversion in string.Formatter().parse(title_format):
            parts.append(literal)
            if field is None:
                continue
            if field not in values or spec or conversion:
                raise refused
            parts.append(values[field])
    except ValueError:  # unbalanced braces
        raise refused from None
    title = "".join(parts)
    if not title.strip() or len(title) > 300:
        raise DomainError("E_BAD_TITLE", "选举名称不能为空，且不超过 300 字", "title")
    return title


def create_round(
    session: Session,
    plan: Plan,
    jurisdiction_codes: Sequence[str],
    *,
    clock: Clock,
    actor: str,
    title_format: str = "{title}（{name}）",
    accept_violations: str | None = None,
    holidays: HolidayCalendar | None = None,
    voting_method: str | None = None,
) -> RoundCreated:
    """One plan for many jurisdictions at once — every township of a county in a 县乡两级
    round, every county of a province — one election each, the same dates, in one
    transaction. The plan's own jurisdiction is not used; its dates, windows and parent
    election are. The reminders are written together (`write_round_reminders`): the elections share one
    timetable, computed once and fanned out by the database."""
    method = check_method(plan.kind, voting_method)
    codes = [code.strip() for code in jurisdiction_codes if code and code.strip()]
    if not codes:
        raise DomainError("E_NO_JURISDICTIONS", "请至少指定一个行政区域", "jurisdictions")
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise DomainError("E_DUPLICATE_JURISDICTION", f"行政区域 {code} 重复出现", "jurisdictions")
        seen.add(code)
    report = check_plan(plan.kind, plan.anchor, plan.milestones, holidays)
    if report.violations and not (accept_violations and accept_violations.strip()):
        raise PlanViolations(report)
    found = {
        j.code: j for j in session.execute(select(Jurisdiction).where(Jurisdiction.code.in_(codes))).scalars()
    }
    missing = [code for code in codes if code not in found]
    if missing:
        raise DomainError("E_NOT_FOUND", f"未找到行政区域：{'、'.join(missing)}", "jurisdictions")
    if plan.parent_election is not None:
        get_election(session, plan.parent_election)
    titles = {code: round_title(title_format, plan, found[code]) for code in codes}
    elections = [_new_election(plan, report, found[code], titles[code], clock) for code in codes]
    for election in elections:
        election.voting_method = method
    session.add_all(elections)
    session.flush()
    # The round's entries in one append (one INSERT, one head UPDATE), chained as one by one.
    record_many(
        session,
        [_created(e, report, accept_violations, round_size=len(codes)) for e in elections],
        actor=actor,
        clock=clock,
    )
    write_round_reminders(session, elections, clock)
    return RoundCreated(elections, report)


def election_summary(election: Election) -> dict:
    return {
        "id": election.id,
        "kind": election.kind,
        "title": election.title,
        "jurisdiction": election.jurisdiction.code if election.jurisdiction else None,
        "anchor_date": election.anchor_date,
        "statute": election.statute,
        "state": election.state,
        "planned": {m.key: m.planned_date for m in election.milestones if m.planned_date},
    } | ({"seats": election.seats} if election.seats is not None else {}) | (
        {"voting_method": election.voting_method} if election.voting_method else {}
    )


# -- the voting method (RCL 2018 art. 8, 2025 art. 14) -------------------------------------------
def voting_started(session: Session, election: Election, today: date) -> str | None:
    """Why the voting method can no longer change — voting has started: election day has come,
    its milestone is done or a count is recorded (or the election is over) — or None."""
    if election.state in FINAL_STATES:
        return "选举已结束或已取消"
    anchor = next((m for m in election.milestones if m.key == "election_day"), None)
    if today >= election.anchor_date or (anchor is not None and anchor.done_on is not None):
        return f"选举日（{election.anchor_date}）已到，投票已经开始"
    counted = (
        session.execute(select(TallyRecord.id).where(TallyRecord.election_id == election.id).limit(1)).first()
        or session.execute(
            select(TallyEntry.id).where(TallyEntry.election_id == election.id).limit(1)
        ).first()
    )
    return "已录入计票结果，投票已经开始" if counted else None


def set_voting_method(
    session: Session,
    election_id: int,
    method: str | None,
    *,
    clock: Clock,
    actor: str,
    expected_version: int | None = None,
) -> Election:
    """Store how the voters vote (None or "all": all voters; else a key of the kind's
    `[counting.methods]`), changeable until voting starts; audited. Counting and proxies
    follow it (workflow/commands/tallies.py, workflow/rules/polling.py)."""
    election = get_election(session, election_id, for_update=True)
    _check_version(election, expected_version)
    kind = kind_of(election)
    value = check_method(kind, method)
    if value == election.voting_method:
        return election
    started = voting_started(session, election, local_date(clock.now(), election.jurisdiction.timezone))
    if started:
        cite = kind.cite("voting_method")
        raise Conflict(
            "E_VOTING_STARTED",
            f"{started}，不能再更改选举方式（现为「{method_name(kind, election.voting_method)}」"
            + (f"，{cite}" if cite else "")
            + "）",
            "voting_method",
        )
    before = election.voting_method
    election.voting_method = value
    _touch(election, clock)
    record(
        session,
        VotingMethodChanged(
            entity_id=str(election.id),
            before={"voting_method": before},
            after={"voting_method": value, "name": method_name(kind, value)},
        ),
        actor=actor,
        clock=clock,
    )
    return election


def settled_keys(election: Election) -> set[str]:
    return {m.key for m in election.milestones if m.settled}


def decide(election: Election, trigger: Trigger) -> Decision:
    """What the kind's machine says about `trigger` for this election now (pure)."""
    machine = machine_for(kind_of(election))
    return machine.decide(election.state, trigger, settled_keys(election), election.suspended_from)


def transition(
    session: Session,
    election_id: int,
    trigger: Trigger,
    *,
    clock: Clock,
    actor: str,
    reason: str | None = None,
    expected_version: int | None = None,
) -> Decision:
    """Apply a trigger; refused triggers raise TransitionRefused with every reason."""
    election = get_election(session, election_id, for_update=True)
    _check_version(election, expected_version)
    if trigger in (Trigger.SUSPEND, Trigger.CANCEL) and not (reason and reason.strip()):
        raise DomainError("E_REASON_REQUIRED", "暂停或取消选举必须说明理由", "reason")
    decision = decide(election, trigger)
    if not decision.allowed:
        raise TransitionRefused(decision)
    apply_decision(session, election, decision, clock=clock, actor=actor, reason=reason)
    # What is due depends on the state: a resumed election gets back the reminders cancelled
    # while it was suspended (the sweep catches up on them, coalesced), an ended one none.
    write_reminders(session, election, clock)
    return decision


def apply_decision(
    session: Session,
    election: Election,
    decision: Decision,
    *,
    clock: Clock,
    actor: str,
    reason: str | None = None,
) -> None:
    """Store an allowed decision and audit it (also used by the scheduler's sweep)."""
    assert decision.allowed and decision.target is not None
    before = {"state": election.state, "version": election.version}
    if decision.trigger is Trigger.SUSPEND:
        election.suspended_from = election.state
    elif decision.trigger is Trigger.RESUME:
        election.suspended_from = None
    election.state = decision.target
    now = clock.now()
    entered = dict(election.phase_entered_on or {})
    entered[decision.target] = local_date(now, election.jurisdiction.timezone).isoformat()
    election.phase_entered_on = entered
    election.blocked_reasons = []
    election.updated_at = now
    session.flush()
    record(
        session,
        PhaseAdvanced(
            entity_id=str(election.id),
            before=before,
            after={"state": election.state, "trigger": str(decision.trigger), "reason": reason},
        ),
        actor=actor,
        clock=clock,
    )


def _touch(election: Election, clock: Clock) -> None:
    """A change to the election's milestones is a change to the election: its row is written and
    its version moves on even when the clock has not (the API's status views are cached per
    version, workflow/views/status.py)."""
    election.updated_at = clock.now()
    flag_modified(election, "updated_at")


def _check_version(election: Election, expected: int | None) -> None:
    if expected is not None and expected != election.version:
        raise Conflict(
            "E_VERSION_CONFLICT",
            f"选举已被他人修改（当前版本 {election.version}，提交版本 {expected}），请刷新后重试",
            "version",
        )


def reschedule(
    session: Session,
    election_id: int,
    new_anchor: date,
    *,
    clock: Clock,
    actor: str,
    shift_plan: bool = True,
    accept_violations: str | None = None,
    holidays: HolidayCalendar | None = None,
) -> PlanReport:
    """Move the anchor (election day or term end) and recompute every bound.

    Pending milestones' planned dates move with the anchor unless `shift_plan` is false;
    milestones already done keep their dates. The new plan is checked like a new one.
    """
    election = get_election(session, election_id, for_update=True)
    if election.state in FINAL_STATES:
        raise Conflict("E_ELECTION_FINISHED", "选举已结束或已取消，不能调整日期", "election_id")
    kind = kind_of(election)
    delta = new_anchor - election.anchor_date
    before = {
        "anchor_date": election.anchor_date,
        "planned": {m.key: m.planned_date for m in election.milestones if m.planned_date},
    }
    planned: dict[str, date] = {}
    for milestone in election.milestones:
        if milestone.planned_date is None:
            continue
        moves = shift_plan and milestone.status not in (MilestoneStatus.DONE, MilestoneStatus.WAIVED)
        planned[milestone.key] = milestone.planned_date + delta if moves else milestone.planned_date
    actual = {m.key: m.done_on for m in election.milestones if m.done_on}
    report = check_plan(kind, new_anchor, {**planned, **actual}, holidays)
    if report.violations and not (accept_violations and accept_violations.strip()):
        raise PlanViolations(report)
    election.anchor_date = new_anchor
    for milestone in election.milestones:
        milestone.planned_date = planned.get(milestone.key)
    _refresh_bounds(election, kind)
    _touch(election, clock)
    session.flush()
    record(
        session,
        ElectionRescheduled(
            entity_id=str(election.id),
            before=before,
            after={
                "anchor_date": new_anchor,
                "planned": planned,
                "shift_plan": shift_plan,
                "accepted_violations": accept_violations if report.violations else None,
            },
        ),
        actor=actor,
        clock=clock,
    )
    write_reminders(session, election, clock)
    return report


def _refresh_bounds(election: Election, kind: KindSpec) -> None:
    planned = {m.key: m.planned_date for m in election.milestones if m.planned_date}
    actual = {m.key: m.done_on for m in election.milestones if m.done_on}
    bounds = compute_bounds(kind, election.anchor_date, planned, actual)
    for milestone in election.milestones:
        milestone.earliest, milestone.latest = bounds[milestone.key]


def complete_milestone(
    session: Session,
    election_id: int,
    key: str,
    *,
    clock: Clock,
    actor: str,
    on: date | None = None,
    expected_version: int | None = None,
    confirm_early: bool = False,
) -> Milestone:
    """Mark a milestone done on a date (default: today, local), whatever the current phase.
    The date is checked by `check_done_date`; one after the latest is recorded as late."""
    election = get_election(session, election_id, for_update=True)
    _check_version(election, expected_version)
    kind = kind_of(election)
    milestone = _milestone(election, kind, key)
    if election.state in FINAL_STATES or election.state == SUSPENDED:
        raise Conflict("E_ELECTION_NOT_ACTIVE", "选举已结束、暂停或取消，不能办理节点", "election_id")
    spec = kind.milestones[key]
    if spec.computed:
        raise DomainError("E_MILESTONE_COMPUTED", f"「{spec.name}」是法定期限，由系统计算，无需办理", "key")
    if milestone.settled:
        raise Conflict(
            "E_MILESTONE_SETTLED", f"「{spec.name}」已于 {milestone.done_on or '此前'} 办结或免除", "key"
        )
    for required in spec.requires:  # "needs Y before Z" (e.g. EL 47 ¶2 before the first session)
        if not election.milestone(required).settled:
            raise Conflict(
                "E_MILESTONE_REQUIRES",
                f"「{spec.name}」须在「{kind.milestones[required].name}」办结后办理（{kind.milestones[required].rule}）",
                "key",
            )
    today = local_date(clock.now(), election.jurisdiction.timezone)
    on = on or today
    check_done_date(election, kind, milestone, on, today, confirm_early=confirm_early)
    before = {"status": milestone.status, "done_on": None}
    milestone.status = MilestoneStatus.DONE
    milestone.done_on = on
    milestone.done_by = actor
    milestone.late = milestone.latest is not None and on > milestone.latest
    _refresh_bounds(election, kind)
    _touch(election, clock)
    session.flush()
    record(
        session,
        MilestoneCompleted(
            entity_id=f"{election.id}/{key}",
            before=before,
            after={"status": milestone.status, "done_on": on, "late": milestone.late},
        ),
        actor=actor,
        clock=clock,
    )
    write_reminders(session, election, clock)
    return milestone


EARLY_CONFIRM_DAYS = 365


def check_done_date(
    election: Election,
    kind: KindSpec,
    milestone: Milestone,
    on: date,
    today: date,
    *,
    confirm_early: bool = False,
    field: str = "on",
) -> None:
    """A completion date must be lawful and plausible: not in the future; not before the
    milestone's statutory earliest bound; not before a done milestone it must follow (the
    kind's `before` ordering, e.g. EL 25-26: districts before the voter list); and more than a
    year before the anchor (election day) only with an explicit confirmation."""
    spec = kind.milestones[milestone.key]
    if on > today:
        raise DomainError("E_DATE_IN_FUTURE", f"办结日期 {on} 晚于今天 {today}，不能预先办结", field)
    if milestone.earliest is not None and on < milestone.earliest:
        raise DomainError(
            "E_BEFORE_EARLIEST",
            f"「{spec.name}」不能早于 {milestone.earliest} 办结（{spec.source}：{spec.text}）",
            field,
        )
    for other in election.milestones:
        other_spec = kind.milestones.get(other.key)
        if other_spec is None or milestone.key not in other_spec.before:
            continue
        if other.status == MilestoneStatus.DONE and other.done_on is not None and on < other.done_on:
            raise DomainError(
                "E_BEFORE_PREDECESSOR",
                f"「{spec.name}」应在「{other_spec.name}」（{other.done_on} 办结）之后，"
                f"办结日期 {on} 早于它（{other_spec.source}：{other_spec.text}）",
                field,
            )
    plan_dates = [d for m in election.milestones for d in (m.planned_date, m.earliest)]
    floor = plan_start(election.anchor_date, plan_dates) - timedelta(days=EARLY_CONFIRM_DAYS)
    if on < floor:  # issue 16: no confirmation makes a date decades before the plan plausible
        raise DomainError(
            "E_DATE_OUT_OF_RANGE",
            f"办结日期 {on} 比本次选举工作安排的开始（{plan_start(election.anchor_date, plan_dates)}）"
            "早一年以上，不可能属于本次选举，不能倒填",
            field,
        )
    if (election.anchor_date - on).days > EARLY_CONFIRM_DAYS and not confirm_early:
        raise DomainError(
            "E_DATE_NEEDS_CONFIRMATION",
            f"办结日期 {on} 比{kind.anchor_name} {election.anchor_date} 早一年以上，"
            "请核对；确属无误请勾选「确认日期无误」后重新提交",
            "confirm_early",
        )


def waive_milestone(
    session: Session, election_id: int, key: str, *, reason: str, clock: Clock, actor: str
) -> Milestone:
    """Waive a milestone that does not apply (e.g. no appeals were possible), with a reason."""
    if not reason or not reason.strip():
        raise DomainError("E_REASON_REQUIRED", "免除节点必须说明理由", "reason")
    election = get_election(session, election_id, for_update=True)
    kind = kind_of(election)
    milestone = _milestone(election, kind, key)
    if milestone.settled:
        raise Conflict("E_MILESTONE_SETTLED", f"「{kind.milestones[key].name}」已办结或免除", "key")
    before = {"status": milestone.status}
    milestone.status = MilestoneStatus.WAIVED
    milestone.waived_reason = reason.strip()
    milestone.done_by = actor
    _touch(election, clock)
    session.flush()
    record(
        session,
        MilestoneWaived(
            entity_id=f"{election.id}/{key}",
            before=before,
            after={"status": milestone.status, "reason": reason.strip()},
        ),
        actor=actor,
        clock=clock,
    )
    write_reminders(session, election, clock)
    return milestone


def _milestone(election: Election, kind: KindSpec, key: str) -> Milestone:
    if key not in kind.milestones:
        raise DomainError("E_UNKNOWN_MILESTONE", f"{kind.name}没有节点 {key!r}", "key")
    return election.milestone(key)
