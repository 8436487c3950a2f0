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
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, bindparam, func, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from schedules.decisions import (
    APPEAL_DUE,
    BatchPlan,
    DueReminder,
    ElectionFacts,
    Message,
    MilestoneFacts,
    PhaseFacts,
    PhaseStep,
    SweepItem,
    advanced_message,
    blocked_message,
    fires,
    phase_step,
    plan_batch,
    split_phase_rows,
)
from schedules.notify import Outbox, Recipient, committee_recipients, prefetch_recipients
from workflow.clock import Clock, FixedClock
from workflow.commands import elections as commands
from workflow.commands.reminders import write_reminders_many
from workflow.events import ElectionBlocked, MilestoneCompleted, MilestoneOverdue
from workflow.store import Database
from workflow.store.audit import deferred, record, record_many
from workflow.store.bulk import among, json_text, update_rows
from workflow.store.models import (
    SETTLED,
    Election,
    Jurisdiction,
    Milestone,
    MilestoneStatus,
    Reminder,
    ReminderStatus,
    pending_due,
)
from workflow.store.reminders import maintain
from workflow.timetable import ReminderKind
from workflow.timeutil import local_date

log = logging.getLogger("huanjie.sweep")

ACTOR = "scheduler"
MAINTAIN_AFTER = 5_000  # reminders handled since the last VACUUM/ANALYZE of the table: run it
# Reminders handled per engine since its last maintenance, counted across sweeps: a province's
# daily ~1,000 reminders never make one large sweep, yet a month of them left the empty sweep
# 10× slower on PostgreSQL (dead entries of the partial due index, workflow/store/reminders.py).
_since_maintenance: WeakKeyDictionary[Engine, int] = WeakKeyDictionary()


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


def due_count(session: Session, now: datetime) -> int:
    return session.execute(select(func.count()).select_from(Reminder).where(pending_due(now))).scalar_one()


