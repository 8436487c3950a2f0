"""What a sweep batch does, decided from plain data: no database, no clock.

The sweep (schedules/sweep.py) claims due reminders, reads the facts below and writes what the
functions here decide: which reminders are sent, coalesced, cancelled or handed to the ORM (a
milestone to mark overdue, a computed deadline to mark done), the messages and their texts, and
the next phase move of an election whose phase window opened. Keeping the decisions apart lets
the coalescing rule after downtime (the most urgent message per milestone wins; no "7 days
left" for a milestone already overdue; see docs/scheduler.md) be tested without a database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from workflow.kinds import KindSpec, get_kind, resolve_kind
from workflow.machine import FINAL_STATES, SUSPENDED, Decision, Trigger, machine_for, state_name
from workflow.timetable import URGENCY, ReminderKind

PHASE_KINDS = frozenset({ReminderKind.PHASE_OPENS, ReminderKind.ADVANCE_CHECK})
APPEAL_DUE = "appeal_due"  # written by workflow/commands/appeals.py
OVERDUE_MARKS = (ReminderKind.OVERDUE, ReminderKind.ESCALATION)


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A claimed reminder, as the sweep's batch query reads it."""

    id: int
    election_id: int
    milestone_key: str | None
    kind: str
    lead_days: int | None
    target_date: date | None


@dataclass(frozen=True, slots=True)
class ElectionFacts:
    id: int
    title: str
    state: str
    kind: str
    jurisdiction_id: int
    # What picks the kind's statute version and province (workflow.kinds.resolve_kind).
    statute: str | None = None
    anchor_date: date | None = None
    jurisdiction_code: str | None = None

    def spec(self) -> KindSpec:
        return kind_spec(self.kind, self.jurisdiction_code, self.anchor_date, self.statute)


@dataclass(frozen=True, slots=True)
class PhaseFacts:
    """An election with due phase reminders, as the sweep reads it (plain values, no ORM
    object): what `phase_step` decides on, and what a blocked flag and its message need."""

    id: int
    title: str
    state: str
    kind: str
    jurisdiction_id: int
    statute: str | None
    anchor_date: date | None
    jurisdiction_code: str | None
    timezone: str
    suspended_from: str | None
    phase_windows: Mapping[str, Sequence[str | None]] | None
    blocked_reasons: Sequence[str] | None
    settled: frozenset[str] = frozenset()

    def spec(self) -> KindSpec:
        return kind_spec(self.kind, self.jurisdiction_code, self.anchor_date, self.statute)


@dataclass(frozen=True, slots=True)
class MilestoneFacts:
    settled: bool  # done or waived: nothing more to say about it
    pending: bool  # neither settled nor already marked overdue
    planned_date: date | None
    latest: date | None


@dataclass(frozen=True)
class SweepItem:
    election_id: int
    milestone_key: str | None
    phase_from: str | None
    phase_to: str | None
    message: str

    def as_dict(self) -> dict:
        return {
            "election_id": self.election_id,
            "milestone_key": self.milestone_key,
            "phase_from": self.phase_from,
            "phase_to": self.phase_to,
            "message": self.message,
        }


@dataclass(frozen=True)
class Message:
    """One message to the outbox, keyed by the reminder that carries it."""

    reminder: DueReminder
    jurisdiction_id: int
    category: str  # warning / overdue / escalation
    item: SweepItem

    @property
    def escalates(self) -> bool:
        """An escalation goes to the parent committee, with a copy to the committee concerned."""
        return self.category == "escalation"


@dataclass
class BatchPlan:
    """What to write for a batch's milestone and appeal reminders (phase rows are apart)."""

    done: list[int] = field(default_factory=list)
    superseded: dict[int, int] = field(default_factory=dict)  # reminder id -> the one sent instead
    cancelled: list[int] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    warnings: list[SweepItem] = field(default_factory=list)
    overdue: list[SweepItem] = field(default_factory=list)
    escalated: list[SweepItem] = field(default_factory=list)
    # Per election, in order: reminders whose milestone the ORM must change (overdue marks,
    # computed deadlines), audited.
    state_changes: list[tuple[int, list[DueReminder]]] = field(default_factory=list)


