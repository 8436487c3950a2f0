"""/api/v1/reminders and /api/v1/audit: what the scheduler wrote and what everyone did."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import INT_MAX, Caller, Tx
from service.api.elections import visible_election
from service.api.problems import PROBLEM_RESPONSES
from service.api.schemas import records as schemas
from workflow.store.audit import verify
from workflow.store.auth import Role
from workflow.views import reminders
from workflow.views.records import audit_page, audit_scope_report

router = APIRouter(prefix="/api/v1", tags=["records"], responses=PROBLEM_RESPONSES)
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=INT_MAX)]
OptionalId = Annotated[int | None, Query(ge=1, le=INT_MAX, description="选举编号")]


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


@router.get(
    "/reminders",
    summary="提醒（由调度器写入；按到期时间排序）",
    response_model=schemas.ReminderList,
)
def list_reminders(
    session: Tx,
    caller: Caller,
    election_id: OptionalId = None,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{1,12}$")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict:
    if election_id is not None:
        visible_election(session, caller, election_id)
    where = {"election_id": election_id, "status": status, "jurisdiction_ids": caller.scope(session)}
    total = reminders.count_reminders(session, **where)
    rows = reminders.list_reminders(session, **where, limit=limit, offset=offset)
    items = [
        {
            "id": r["id"],
            "election_id": r["election_id"],
            "milestone_key": r["milestone_key"],
            "kind": r["kind"],
            "lead_days": r["lead_days"],
            "target_date": _iso(r["target_date"]),
            "fire_at": _iso(r["fire_at"]),
            "status": r["status"],
            "handled_at": _iso(r["handled_at"]),
        }
        for r in rows
    ]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get(
    "/audit",
    summary="审计日志（仅本账号管辖范围内的记录）",
    response_model=schemas.AuditList,
)
def list_audit(
    session: Tx,
    caller: Caller,
    election_id: OptionalId = None,
    action: Annotated[str | None, Query(pattern=r"^[a-z_.]{1,60}$")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict:
    if election_id is not None:
        visible_election(session, caller, election_id)
    # A county administrator also sees entries about users (logins, tokens).
    return audit_page(
        session,
        scope=caller.scope(session),
        with_users=caller.user.role == Role.COUNTY_ADMIN,
        election_id=election_id,
        action=action,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/audit/verify",
    summary="校验审计日志的哈希链",
    response_model=schemas.ChainReport,
)
def verify_audit(session: Tx, caller: Caller) -> dict:
    # The whole chain is checked (a link can only be checked against its neighbour), but the
    # report counts and names only the caller's own entries (docs/security.md).
    return audit_scope_report(
        session,
        verify(session).as_dict(),
        scope=caller.scope(session),
        with_users=caller.user.role == Role.COUNTY_ADMIN,
    )
