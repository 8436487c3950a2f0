"""Published notices: one row per version, never updated in place.

A notice is identified by (election, template, district); republishing the same notice adds a
row with the next `version` and keeps the number. The rendered bytes, their SHA-256, the template
hash and the data the notice was rendered from are kept, so a posted notice can be proved.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.store.models import Base, UTCDateTime


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (
        # One row per version of one notice; the district is "" for election-wide notices so
        # that the constraint holds on every backend (NULLs never collide).
        UniqueConstraint("election_id", "template", "district", "version", name="uq_notices_version"),
        # A document number is issued once per committee (jurisdiction) and year.
        UniqueConstraint(
            "jurisdiction_id",
            "number_prefix",
            "number_year",
            "number_seq",
            "version",
            name="uq_notices_number",
        ),
        Index("ix_notices_election_template", "election_id", "template", "district"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    template: Mapped[str] = mapped_column(String(60))
    template_version: Mapped[str] = mapped_column(String(80))  # "<catalog version>:<sha256[:16]>"
    district: Mapped[str] = mapped_column(String(32), default="")
    title: Mapped[str] = mapped_column(String(300))
    number: Mapped[str | None] = mapped_column(String(80))  # e.g. 京选公〔2026〕3号
    number_prefix: Mapped[str | None] = mapped_column(String(40))
    number_year: Mapped[int | None] = mapped_column(Integer)
    number_seq: Mapped[int | None] = mapped_column(Integer)
    issued_on: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    format: Mapped[str] = mapped_column(String(10))  # html / pdf / docx
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # the rendering context, as JSON
    milestone_key: Mapped[str | None] = mapped_column(String(60))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(100))


class NoticeWording(Base):
    """A committee's own wording for a template's lead paragraphs, versioned: each change adds a
    row (version 1, 2, …); the newest applies, an empty list restores the template's text. The
    published notice keeps the wording it was rendered with in its data snapshot."""

    __tablename__ = "notice_wordings"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "template", "version", name="uq_notice_wordings_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    template: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    paragraphs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
