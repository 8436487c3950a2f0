"""Published notices as stored: one version, for download."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.errors import not_found
from workflow.store.notices import Notice


def published_notice(session: Session, election_id: int, notice_id: int) -> Notice:
    """The stored version `notice_id` of one of the election's notices (404 for another's)."""
    notice = session.execute(
        select(Notice).where(Notice.id == notice_id, Notice.election_id == election_id)
    ).scalar_one_or_none()
    if notice is None:
        raise not_found("公告", notice_id, "notice_id")
    return notice
