"""The append-only, hash-chained audit log.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's own content in a
canonical JSON form, so that changing, inserting or deleting an entry breaks the chain and
`huanjie audit verify` names the first entry where it breaks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.events import Event, jsonable
from workflow.store.models import AuditEntry

GENESIS = "0" * 64
_HEAD_KEY = "huanjie_audit_head"
_AUDIT_LOCK = 72_011_026  # PostgreSQL advisory lock id: one appender at a time keeps one chain


def _digest(
    prev_hash: str, at: datetime, actor: str, action: str, entity: str, entity_id: str | None, before, after
) -> str:
    body = json.dumps(
        {
            "prev": prev_hash,
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "before": before,
            "after": after,
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _chain_head(session: Session) -> str:
    """The newest entry's hash. Read once per transaction, then carried along: the lock taken
    with the first read (PostgreSQL; SQLite has one writer) keeps every other appender out
    until this transaction ends, so nobody else can move the head meanwhile."""
    cached = session.info.get(_HEAD_KEY)
    # The entry leaves the session when a savepoint holding it rolls back: then read again.
    if cached is not None and cached[0] is session.get_transaction() and cached[1] in session:
        return cached[1].hash
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _AUDIT_LOCK})
    return (
        session.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar_one_or_none()
        or GENESIS
    )


def record(session: Session, event: Event, *, actor: str, clock: Clock) -> AuditEntry:
    """Append one event to the log inside the caller's transaction."""
    prev = _chain_head(session)
    at = clock.now()
    before = jsonable(event.before) if event.before is not None else None
    after = jsonable(event.after) if event.after is not None else None
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=event.action,
        entity=event.entity,
        entity_id=event.entity_id,
        before=before,
        after=after,
        prev_hash=prev,
        hash=_digest(prev, at, actor, event.action, event.entity, event.entity_id, before, after),
    )
    session.add(entry)
    session.flush()
    session.info[_HEAD_KEY] = (session.get_transaction(), entry)
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    broken_at: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "broken_at": self.broken_at, "reason": self.reason}


def verify(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the chain in order; report the first entry whose hash or link does not hold."""
    prev = GENESIS
    count = 0
    last_id = 0
    while True:
        rows = (
            session.execute(
                select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return ChainReport(True, count)
        for entry in rows:
            count += 1
            if entry.prev_hash != prev:
                return ChainReport(False, count, entry.id, "与上一条记录的链接不符（记录被删除或插入）")
            expected = _digest(
                entry.prev_hash,
                entry.at,
                entry.actor,
                entry.action,
                entry.entity,
                entry.entity_id,
                entry.before,
                entry.after,
            )
            if expected != entry.hash:
                return ChainReport(False, count, entry.id, "记录内容与哈希不符（记录被修改）")
            prev = entry.hash
            last_id = entry.id
        session.expunge_all()
