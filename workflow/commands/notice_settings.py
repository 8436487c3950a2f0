"""A committee's notice settings: how its notices are numbered, the 届次 of the congress it
elects, a party branch's higher organisation, and its own wording of a template's lead
paragraphs (versioned). One transaction each, audited; bad input is refused with the field named.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notices.catalog import get_spec
from notices.context import NUMBERING_MODES
from workflow.clock import Clock
from workflow.errors import DomainError
from workflow.events import NoticeSettingsChanged, NoticeWordingChanged
from workflow.store.audit import record
from workflow.store.models import Jurisdiction
from workflow.store.notices import NoticeWording

MAX_TERM = 99  # 届次 print as Chinese numerals 一 … 九十九 (notices.render.cn_number)
MAX_PARAGRAPHS = 10
MAX_PARAGRAPH = 1000


def settings_of(place: Jurisdiction) -> dict:
    return {
        "jurisdiction": place.code,
        "numbering": place.notice_numbering or "year",
        "congress_term": place.congress_term,
        "superior_org": place.superior_org,
    }


def update_settings(
    session: Session,
    place: Jurisdiction,
    *,
    numbering: str | None = None,
    congress_term: int | None = None,
    superior_org: str | None = None,
    clock: Clock,
    actor: str,
) -> dict:
    """Change the given settings (None leaves one as it is; an empty superior_org clears it)."""
    before = settings_of(place)
    if numbering is not None:
        if numbering not in NUMBERING_MODES:
            raise DomainError(
                "E_BAD_NUMBERING", "公告编号方式只能是 year（按年：京选公〔2026〕3号）或 round（按届：第3号）", "numbering"
            )
        place.notice_numbering = numbering
    if congress_term is not None:
        if not 1 <= congress_term <= MAX_TERM:
            raise DomainError("E_BAD_TERM", f"届次应为 1 至 {MAX_TERM} 之间的整数", "congress_term")
        place.congress_term = congress_term
    if superior_org is not None:
        text = superior_org.strip()
        if len(text) > 200:
            raise DomainError("E_TOO_LONG", "上级党组织名称不能超过 200 字", "superior_org")
        place.superior_org = text or None
    after = settings_of(place)
    if after != before:
        session.flush()
        record(
            session,
            NoticeSettingsChanged(entity_id=place.code, before=before, after=after),
            actor=actor,
            clock=clock,
        )
    return after


def current_wording(session: Session, jurisdiction_id: int, template: str) -> NoticeWording | None:
    return session.execute(
        select(NoticeWording)
        .where(NoticeWording.jurisdiction_id == jurisdiction_id, NoticeWording.template == template)
        .order_by(NoticeWording.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def wording_paragraphs(session: Session, jurisdiction_id: int, template: str) -> list[str]:
    row = current_wording(session, jurisdiction_id, template)
    return list(row.paragraphs) if row is not None else []


def set_wording(
    session: Session,
    place: Jurisdiction,
    template: str,
    paragraphs: list[str],
    *,
    clock: Clock,
    actor: str,
) -> NoticeWording:
    """Store a new version of the committee's lead paragraphs for `template` (an empty list
    restores the template's own text). Earlier versions stay."""
    spec = get_spec(template)
    texts = [p.strip() for p in paragraphs if p and p.strip()]
    if len(texts) > MAX_PARAGRAPHS:
        raise DomainError("E_TOO_LONG", f"自定义段落最多 {MAX_PARAGRAPHS} 段", "paragraphs")
    for i, text in enumerate(texts, 1):
        if len(text) > MAX_PARAGRAPH:
            raise DomainError("E_TOO_LONG", f"第 {i} 段超过 {MAX_PARAGRAPH} 字", "paragraphs")
    top = session.execute(
        select(func.max(NoticeWording.version)).where(
            NoticeWording.jurisdiction_id == place.id, NoticeWording.template == spec.key
        )
    ).scalar_one()
    row = NoticeWording(
        jurisdiction_id=place.id,
        template=spec.key,
        version=(top or 0) + 1,
        paragraphs=texts,
        created_at=clock.now(),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    record(
        session,
        NoticeWordingChanged(
            entity_id=str(row.id),
            after={"jurisdiction": place.code, "template": spec.key, "version": row.version, "paragraphs": texts},
        ),
        actor=actor,
        clock=clock,
    )
    return row