def sweep(
    db: Database,
    clock: Clock,
    *,
    batch: int = 500,
    limit: int | None = None,
    actor: str = ACTOR,
    before_commit: Callable[[int], None] | None = None,
) -> SweepResult:
    """Handle everything due at `clock.now()`; return what was done.

    `batch` bounds the reminders looked at per transaction; `limit` stops after about that
    many reminders (the benchmark uses it). The instant is read once: the whole sweep runs at it.
    `before_commit`, if given, is called with the batch's number (from 1) inside each batch's
    transaction, just before its commit (the crash test hangs a worker there).
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
            # The batch's audit entries are appended together at its end (one INSERT, one head
            # UPDATE): the chain's lock is held for that short append only, not the whole batch.
            with deferred(session):
                part = _batch(session, now, at, batch, actor)
            if part is None:
                break
            if before_commit is not None:
                before_commit(total.batches + 1)
        total.extend(part)
        seen += part.handled + part.superseded + part.cancelled
    handled = _since_maintenance.get(db.engine, 0) + total.handled + total.superseded + total.cancelled
    if handled >= MAINTAIN_AFTER:
        maintain(db.engine)  # enough handled rows (one large sweep or many): they would slow the next ones
        handled = 0
    _since_maintenance[db.engine] = handled
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
    window = select(Reminder.election_id).where(pending_due(now)).order_by(Reminder.fire_at).limit(batch * 8)
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
    # Nothing claimed: nothing due at all (the end of every sweep: one probe of the due index),
    # or the most urgent all held by other workers (then look at every election, which costs
    # a scan of them all).
    if session.execute(select(Reminder.id).where(pending_due(now)).limit(1)).first() is None:
        return []
    due = select(Reminder.id).where(Reminder.election_id == Election.id, pending_due(now)).exists()
    further = select(Election.id).where(due).order_by(Election.id).limit(batch)
    return list(session.execute(further.with_for_update(skip_locked=True)).scalars())


def _batch(session: Session, now: datetime, clock: FixedClock, batch: int, actor: str) -> SweepResult | None:
    election_ids = _claim(session, now, batch)
    if not election_ids:
        return None
    by_election = _due(session, now, election_ids)
    result = SweepResult()
    outbox = Outbox(session, now)
    # Phase changes first, so that this sweep's messages name the phase the election is now in.
    loaded, handled_phase = _phase_changes(session, by_election, clock, actor, outbox, result)
    plan = plan_batch(
        by_election,
        _election_facts(session, list(by_election)),
        _milestone_facts(session, by_election),
        _appeal_details(session, by_election),
    )
    # Every committee this batch writes to, and the parents of those it escalates to, at once.
    prefetch_recipients(
        session,
        {m.jurisdiction_id for m in plan.messages},
        {m.jurisdiction_id for m in plan.messages if m.escalates},
    )
    for message in plan.messages:
        outbox.add(
            message.reminder.id,
            message.reminder.election_id,
            _recipients(session, message),
            message.category,
            message.item,
            message.reminder,
        )
    result.warnings.extend(plan.warnings)
    result.overdue.extend(plan.overdue)
    result.escalated.extend(plan.escalated)
    # Reminder statuses first (Core, in bulk), so that a rewrite below sees them handled.
    _write_statuses(session, now, plan)
    loaded.update(_load(session, [eid for eid, _ in plan.state_changes if eid not in loaded]))
    _state_changes(session, [(loaded[eid], needing) for eid, needing in plan.state_changes], clock, actor)

    result.handled = len(plan.done) + handled_phase
    result.superseded = len(plan.superseded)
    result.cancelled = len(plan.cancelled)
    result.notifications = outbox.flush()
    return result


def _due(session: Session, now: datetime, election_ids: list[int]) -> dict[int, list[DueReminder]]:
    """The claimed elections' due reminders, locked (election → reminders: see the module)."""
    query = (
        select(
            Reminder.id,
            Reminder.election_id,
            Reminder.milestone_key,
            Reminder.kind,
            Reminder.lead_days,
            Reminder.target_date,
        )
        .where(among(session, Reminder.election_id, election_ids), pending_due(now))
        .order_by(Reminder.election_id, Reminder.fire_at, Reminder.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Reminder)
    by_election: dict[int, list[DueReminder]] = defaultdict(list)
    for row in session.execute(query):
        by_election[row.election_id].append(DueReminder(*row))
    return by_election


def _phase_changes(
    session: Session,
    by_election: dict[int, list[DueReminder]],
    clock: FixedClock,
    actor: str,
    outbox: Outbox,
    result: SweepResult,
) -> tuple[dict[int, Election], int]:
    """Advance or flag the elections with due phase reminders; their phase reminders leave
    `by_election` (an ended or suspended election keeps them, to be cancelled). Returns the
    elections loaded for it and the number of phase reminders handled.

    Decided on plain rows (`_phase_facts`): only an election whose next window has opened and
    whose guards pass is loaded as an ORM object, to advance through the machine. Flagging a
    blocked one is written in Core with the batch's other flags: on the day a window opens for
    a whole round, loading 1,326 elections with their milestones cost more than the rest."""
    split = {eid: split_phase_rows(due) for eid, due in by_election.items()}
    facts = _phase_facts(session, [eid for eid, (phase_due, _) in split.items() if phase_due])
    now = clock.now()
    done: list[int] = []
    steps: list[tuple[PhaseFacts, PhaseStep, int]] = []  # in the batch's order
    for election_id, (phase_due, others) in split.items():
        election = facts.get(election_id)
        if election is None or not fires(election.state):
            continue  # no phase reminder due; or an ended or suspended election: kept, to be cancelled
        done.extend(r.id for r in phase_due)
        by_election[election_id] = others
        today = local_date(now, election.timezone)
        step = phase_step(
            election.kind, election.state, election.phase_windows, today, election.settled, election.suspended_from
        )
        if step is not None:
            steps.append((election, step, phase_due[-1].id))
    loaded = _load(session, [election.id for election, step, _ in steps if step.decision.allowed])
    # Every committee told of a move or of new reasons, at once.
    prefetch_recipients(
        session,
        {e.jurisdiction_id for e, step, _ in steps if step.decision.allowed or _reasons_change(e, step)},
    )
    moved: list[Election] = []
    blocks: list[tuple[int, list[str]]] = []  # the blocked flags, written together below
    for election, step, reminder_id in steps:
        if step.decision.allowed:
            if _advance(session, loaded[election.id], clock, actor, outbox, result, reminder_id, blocks):
                moved.append(loaded[election.id])
        else:
            _block(session, election, step, clock, actor, outbox, result, reminder_id, blocks)
    if blocks:
        update_rows(
            session.connection(),
            Election.__table__,
            "id",
            ("blocked_reasons", "updated_at"),
            [(election_id, json_text(reasons), now) for election_id, reasons in blocks],
            increment="version",
        )
    if done:
        # The batch's phase reminders in one statement, before the rewrite sees them handled.
        session.execute(
            update(Reminder.__table__)
            .where(among(session, Reminder.__table__.c.id, done))
            .values(status=ReminderStatus.DONE, handled_at=now)
        )
    session.flush()
    write_reminders_many(session, moved, clock)
    return loaded, len(done)


def _phase_facts(session: Session, election_ids: list[int]) -> dict[int, PhaseFacts]:
    """The elections' `PhaseFacts`, in two statements (their rows; their settled milestones)."""
    if not election_ids:
        return {}
    settled: dict[int, set[str]] = defaultdict(set)
    milestones = select(Milestone.election_id, Milestone.key).where(
        among(session, Milestone.election_id, election_ids), Milestone.status.in_(SETTLED)
    )
    for election_id, key in session.execute(milestones):
        settled[election_id].add(key)
    query = (
        select(
            Election.id,
            Election.title,
            Election.state,
            Election.kind,
            Election.jurisdiction_id,
            Election.statute,
            Election.anchor_date,
            Jurisdiction.code,
            Jurisdiction.timezone,
            Election.suspended_from,
            Election.phase_windows,
            Election.blocked_reasons,
        )
        .join(Jurisdiction, Jurisdiction.id == Election.jurisdiction_id)
        .where(among(session, Election.id, election_ids))
    )
    return {row.id: PhaseFacts(*row, frozenset(settled[row.id])) for row in session.execute(query)}


def _facts_of(election: Election) -> PhaseFacts:
    """A loaded election as `PhaseFacts` (an advanced one that is then blocked)."""
    return PhaseFacts(
        election.id,
        election.title,
        election.state,
        election.kind,
        election.jurisdiction_id,
        election.statute,
        election.anchor_date,
        election.jurisdiction.code,
        election.jurisdiction.timezone,
        election.suspended_from,
        election.phase_windows,
        election.blocked_reasons,
        frozenset(commands.settled_keys(election)),
    )


def _election_facts(session: Session, election_ids: list[int]) -> dict[int, ElectionFacts]:
    query = (
        select(
            Election.id,
            Election.title,
            Election.state,
            Election.kind,
            Election.jurisdiction_id,
            Election.statute,
            Election.anchor_date,
            Jurisdiction.code,
        )
        .join(Jurisdiction, Jurisdiction.id == Election.jurisdiction_id)
        .where(among(session, Election.id, election_ids))
    )
    return {row.id: ElectionFacts(*row) for row in session.execute(query)}


def _milestone_facts(
    session: Session, by_election: dict[int, list[DueReminder]]
) -> dict[tuple[int, str], MilestoneFacts]:
    """The facts of the milestones the due reminders are about (`plan_batch` looks up no
    other): filtered by key too, a fifteenth of the batch's milestone rows on a usual day."""
    keys = {r.milestone_key for due in by_election.values() for r in due if r.milestone_key}
    query = select(
        Milestone.election_id, Milestone.key, Milestone.status, Milestone.planned_date, Milestone.latest
    ).where(among(session, Milestone.election_id, by_election), among(session, Milestone.key, keys))
    return {
        (m.election_id, m.key): MilestoneFacts(
            settled=m.status in SETTLED,
            pending=m.status == MilestoneStatus.PENDING,
            planned_date=m.planned_date,
            latest=m.latest,
        )
        for m in session.execute(query)
    }


def _appeal_details(session: Session, by_election: dict[int, list[DueReminder]]) -> dict[int, Any]:
    """The details of the due appeal reminders: rare rows, read apart, off the batch query's
    hot path."""
    ids = [r.id for due in by_election.values() for r in due if r.kind == APPEAL_DUE]
    if not ids:
        return {}
    query = select(Reminder.id, Reminder.details).where(among(session, Reminder.id, ids))
    return {reminder_id: details for reminder_id, details in session.execute(query)}


def _recipients(session: Session, message: Message) -> list[Recipient]:
    own = committee_recipients(session, message.jurisdiction_id)
    if not message.escalates:
        return own
    parent = committee_recipients(session, message.jurisdiction_id, parent=True)
    if not parent:
        log.warning(
            "election %s: jurisdiction has no parent committee to escalate to", message.reminder.election_id
        )
    # The committee above gets the escalation; the committee concerned a copy.
    return parent + own


def _write_statuses(session: Session, now: datetime, plan: BatchPlan) -> None:
    table = Reminder.__table__
    if plan.done:
        session.execute(
            update(table).where(among(session, table.c.id, plan.done)).values(status=ReminderStatus.DONE, handled_at=now)
        )
    if plan.cancelled:
        session.execute(
            update(table)
            .where(among(session, table.c.id, plan.cancelled))
            .values(status=ReminderStatus.CANCELLED, handled_at=now)
        )
    if plan.superseded:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("rid"))
            .values(status=ReminderStatus.SUPERSEDED, handled_at=now, details=bindparam("why")),
            [{"rid": rid, "why": {"superseded_by": chosen}} for rid, chosen in plan.superseded.items()],
        )


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
    work: list[tuple[Election, list[DueReminder]]],
    clock: FixedClock,
    actor: str,
) -> None:
    """Overdue marks and computed deadlines: ORM work, audited. The marks are set first and
    flushed together (one UPDATE per kind of change, not one per milestone); the elections
    whose dates changed are rewritten together."""
    events = []
    changed: list[Election] = []
    overdue: list[Milestone] = []
    completed: list[Milestone] = []
    marked: set[int] = set()
    for election, reminders in work:
        changed_dates = False
        for reminder in reminders:
            milestone = election.milestone(reminder.milestone_key)
            if milestone.settled or milestone.id in marked:
                continue
            if reminder.kind == ReminderKind.DEADLINE_PASSED:
                # A computed deadline (e.g. court_suit_deadline, EL 29) is over once its day is over.
                completed.append(milestone)
                marked.add(milestone.id)
                events.append(
                    MilestoneCompleted(
                        entity_id=f"{election.id}/{milestone.key}",
                        before={"status": milestone.status, "done_on": None},
                        after={"status": MilestoneStatus.DONE, "done_on": milestone.latest, "computed": True},
                    )
                )
                changed_dates = True
            elif milestone.status == MilestoneStatus.PENDING:
                overdue.append(milestone)
                marked.add(milestone.id)
                events.append(
                    MilestoneOverdue(
                        entity_id=f"{election.id}/{milestone.key}",
                        before={"status": MilestoneStatus.PENDING},
                        after={"status": MilestoneStatus.OVERDUE, "latest": milestone.latest},
                    )
                )
        if changed_dates:
            changed.append(election)
    if not events:
        return
    # The marks in two statements (Core), the loaded objects told what they now hold.
    table = Milestone.__table__
    if overdue:
        session.execute(
            update(table).where(among(session, table.c.id, [m.id for m in overdue])).values(status=MilestoneStatus.OVERDUE)
        )
        for milestone in overdue:
            set_committed_value(milestone, "status", MilestoneStatus.OVERDUE)
    if completed:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("mid"))
            .values(status=MilestoneStatus.DONE, done_on=bindparam("day"), done_by=actor),
            [{"mid": m.id, "day": m.latest} for m in completed],
        )
        for milestone in completed:
            set_committed_value(milestone, "status", MilestoneStatus.DONE)
            set_committed_value(milestone, "done_on", milestone.latest)
            set_committed_value(milestone, "done_by", actor)
    # The marks change what the elections show: their versions move on (status views are
    # cached per version, workflow/views/status.py).
    marked_elections = {m.election_id for m in overdue + completed}
    elections = Election.__table__
    session.execute(
        update(elections)
        .where(among(session, elections.c.id, marked_elections))
        .values(version=elections.c.version + 1, updated_at=clock.now())
    )
    for election in {e.id: e for e, _reminders in work}.values():
        if election.id in marked_elections:
            set_committed_value(election, "version", election.version + 1)
            set_committed_value(election, "updated_at", clock.now())
    record_many(session, events, actor=actor, clock=clock)
    write_reminders_many(session, changed, clock)


