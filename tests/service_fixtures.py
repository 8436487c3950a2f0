"""Helpers for the service tests: the demo county, users of each role with API tokens, a client."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from config.settings import Settings
from demo.county import build_demo
from service.app import create_app
from workflow.clock import FixedClock
from workflow.commands import auth
from workflow.store import Database
from workflow.store.models import Base

COUNTY = "420821"
XINSHI = "420821100"  # 新市镇 (has a community below it)
YONGXING = "420821101"  # 永兴镇

USERS = {
    "admin": ("county_admin", COUNTY),
    "xinshi": ("township_staff", XINSHI),
    "yongxing": ("township_staff", YONGXING),
    "observer": ("observer", COUNTY),
    "registrar": ("registrar", COUNTY),
}


@dataclass
class World:
    client: TestClient
    tokens: dict[str, str]
    elections: dict[str, int]

    def as_(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def get(self, username: str, url: str, **kw):
        return self.client.get(url, headers=self.as_(username), **kw)

    def post(self, username: str, url: str, **kw):
        return self.client.post(url, headers=self.as_(username), **kw)


PASSWORD = "jingshan-2011"  # the dashboard password of every test user


def _rows(seed: Database) -> dict[str, list[dict]]:
    with seed.engine.connect() as conn:
        return {
            t.name: [dict(r._mapping) for r in conn.execute(t.select())] for t in Base.metadata.sorted_tables
        }


def _insert_rows(db: Database, rows: dict[str, list[dict]]) -> None:
    """Copy a snapshot's rows into an empty database (on PostgreSQL, the id sequences follow)."""
    with db.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if rows[table.name]:
                conn.execute(table.insert(), rows[table.name])
        if db.is_postgres:
            for table in Base.metadata.sorted_tables:
                if "id" in table.c and rows[table.name]:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"
                        )
                    )


@cache
def _snapshot(now: datetime) -> tuple[dict[str, list[dict]], dict[str, str], dict[str, int]]:
    """The demo county with one user of each role, built once per run (per xdist worker) on a
    scratch SQLite file and kept as rows: loading rows is much faster than rebuilding it for
    every test."""
    clock = FixedClock(now)
    with tempfile.TemporaryDirectory() as scratch:
        seed = Database(f"sqlite:///{Path(scratch) / 'seed.sqlite3'}")
        seed.migrate()
        with seed.transaction() as session:
            # The engine's demo only: the voters' and candidates' demo records are theirs to
            # test, and would change the counts these tests check.
            result = build_demo(session, clock=clock, actor="demo", registers=False)
            tokens = {}
            for username, (role, code) in USERS.items():
                auth.add_user(
                    session,
                    username=username,
                    role=role,
                    jurisdiction_code=code,
                    password=PASSWORD,
                    clock=clock,
                    actor="test",
                )
                tokens[username] = auth.create_token(session, username, clock=clock, actor="test").token
        rows = _rows(seed)
        seed.dispose()
    return rows, tokens, result.elections


def load_world(db, now: datetime) -> tuple[dict[str, str], dict[str, int]]:
    rows, tokens, elections = _snapshot(now)
    _insert_rows(db, rows)
    return tokens, elections


@cache
def _whole_demo(now: datetime) -> tuple[dict[str, list[dict]], dict[str, int]]:
    """Everything `build_demo` writes (every part's steps), built once per run (per xdist
    worker) on a scratch SQLite file and kept as rows: on PostgreSQL building it took 2-4 s."""
    with tempfile.TemporaryDirectory() as scratch:
        seed = Database(f"sqlite:///{Path(scratch) / 'seed.sqlite3'}")
        seed.migrate()
        with seed.transaction() as session:
            elections = build_demo(session, clock=FixedClock(now)).elections
        rows = _rows(seed)
        seed.dispose()
    return rows, elections


def load_demo(db, now: datetime) -> dict[str, int]:
    """The state `build_demo(session, clock=FixedClock(now))` leaves in an empty database: its
    rows, copied; returns the demo's election ids."""
    rows, elections = _whole_demo(now)
    _insert_rows(db, rows)
    return dict(elections)


def make_world(db, clock) -> World:
    tokens, elections = load_world(db, clock.now())
    # Plain http://testserver: cookies without the Secure flag; a loopback client (/metrics).
    app = create_app(Settings(db=db.url, migrate_on_start=False, cookie_secure=False), db, clock)
    return World(TestClient(app, raise_server_exceptions=False, client=("127.0.0.1", 50000)), tokens, elections)
