"""Bodies of /api/v1/jurisdictions."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from service.api.schemas.common import JurisdictionRef, Out


class JurisdictionOut(JurisdictionRef):
    parent: str | None = Field(description="上级的行政区划代码")
    timezone: str
    committee_name: str | None


class JurisdictionList(Out):
    items: list[JurisdictionOut]
    total: int


class JurisdictionDetail(JurisdictionOut):
    contacts: list[Any]
    children: list[JurisdictionRef]
