"""Jurisdictions (行政区域) and their committees: find, add, and resolve a plan's reference."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.errors import Conflict, not_found
from workflow.events import JurisdictionAdded
from workflow.plan import JurisdictionRef
from workflow.store.audit import record
from workflow.store.models import Jurisdiction


def find_jurisdiction(session: Session, code: str) -> Jurisdiction:
    found = session.execute(select(Jurisdiction).where(Jurisdiction.code == code)).scalar_one_or_none()
    if found is None:
        raise not_found("行政区域", code, "jurisdiction")
    return found


def add_jurisdiction(
    session: Session,
    *,
    code: str,
    name: str,
    level: str,
    parent_code: str | None,
    clock: Clock,
    actor: str,
    committee_name: str | None = None,
    contacts: list | None = None,
    timezone: str = "Asia/Shanghai",
) -> Jurisdiction:
    if session.execute(select(Jurisdiction.id).where(Jurisdiction.code == code)).first():
        raise Conflict("E_DUPLICATE", f"行政区域代码 {code} 已存在", "code")
    parent = find_jurisdiction(session, parent_code) if parent_code else None
    jurisdiction = Jurisdiction(
        code=code,
        name=name,
        level=level,
        parent=parent,
        timezone=timezone,
        committee_name=committee_name or f"{name}选举委员会",
        contacts=contacts or [],
    )
    session.add(jurisdiction)
    session.flush()
    record(
        session,
        JurisdictionAdded(
            entity_id=code, after={"code": code, "name": name, "level": level, "parent": parent_code}
        ),
        actor=actor,
        clock=clock,
    )
    return jurisdiction


def resolve_jurisdiction(session: Session, ref: JurisdictionRef, clock: Clock, actor: str) -> Jurisdiction:
    """The plan's jurisdiction; a plan that names it with `name` and `level` may create it."""
    found = session.execute(select(Jurisdiction).where(Jurisdiction.code == ref.code)).scalar_one_or_none()
    if found is not None:
        return found
    if ref.name and ref.level:
        return add_jurisdiction(
            session,
            code=ref.code,
            name=ref.name,
            level=ref.level,
            parent_code=ref.parent,
            clock=clock,
            actor=actor,
        )
    raise not_found("行政区域", ref.code, "jurisdiction")


def child_codes(session: Session, parent_code: str, level: str | None = None) -> list[str]:
    """The codes of a jurisdiction's direct children (optionally of one level), in code order."""
    parent = find_jurisdiction(session, parent_code)
    query = select(Jurisdiction.code).where(Jurisdiction.parent_id == parent.id).order_by(Jurisdiction.code)
    if level:
        query = query.where(Jurisdiction.level == level)
    return list(session.execute(query).scalars())
