"""The sweep: fire what is due at `now`, in batches, one transaction per batch.

Each batch locks a set of elections (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several
workers share the work and never the same election; SQLite has one writer anyway), then their
due reminders, and in that same transaction writes the notifications to the outbox, marks the
reminders done (or superseded), marks milestones overdue, marks computed deadlines done,
advances elections whose next phase window has opened and whose guards pass, and flags the
others as blocked. A crash before the commit leaves everything as it was; a second sweep at the
same instant finds nothing due.

Lock order is always election → its reminders (the engine's commands do the same: they lock the
election, then the schedule hook rewrites its reminders), so sweeps and commands never deadlock.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, selectinload

from schedules.notify import Outbox, committee_recipients
from workflow.clock import Clock, FixedClock
from workflow.commands import elections as commands
from workflow.commands.reminders import write_reminders
from workflow.events import ElectionBlocked, MilestoneCompleted, MilestoneOverdue
from workflow.kinds import get_kind
from workflow.machine import FINAL_STATES, SUSPENDED, Decision, Trigger, state_name
from workflow.store import Database
from workflow.store.audit import record
from workflow.store.models import (
    Election,
    Milestone,
    MilestoneStatus,
    Reminder,
    ReminderStatus,
    pending_due,
)
from workflow.timetable import URGENCY, ReminderKind
from workflow.timeutil import local_date

log = logging.getLogger("huanjie.sweep")

ACTOR = "scheduler"
MILESTONE_KINDS = set(URGENCY) | {ReminderKind.DEADLINE_PASSED}
PHASE_KINDS = {ReminderKind.PHASE_OPENS, ReminderKind.ADVANCE_CHECK}
APPEAL_DUE = "appeal_due"  # written by workflow/commands/appeals.py


def _appeal_message(election: Election, reminder, details: dict[str, Any]) -> str:
    when = "今天" if (reminder.lead_days or 0) == 0 else "明天"
    return (
        f"{election.title}：{details.get('filer', '')}就{details.get('subject', '')}提出的选民资格申诉"
        f"应于{when}（{reminder.target_date}）作出处理决定（选举法第二十九条：三日内作出处理决定）"
    )


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


@dataclass
class SweepResult:
    """What one sweep did; `as_dict` is the `sweep --json` document (CONTRACTS.md)."""

    warnings: list[SweepItem] = field(default_factory=list)
    overdue: list[SweepItem] = field(default_factory=list)
    advanced: list[SweepItem] = field(default_factory=list)
    blocked: list[SweepItem] = field(default_factory=list)
    escalated: list[SweepItem] = field(default_factory=list)
    backlog: int = 0  # due reminders found when the sweep started
    handled: int = 0  # reminders marked done
    superseded: int = 0  # reminders coalesced into a more urgent one
    cancelled: int = 0  # reminders that no longer applied (milestone settled, election ended)
    notifications: int = 0
    batches: int = 0

    def as_dict(self) -> dict:
        return {
            "warnings": [i.as_dict() for i in self.warnings],
            "overdue": [i.as_dict() for i in self.overdue],
            "advanced": [i.as_dict() for i in self.advanced],
            "blocked": [i.as_dict() for i in self.blocked],
            "escalated": [i.as_dict() for i in self.escalated],
        }

    def extend(self, other: SweepResult) -> None:
        for name in ("warnings", "overdue", "advanced", "blocked", "escalated"):
            getattr(self, name).extend(getattr(other, name))
        for name in ("handled", "superseded", "cancelled", "notifications"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.batches += 1


# A test hook for the crash test: called inside each batch's transaction before the commit.
BEFORE_COMMIT: list[Callable[[int], None]] = []


def _fault_from_env() -> None:
    """HUANJIE_FAULT_SWEEP_HANG_AT_BATCH=k makes the k-th batch hang before its commit, so a
    test can kill -9 the process in the middle of a sweep (used only by the crash test)."""
    at = os.environ.get("HUANJIE_FAULT_SWEEP_HANG_AT_BATCH")
    if not at:
        return

    def hang(batch_no: int) -> None:
        if batch_no == int(at):
            sys.stderr.write(f"FAULT: batch {batch_no} hangs before commit\n")
            sys.stderr.flush()
            import threading

            threading.Event().wait()

    BEFORE_COMMIT.append(hang)


def due_count(session: Session, now: datetime) -> int:
    return session.execute(
        select(func.count())
        .select_from(Reminder)
        .where(pending_due(now))
    ).scalar_one()


def sweep(
    db: Database,
    clock: Clock,
    *,
    batch: int = 500,
    limit: int | None = None,
    actor: str = ACTOR,
) -> SweepResult:
    """Handle everything due at `clock.now()`; return what was done.

    `batch` bounds the reminders looked at per transaction; `limit` stops after about that
    many reminders (the benchmark uses it). The instant is read once: the whole sweep runs at it.
    """
    now = clock.now()
    at = FixedClock(now)
    total = SweepResult()
    with db.reading() as session:
        total.backlog = due_count(session, now)
    if not total.backlog:
        return total  # nothing due: no write transaction, no lock taken
    log.info("sweep at %s: backlog of %d due reminders", now.isoformat(), total.backlog)
    seen = 0
    while limit is None or seen < limit:
        with db.transaction() as session:
            part = _batch(session, now, at, batch, actor, total.batches + 1)
            if part is None:
                break
            for hook in BEFORE_COMMIT:
                hook(total.batches + 1)
        total.extend(part)
        seen += part.handled + part.superseded + part.cancelled
    if total.batches:
        log.info(
            "sweep at %s: %d handled, %d coalesced, %d cancelled, %d notifications in %d batches",
            now.isoformat(),
            total.handled,
            total.superseded,
            total.cancelled,
            total.notifications,
            total.batches,
        )
    return total


def _claim(session: Session, now: datetime, batch: int) -> list[int]:
    """Lock up to `batch` elections that have due reminders, most overdue first; skip those
    other workers hold (PostgreSQL), and look further when the most urgent are all taken."""
    postgres = session.get_bind().dialect.name == "postgresql"
    window = (
        select(Reminder.election_id)
        .where(pending_due(now))
        .order_by(Reminder.fire_at)
        .limit(batch * 8)
    )
    query = (
        select(Election.id)
        .where(Election.id.in_(window.scalar_subquery()))
        .order_by(Election.id)
        .limit(batch)
    )
    if not postgres:
        return list(session.execute(query).scalars())  # one writer: nothing to skip
    ids = list(session.execute(query.with_for_update(skip_locked=True)).scalars())
    if ids:
        return ids
    due = (
        select(Reminder.id)
        .where(Reminder.election_id == Election.id, pending_due(now))
        .exists()
    )
    further = select(Election.id).where(due).order_by(Election.id).limit(batch)
    return list(session.execute(further.with_for_update(skip_locked=True)).scalars())


def _batch(
    session: Session, now: datetime, clock: FixedClock, batch: int, actor: str, batch_no: int
) -> SweepResult | None:
    election_ids = _claim(session, now, batch)
    if not election_ids:
        return None
    query = (
        select(
            Reminder.id,
            Reminder.election_id,
            Reminder.milestone_key,
            Reminder.kind,
            Reminder.lead_days,
            Reminder.target_date,
        )
        .where(Reminder.election_id.in_(election_ids), pending_due(now))
        .order_by(Reminder.election_id, Reminder.fire_at, Reminder.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Reminder)
    reminders = list(session.execute(query))
    by_election: dict[int, list[Any]] = defaultdict(list)
    for reminder in reminders:
        by_election[reminder.election_id].append(reminder)

    result = SweepResult()
    outbox = Outbox(session, now)
    # Phase changes first, so that this sweep's messages name the phase the election is now in.
    handled_phase = 0
    loaded = _load(
        session, [eid for eid, due in by_election.items() if any(r.kind in PHASE_KINDS for r in due)]
    )
    for election_id, due in by_election.items():
        phase_due = [r for r in due if r.kind in PHASE_KINDS]
        if phase_due and _phases(session, loaded[election_id], phase_due, clock, actor, outbox, result):
            handled_phase += len(phase_due)
            by_election[election_id] = [r for r in due if r.kind not in PHASE_KINDS]

    elections = {
        e.id: e
        for e in session.execute(
            select(
                Election.id, Election.title, Election.state, Election.kind, Election.jurisdiction_id
            ).where(Election.id.in_(list(by_election)))
        )
    }
    milestone_rows = session.execute(
        select(
            Milestone.election_id, Milestone.key, Milestone.status, Milestone.planned_date, Milestone.latest
        ).where(Milestone.election_id.in_(list(by_election)))
    )
    milestones: dict[tuple[int, str], Any] = {(m.election_id, m.key): m for m in milestone_rows}
    done: list[int] = []
    superseded: dict[int, int] = {}
    cancelled: list[int] = []
    followups: list[tuple[int, list[Reminder]]] = []  # (election, reminders) needing ORM work

    for election_id, due in by_election.items():
        election = elections[election_id]
        if election.state in FINAL_STATES or election.state == SUSPENDED:
            # Nothing fires for an ended or suspended election (a resume writes back what fell
            # due meanwhile; see docs/scheduler.md).
            cancelled.extend(r.id for r in due)
            continue
        kind = get_kind(election.kind)
        # Appeal decision limits (EL 29: decided within three days of filing) are written by the
        # voters part and cancelled when the appeal is decided: a due one is for an open appeal.
        for reminder in (r for r in due if r.kind == APPEAL_DUE):
            # Rare rows: their details are read one by one, off the batch query's hot path.
            details = session.execute(select(Reminder.details).where(Reminder.id == reminder.id)).scalar()
            item = SweepItem(election_id, reminder.milestone_key, election.state, None,
                             _appeal_message(election, reminder, details or {}))  # fmt: skip
            result.warnings.append(item)
            done.append(reminder.id)
            recipients = committee_recipients(session, election.jurisdiction_id)
            outbox.add(reminder.id, election_id, recipients, "warning", item, reminder)
        due = [r for r in due if r.kind != APPEAL_DUE]
        groups: dict[str, list[Reminder]] = defaultdict(list)
        needs_orm: list[Reminder] = []
        for reminder in due:
            groups[reminder.milestone_key].append(reminder)
        for key, group in groups.items():
            milestone = milestones.get((election_id, key))
            if milestone is None or milestone.status in (MilestoneStatus.DONE, MilestoneStatus.WAIVED):
                cancelled.extend(r.id for r in group)
                continue
            kinds = {r.kind for r in group}
            needs_orm.extend(r for r in group if r.kind == ReminderKind.DEADLINE_PASSED)
            if milestone.status == MilestoneStatus.PENDING and kinds & {
                ReminderKind.OVERDUE,
                ReminderKind.ESCALATION,
            }:
                # The statutory bound has passed: the milestone is marked overdue (even when its
                # "overdue" message is coalesced into the escalation after downtime).
                needs_orm.append(
                    next(r for r in group if r.kind in (ReminderKind.OVERDUE, ReminderKind.ESCALATION))
                )
            messages = [r for r in group if r.kind in URGENCY]
            done.extend(r.id for r in group if r.kind == ReminderKind.DEADLINE_PASSED)
            if not messages:
                continue
            chosen = max(messages, key=_urgency)
            done.append(chosen.id)
            for other in messages:
                if other is not chosen:
                    superseded[other.id] = chosen.id
            spec = kind.milestones[key]
            item = SweepItem(
                election_id, key, election.state, None, _message(election, spec, chosen, milestone)
            )
            overdue_claimed = ReminderKind.OVERDUE in {r.kind for r in messages}
            if overdue_claimed:
                overdue = next(r for r in messages if r.kind == ReminderKind.OVERDUE)
                text = item.message if chosen is overdue else _message(election, spec, overdue, milestone)
                result.overdue.append(SweepItem(election_id, key, election.state, None, text))
            if chosen.kind == ReminderKind.ESCALATION:
                result.escalated.append(item)
                category = "escalation"
            elif chosen.kind == ReminderKind.OVERDUE:
                category = "overdue"
            else:
                result.warnings.append(item)
                category = "warning"
            own = committee_recipients(session, election.jurisdiction_id)
            recipients = own
            if chosen.kind == ReminderKind.ESCALATION:
                parent = committee_recipients(session, election.jurisdiction_id, parent=True)
                if not parent:
                    log.warning(
                        "election %s: jurisdiction has no parent committee to escalate to", election_id
                    )
                # The committee above gets the escalation; the committee concerned a copy.
                recipients = parent + own
            outbox.add(chosen.id, election_id, recipients, category, item, chosen)
        if needs_orm:
            followups.append((election_id, needs_orm))

    # Reminder statuses first (Core, in bulk), so that a rewrite below sees them handled.
    table = Reminder.__table__
    if done:
        session.execute(
            update(table).where(table.c.id.in_(done)).values(status=ReminderStatus.DONE, handled_at=now)
        )
    if cancelled:
        session.execute(
            update(table)
            .where(table.c.id.in_(cancelled))
            .values(status=ReminderStatus.CANCELLED, handled_at=now)
        )
    if superseded:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("rid"))
            .values(status=ReminderStatus.SUPERSEDED, handled_at=now, details=bindparam("why")),
            [{"rid": rid, "why": {"superseded_by": chosen}} for rid, chosen in superseded.items()],
        )

    loaded.update(_load(session, [eid for eid, _ in followups if eid not in loaded]))
    for election_id, needing in followups:
        _state_changes(session, loaded[election_id], needing, clock, actor, outbox, result)

    result.handled = len(done) + handled_phase
    result.superseded = len(superseded)
    result.cancelled = len(cancelled)
    result.notifications = outbox.flush()
    return result


def _urgency(reminder: Reminder) -> tuple[int, int]:
    # Among lead reminders the nearest (fewest days left) is the most urgent.
    return (URGENCY[ReminderKind(reminder.kind)], -(reminder.lead_days or 0))


def _load(session: Session, election_ids: list[int]) -> dict[int, Election]:
    """The elections (with milestones and jurisdiction) that need ORM work, in one go."""
    if not election_ids:
        return {}
    query = (
        select(Election)
        .where(Election.id.in_(election_ids))
        .options(selectinload(Election.milestones), selectinload(Election.jurisdiction))
    )
    return {e.id: e for e in session.execute(query).scalars()}


def _state_changes(
    session: Session,
    election: Election,
    reminders: list[Reminder],
    clock: FixedClock,
    actor: str,
    outbox: Outbox,
    result: SweepResult,
) -> None:
    """Overdue marks and computed deadlines: ORM work, audited."""
    changed_dates = False
    for reminder in reminders:
        milestone = election.milestone(reminder.milestone_key)
        if milestone.settled:
            continue
        if reminder.kind == ReminderKind.DEADLINE_PASSED:
            # A computed deadline (e.g. court_suit_deadline, EL 29) is over once its day is over.
            before = {"status": milestone.status, "done_on": None}
            milestone.status = MilestoneStatus.DONE
            milestone.done_on = milestone.latest
            milestone.done_by = actor
            session.flush()
            record(
                session,
                MilestoneCompleted(
                    entity_id=f"{election.id}/{milestone.key}",
                    before=before,
                    after={"status": milestone.status, "done_on": milestone.done_on, "computed": True},
                ),
                actor=actor,
                clock=clock,
            )
            changed_dates = True
        elif milestone.status == MilestoneStatus.PENDING:
            milestone.status = MilestoneStatus.OVERDUE
            session.flush()
            record(
                session,
                MilestoneOverdue(
                    entity_id=f"{election.id}/{milestone.key}",
                    before={"status": MilestoneStatus.PENDING},
                    after={"status": MilestoneStatus.OVERDUE, "latest": milestone.latest},
                ),
                actor=actor,
                clock=clock,
            )
    if changed_dates:
        session.flush()
        write_reminders(session, election, clock)


def _phases(
    session: Session,
    election: Election,
    reminders: list[Any],
    clock: FixedClock,
    actor: str,
    outbox: Outbox,
    result: SweepResult,
) -> bool:
    """A phase window opened (or its guards may pass now): advance or flag blocked.

    Returns False, leaving the reminders alone, for an ended or suspended election.
    """
    if election.state in FINAL_STATES or election.state == SUSPENDED:
        return False
    session.execute(
        update(Reminder.__table__)
        .where(Reminder.__table__.c.id.in_([r.id for r in reminders]))
        .values(status=ReminderStatus.DONE, handled_at=clock.now())
    )
    kind = commands.kind_of(election)
    if _advance(session, election, kind, clock, actor, outbox, result, reminders[-1].id):
        session.flush()
        write_reminders(session, election, clock)
    return True


@lru_cache(maxsize=4096)
def _decide(kind_key: str, state: str, settled: frozenset[str], suspended_from: str | None) -> Decision:
    """The kind's machine on ADVANCE, memoised: it is pure, and the elections of one round
    mostly share their state and settled milestones (this keeps a big sweep fast)."""
    return commands.machine_for(get_kind(kind_key)).decide(state, Trigger.ADVANCE, settled, suspended_from)


def _advance(
    session: Session,
    election: Election,
    kind,
    clock: FixedClock,
    actor: str,
    outbox: Outbox,
    result: SweepResult,
    reminder_id: int,
) -> bool:
    """Advance while the next phase's window has opened and its guards pass; else flag
    the election blocked (audited and notified once per set of reasons)."""
    today = local_date(clock.now(), election.jurisdiction.timezone)
    machine = commands.machine_for(kind)
    moved = False
    while election.state in kind.phase_keys:
        target = machine.next_phase(election.state)
        window = (election.phase_windows or {}).get(target) if target else None
        if not window or not window[0] or date.fromisoformat(window[0]) > today:
            break
        decision = _decide(
            election.kind, election.state, frozenset(commands.settled_keys(election)), election.suspended_from
        )
        source = election.state
        if decision.allowed:
            commands.apply_decision(
                session, election, decision, clock=clock, actor=actor, reason="阶段时间窗口已开始"
            )
            item = SweepItem(
                election.id,
                None,
                source,
                decision.target,
                f"【阶段推进】{election.title}：已于 {today} 进入「{state_name(kind, decision.target)}」阶段",
            )
            result.advanced.append(item)
            outbox.add(
                reminder_id,
                election.id,
                committee_recipients(session, election.jurisdiction_id),
                "phase",
                item,
                None,
                suffix=f"advance:{decision.target}",
            )
            moved = True
            continue
        reasons = [r.message for r in decision.refusals]
        if list(election.blocked_reasons or []) != reasons:
            before = {"blocked_reasons": list(election.blocked_reasons or [])}
            election.blocked_reasons = reasons
            election.updated_at = clock.now()
            session.flush()
            record(
                session,
                ElectionBlocked(
                    entity_id=str(election.id),
                    before=before,
                    after={"state": source, "target": target, "blocked_reasons": reasons},
                ),
                actor=actor,
                clock=clock,
            )
            item = SweepItem(
                election.id,
                None,
                source,
                target,
                f"【阶段受阻】{election.title}：「{state_name(kind, target)}」阶段已于 {window[0]} 开始，"
                f"但尚不能进入：{'；'.join(reasons)}",
            )
            result.blocked.append(item)
            outbox.add(
                reminder_id,
                election.id,
                committee_recipients(session, election.jurisdiction_id),
                "blocked",
                item,
                None,
                suffix=f"blocked:{target}",
            )
        break
    return moved


def _message(election, spec, reminder: Reminder, milestone) -> str:
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
