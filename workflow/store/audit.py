"""The append-only, keyed, hash-chained audit log.

Each entry's hash is HMAC-SHA256, under a server secret (settings `audit_secret`, `env:NAME`
supported), over the previous entry's hash and the entry's own content in a canonical JSON form:
changing, inserting or deleting an entry breaks the chain, and nobody without the key can
recompute the hashes after a forged entry. One head row (`audit_head`: the number of entries and
the newest hash, with a MAC under the same key) moves with every append in the same transaction,
so deleting the newest entry, the newest N or all of them is detected too. `huanjie audit verify`
names the first entry (or the head) where the chain breaks. The head goes out with each county's
daily digest (schedules/digest.py), so even a holder of the key cannot quietly rewrite what was
already reported. Guarantees and limits: docs/security.md.

Entries written before the chain was keyed (key_id NULL, plain SHA-256) are accepted only before
the first keyed entry, and only under a keyed head (`seal`, run by `Database.migrate`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.events import Event, jsonable
from workflow.store.bulk import insert_rows, json_text
from workflow.store.models import AuditEntry, AuditHead

log = logging.getLogger("huanjie.audit")

GENESIS = "0" * 64
HEAD_ID = 1
KEY_INFO = "huanjie_audit_key"  # Session.info key: the chain's HMAC key (set by Database)
_HEAD_KEY = "huanjie_audit_head"
_PENDING_KEY = "huanjie_audit_pending"  # Session.info: events held back by `deferred`
_AUDIT_LOCK = 72_011_026  # PostgreSQL advisory lock id: one appender at a time keeps one chain
# Without a configured secret the chain is keyed with this published development key: it still
# detects deletions and careless edits, but not a forger who reads this file. Production sets
# HUANJIE_AUDIT_SECRET (docs/security.md); `audit verify` names the key in use.
DEV_SECRET = "huanjie-development-audit-key"


def resolve_key(secret: str | None) -> bytes:
    """The HMAC key from a setting: the value itself, or `env:NAME` read from the environment."""
    if secret and secret.startswith("env:"):
        name = secret[4:]
        secret = os.environ.get(name)
        if not secret:
            raise RuntimeError(f"audit_secret refers to the environment variable {name}, which is not set")
    return (secret or DEV_SECRET).encode("utf-8")


def key_id(key: bytes) -> str:
    """A short public name of the key (not the key): which key a chain was written with."""
    if key == DEV_SECRET.encode("utf-8"):
        return "dev"
    return hmac.new(key, b"huanjie-audit-key-id", hashlib.sha256).hexdigest()[:16]


def session_key(session: Session) -> bytes:
    key = session.info.get(KEY_INFO)
    if key is None:
        from_env = os.environ.get("HUANJIE_AUDIT_SECRET")
        key = resolve_key(from_env)
    return key


def _body(
    prev_hash: str, at: datetime, actor: str, action: str, entity: str, entity_id, before, after
) -> bytes:
    return json.dumps(
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
    ).encode("utf-8")


def _digest(key: bytes | None, prev_hash: str, at, actor, action, entity, entity_id, before, after) -> str:
    """HMAC-SHA256 under `key`; plain SHA-256 for an entry written before the chain was keyed."""
    body = _body(prev_hash, at, actor, action, entity, entity_id, before, after)
    if key is None:
        return hashlib.sha256(body).hexdigest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, newest: str) -> str:
    return hmac.new(key, f"huanjie-audit-head:{seq}:{newest}".encode(), hashlib.sha256).hexdigest()


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _AUDIT_LOCK})


def _chain_head(session: Session) -> AuditHead:
    """The head row. Read once per transaction, then carried along: the lock taken with the
    first read (PostgreSQL; SQLite has one writer) keeps every other appender out until this
    transaction ends, so nobody else can move the head meanwhile."""
    cached = session.info.get(_HEAD_KEY)
    # The head leaves the session (or is expired) when a savepoint that created or moved it
    # rolls back: then it is read again.
    if cached is not None and cached[0] is session.get_transaction() and cached[1] in session:
        return cached[1]
    _lock(session)
    head = session.get(AuditHead, HEAD_ID, populate_existing=True)
    if head is None:
        count = session.execute(select(func.count(AuditEntry.id))).scalar_one()
        newest = GENESIS
        if count:
            # Entries without a head: a chain from before the head existed (or a deleted head,
            # which verify reports until this append replaces it; the digests keep the old one).
            log.warning("audit head missing over %d entries: re-created", count)
            newest = session.execute(
                select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
            ).scalar_one()
        head = AuditHead(id=HEAD_ID, seq=count, hash=newest, key_id=None, mac=None, at=None)
        session.add(head)
    session.info[_HEAD_KEY] = (session.get_transaction(), head)
    return head


def record(session: Session, event: Event, *, actor: str, clock: Clock) -> None:
    """Append one event to the log inside the caller's transaction, and move the head. Inside
    `deferred` the event waits, in order, for the block's one batched append."""
    record_many(session, [event], actor=actor, clock=clock)


