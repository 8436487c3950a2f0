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
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from workflow.clock import FixedClock
from workflow.store import Database
from workflow.store.models import Base

PG_URL = os.environ.get("HUANJIE_TEST_PG_URL")


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


# Which tables hold rows, in one round trip.
_NON_EMPTY = " UNION ALL ".join(
    f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in Base.metadata.sorted_tables
)


def _empty_all(database: Database) -> None:
    """Empty every table and restart every id sequence, as `TRUNCATE … RESTART IDENTITY` would.

    Measured on this machine's PostgreSQL 15: TRUNCATE of the 27 tables takes 0.2–0.6 s (it
    replaces and syncs every table's files), a per-test copy of a template database 0.05 s to
    create but 0.2–4 s to drop (a checkpoint); DELETE of the few tables a test wrote plus
    setval() of the used sequences takes 0.01–0.04 s. Children are deleted before parents."""
    with database.engine.begin() as conn:
        written = set(conn.execute(text(_NON_EMPTY)).scalars())
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in written:
                conn.execute(table.delete())
        used = conn.execute(
            text(
                "SELECT format('%I.%I', schemaname, sequencename), start_value FROM pg_sequences "
                "WHERE last_value IS NOT NULL"
            )
        ).all()
        for sequence, start in used:
            conn.execute(
                text("SELECT setval(:sequence, :start, false)"), dict(sequence=sequence, start=start)
            )


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
        _empty_all(database)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2011, 8, 20, 2, 0, tzinfo=UTC))
