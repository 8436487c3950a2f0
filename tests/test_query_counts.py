"""Statements per operation do not grow with the number of rows or elections (issue 15).

Counts, not timings: each operation runs on a small and on a larger synthetic province (every
election with its own jurisdiction and committee, the shape that exposed one query per
election), and the statements it sends (SQLAlchemy's `before_cursor_execute`) must be the same.
Runs on SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time, timedelta

from sqlalchemy import event

from demo.province import add_province, create_province_round
from schedules.sweep import sweep
from tests.conftest import _truncate_all
from workflow.clock import FixedClock
from workflow.store import Database
from workflow.timeutil import local_instant

SMALL = (2, 2)  # counties, townships per county: 6 elections
LARGE = (3, 4)  # 15 elections


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs (an executemany counts once)."""
    seen: list[str] = []

    def listen(_conn, _cursor, statement, _params, _context, _many) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)


def province(db: Database, shape: tuple[int, int]) -> tuple[FixedClock, list[int]]:
    clock = FixedClock(local_instant(date(2011, 8, 18), time(10, 0)))
    built = add_province(db, clock, counties=shape[0], townships_per_county=shape[1])
    return clock, create_province_round(db, clock, built)


def audit_write(statement: str) -> bool:
    """One audit entry per audited change is the log's design (hash-chained, one row each)."""
    return statement.startswith("INSERT INTO audit_log")


def sweep_profile(db: Database, clock: FixedClock) -> dict[tuple[date, time], tuple[int, dict]]:
    """Each sweep of the round's first 60 days: statements sent (audit entries apart) and what
    the sweep did."""
    profile = {}
    day = date(2011, 8, 18)
    for _ in range(60):
        for at in (time(0, 0, 30), time(9, 0, 30)):
            clock.set(local_instant(day, at))
            with counting(db) as seen:
                result = sweep(db, clock)
            if result.batches:
                kinds = {
                    name: len(getattr(result, name)) > 0
                    for name in ("warnings", "overdue", "advanced", "blocked", "escalated")
                }
                profile[(day, at)] = (sum(not audit_write(s) for s in seen), kinds, result)
        day += timedelta(days=1)
    return profile


def test_sweep_statements_do_not_grow_with_the_province(tmp_path_factory, request, db):
    clock, small_ids = province(db, SMALL)
    small = sweep_profile(db, clock)
    # A second, larger province in a fresh database of the same backend.
    other = _fresh_like(db, request, tmp_path_factory)
    try:
        clock, large_ids = province(other, LARGE)
        large = sweep_profile(other, clock)
    finally:
        other.dispose()
    assert len(large_ids) > 2 * len(small_ids)
    assert small.keys() == large.keys() and len(small) > 20
    for when, (count, kinds, result) in small.items():
        large_count, large_kinds, large_result = large[when]
        assert kinds == large_kinds
        assert large_result.handled > result.handled  # the larger round did more work …
        assert large_count == count, (when, kinds)  # … in the same statements
    assert any(kinds["warnings"] for _c, kinds, _r in small.values())
    assert any(kinds["escalated"] for _c, kinds, _r in small.values())
    assert any(kinds["overdue"] for _c, kinds, _r in small.values())
    assert any(kinds["blocked"] for _c, kinds, _r in small.values())


def _fresh_like(db: Database, request, tmp_path_factory) -> Database:
    """An empty database of `db`'s backend (PostgreSQL: the same database, emptied)."""
    if db.engine.dialect.name == "sqlite":
        target = tmp_path_factory.mktemp("large") / "huanjie.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        return Database(f"sqlite:///{target}")
    _truncate_all(db)
    return Database(db.url)
