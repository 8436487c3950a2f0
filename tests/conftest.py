"""Shared fixtures. Storage tests take `db`, which runs each test on SQLite and on PostgreSQL
(when HUANJIE_TEST_PG_URL is set; each test run creates its own database and drops it).

Safe under pytest-xdist: every worker process has its own tmp dir (so its own SQLite template)
and its own PostgreSQL database, named with the worker id."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
import typer.testing
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from workflow.clock import FixedClock
from workflow.store import Database
from workflow.store.models import Base

PG_URL = os.environ.get("HUANJIE_TEST_PG_URL")

# Typer's CliRunner builds the click command tree of the whole `huanjie` app on every invoke
# (some 60 ms: it reads the type hints of every command). The app does not change during a run,
# so build it once per process.
typer.testing._get_command = cache(typer.testing._get_command)


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run (this xdist worker's), dropped at the end."""
    if not PG_URL:
        pytest.skip("HUANJIE_TEST_PG_URL is not set: PostgreSQL tests skipped")
    admin_url = make_url(PG_URL)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"huanjie_test_{worker}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # Commits of this throw-away database do not wait for the WAL to reach the disk (about
        # 1 ms each here, more when the shared disk is busy). Only a crash of the server itself
        # could lose them; what other sessions see and when is unchanged.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    migrated = Database(url)
    migrated.migrate()
    migrated.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate_all(database: Database) -> None:
    """Empty every table and restart the ids, as TRUNCATE … RESTART IDENTITY of all would.

    TRUNCATE gives a table fresh, empty files, so rows come back from an unordered SELECT in the
    order they were inserted, which some tests' expected lists rely on (deleting the rows instead
    lets new rows reuse freed space, and broke such a test). It costs some 7 ms a table, and a test
    fills a handful of the 27: so one query asks which tables hold rows, only those are truncated,
    and every sequence restarts (0.19 s a test before, a few ms now). A per-test copy of a
    template database would need a DROP DATABASE per test, which checkpoints the shared server."""
    tables = Base.metadata.sorted_tables
    probe = " UNION ALL ".join(f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables)
    with database.engine.begin() as conn:
        filled = conn.execute(text(probe)).scalars().all()
        if filled:
            quoted = ", ".join(f'"{name}"' for name in filled)
            conn.execute(text(f"TRUNCATE {quoted} CASCADE"))
        conn.execute(text("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file per run (per xdist worker); each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "huanjie.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    database.dispose()
    with sqlite3.connect(path) as raw:  # fold the WAL into the file so a copy is complete
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> Iterator[Database]:
    """A migrated, empty database: a SQLite file, or this run's PostgreSQL database."""
    if request.param == "sqlite":
        target = tmp_path / "huanjie.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        database = Database(f"sqlite:///{target}")
    else:
        url = request.getfixturevalue("pg_database_url")
        database = Database(url)
        _truncate_all(database)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2011, 8, 20, 2, 0, tzinfo=UTC))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked slow (10 s and more: a 3,000-voter PDF, four sweeper processes) start
    first, so that under xdist no worker is left running one of them alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Issue 16 item 7: no whole ID number in any log record of the whole suite. Every test's
    captured log output is scanned for valid resident ID numbers (check digit right); a test
    that logged one fails, naming the masked number."""
    report = yield
    if report.when == "call" and not report.failed:  # its caplog holds setup's records too
        from service.sanitize import id_numbers_in

        found = id_numbers_in(report.caplog)
        if found:
            report.outcome = "failed"
            report.longrepr = (
                f"whole ID number(s) in the captured logs: {', '.join(n[:6] + '*' * 12 for n in found)}"
            )
    return report
