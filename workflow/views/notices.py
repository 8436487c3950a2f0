"""Published notices as stored: one version, for download."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.errors import not_found
from workflow.store.notices import Notice


def published_notice(session: Session, notice_id: int, election_id: int | None = None) -> Notice:
    """The stored version `notice_id` (with `election_id`: only one of that election's notices,
    not-found for another's)."""
    query = select(Notice).where(Notice.id == notice_id)
    if election_id is not None:
        query = query.where(Notice.election_id == election_id)
    notice = session.execute(query).scalar_one_or_none()
    if notice is None:
        raise not_found("公告", notice_id, "notice_id")
    return notice
