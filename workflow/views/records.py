"""The audit log as a caller may read it: entries about its subtree, newest first."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from workflow.store.auth import User
from workflow.store.models import AuditEntry, Election, Jurisdiction


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _audit_scope(session: Session, scope: Collection[int], *, with_users: bool):
    """Entries about elections, milestones and jurisdictions in `scope` (jurisdiction ids);
    with_users (a county administrator) adds entries about the users whose own jurisdiction is
    in `scope` (logins, tokens) — never about users of another subtree."""
    scope = list(scope)
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
    if with_users:
        usernames = select(User.username).where(User.jurisdiction_id.in_(scope))
        clauses.append(and_(AuditEntry.entity == "user", AuditEntry.entity_id.in_(usernames)))
    return or_(*clauses)


def audit_page(
    session: Session,
    *,
    scope: Collection[int],
    with_users: bool,
    election_id: int | None = None,
    action: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict:
    """One page of the audit entries the caller may see, newest first, with the total."""
    where = [_audit_scope(session, scope, with_users=with_users)]
    if election_id is not None:
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


def audit_scope_report(session: Session, report: dict, *, scope: Collection[int], with_users: bool) -> dict:
    """A chain check (`workflow.store.audit.verify`'s report) as a caller may see it: the count of
    entries in its subtree, and where the chain breaks only if that entry is one of them. A
    break outside the subtree is reported as such, without its id, so the caller knows the log
    is not intact and whom to ask (the county administrator above)."""
    where = _audit_scope(session, scope, with_users=with_users)
    entries = session.execute(select(func.count(AuditEntry.id)).where(where)).scalar_one()
    shown = {"ok": report["ok"], "entries": entries, "broken_at": None, "reason": report.get("reason")}
    broken = report.get("broken_at")
    if not report["ok"] and broken is not None:
        inside = session.execute(select(AuditEntry.id).where(AuditEntry.id == broken, where)).first()
        if inside is not None:
            shown["broken_at"] = broken
        else:
            shown["reason"] = "审计链在本账号管辖范围以外的记录处断开，请联系上级管理员核查"
    return {**report, **shown}