def record_many(session: Session, events: Iterable[Event], *, actor: str, clock: Clock) -> int:
    """Append the events, in order, with the same chain as one `record` each: every hash is
    computed here, the entries go in one executemany INSERT and the head moves in one UPDATE.
    Inside `deferred` they wait for the block's append. Returns the number of events."""
    at = clock.now()
    items = [(event, actor, at) for event in events]
    pending = session.info.get(_PENDING_KEY)
    if pending is not None and pending[0] is session.get_transaction():
        pending[1].extend(items)
        return len(items)
    return _append(session, items)


@contextmanager
def deferred(session: Session) -> Iterator[None]:
    """Hold back every `record` made in the block and append them together at its end (one
    INSERT, one head UPDATE). On PostgreSQL the chain's lock is then taken only for that short
    append at the end of the transaction's work, not for the whole of it: the sweep's workers
    do their batches side by side and queue only for the append. An exception drops them with
    the transaction."""
    outer = session.info.get(_PENDING_KEY)
    if outer is not None and outer[0] is session.get_transaction():
        yield  # already deferred by an enclosing block: it appends
        return
    pending: list[tuple[Event, str, datetime]] = []
    session.info[_PENDING_KEY] = (session.get_transaction(), pending)
    try:
        yield
    finally:
        session.info.pop(_PENDING_KEY, None)
    _append(session, pending)


# The entry's columns, in the order of the tuples `_append` builds.
_COLUMNS = ("at", "actor", "action", "entity", "entity_id", "before", "after", "prev_hash", "hash", "key_id")


def _append(session: Session, items: list[tuple[Event, str, datetime]]) -> int:
    if not items:
        return 0
    head = _chain_head(session)
    key = session_key(session)
    kid = key_id(key)
    prev = head.hash
    rows = []
    for event, actor, at in items:
        before = jsonable(event.before) if event.before is not None else None
        after = jsonable(event.after) if event.after is not None else None
        digest = _digest(key, prev, at, actor, event.action, event.entity, event.entity_id, before, after)
        entry = (event.action, event.entity, event.entity_id, json_text(before), json_text(after))
        rows.append((at, actor, *entry, prev, digest, kid))
        prev = digest
    # In order, in one statement: the ids follow the chain (one appender at a time holds the
    # lock, `_lock`). Pending ORM changes (a new head row) go first, as a session statement's
    # autoflush would send them.
    session.flush()
    insert_rows(session.connection(), AuditEntry.__table__, _COLUMNS, rows)
    # The head through the ORM (one UPDATE at the flush): a savepoint that rolls back then
    # expires it with the rest, and the next append reads it again (`_chain_head`).
    head.seq += len(rows)
    head.hash = prev
    head.key_id = kid
    head.mac = head_mac(key, head.seq, prev)
    head.at = items[-1][2]
    session.flush()
    return len(rows)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    broken_at: int | None = None
    reason: str | None = None
    head_seq: int | None = None
    head_hash: str | None = None
    key_id: str | None = None
    checkpoint: Checkpoint | None = None  # the verified prefix, when the whole chain holds
    walked: int = 0  # entries checked by this call (the rest were verified before: `since`)

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "broken_at": self.broken_at,
            "reason": self.reason,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "key_id": self.key_id,
        }


def _entry_problem(entry: AuditEntry, prev: str, key: bytes, kid: str, keyed: bool) -> str | None:
    if entry.prev_hash != prev:
        return "与上一条记录的链接不符（记录被删除或插入）"
    if entry.key_id is None:
        if keyed:
            return "带密钥的记录之后出现了不带密钥的记录（记录被伪造或链被重算）"
        used = None
    elif entry.key_id != kid:
        return f"记录由另一把密钥（{entry.key_id}）签名，与本服务器的密钥（{kid}）不符"
    else:
        used = key
    expected = _digest(
        used,
        entry.prev_hash,
        entry.at,
        entry.actor,
        entry.action,
        entry.entity,
        entry.entity_id,
        entry.before,
        entry.after,
    )
    if not hmac.compare_digest(expected, entry.hash):
        return "记录内容与哈希不符（记录被修改，或链被不掌握密钥者重算）"
    return None


