"""/api/v1/jurisdictions: the caller's subtree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import select

from service.api.deps import Caller, Tx
from service.api.problems import PROBLEM_RESPONSES
from workflow.commands.elections import find_jurisdiction
from workflow.store.models import Jurisdiction

router = APIRouter(prefix="/api/v1/jurisdictions", tags=["jurisdictions"], responses=PROBLEM_RESPONSES)
Code = Annotated[str, Path(pattern=r"^[0-9A-Za-z_.\-]{1,32}$", description="行政区划代码")]


def jurisdiction_dict(j: Jurisdiction, codes: dict[int, str]) -> dict:
    return {
        "code": j.code,
        "name": j.name,
        "level": j.level,
        "parent": codes.get(j.parent_id) if j.parent_id else None,
        "timezone": j.timezone,
        "committee_name": j.committee_name,
    }


@router.get("", summary="本账号管辖范围内的行政区域")
def list_jurisdictions(session: Tx, caller: Caller) -> dict:
    rows = session.execute(
        select(Jurisdiction).where(Jurisdiction.id.in_(caller.scope(session))).order_by(Jurisdiction.code)
    ).scalars()
    rows = list(rows)
    parents = {j.parent_id for j in rows if j.parent_id}
    codes = {
        jid: code
        for jid, code in session.execute(
            select(Jurisdiction.id, Jurisdiction.code).where(Jurisdiction.id.in_(parents))
        )
    }
    return {"items": [jurisdiction_dict(j, codes) for j in rows], "total": len(rows)}


@router.get("/{code}", summary="一个行政区域及其下级")
def show_jurisdiction(code: Code, session: Tx, caller: Caller) -> dict:
    j = find_jurisdiction(session, code)
    caller.check_jurisdiction(session, j)
    children = session.execute(
        select(Jurisdiction).where(Jurisdiction.parent_id == j.id).order_by(Jurisdiction.code)
    ).scalars()
    codes = {j.id: j.code}
    if j.parent_id:
        codes[j.parent_id] = j.parent.code
    return {
        **jurisdiction_dict(j, codes),
        "contacts": j.contacts,
        "children": [{"code": c.code, "name": c.name, "level": c.level} for c in children],
    }
