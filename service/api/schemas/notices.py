"""Bodies of …/notices."""

from __future__ import annotations

from datetime import date, datetime

from service.api.schemas.common import Out


class NoticeVersion(Out):
    id: int
    district: str | None
    version: int
    number: str | None
    format: str
    issued_on: date
    sha256: str
    published_at: datetime
    published_by: str


class NoticeTemplate(Out):
    template: str
    name: str
    scope: str
    milestone: str | None
    milestone_status: str | None
    ready: bool
    missing_data: list[str]
    published: list[NoticeVersion]


class NoticeCatalog(Out):
    election_id: int
    title: str
    kind: str
    templates: list[NoticeTemplate]


class NoticePublished(Out):
    id: int
    election_id: int
    template: str
    district: str | None
    title: str
    number: str | None
    version: int
    format: str
    issued_on: date
    sha256: str
    template_version: str
    milestone_completed: str | None
    note: str | None
    download_url: str
