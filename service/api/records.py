"""/api/v1/reminders and /api/v1/audit: what the scheduler wrote and what everyone did."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from service.api.deps import INT_MAX, Caller, Principal, Tx
from service.api.elections import visible_election
from service.api.problems import PROBLEM_RESPONSES
from workflow.store.audit import verify
from workflow.store.auth import Role
from workflow.store.models import AuditEntry, Election, Jurisdiction
from workflow.views import reminders

router = APIRouter(prefix="/api/v1", tags=["records"], responses=PROBLEM_RESPONSES)
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=INT_MAX)]
OptionalId = Annotated[int | None, Query(ge=1, le=INT_MAX, description="选举编号")]


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


@router.get("/reminders", summary="提醒（由调度器写入；按到期时间排序）")
def list_reminders(
    session: Tx,
    caller: Caller,
    election_id: OptionalId = None,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{1,12}$")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict:
    where = {"election_id": election_id, "status": status, "jurisdiction_ids": caller.scope(session)}
    if election_id is not None:
        visible_election(session, caller, election_id)
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


def _audit_scope(session: Session, caller: Principal):
    """Entries about elections, milestones and jurisdictions in the caller's subtree; a county
    administrator also sees entries about users (logins, tokens)."""
    scope = list(caller.scope(session))
    ids = [
        str(i)
        for i in session.execute(select(Election.id).where(Election.jurisdiction_id.in_(scope))).scalars()
    ]
    codes = list(session.execute(select(Jurisdiction.code).where(Jurisdiction.id.in_(scope))).scalars())
    clauses = [
        and_(AuditEntry.entity == "election", AuditEntry.entity_id.in_(ids)),
        and_(AuditEntry.entity == "jurisdiction", AuditEntry.entity_id.in_(codes)),
    ]
    if ids:
        clauses.append(
            and_(AuditEntry.entity == "milestone", or_(*[AuditEntry.entity_id.like(f"{i}/%") for i in ids]))
        )
    if caller.user.role == Role.COUNTY_ADMIN:
        clauses.append(AuditEntry.entity == "user")
    return or_(*clauses)


@router.get("/audit", summary="审计日志（仅本账号管辖范围内的记录）")
def list_audit(
    session: Tx,
    caller: Caller,
    election_id: OptionalId = None,
    action: Annotated[str | None, Query(pattern=r"^[a-z_.]{1,60}$")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict:
    where = [_audit_scope(session, caller)]
    if election_id is not None:
        visible_election(session, caller, election_id)
        where.append(
            or_(
                and_(AuditEntry.entity == "election", AuditEntry.entity_id == str(election_id)),
                and_(AuditEntry.entity == "milestone", AuditEntry.entity_id.like(f"{election_id}/%")),
            )
        )
    if action:
        where.append(AuditEntry.action == action)
    total = session.execute(select(func.count(AuditEntry.id)).where(*where)).scalar_one()
    rows = session.execute(
        select(AuditEntry).where(*where).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    ).scalars()
    items = [
        {
            "id": e.id,
            "at": _iso(e.at),
            "actor": e.actor,
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "before": e.before,
            "after": e.after,
            "hash": e.hash,
        }
        for e in rows
    ]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/audit/verify", summary="校验审计日志的哈希链")
def verify_audit(session: Tx, caller: Caller) -> dict:
    return verify(session).as_dict()
