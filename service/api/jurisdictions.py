"""/api/v1/jurisdictions: the caller's subtree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from service.api.deps import Caller, Tx
from service.api.problems import PROBLEM_RESPONSES
from service.api.schemas import jurisdictions as schemas
from workflow.commands.jurisdictions import find_jurisdiction
from workflow.store.auth import Role
from workflow.views import jurisdictions as views

router = APIRouter(prefix="/api/v1/jurisdictions", tags=["jurisdictions"], responses=PROBLEM_RESPONSES)
Code = Annotated[str, Path(pattern=r"^[0-9A-Za-z_.\-]{1,32}$", description="行政区划代码")]


@router.get(
    "",
    summary="本账号管辖范围内的行政区域",
    response_model=schemas.JurisdictionList,
)
def list_jurisdictions(session: Tx, caller: Caller) -> dict:
    return views.jurisdiction_list(session, caller.scope(session))


@router.get(
    "/{code}",
    summary="一个行政区域及其下级",
    response_model=schemas.JurisdictionDetail,
)
def show_jurisdiction(code: Code, session: Tx, caller: Caller) -> dict:
    j = find_jurisdiction(session, code)
    caller.check_jurisdiction(session, j)
    # Contact secrets: only the county administrator who sets them, and masked (docs/security.md).
    return views.jurisdiction_detail(session, j, contact_details=caller.user.role == Role.COUNTY_ADMIN)
