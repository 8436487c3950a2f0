"""What the dashboard's election page shows beside the election itself."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.store.models import Notification


def recent_notifications(session: Session, election_id: int, limit: int = 50) -> list[Notification]:
    """The election's latest warnings (outbox rows), newest first."""
    return list(
        session.execute(
            select(Notification)
            .where(Notification.election_id == election_id)
            .order_by(Notification.created_at.desc())
            .limit(limit)
        ).scalars()
    )