@lru_cache(maxsize=4096)
def kind_spec(kind: str, jurisdiction_code: str | None, anchor_date: date | None, statute: str | None) -> KindSpec:
    """`resolve_kind`, memoised: the kinds are read once per process anyway, and a round's
    elections share a handful of (kind, variant, statute) — a batch asks once per message."""
    return resolve_kind(kind, jurisdiction=jurisdiction_code, on=anchor_date, statute=statute)


def fires(state: str) -> bool:
    """Whether anything fires for an election in `state`: nothing does for an ended or
    suspended one (a resume writes back what fell due meanwhile; see docs/scheduler.md)."""
    return state not in FINAL_STATES and state != SUSPENDED


def split_phase_rows(due: Sequence[DueReminder]) -> tuple[list[DueReminder], list[DueReminder]]:
    """(phase reminders, the others) of one election's due reminders."""
    return [r for r in due if r.kind in PHASE_KINDS], [r for r in due if r.kind not in PHASE_KINDS]


def urgency(reminder: DueReminder) -> tuple[int, int]:
    # Among lead reminders the nearest (fewest days left) is the most urgent.
    return (URGENCY[ReminderKind(reminder.kind)], -(reminder.lead_days or 0))


def plan_batch(
    due_by_election: Mapping[int, Sequence[DueReminder]],
    elections: Mapping[int, ElectionFacts],
    milestones: Mapping[tuple[int, str], MilestoneFacts],
    appeal_details: Mapping[int, dict[str, Any] | None],
) -> BatchPlan:
    """Decide the batch: per milestone, send the most urgent due message and coalesce the rest
    into it; cancel what no longer applies; pick the milestones to mark overdue and the
    computed deadlines that are over. `appeal_details` holds the details of the due appeal
    reminders, by reminder id."""
    plan = BatchPlan()
    for election_id, due in due_by_election.items():
        election = elections[election_id]
        if not fires(election.state):
            plan.cancelled.extend(r.id for r in due)
            continue
        # Appeal decision limits (EL 29: decided within three days of filing) are written by the
        # voters part and cancelled when the appeal is decided: a due one is for an open appeal.
        for reminder in (r for r in due if r.kind == APPEAL_DUE):
            text = appeal_message(election, reminder, appeal_details.get(reminder.id) or {})
            item = SweepItem(election_id, reminder.milestone_key, election.state, None, text)
            plan.warnings.append(item)
            plan.done.append(reminder.id)
            plan.messages.append(Message(reminder, election.jurisdiction_id, "warning", item))
        groups: dict[str, list[DueReminder]] = defaultdict(list)
        for reminder in due:
            if reminder.kind != APPEAL_DUE:
                groups[reminder.milestone_key].append(reminder)
        needs_orm: list[DueReminder] = []
        for key, group in groups.items():
            needs_orm.extend(_plan_milestone(plan, election, key, group, milestones.get((election_id, key))))
        if needs_orm:
            plan.state_changes.append((election_id, needs_orm))
    return plan


def _plan_milestone(
    plan: BatchPlan,
    election: ElectionFacts,
    key: str,
    group: list[DueReminder],
    milestone: MilestoneFacts | None,
) -> list[DueReminder]:
    """Add one milestone's due reminders to `plan`; return those needing ORM work."""
    if milestone is None or milestone.settled:
        plan.cancelled.extend(r.id for r in group)
        return []
    needs_orm = [r for r in group if r.kind == ReminderKind.DEADLINE_PASSED]
    if milestone.pending and any(r.kind in OVERDUE_MARKS for r in group):
        # The statutory bound has passed: the milestone is marked overdue (even when its
        # "overdue" message is coalesced into the escalation after downtime).
        needs_orm.append(next(r for r in group if r.kind in OVERDUE_MARKS))
    plan.done.extend(r.id for r in group if r.kind == ReminderKind.DEADLINE_PASSED)
    messages = [r for r in group if r.kind in URGENCY]
    if not messages:
        return needs_orm
    chosen = max(messages, key=urgency)
    plan.done.append(chosen.id)
    for other in messages:
        if other is not chosen:
            plan.superseded[other.id] = chosen.id
    spec = election.spec().milestones[key]  # cites the election's own statute version
    item = SweepItem(election.id, key, election.state, None, message_text(election, spec, chosen, milestone))
    overdue = next((r for r in messages if r.kind == ReminderKind.OVERDUE), None)
    if overdue is not None:
        text = item.message if chosen is overdue else message_text(election, spec, overdue, milestone)
        plan.overdue.append(SweepItem(election.id, key, election.state, None, text))
    if chosen.kind == ReminderKind.ESCALATION:
        plan.escalated.append(item)
        category = "escalation"
    elif chosen.kind == ReminderKind.OVERDUE:
        category = "overdue"
    else:
        plan.warnings.append(item)
        category = "warning"
    plan.messages.append(Message(chosen, election.jurisdiction_id, category, item))
    return needs_orm


