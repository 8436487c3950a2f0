"""Batched audit appends (issue 15): `record_many` and `deferred` write a batch's entries in one
INSERT and move the head in one UPDATE, with exactly the chain that one `record` per event
writes, so `audit verify` holds and the hashes are the same."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from tests.test_audit_chain import Noted
from tests.test_query_counts import counting
from workflow.store import Database
from workflow.store.audit import deferred, record, record_many, verify
from workflow.store.models import AuditEntry, AuditHead


def _events(start: int, n: int) -> list:
    return [
        Noted(entity_id=str(i), before=None if i % 2 else {"i": i - 1}, after={"i": i})
        for i in range(start, start + n)
    ]


def _chain(db: Database) -> list[tuple]:
    with db.reading() as s:
        rows = s.execute(
            select(AuditEntry.prev_hash, AuditEntry.hash, AuditEntry.entity_id).order_by(AuditEntry.id)
        )
        head = s.get(AuditHead, 1)
        return [tuple(r) for r in rows] + [(head.seq, head.hash, head.mac)]


def _writes(seen: list[str]) -> tuple[int, int]:
    return (
        sum(s.startswith("INSERT INTO audit_log") for s in seen),
        sum(s.startswith("UPDATE audit_head") for s in seen),
    )


def test_record_many_writes_the_chain_one_record_each_would(db, clock, tmp_path, sqlite_template):
    # The same 43 events, one `record` each, in a fresh SQLite database: the same chain.
    with db.transaction() as s:
        for event in _events(0, 3):
            record(s, event, actor="clerk", clock=clock)
    with counting(db) as seen, db.transaction() as s:
        assert record_many(s, _events(3, 40), actor="clerk", clock=clock) == 40
    assert _writes(seen) == (1, 1)
    with db.reading() as s:
        report = verify(s)
    assert report.ok and report.entries == 43 and report.head_seq == 43
    batched = _chain(db)

    other_path = tmp_path / "one-by-one.sqlite3"
    shutil.copyfile(sqlite_template, other_path)
    other = Database(f"sqlite:///{other_path}")
    try:
        with other.transaction() as s:
            for event in _events(0, 43):
                record(s, event, actor="clerk", clock=clock)
        assert _chain(other) == batched  # same hashes, same head, same MAC
    finally:
        other.dispose()


def test_deferred_appends_once_at_the_end_and_then_follows_on(db, clock):
    with counting(db) as seen, db.transaction() as s:
        with deferred(s):
            for event in _events(0, 5):
                record(s, event, actor="clerk", clock=clock)
            record_many(s, _events(5, 5), actor="scheduler", clock=clock)
            # Nothing written yet: the chain's lock is not taken during the work.
            assert not any(x.startswith(("INSERT INTO audit_log", "UPDATE audit_head")) for x in seen)
        record(s, _events(10, 1)[0], actor="clerk", clock=clock)  # after the block: appended at once
    assert _writes(seen) == (2, 2)
    with db.reading() as s:
        report = verify(s)
        actors = s.execute(select(AuditEntry.actor).order_by(AuditEntry.id)).scalars().all()
        ids = s.execute(select(AuditEntry.entity_id).order_by(AuditEntry.id)).scalars().all()
    assert report.ok and report.entries == 11
    assert actors == ["clerk"] * 5 + ["scheduler"] * 5 + ["clerk"]
    assert ids == [str(i) for i in range(11)]


def test_a_failed_deferred_block_appends_nothing(db, clock):
    with pytest.raises(RuntimeError), db.transaction() as s, deferred(s):
        record_many(s, _events(0, 4), actor="clerk", clock=clock)
        raise RuntimeError("batch fails")
    with db.transaction() as s:
        record(s, _events(0, 1)[0], actor="clerk", clock=clock)
    with db.reading() as s:
        report = verify(s)
        record_count = s.query(AuditEntry).count()
    assert report.ok and record_count == 1 and report.head_seq == 1
