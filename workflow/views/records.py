"""The audit log as a caller may read it: entries about its subtree, newest first."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from workflow.store.models import AuditEntry, Election, Jurisdiction


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _audit_scope(session: Session, scope: Collection[int], *, with_users: bool):
    """Entries about elections, milestones and jurisdictions in `scope` (jurisdiction ids);
    with_users (a county administrator) adds entries about users (logins, tokens)."""
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
        clauses.append(AuditEntry.entity == "user")
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
