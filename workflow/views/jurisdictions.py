"""Jurisdictions as the API and the dashboard show them: a caller's subtree, one with its
children, one found by its code."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.store.models import Jurisdiction


def by_code(session: Session, code: str) -> Jurisdiction | None:
    """The jurisdiction with this code, or None (the caller decides whether that is an error)."""
    return session.execute(select(Jurisdiction).where(Jurisdiction.code == code)).scalar_one_or_none()


def by_codes(session: Session, codes: Iterable[str]) -> dict[str, Jurisdiction]:
    """The jurisdictions among `codes` that exist, by code."""
    rows = session.execute(select(Jurisdiction).where(Jurisdiction.code.in_(list(codes)))).scalars()
    return {j.code: j for j in rows}


def jurisdiction_dict(j: Jurisdiction, codes: dict[int, str]) -> dict:
    """One jurisdiction; `codes` maps parent ids to their codes."""
    return {
        "code": j.code,
        "name": j.name,
        "level": j.level,
        "parent": codes.get(j.parent_id) if j.parent_id else None,
        "timezone": j.timezone,
        "committee_name": j.committee_name,
    }


def jurisdiction_list(session: Session, scope: Collection[int]) -> dict:
    """Every jurisdiction in `scope` (ids), ordered by code, each with its parent's code."""
    rows = list(
        session.execute(
            select(Jurisdiction).where(Jurisdiction.id.in_(scope)).order_by(Jurisdiction.code)
        ).scalars()
    )
    parents = {j.parent_id for j in rows if j.parent_id}
    codes = {
        jid: code
        for jid, code in session.execute(
            select(Jurisdiction.id, Jurisdiction.code).where(Jurisdiction.id.in_(parents))
        )
    }
    return {"items": [jurisdiction_dict(j, codes) for j in rows], "total": len(rows)}


def jurisdiction_detail(session: Session, j: Jurisdiction) -> dict:
    """One jurisdiction with its contacts and its direct children."""
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
