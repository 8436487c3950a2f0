"""The hot-read connection (workflow/store/db.py `HotReads`) the status read's quick path and
/healthz use: it sees every commit at once, gives way (HotReadUnavailable) when it cannot answer
and reconnects; pooled PostgreSQL connections are pinged only after an idle spell. On SQLite
and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Boolean, bindparam, cast, select, text

from workflow.commands.jurisdictions import add_jurisdiction
from workflow.store import Database
from workflow.store import db as db_module
from workflow.store.db import HotReadUnavailable
from workflow.store.models import Jurisdiction

COUNT = select(Jurisdiction.code).where(Jurisdiction.code == bindparam("code"))


def test_a_hot_read_sees_each_commit_at_once(db, clock):
    reads = db.hot_reads
    prepared = reads.prepare(COUNT)
    assert reads.first(prepared, {"code": "990001"}) is None
    with db.transaction() as session:
        add_jurisdiction(
            session, code="990001", name="甲县", level="county", parent_code=None, clock=clock, actor="t"
        )
    assert reads.first(prepared, {"code": "990001"}) == ("990001",)
    with db.transaction() as session:
        session.execute(text("UPDATE jurisdictions SET code = '990002' WHERE code = '990001'"))
    assert reads.first(prepared, {"code": "990001"}) is None
    # Typed values come back as Python values (PostgreSQL's text form read by type).
    row = reads.first(reads.prepare(select(bindparam("n", 7) + 1, cast(bindparam("t", True), Boolean))), {})
    assert row == (8, True) or row == (8, 1)


def test_a_failed_hot_read_gives_way_then_reconnects(db, monkeypatch, caplog):
    reads = db.hot_reads
    prepared = reads.prepare(select(text("1")))
    assert reads.first(prepared, {}) == (1,)
    broken = reads.prepare(select(text("no_such_column")))
    with pytest.raises(HotReadUnavailable):
        reads.first(broken, {})
    assert any(r.getMessage() == "hot read failed" for r in caplog.records)
    with pytest.raises(HotReadUnavailable):  # within the second after a failure: not yet again
        reads.first(prepared, {})
    monkeypatch.setattr(reads, "RETRY_SECONDS", 0.0)
    assert reads.first(prepared, {}) == (1,)  # a new connection


def test_an_in_memory_database_has_no_hot_reads():
    memory = Database("sqlite://")
    try:
        with pytest.raises(HotReadUnavailable):
            memory.hot_reads.first(memory.hot_reads.prepare(select(text("1"))), {})
    finally:
        memory.dispose()


def test_pooled_postgresql_connections_are_pinged_only_after_an_idle_spell(db, monkeypatch):
    if not db.is_postgres:
        pytest.skip("SQLite's pool does not ping")
    pings: list[object] = []
    real = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: pings.append(conn) or real(conn))
    for _ in range(3):
        with db.reading() as session:
            session.execute(text("SELECT 1"))
    assert pings == []  # busy connections: no round trip per checkout
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", -1.0)  # every connection now counts as idle
    with db.reading() as session:
        assert session.execute(text("SELECT 1")).scalar() == 1
    assert len(pings) == 1
