"""Jurisdictions as the API and the dashboard show them: a caller's subtree, one with its
children, one found by its code."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any
from urllib.parse import urlsplit

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


# Contact fields that are secrets (robot tokens, signing secrets, passwords, keys) and fields
# that are personal data (phone numbers). Matching is by name, at any depth of a contact.
SECRET_NAMES = frozenset({"secret", "password", "token", "access_token", "key", "sign", "signing_secret"})
PHONE_NAMES = frozenset({"phone", "mobile", "tel", "telephone"})
URL_NAMES = frozenset({"webhook", "url"})


def _masked_text(value: str) -> str:
    return "***" if len(value) < 12 else f"***{value[-4:]}"


def _masked_url(value: str) -> str:
    """Scheme and host only: robot tokens travel in the path or the query (DingTalk's
    access_token, WeCom's key), so neither is shown."""
    parts = urlsplit(value)
    if not parts.scheme or not parts.hostname:
        return "***"
    return f"{parts.scheme}://{parts.hostname}/***"


def _masked_phone(value: str) -> str:
    digits = "".join(c for c in value if c.isdigit())
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "***"


def masked_value(name: str, value: Any) -> Any:
    """One contact field as a county administrator sees it. "env:NAME" references are shown as
    they are: they name where the secret lives, not the secret."""
    if isinstance(value, dict):
        return {k: masked_value(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_value(name, v) for v in value]
    if not isinstance(value, str) or not value:
        return value
    if value.startswith("env:"):
        return value
    lowered = name.lower()
    if lowered in SECRET_NAMES:
        return _masked_text(value)
    if lowered in PHONE_NAMES:
        return _masked_phone(value)
    if lowered in URL_NAMES:
        return _masked_url(value)
    return value


def shown_contacts(contacts: list[Any] | None, *, with_details: bool) -> list[dict]:
    """The committee's contacts as a caller may see them. Secrets never leave the server: a
    county administrator (who sets them) sees every field with secrets, webhook paths and
    phone numbers masked; every other role sees only who the contacts are (name and role)."""
    shown = []
    for contact in contacts or []:
        if not isinstance(contact, dict):
            continue
        if with_details:
            shown.append({k: masked_value(k, v) for k, v in contact.items()})
        else:
            shown.append({"name": contact.get("name"), "role": contact.get("role")})
    return shown


def jurisdiction_detail(session: Session, j: Jurisdiction, *, contact_details: bool = False) -> dict:
    """One jurisdiction with its contacts (see `shown_contacts`) and its direct children."""
    children = session.execute(
        select(Jurisdiction).where(Jurisdiction.parent_id == j.id).order_by(Jurisdiction.code)
    ).scalars()
    codes = {j.id: j.code}
    if j.parent_id:
        codes[j.parent_id] = j.parent.code
    return {
        **jurisdiction_dict(j, codes),
        "contacts": shown_contacts(j.contacts, with_details=contact_details),
        "children": [{"code": c.code, "name": c.name, "level": c.level} for c in children],
    }
