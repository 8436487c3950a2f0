"""Render jobs (issue 15): a PDF or Word file made off the request path.

The request stores the notice's data snapshot (its rendering context) here in a short
transaction and answers at once; a worker renders outside any transaction and stores the file.
Rows are kept for downloads; `status` is queued → running → done | failed. A worker that claims
a job writes `claimed_by` and beats `heartbeat_at`; a job whose heartbeat went stale is queued
again. `kind` is "notice" (a notice's 样稿) or "export" (a big XLSX/DOCX export, which belongs to
no single election: `election_id` is empty and only its requester sees it). Finished rows, their
files with them, are deleted after the retention period.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workflow.store.models import Base, UTCDateTime


class RenderJob(Base):
    __tablename__ = "render_jobs"
    __table_args__ = (
        Index("ix_render_jobs_status", "status"),
        Index("ix_render_jobs_finished_at", "finished_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int | None] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="notice", server_default="notice")
    template: Mapped[str] = mapped_column(String(60))
    district: Mapped[str] = mapped_column(String(32), default="")
    format: Mapped[str] = mapped_column(String(10))  # pdf / docx / html
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str | None] = mapped_column(String(300))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)  # the data snapshot the file is made from
    status: Mapped[str] = mapped_column(String(10), default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))  # the worker's claim (host:pid:token)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
