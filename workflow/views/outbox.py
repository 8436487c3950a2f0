"""The notification outbox as listed by `huanjie outbox …`: rows only; the edge that shows them
masks the recipients (`schedules.delivery.describe`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.errors import DomainError
from workflow.store.models import Notification, NotificationStatus


def check_status(status: str | None) -> None:
    """A status filter: none, or one of the notification statuses."""
    if status is not None and status not in set(NotificationStatus):
        raise DomainError(
            "E_BAD_STATUS", f"未知的通知状态：{status!r}（应为 pending、sent 或 failed）", "status"
        )


def latest_notifications(
    session: Session, *, status: str | None = None, limit: int = 200
) -> list[Notification]:
    """The newest notifications first, optionally of one status (see `check_status`)."""
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if status:
        query = query.where(Notification.status == status)
    return list(session.scalars(query))


def notifications_by_id(session: Session, ids: Iterable[int]) -> list[Notification]:
    """These notifications, in the order they were queued."""
    query = select(Notification).where(Notification.id.in_(list(ids))).order_by(Notification.id)
    return list(session.scalars(query))