@dataclass(frozen=True)
class PhaseStep:
    """The next phase's window has opened: the machine's answer on advancing into it."""

    target: str
    opens: str  # the window's first day, ISO
    decision: Decision


def phase_step(
    kind_key: str,
    state: str,
    phase_windows: Mapping[str, Sequence[str | None]] | None,
    today: date,
    settled: Iterable[str],
    suspended_from: str | None,
) -> PhaseStep | None:
    """The next move of an election whose phase reminder fired: None while it stays where it is
    (not in a phase, or the next window has not opened by `today`); else the step, allowed
    (advance) or refused (blocked, with the reasons)."""
    kind = get_kind(kind_key)
    if state not in kind.phase_keys:
        return None
    target = machine_for(kind).next_phase(state)
    window = (phase_windows or {}).get(target) if target else None
    if not window or not window[0] or date.fromisoformat(window[0]) > today:
        return None
    return PhaseStep(target, window[0], _decide(kind_key, state, frozenset(settled), suspended_from))


@lru_cache(maxsize=4096)
def _decide(kind_key: str, state: str, settled: frozenset[str], suspended_from: str | None) -> Decision:
    """The kind's machine on ADVANCE, memoised: it is pure, and the elections of one round
    mostly share their state and settled milestones (this keeps a big sweep fast)."""
    return machine_for(get_kind(kind_key)).decide(state, Trigger.ADVANCE, settled, suspended_from)


def advanced_message(title: str, kind: KindSpec, target: str, today: date) -> str:
    return f"【阶段推进】{title}：已于 {today} 进入「{state_name(kind, target)}」阶段"


def blocked_message(title: str, kind: KindSpec, step: PhaseStep, reasons: Sequence[str]) -> str:
    return (
        f"【阶段受阻】{title}：「{state_name(kind, step.target)}」阶段已于 {step.opens} 开始，"
        f"但尚不能进入：{'；'.join(reasons)}"
    )


def appeal_message(election: ElectionFacts, reminder: DueReminder, details: Mapping[str, Any]) -> str:
    when = "今天" if (reminder.lead_days or 0) == 0 else "明天"
    return (
        f"{election.title}：{details.get('filer', '')}就{details.get('subject', '')}提出的选民资格申诉"
        f"应于{when}（{reminder.target_date}）作出处理决定（选举法第二十九条：三日内作出处理决定）"
    )


def message_text(election: ElectionFacts, spec, reminder: DueReminder, milestone: MilestoneFacts) -> str:
    """The staff-facing text of one reminder (Simplified Chinese)."""
    title = election.title
    name = spec.name
    target = reminder.target_date
    planned_or_bound = "计划" if milestone.planned_date == target and milestone.planned_date else "法定最迟"
    kind = ReminderKind(reminder.kind)
    if kind == ReminderKind.LEAD:
        return (
            f"【提醒】{title}：「{name}」距{planned_or_bound}日期 {target} 还有 {reminder.lead_days} 天"
            f"（{spec.rule}）"
        )
    if kind == ReminderKind.DUE_TODAY:
        return f"【今日到期】{title}：「{name}」应于今天（{target}）完成（{spec.rule}）"
    if kind == ReminderKind.PLAN_OVERDUE:
        bound = f"，法定最迟日期 {milestone.latest}" if milestone.latest else ""
        return f"【计划逾期】{title}：「{name}」计划于 {target} 完成，目前尚未办结{bound}"
    if kind == ReminderKind.OVERDUE:
        return f"【已逾期】{title}：「{name}」已超过法定最迟日期 {target}，仍未办结（{spec.rule}）"
    if kind == ReminderKind.ESCALATION:
        return (
            f"【督办】{title}：「{name}」已超过法定最迟日期 {target} 达 {reminder.lead_days} 天仍未办结，"
            f"请上级选举委员会督促办理（{spec.rule}）"
        )
    raise ValueError(kind)
