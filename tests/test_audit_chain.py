"""The keyed audit chain (issue 16 item 8): HMAC entries under a server secret and a keyed head,
so that `audit verify` detects deleting the newest entry, the newest 25, all of them, and a chain
recomputed by someone without the key; the head goes out with the county's daily digest."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, time

import pytest
from sqlalchemy import delete, func, select, update

from schedules.digest import write_digests
from tests.scheduler_helpers import setup_jingshan, start
from workflow.events import declare
from workflow.store import Database
from workflow.store.audit import GENESIS, HEAD_ID, _body, record, seal, verify
from workflow.store.models import AuditEntry, AuditHead, Notification
from workflow.timeutil import local_instant

Noted = declare("Noted", "test.noted", "test")


def _append(db: Database, clock, n: int) -> None:
    with db.transaction() as s:
        for i in range(n):
            record(s, Noted(entity_id=str(i), after={"i": i}), actor="clerk", clock=clock)


def _report(db: Database):
    with db.reading() as s:
        return verify(s)


def _delete_newest(db: Database, n: int) -> None:
    with db.transaction() as s:
        ids = s.execute(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(n)).scalars().all()
        s.execute(delete(AuditEntry).where(AuditEntry.id.in_(ids)))


def test_an_intact_chain_verifies_and_names_its_head(db, clock):
    _append(db, clock, 30)
    report = _report(db)
    assert report.ok and report.entries == 30 and report.head_seq == 30
    with db.reading() as s:
        newest = s.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
    assert report.head_hash == newest and report.key_id == "dev"


@pytest.mark.parametrize("deleted", [1, 25, 30])
def test_deleting_the_newest_entries_is_detected(db, clock, deleted):
    _append(db, clock, 30)
    _delete_newest(db, deleted)
    report = _report(db)
    assert not report.ok
    assert report.entries == 30 - deleted and report.broken_at == 30 - deleted + 1
    assert f"最新的 {deleted} 条记录被删除" in report.reason


def test_a_chain_recomputed_without_the_key_is_detected(db, clock):
    """A forger rewrites entry 10 and recomputes every later hash and the head's numbers, with
    plain SHA-256 (the old form) or HMAC under a key of their own: neither verifies."""
    _append(db, clock, 20)
    for forged_key in (None, b"guessed"):
        with db.transaction() as s:
            entries = s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
            prev = entries[8].hash
            for entry in entries[9:]:
                if entry.id == entries[9].id:
                    entry.actor = "intruder"
                entry.prev_hash = prev
                body = _body(
                    prev,
                    entry.at,
                    entry.actor,
                    entry.action,
                    entry.entity,
                    entry.entity_id,
                    entry.before,
                    entry.after,
                )
                entry.hash = (
                    hashlib.sha256(body).hexdigest()
                    if forged_key is None
                    else hmac.new(forged_key, body, hashlib.sha256).hexdigest()
                )
                entry.key_id = None if forged_key is None else entry.key_id
                prev = entry.hash
            head = s.get(AuditHead, HEAD_ID)
            head.hash = prev
        report = _report(db)
        assert not report.ok and report.broken_at == entries[9].id
        assert "密钥" in report.reason


def test_the_head_cannot_be_rewritten_or_dropped(db, clock):
    _append(db, clock, 5)
    _delete_newest(db, 2)
    with db.transaction() as s:  # the head moved back by hand, without the key
        newest = s.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar_one()
        s.execute(update(AuditHead).values(seq=3, hash=newest))
    report = _report(db)
    assert not report.ok and "签名" in report.reason
    with db.transaction() as s:
        s.execute(update(AuditHead).values(mac=None, key_id=None))
    assert not _report(db).ok
    with db.transaction() as s:
        s.execute(delete(AuditHead))
    report = _report(db)
    assert not report.ok and "链头缺失" in report.reason


def test_another_key_does_not_verify_and_env_keys_work(db, clock, monkeypatch):
    monkeypatch.setenv("HUANJIE_TEST_AUDIT_KEY", "county-secret-1")
    keyed = Database(db.url, audit_secret="env:HUANJIE_TEST_AUDIT_KEY")
    try:
        _append(keyed, clock, 3)
        good = _report(keyed)
        assert good.ok and good.key_id not in (None, "dev") and len(good.key_id) == 16
    finally:
        keyed.dispose()
    other = Database(db.url, audit_secret="another-secret")
    try:
        report = _report(other)
    finally:
        other.dispose()
    assert not report.ok and report.broken_at == 1 and good.key_id in report.reason
    monkeypatch.delenv("HUANJIE_TEST_AUDIT_KEY")
    with pytest.raises(RuntimeError, match="HUANJIE_TEST_AUDIT_KEY"):
        Database(db.url, audit_secret="env:HUANJIE_TEST_AUDIT_KEY")


def test_an_unkeyed_chain_is_upgraded_then_cannot_be_downgraded(db, clock):
    """Entries written before migration 0009 (plain SHA-256, key_id NULL) with the head the
    migration sets: `seal` keys the head; the chain then verifies and keeps growing keyed; turning
    it all back into the unkeyed form is detected."""
    prev = GENESIS
    with db.transaction() as s:
        for i in range(4):
            at = clock.now()
            body = _body(prev, at, "old", "test.noted", "test", str(i), None, {"i": i})
            entry = AuditEntry(
                at=at,
                actor="old",
                action="test.noted",
                entity="test",
                entity_id=str(i),
                before=None,
                after={"i": i},
                prev_hash=prev,
                hash=hashlib.sha256(body).hexdigest(),
                key_id=None,
            )
            s.add(entry)
            prev = entry.hash
        s.add(AuditHead(id=HEAD_ID, seq=4, hash=prev, key_id=None, mac=None))
    unsealed = _report(db)
    assert not unsealed.ok and "未经密钥签名" in unsealed.reason
    with db.transaction() as s:
        seal(s)
    assert _report(db).ok
    _append(db, clock, 2)
    report = _report(db)
    assert report.ok and report.entries == 6
    with db.transaction() as s:  # downgrade: the two keyed entries re-hashed the old way
        entries = s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        for entry in entries[4:]:
            body = _body(
                prev,
                entry.at,
                entry.actor,
                entry.action,
                entry.entity,
                entry.entity_id,
                entry.before,
                entry.after,
            )
            entry.prev_hash, entry.hash, entry.key_id = prev, hashlib.sha256(body).hexdigest(), None
            prev = entry.hash
        s.execute(update(AuditHead).values(hash=prev, mac=None, key_id=None))
    assert not _report(db).ok


def test_seal_leaves_a_tampered_unkeyed_chain_unsigned(db, clock):
    with db.transaction() as s:
        at = clock.now()
        s.add(
            AuditEntry(
                at=at,
                actor="old",
                action="test.noted",
                entity="test",
                entity_id="1",
                before=None,
                after=None,
                prev_hash=GENESIS,
                hash="f" * 64,
                key_id=None,
            )
        )
        s.add(AuditHead(id=HEAD_ID, seq=1, hash="f" * 64, key_id=None, mac=None))
    with db.transaction() as s:
        seal(s)
    with db.reading() as s:
        assert s.get(AuditHead, HEAD_ID).mac is None
    assert not _report(db).ok


def test_the_daily_digest_carries_the_head_to_the_county(db):
    clock = start()
    setup_jingshan(db, clock)
    clock.set(local_instant(date(2011, 8, 20), time(8, 0)))
    assert write_digests(db, clock) == 1
    with db.reading() as s:
        head = s.get(AuditHead, HEAD_ID)
        seq, newest = head.seq, head.hash
        bodies = {
            n.body for n in s.execute(select(Notification).where(Notification.category == "digest")).scalars()
        }
        assert s.execute(select(func.count(AuditEntry.id))).scalar_one() == seq
    (body,) = bodies
    assert seq > 0 and f"审计链头：第 {seq} 条，哈希 {newest}" in body