def _advance(
    session: Session,
    election: Election,
    clock: FixedClock,
    actor: str,
    outbox: Outbox,
    result: SweepResult,
    reminder_id: int,
    blocks: list[tuple[int, list[str]]],
) -> bool:
    """Advance while the next phase's window has opened and its guards pass; else flag
    the election blocked (audited and notified once per set of reasons). Returns whether the
    election moved (its reminders are then rewritten by the caller)."""
    kind = commands.kind_of(election)
    today = local_date(clock.now(), election.jurisdiction.timezone)
    moved = False
    while step := phase_step(
        election.kind,
        election.state,
        election.phase_windows,
        today,
        commands.settled_keys(election),
        election.suspended_from,
    ):
        decision = step.decision
        if not decision.allowed:
            session.flush()  # the advance pending on the election goes before its flag
            if _block(session, _facts_of(election), step, clock, actor, outbox, result, reminder_id, blocks):
                # The loaded election told what the flag's statement writes (version included).
                set_committed_value(election, "blocked_reasons", blocks[-1][1])
                set_committed_value(election, "updated_at", clock.now())
                set_committed_value(election, "version", election.version + 1)
            break
        source = election.state
        commands.apply_decision(
            session, election, decision, clock=clock, actor=actor, reason="阶段时间窗口已开始"
        )
        text = advanced_message(election.title, kind, decision.target, today)
        item = SweepItem(election.id, None, source, decision.target, text)
        result.advanced.append(item)
        recipients = committee_recipients(session, election.jurisdiction_id)
        outbox.add(
            reminder_id, election.id, recipients, "phase", item, None, suffix=f"advance:{decision.target}"
        )
        moved = True
    return moved


