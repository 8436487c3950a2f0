"""Bodies of …/notices."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

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


class NoticeSettings(Out):
    jurisdiction: str
    numbering: str = Field(description="year：按年编号（京选公〔2026〕3号）；round：按届编号（第3号）")
    congress_term: int | None = Field(description="本次选举产生的人民代表大会届次")
    superior_org: str | None = Field(description="党支部的上级党组织（请示、报告的主送机关）")


class NoticeWording(Out):
    jurisdiction: str
    template: str
    version: int
    paragraphs: list[str]


class RenderJob(Out):
    id: int
    election_id: int | None = Field(description="empty for an export that covers more than one election")
    kind: str = Field(description="notice 公告样稿 / export 导出文件")
    template: str
    district: str | None
    format: str
    title: str
    status: str = Field(description="queued 排队中 / running 生成中 / done 已完成 / failed 失败")
    status_name: str
    error: str | None
    size: int | None
    sha256: str | None
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int = Field(description="how many times a worker started it (a dead worker's job is started again)")
    url: str
    file_url: str | None
