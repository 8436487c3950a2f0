"""The figures /metrics reports from the database: elections per kind and phase, due
reminders and the outbox's backlog and failures, counted at scrape time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.store.models import Election, Notification, NotificationStatus, Reminder, pending_due


@dataclass(frozen=True)
class Gauges:
    elections: list[tuple[str, str, int]]  # (kind, phase, count)
    reminders_due: int
    outbox_backlog: int
    delivery_failures: int


def gauges(session: Session, now: datetime) -> Gauges:
    """The counts at `now`."""

    def notifications(status: NotificationStatus) -> int:
        return session.execute(
            select(func.count(Notification.id)).where(Notification.status == status)
        ).scalar_one()

    by_phase = session.execute(
        select(Election.kind, Election.state, func.count()).group_by(Election.kind, Election.state)
    )
    return Gauges(
        elections=[(kind, phase, count) for kind, phase, count in by_phase],
        reminders_due=session.execute(select(func.count(Reminder.id)).where(pending_due(now))).scalar_one(),
        outbox_backlog=notifications(NotificationStatus.PENDING),
        delivery_failures=notifications(NotificationStatus.FAILED),
    )