def _reasons_change(election: PhaseFacts, step: PhaseStep) -> bool:
    return [r.message for r in step.decision.refusals] != list(election.blocked_reasons or [])


def _block(
    session: Session,
    election: PhaseFacts,
    step: PhaseStep,
    clock: FixedClock,
    actor: str,
    outbox: Outbox,
    result: SweepResult,
    reminder_id: int,
    blocks: list[tuple[int, list[str]]],
) -> bool:
    """Flag the election blocked, only when the reasons change: reported once, not every minute.
    The row is written with the batch's other flags (`blocks`, one statement). Returns whether
    it was flagged."""
    reasons = [r.message for r in step.decision.refusals]
    if list(election.blocked_reasons or []) == reasons:
        return False
    blocks.append((election.id, reasons))
    record(
        session,
        ElectionBlocked(
            entity_id=str(election.id),
            before={"blocked_reasons": list(election.blocked_reasons or [])},
            after={"state": election.state, "target": step.target, "blocked_reasons": reasons},
        ),
        actor=actor,
        clock=clock,
    )
    text = blocked_message(election.title, election.spec(), step, reasons)
    item = SweepItem(election.id, None, election.state, step.target, text)
    result.blocked.append(item)
    recipients = committee_recipients(session, election.jurisdiction_id)
    outbox.add(reminder_id, election.id, recipients, "blocked", item, None, suffix=f"blocked:{step.target}")
    return True