@dataclass(frozen=True)
class Checkpoint:
    """A verified prefix of the chain: its entries, the id and hash of its newest entry, and
    whether a keyed entry was seen in it. `verify(since=…)` resumes from here."""

    entries: int
    last_id: int
    hash: str
    keyed: bool


START = Checkpoint(0, 0, GENESIS, False)


def _walk(
    session: Session, key: bytes, kid: str, batch: int, since: Checkpoint = START
) -> tuple[Checkpoint, int | None, str | None]:
    """The entries after `since` in order → (the verified prefix, id of the first bad entry,
    its problem)."""
    prev, count, last_id, keyed = since.hash, since.entries, since.last_id, since.keyed
    while True:
        rows = (
            session.execute(
                select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return Checkpoint(count, last_id, prev, keyed), None, None
        for entry in rows:
            count += 1
            problem = _entry_problem(entry, prev, key, kid, keyed)
            if problem is not None:
                return Checkpoint(count - 1, last_id, prev, keyed), entry.id, problem
            keyed = keyed or entry.key_id is not None
            prev = entry.hash
            last_id = entry.id
        session.expunge_all()


def verify(session: Session, batch: int = 5000, since: Checkpoint | None = None) -> ChainReport:
    """Walk the chain in order, then check the head; report the first place it does not hold.

    `since`: a prefix verified earlier (the `checkpoint` of an earlier report, kept by the
    caller): only the entries after it are walked, then the keyed head is checked against the
    newest; a change inside the prefix is found only by a walk from the start."""
    key = session_key(session)
    kid = key_id(key)
    head = session.get(AuditHead, HEAD_ID)
    head_seq, head_hash = (head.seq, head.hash) if head is not None else (None, None)
    head_key, head_mac_value = (head.key_id, head.mac) if head is not None else (None, None)

    since = since or START
    if since.last_id:
        newest = session.get(AuditEntry, since.last_id)
        if newest is None or newest.hash != since.hash or _entry_problem(
            newest, newest.prev_hash, key, kid, newest.key_id is not None
        ):
            since = START  # the prefix's newest entry is gone or changed: walk it all to say where
    walked = 0

    def broken(count: int, at: int | None, reason: str) -> ChainReport:
        return ChainReport(False, count, at, reason, head_seq, head_hash, kid, None, walked)

    done, bad_id, problem = _walk(session, key, kid, batch, since)
    count, prev = done.entries + (1 if problem is not None else 0), done.hash
    walked = count - since.entries
    if problem is not None:
        return broken(count, bad_id, problem)
    if head_seq is None:
        if count:
            return broken(count, None, "审计链头缺失（链头被删除）")
        return ChainReport(True, 0, None, None, None, None, kid, done, walked)
    if head_mac_value is None:
        if count or head_seq:
            return broken(count, None, "审计链头未经密钥签名（链头被改写，或升级后尚未签名）")
    elif head_key != kid:
        return broken(count, None, f"审计链头由另一把密钥（{head_key}）签名，与本服务器的密钥（{kid}）不符")
    elif not hmac.compare_digest(head_mac(key, head_seq, head_hash), head_mac_value):
        return broken(count, None, "审计链头与其签名不符（链头被不掌握密钥者改写）")
    if head_seq > count:
        return broken(
            count,
            count + 1,
            f"链头记载 {head_seq} 条，实有 {count} 条：最新的 {head_seq - count} 条记录被删除",
        )
    if head_seq != count or head_hash != prev:
        return broken(count, count or None, "链头与最新一条记录不符（最新记录被删除、替换或追加）")
    return ChainReport(True, count, None, None, head_seq, head_hash, kid, done, walked)


def seal(session: Session, batch: int = 5000) -> None:
    """Key the head of a chain upgraded from the unkeyed form (migration 0009) once its entries
    check out and match the head; a keyed head, or a broken chain, is left for verify to report."""
    _lock(session)
    head = session.get(AuditHead, HEAD_ID)
    if head is None or head.mac is not None:
        return
    key = session_key(session)
    kid = key_id(key)
    head_seq, head_hash = head.seq, head.hash
    done, _bad, problem = _walk(session, key, kid, batch)
    if problem is not None or done.entries != head_seq or done.hash != head_hash:
        log.error("audit chain not sealed: it does not check out (run huanjie audit verify)")
        return
    head = session.get(AuditHead, HEAD_ID)
    head.key_id = kid
    head.mac = head_mac(key, head_seq, head_hash)
