"""Reminder rows follow an election's dates: the commands that change dates call these.

`write_reminders` runs after create, reschedule, complete, waive and every state change, inside
the command's transaction: it cancels pending rows that no longer apply and adds the missing ones,
never re-adding a reminder that was already handled (no message twice after a rewrite).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.kinds import kind_of_election
from workflow.store.bulk import among
from workflow.store.models import SETTLED, Election, Reminder, ReminderStatus
from workflow.store.reminders import insert_bulk
from workflow.timetable import (
    MilestoneDates,
    ReminderKind,
    ReminderSpec,
    approvals_due,
    desired_cached,
    desired_reminders,
    not_applicable,
    windows_key,
)
from workflow.timeutil import local_date


def milestone_dates(election: Election) -> tuple[MilestoneDates, ...]:
    """The milestones' dates; an approval whose trigger has not arisen (e.g. Zhejiang art. 51,
    the election day not moved) is not applicable: it has no reminders."""
    kind = kind_of_election(election)
    waiting = not_applicable(kind, election.milestones)
    due = approvals_due(kind, election.milestones)  # a triggered approval: before the act it approves
    return tuple(
        MilestoneDates(
            m.key, m.planned_date, m.latest or due.get(m.key), m.status in SETTLED, m.key not in waiting
        )
        for m in election.milestones
    )


def election_desired(election: Election, today: date) -> list[ReminderSpec]:
    kind = kind_of_election(election)  # the variant's milestones are its rows
    return desired_reminders(
        kind,
        election.state,
        milestone_dates(election),
        election.phase_windows or {},
        election.jurisdiction.timezone,
        today,
    )


def write_reminders(session: Session, election: Election, clock: Clock) -> None:
    """Bring an election's reminder rows in line with its dates (the schedule hook).

    Pending rows that no longer apply are cancelled; missing ones are added. A reminder that
    was already handled (done or superseded) is never written again, so a rewrite after a
    completion does not repeat yesterday's warning. ADVANCE_CHECK is the exception: it is a
    retry, so only a pending one counts.
    """
    write_reminders_many(session, [election], clock)


def write_reminders_many(session: Session, elections: Sequence[Election], clock: Clock) -> None:
    """`write_reminders` for many elections at once: one SELECT of their rows, one flush of the
    cancellations, one `insert_bulk` of the new rows — the sweep rewrites a whole batch's
    elections this way, in statements that do not grow with the batch."""
    if not elections:
        return
    now = clock.now()
    session.flush()  # pending ORM changes to these elections' rows first: they are read by Core
    # Core rows, not ORM objects: a batch's elections hold tens of thousands of handled rows,
    # and loading them as objects was most of the sweep's time. Cancelled rows never count.
    table = Reminder.__table__
    query = select(
        table.c.id,
        table.c.election_id,
        table.c.milestone_key,
        table.c.kind,
        table.c.lead_days,
        table.c.target_date,
        # Only the phase out of the details, in SQL: decoding every row's JSON cost more than
        # the rest of the rewrite.
        table.c.details["phase"].as_string().label("phase"),
        table.c.status,
    ).where(
        among(session, table.c.election_id, [e.id for e in elections]),
        table.c.status != ReminderStatus.CANCELLED,
    )
    by_election: dict[int, list] = {e.id: [] for e in elections}
    for row in session.execute(query):
        by_election[row.election_id].append(row)
    items = []
    cancelled: list[int] = []
    for election in elections:
        today = local_date(now, election.jurisdiction.timezone)
        desired = {spec.identity: spec for spec in election_desired(election, today)}
        kept: set[tuple] = set()
        for row in by_election[election.id]:
            ident = (row.milestone_key, row.kind, row.lead_days, row.target_date, row.phase)
            if row.status == ReminderStatus.PENDING:
                if ident in desired:
                    kept.add(ident)
                else:
                    cancelled.append(row.id)
            elif (
                row.status in (ReminderStatus.DONE, ReminderStatus.SUPERSEDED)
                and row.kind != ReminderKind.ADVANCE_CHECK
            ):
                kept.add(ident)
        new = tuple(spec for ident, spec in desired.items() if ident not in kept)
        if new:
            items.append((election.id, new))
    if cancelled:
        # ORM-enabled: any of these rows loaded in the session is told its new status.
        session.execute(
            update(Reminder)
            .where(Reminder.id.in_(cancelled))
            .values(status=ReminderStatus.CANCELLED, handled_at=now)
        )
    if items:
        insert_bulk(session, items, now)


def write_round_reminders(session: Session, elections: Sequence[Election], clock: Clock) -> None:
    """The reminders of elections a round has just created, written together (the round hook).

    They have no rows yet, so nothing is diffed: each election's specs come from the memoised
    calculus — elections with the same dates, state and time zone get the very same tuple — and
    one `insert_bulk` lets the database fan the shared timetable out."""
    now = clock.now()
    items = []
    for election in elections:
        tz = election.jurisdiction.timezone
        specs = desired_cached(
            election.kind,
            election.state,
            milestone_dates(election),
            windows_key(election.phase_windows),
            tz,
            local_date(now, tz),
        )
        items.append((election.id, specs))
    insert_bulk(session, items, now)
