"""Scope (issue 16, item 10): audit entries and the chain check limited to the caller's subtree;
a township-scoped administrator sees neither other counties' users nor their entries."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from tests.service_fixtures import PASSWORD, XINSHI, YONGXING, make_world
from workflow.commands import auth
from workflow.commands.jurisdictions import add_jurisdiction
from workflow.store.models import AuditEntry


@pytest.fixture
def world(db, clock):
    world = make_world(db, clock)
    with db.transaction() as session:
        other = add_jurisdiction(
            session,
            code="420822",
            name="沙洋县",
            level="county",
            parent_code="420800",
            clock=clock,
            actor="t",
        )
        for username, role, code in (
            ("town_admin", "county_admin", XINSHI),
            ("shayang", "county_admin", other.code),
            ("yx_staff", "township_staff", YONGXING),
        ):
            auth.add_user(
                session,
                username=username,
                role=role,
                jurisdiction_code=code,
                password=PASSWORD,
                clock=clock,
                actor="t",
            )
            world.tokens[username] = auth.create_token(session, username, clock=clock, actor="t").token
    return world


def test_audit_user_entries_are_limited_to_the_subtree(world):
    entries = world.get("town_admin", "/api/v1/audit", params={"limit": 500}).json()["items"]
    users = {e["entity_id"] for e in entries if e["entity"] == "user"}
    assert users == {"xinshi", "town_admin"}  # not the county's, not 沙洋县's, not 永兴镇's
    county = world.get("admin", "/api/v1/audit", params={"limit": 500}).json()["items"]
    seen = {e["entity_id"] for e in county if e["entity"] == "user"}
    assert {"xinshi", "yongxing", "yx_staff", "town_admin", "admin"} <= seen and "shayang" not in seen
    other = world.get("shayang", "/api/v1/audit", params={"limit": 500}).json()["items"]
    assert {e["entity_id"] for e in other if e["entity"] == "user"} == {"shayang"}


def test_audit_verify_reports_only_the_callers_entries(world, db):
    mine = world.get("town_admin", "/api/v1/audit", params={"limit": 1}).json()["total"]
    report = world.get("town_admin", "/api/v1/audit/verify").json()
    assert report["ok"] is True and report["entries"] == mine
    assert world.get("admin", "/api/v1/audit/verify").json()["entries"] > mine
    # A forged entry of 沙洋县: 新市镇 learns the chain is broken, not where.
    with db.transaction() as session:
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.entity == "user", AuditEntry.entity_id == "shayang")
            .values(actor="forged")
        )
    town = world.get("town_admin", "/api/v1/audit/verify").json()
    assert town["ok"] is False and town["broken_at"] is None and "管辖范围以外" in town["reason"]
    there = world.get("shayang", "/api/v1/audit/verify").json()
    assert there["ok"] is False and there["broken_at"] is not None
