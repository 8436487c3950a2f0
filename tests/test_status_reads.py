"""Cheap status reads (issue 15): the election status from one Core statement and a view cached
per (election, version, local date); never stale after a command, a sweep's overdue mark or a
new day; the callers' scopes cached per tree state. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select

from schedules.sweep import sweep
from tests.service_fixtures import COUNTY, XINSHI, YONGXING, make_world
from tests.test_query_counts import counting
from workflow.clock import FixedClock
from workflow.commands import auth
from workflow.commands import elections as commands
from workflow.commands import jurisdictions as jurisdiction_commands
from workflow.plan import load_plan
from workflow.store.auth import ApiToken, User
from workflow.timeutil import local_instant
from workflow.views.status import StatusKey, ViewCache

JINGSHAN = Path(__file__).resolve().parent.parent / "examples" / "jingshan_2011.toml"


@pytest.fixture
def world(db, clock):
    return make_world(db, clock)


def status(world, who: str = "xinshi", election: int = 3) -> dict:
    response = world.get(who, f"/api/v1/elections/{election}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_a_repeated_status_read_is_one_hot_statement_and_the_same_body(world, db):
    # The first read takes the ordinary path: the token, then the election's version, date and
    # the caller's access in one statement, then the view built and cached.
    with counting(db) as seen:
        first = status(world)
    assert "api_tokens" in seen[0] and any("RECURSIVE" in statement.upper() for statement in seen)
    hot = db.hot_reads.statements
    with counting(db) as seen:
        again = world.get("xinshi", "/api/v1/elections/3")
    assert again.json() == first
    # Again: the token, its user, the election's version and the caller's access in ONE
    # statement on the hot-read connection; nothing from the pool, no transaction.
    assert seen == [] and db.hot_reads.statements == hot + 1
    assert again.headers["x-frame-options"] == "SAMEORIGIN"  # the service's middleware still ran
    cache: ViewCache = world.client.app.state.services.status_cache
    assert cache.hits >= 1 and cache.misses == 1


def test_the_body_is_the_response_model_s(world):
    shown = status(world)
    # The kind's own anchor key only (unset fields dropped, as response_model_exclude_unset did).
    assert shown["election_day"] and "term_ends" not in shown
    assert shown["jurisdiction"]["code"] == XINSHI and shown["progress"]["total"] > 0
    assert shown["next"]["refusals"][0]["milestone"] == "quotas_allocated"


def test_a_command_changes_the_cached_status(world):
    before = status(world)
    milestone = {m["key"]: m for m in before["milestones"]}["quotas_allocated"]
    assert milestone["status"] == "pending"
    assert world.post("xinshi", "/api/v1/elections/3/milestones/quotas_allocated/complete").status_code == 200
    after = status(world)
    assert after["version"] > before["version"]
    assert {m["key"]: m for m in after["milestones"]}["quotas_allocated"]["status"] == "done"


def test_a_sweep_s_overdue_mark_and_a_new_day_change_the_cached_status(world, db, clock):
    before = status(world)
    bounded = next(m for m in before["milestones"] if m["latest"] and not m["computed"])
    latest = date.fromisoformat(bounded["latest"])
    # The day after the bound, just after midnight: read first (cached for that day) …
    clock.set(local_instant(date.fromordinal(latest.toordinal() + 1), time(0, 0, 5)))
    early = status(world)
    assert early["progress"]["next_deadline"] != before["progress"]["next_deadline"]  # a new day
    # … then the sweep marks it overdue: the view must follow at once, not tomorrow.
    sweep(db, FixedClock(clock.now()))
    later = status(world)
    assert later["version"] > early["version"]
    assert {m["key"]: m for m in later["milestones"]}[bounded["key"]]["status"] == "overdue"


def test_access_is_checked_in_the_same_statement(world):
    # Out of scope answers as not found (docs/security.md): nothing tells which ids exist.
    assert world.get("xinshi", "/api/v1/elections/4").json()["code"] == "E_NOT_FOUND"
    assert world.get("xinshi", "/api/v1/elections/2").status_code == 404  # the county above
    assert world.get("admin", "/api/v1/elections/999").json()["code"] == "E_NOT_FOUND"
    assert status(world, "admin", 3)["id"] == 3  # the county sees its townships' elections


def test_the_scope_follows_a_new_jurisdiction(world, db, clock):
    listed = world.get("admin", "/api/v1/elections?limit=200").json()
    with db.transaction() as session:
        jurisdiction_commands.add_jurisdiction(
            session, code="420821199", name="新设镇", level="township", parent_code=COUNTY,
            clock=clock, actor="test",
        )  # fmt: skip
        created = commands.create_round(
            session, load_plan(JINGSHAN), ["420821199"], clock=clock, actor="test"
        )
        new_id = created.elections[0].id
    relisted = world.get("admin", "/api/v1/elections?limit=200").json()
    assert relisted["total"] == listed["total"] + 1
    assert new_id in {item["id"] for item in relisted["items"]}
    assert status(world, "admin", new_id)["jurisdiction"]["code"] == "420821199"
    assert world.get("xinshi", f"/api/v1/elections/{new_id}").status_code == 404


def test_the_view_cache_is_bounded(clock):
    cache = ViewCache(size=3)

    keys = [StatusKey(i, 1, datetime(2011, 8, 20, tzinfo=UTC).date(), ("c", "n", "l")) for i in range(5)]
    for key in keys:
        cache.put(key, key.election_id)
    assert cache.get(keys[0]) is None and cache.get(keys[4]) == 4
    assert len(cache._items) == 3


def test_a_revoked_token_or_deactivated_user_is_refused_at_once(world, db, clock):
    assert status(world, "xinshi")["id"] == 3  # the token's user is now cached
    assert status(world, "yongxing", 4)["id"] == 4
    with db.transaction() as session:
        (token_id,) = session.execute(
            select(ApiToken.id).join(User, User.id == ApiToken.user_id).where(User.username == "xinshi")
        ).one()
        auth.revoke_token(session, str(token_id), clock=clock, actor="test")
        auth.set_user_active(session, "yongxing", False, clock=clock, actor="test")
    assert world.get("xinshi", "/api/v1/elections/3").status_code == 401
    assert world.get("yongxing", "/api/v1/elections/4").status_code == 401


def quick(world, db, who: str, election: int):
    """A status read, and whether it was answered on the quick path (one hot-read statement,
    nothing from the pool)."""
    hot = db.hot_reads.statements
    with counting(db) as seen:
        response = world.get(who, f"/api/v1/elections/{election}")
    return response, (not seen and db.hot_reads.statements == hot + 1)


def test_the_quick_path_answers_only_a_cached_view_with_every_header(world, db, caplog):
    first, was_quick = quick(world, db, "xinshi", 3)
    assert first.status_code == 200 and not was_quick  # nothing cached yet: the ordinary path
    caplog.set_level("INFO", logger="huanjie.access")
    again, was_quick = quick(world, db, "xinshi", 3)
    assert again.status_code == 200 and was_quick and again.content == first.content
    assert {k: v for k, v in again.headers.items() if k != "date"} == {
        k: v for k, v in first.headers.items() if k != "date"
    }  # security headers, content type and length as the router's answer has them
    (line,) = [r for r in caplog.records if r.name == "huanjie.access"]
    assert (line.route, line.user, line.status) == ("/api/v1/elections/{election_id}", "xinshi", 200)
    metrics = world.client.get("/metrics").text
    assert 'route="/api/v1/elections/{election_id}",status="200"} 2.0' in metrics
    # The same cached view for another caller in scope; out of scope, unknown or malformed:
    # the ordinary path answers (404 / 422), as before.
    assert quick(world, db, "admin", 3)[1]
    assert quick(world, db, "yongxing", 3)[0].status_code == 404
    assert quick(world, db, "admin", 999)[0].json()["code"] == "E_NOT_FOUND"
    assert world.get("admin", "/api/v1/elections/0").status_code == 422
    assert world.get("admin", f"/api/v1/elections/{2**31}").status_code == 422
    # Not a bearer token, or none: 401 from the ordinary path.
    basic = world.client.get("/api/v1/elections/3", headers={"Authorization": "Basic eGluc2hpOng="})
    assert basic.status_code == 401
    assert world.client.get("/api/v1/elections/3").status_code == 401
    header = world.as_("xinshi")["Authorization"]
    lower = world.client.get(
        "/api/v1/elections/3", headers={"Authorization": "bearer " + header.split(" ", 1)[1]}
    )
    assert lower.status_code == 200 and lower.content == first.content


def test_the_quick_path_refuses_a_revoked_token_or_deactivated_user_at_once(world, db, clock):
    for who, election in (("xinshi", 3), ("yongxing", 4)):
        status(world, who, election)
        assert quick(world, db, who, election)[1]
    with db.transaction() as session:
        (token_id,) = session.execute(
            select(ApiToken.id).join(User, User.id == ApiToken.user_id).where(User.username == "xinshi")
        ).one()
        auth.revoke_token(session, str(token_id), clock=clock, actor="test")
        auth.set_user_active(session, "yongxing", False, clock=clock, actor="test")
    assert world.get("xinshi", "/api/v1/elections/3").status_code == 401
    assert world.get("yongxing", "/api/v1/elections/4").status_code == 401


def test_the_quick_path_follows_a_re_homed_jurisdiction_at_once(world, db, clock):
    status(world, "admin", 3)
    assert quick(world, db, "admin", 3)[1]
    assert world.get("yongxing", "/api/v1/elections/3").status_code == 404
    with db.transaction() as session:  # 新市镇 moved from the county to under 永兴镇
        jurisdiction_commands.add_jurisdiction(
            session, code="429999", name="别县", level="county", parent_code=None, clock=clock, actor="test"
        )
        xinshi = jurisdiction_commands.find_jurisdiction(session, XINSHI)
        xinshi.parent_id = jurisdiction_commands.find_jurisdiction(session, YONGXING).id
    response, was_quick = quick(world, db, "yongxing", 3)
    assert response.status_code == 200 and was_quick  # now in 永兴镇's scope, the view cached
    with db.transaction() as session:  # … and then out of the county altogether
        xinshi = jurisdiction_commands.find_jurisdiction(session, XINSHI)
        xinshi.parent_id = jurisdiction_commands.find_jurisdiction(session, "429999").id
    assert world.get("admin", "/api/v1/elections/3").status_code == 404
    assert world.get("yongxing", "/api/v1/elections/3").status_code == 404


def test_without_the_hot_read_connection_the_ordinary_path_answers(world, db, monkeypatch):
    first = status(world)
    monkeypatch.setattr(db.hot_reads, "_enabled", False)
    response, was_quick = quick(world, db, "xinshi", 3)
    assert response.status_code == 200 and not was_quick and response.json() == first
    monkeypatch.setattr(db.hot_reads, "_enabled", True)
    db.hot_reads.close()  # a dropped connection is opened again
    assert quick(world, db, "xinshi", 3)[1]
