"""Statements per operation do not grow with the number of rows or elections (issue 15).

Counts, not timings: each operation runs on a small and on a larger synthetic province (every
election with its own jurisdiction and committee, the shape that exposed one query per
election), and the statements it sends (SQLAlchemy's `before_cursor_execute`) must be the same.
Runs on SQLite and PostgreSQL (`db`)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time, timedelta

from sqlalchemy import event, select

from demo.province import add_province, create_province_round, seed_plan
from schedules import sweep as sweep_module
from schedules.sweep import sweep
from tests.conftest import _truncate_all
from tests.service_fixtures import make_world
from tests.test_service_web import login
from workflow.clock import FixedClock
from workflow.commands import elections as commands
from workflow.commands import jurisdictions as jurisdiction_commands
from workflow.machine import Trigger
from workflow.store import Database
from workflow.store.models import Jurisdiction
from workflow.timeutil import local_instant
from workflow.views import elections as election_views
from workflow.views.overview import list_elections_page, progress

SMALL = (2, 2)  # counties, townships per county: 6 elections
LARGE = (3, 4)  # 15 elections


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs (an executemany counts once)."""
    seen: list[str] = []

    def listen(_conn, _cursor, statement, _params, _context, _many) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's explicit BEGIN (db.py): once per transaction
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


def audit_writes(seen: list[str]) -> int:
    return sum(s.startswith(("INSERT INTO audit_log", "UPDATE audit_head")) for s in seen)


def sweep_profile(db: Database, clock: FixedClock) -> dict[tuple[date, time], tuple[int, dict]]:
    """Each sweep of the round's first 60 days: every statement sent (the audit log's included:
    a batch appends its entries in one INSERT and moves the head once) and what the sweep did."""
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
                # At most one audit append (INSERT + head UPDATE) per batch, whatever it audited.
                assert audit_writes(seen) <= 2 * result.batches, (day, at, seen)
                profile[(day, at)] = (len(seen), kinds, result)
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


# -- listings -------------------------------------------------------------------------------
def test_listing_views_do_not_grow_with_the_elections(db):
    """`elections list` (its Core rows), the full list with milestones (`describe` each), and
    one page of the dashboard's overview: the same statements for 6 or 15 elections."""
    clock, small_ids = province(db, SMALL)
    small = _listing_counts(db, clock)
    # Add the larger province's worth of elections under another province code.
    more = add_province(db, clock, counties=LARGE[0], townships_per_county=LARGE[1], code="440000")
    create_province_round(db, clock, more)
    large = _listing_counts(db, clock)
    assert large["rows"] == large["listed"] == large["page"] == len(small_ids) + len(more.elections)
    for name in ("list_rows", "list_and_describe", "overview_page"):
        assert large[name] == small[name], name
    assert small["list_rows"] == 1  # one SELECT (BEGIN apart)


def _listing_counts(db: Database, clock: FixedClock) -> dict[str, int]:
    counts: dict[str, int] = {}
    today = clock.now().date()
    with db.reading() as session, counting(db) as seen:
        rows = election_views.list_rows(session)
        counts["list_rows"], counts["rows"] = len(seen), len(rows)
        seen.clear()
        described = [election_views.describe(e) for e in election_views.list_elections(session)]
        counts["list_and_describe"], counts["listed"] = len(seen), len(described)
        seen.clear()
        scope = [j for (j,) in session.execute(select(Jurisdiction.id))]
        page = list_elections_page(session, scope=scope, limit=100, overview=True)
        [progress(e, today) for e in page.items]
        counts["overview_page"], counts["page"] = len(seen), len(page.items)
    return counts


def test_the_overview_pages_reach_every_election_without_a_cap(db, clock):
    """More elections than a page: each page says which part it shows, the pager links every
    page, and together the pages list every election once (the overview used to stop at 500
    silently)."""
    world = make_world(db, clock)
    with db.transaction() as session:
        codes = []
        for n in range(1, 111):
            code = f"420821{200 + n:03d}"
            jurisdiction_commands.add_jurisdiction(
                session, code=code, name=f"测试{n}镇", level="township", parent_code="420821",
                clock=clock, actor="test",
            )  # fmt: skip
            codes.append(code)
        created = commands.create_round(session, seed_plan(), codes, clock=clock, actor="test")
        # One ended election, which the overview puts after all the open ones.
        commands.transition(
            session, created.elections[0].id, Trigger.CANCEL, clock=clock, actor="test", reason="测试"
        )
    client = login(world, "admin")
    first = client.get("/").text
    total = int(re.search(r"共 (\d+) 个选举", first).group(1))
    assert total == 8 + 110
    pages = -(-total // 100)
    assert f"第 1/{pages} 页" in first and 'rel="next" href="/?page=2"' in first
    seen: list[str] = []
    states: list[str] = []
    for number in range(1, pages + 1):
        html = client.get(f"/?page={number}").text
        seen += re.findall(r'<a class="title" href="/elections/(\d+)"', html)
        states += re.findall(r'class="badge state-([a-z_]+)"', html)
    assert len(seen) == total and len(set(seen)) == total
    last = client.get(f"/?page={pages}").text
    assert f"本页第 101–{total} 个" in last and 'rel="next"' not in last
    # Open elections before ended ones, across the pages (the order is the database's).
    ended = [state in ("closed", "cancelled") for state in states]
    assert len(states) == total and ended == sorted(ended) and ended[-1]


def test_a_large_sweep_maintains_the_reminders_table(db, monkeypatch):
    """After a sweep that handled MAINTAIN_AFTER reminders or more, the table is vacuumed and
    analysed (PostgreSQL) or analysed (SQLite); a small sweep leaves it alone."""
    clock, _ids = province(db, SMALL)
    with counting(db) as seen:
        clock.set(local_instant(date(2011, 8, 19), time(9, 0, 30)))
        small = sweep(db, clock)
    assert small.handled and not any("ANALYZE" in s for s in seen)
    monkeypatch.setattr(sweep_module, "MAINTAIN_AFTER", 1)
    with counting(db) as seen:
        clock.set(local_instant(date(2011, 8, 23), time(9, 0, 30)))
        assert sweep(db, clock).handled
    assert any(s.endswith("ANALYZE reminders") or s.startswith("VACUUM (ANALYZE) reminders") for s in seen)


def test_many_small_sweeps_maintain_the_reminders_table_too(db, monkeypatch):
    """Handled reminders count across sweeps: a province's daily sweeps never make one large
    sweep, but together they leave as many dead index entries behind; once MAINTAIN_AFTER of
    them have been handled since the last maintenance, the table is maintained, then the count
    starts again."""
    clock, _ids = province(db, SMALL)
    monkeypatch.setattr(sweep_module, "_since_maintenance", type(sweep_module._since_maintenance)())
    clock.set(local_instant(date(2011, 8, 19), time(9, 0, 30)))
    first = sweep(db, clock)
    done = first.handled + first.superseded + first.cancelled
    assert done
    monkeypatch.setattr(sweep_module, "MAINTAIN_AFTER", done + 1)  # the first alone is below it
    maintained = []
    for day in (23, 24, 25, 26, 27):
        clock.set(local_instant(date(2011, 8, day), time(9, 0, 30)))
        with counting(db) as seen:
            result = sweep(db, clock)
        maintained.append(
            any(s.endswith("ANALYZE reminders") or "VACUUM (ANALYZE) reminders" in s for s in seen)
        )
        if result.handled + result.superseded + result.cancelled:
            break
    assert maintained[-1] and not any(maintained[:-1])
    assert sweep_module._since_maintenance[db.engine] == 0
