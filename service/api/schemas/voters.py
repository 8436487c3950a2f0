"""Bodies of …/districts, …/voters and …/appeals."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from service.api.schemas.common import Out


class VoterDistrict(Out):
    code: str
    name: str
    seats: int | None
    population: int | None
    area: str | None


class VoterRegistered(Out):
    id: int
    name: str
    id_masked: str
    district: str
    reason: str
    supplementary: bool = Field(description="名单公布后的登记：列入补正名单（补办选民登记）")


class VoterDistrictCount(VoterDistrict):
    voters: int


class VoterDistrictList(Out):
    election_id: int
    districts: list[VoterDistrictCount]


class ImportReport(Out):
    accepted: int
    unchanged: int
    warnings: list[dict[str, Any]] = Field(description="提示（最多前 1000 条，总数见 warnings_total）")
    rejected: list[dict[str, Any]] = Field(description="被拒绝的行、列和原因（最多前 1000 条）")
    duplicates: list[dict[str, Any]]
    committed: bool
    rejected_total: int = Field(0, description="拒绝原因总数")
    rejected_rows: int = Field(0, description="被拒绝的行数")
    warnings_total: int = Field(0, description="提示总数")
    rejected_file: str | None = Field(None, description="被拒绝的行（XLSX，原行加「原因」列）的下载地址")


class ListVersion(Out):
    version: int
    published_on: date
    voters: int
    changes: int


class VoterDistrictStatus(VoterDistrictCount):
    versions: list[ListVersion]


class AppealsSummary(Out):
    filing_ends: date
    window_open: bool
    pending: int
    overdue: list[int]
    total: int


class VotersStatus(Out):
    election_id: int
    voters: int
    removed: int
    published: date | None
    districts: list[VoterDistrictStatus]
    appeals: AppealsSummary | None


class VoterPage(Out):
    title: str
    items: list[dict[str, Any]] = Field(description="名单的行：列名见 COLUMN_KEYS（seq、name、id_number …）")
    total: int
    limit: int
    offset: int


class PublishedDistrict(Out):
    code: str
    name: str
    version: int
    voters: int
    changes: int


class VotersPublished(Out):
    supplementary: bool
    published_on: date
    districts: list[PublishedDistrict]
    voters: int


class AppealOut(Out):
    id: int
    filer: str
    request: str
    subject: str
    subject_id_masked: str | None
    reason: str
    correction: dict[str, Any] | None
    filed_on: date
    decide_by: date
    status: str
    decision_reason: str | None
    decided_on: date | None
    late: bool
    court_suit_deadline: date | None  # None where the kind's law gives no court suit (VCL 14)
    after_decision: str  # the rule that follows a decision (court suit, or publishing it)


class AppealList(Out):
    published_on: date
    filing_ends: date
    window_open: bool
    court_suit_deadline: date | None
    pending: int
    overdue: list[int]
    appeals: list[AppealOut]


class ImportRejected(ImportReport):
    """The 422 of an import with rejected rows: a problem document carrying the report."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None
    instance: str
