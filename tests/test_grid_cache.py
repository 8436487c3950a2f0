"""The grid is cached per (database, scope, filters, date, data version): an unchanged grid is
served from the cache, and any change it shows — a completion, a chase, a write that bypassed
the commands but bumped the election's version, another day — is seen at once. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from service.web import grid as web_grid
from tests.service_fixtures import make_world
from workflow.store.models import Election


@pytest.fixture
def world(db, clock):
    made = make_world(db, clock)
    clock.set(datetime(2011, 9, 21, 2, 0, tzinfo=UTC))  # a month on
    web_grid.GRID_CACHE.clear()
    return made


def _cell(world, election_id: int, key: str) -> str:
    body = world.get("admin", "/api/v1/grid").json()
    for kind in body["kinds"]:
        for row in kind["rows"]:
            if row["election_id"] == election_id:
                return next(c["state"] for c in row["cells"] if c["key"] == key)
    raise AssertionError(f"no row {election_id}")


def test_unchanged_grid_from_the_cache_changes_seen_at_once(world, db, clock):
    cache = web_grid.GRID_CACHE
    first = _cell(world, 3, "quotas_allocated")
    misses = cache.misses
    assert _cell(world, 3, "quotas_allocated") == first and cache.misses == misses  # a hit
    assert first not in ("done", "done_late")
    done = world.post("admin", "/api/v1/elections/3/milestones/quotas_allocated/complete", json={"on": "2011-09-01"})
    assert done.status_code == 200
    assert _cell(world, 3, "quotas_allocated") in ("done", "done_late") and cache.misses == misses + 1
    chased = world.post("admin", "/api/v1/grid/chase", json={"targets": [{"election_id": 3, "key": "voter_list_published"}]})
    assert chased.status_code == 200
    body = world.get("admin", "/api/v1/grid").json()
    row = next(r for k in body["kinds"] for r in k["rows"] if r["election_id"] == 3)
    assert next(c["chased"] for c in row["cells"] if c["key"] == "voter_list_published") == 1  # the chase's audit entry moved the key
    # A write outside the commands (no audit entry) that bumps the election's version.
    with db.transaction() as s:
        s.execute(update(Election).where(Election.id == 3).values(title="新市镇（改名）选举", version=Election.version + 1))
    body = world.get("admin", "/api/v1/grid").json()
    assert any(r["title"] == "新市镇（改名）选举" for k in body["kinds"] for r in k["rows"])
    # Another day: another key.
    before = cache.misses
    clock.set(datetime(2011, 9, 22, 2, 0, tzinfo=UTC))
    world.get("admin", "/api/v1/grid")
    assert cache.misses == before + 1
