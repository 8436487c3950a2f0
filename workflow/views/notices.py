"""Published notices as stored: one version, for download."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from notices.output import FORMATS, to_bytes
from notices.render import render_html
from workflow.errors import DomainError, not_found
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


def published_file(session: Session, notice_id: int, election_id: int | None, fmt: str | None) -> tuple[Notice, bytes]:
    """A published version in `fmt` (default: the format it was stored in). Another format is
    rendered from the stored snapshot with the same template: the same notice, number and date,
    as PDF for the notice board and as Word for the office (`notices verify` proves the renderer
    reproduces the stored bytes)."""
    notice = published_notice(session, notice_id, election_id)
    if fmt is None or fmt == notice.format:
        return notice, notice.content
    if fmt not in FORMATS:
        raise DomainError("E_BAD_FORMAT", f"不支持的格式 {fmt!r}（可用：html、pdf、docx）", "format")
    return notice, to_bytes(render_html(notice.template, notice.data), fmt, notice.template, notice.data)
