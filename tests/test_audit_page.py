"""The audit page's chain check costs the entries added since the last check, not the whole log:
the first load of a small log walks it whole, each later load walks only the new entries and the
keyed head; a big log is walked whole only on demand (完整校验, county admin), whose time and
result the page shows. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from service.web import desk
from tests.service_fixtures import PASSWORD, make_world
from workflow.store.models import AuditEntry


@pytest.fixture
def world(db, clock):
    desk._checks.clear()
    made = make_world(db, clock)
    clock.set(datetime(2011, 9, 21, 2, 0, tzinfo=UTC))
    yield made
    desk._checks.clear()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(world, username="admin"):
    client = world.client
    client.cookies.clear()
    page = client.get("/login")
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf": _csrf(page.text), "next": "/"})
    return client


def _walked(html: str) -> int:
    return int(re.search(r"本次核对 (\d+) 条", html).group(1))


def _entries(db) -> tuple[int, int]:
    with db.reading() as s:
        return s.execute(select(func.count(AuditEntry.id), func.max(AuditEntry.id))).one()


def test_each_load_walks_only_the_new_entries_and_finds_a_change_among_them(world, db):
    client = login(world)
    first = client.get("/audit").text
    count, _ = _entries(db)
    assert "链式校验通过" in first and f"共 {count} 条记录" in first and _walked(first) == count
    again = client.get("/audit").text
    assert "链式校验通过" in again and _walked(again) == 0  # nothing new: only the head is checked
    done = client.post(
        "/elections/3/milestones/quotas_allocated/complete",
        data={"csrf": _csrf(client.get("/elections/3").text), "on": "2011-08-19"},
    )
    assert done.status_code == 200
    grown, newest = _entries(db)
    assert grown > count
    # A forged new entry (after the verified prefix) is found on the next load.
    with db.transaction() as s:
        s.execute(update(AuditEntry).where(AuditEntry.id == newest).values(actor="mallory"))
    forged = client.get("/audit").text
    assert "链式校验失败" in forged and f"第 {newest} 号记录" in forged and "记录内容与哈希不符" in forged
    with db.transaction() as s:
        s.execute(update(AuditEntry).where(AuditEntry.id == newest).values(actor="admin"))
    later = client.get("/audit").text
    assert "链式校验通过" in later and _walked(later) == grown - count
    assert f"此后新增的 {grown - count} 条已在打开本页时逐条校验" in later
    # The prefix's newest entry is re-checked on every load too.
    with db.transaction() as s:
        s.execute(update(AuditEntry).where(AuditEntry.id == newest).values(actor="mallory"))
    assert f"链式校验失败：第 {newest} 号记录" in client.get("/audit").text


def test_a_change_inside_the_verified_prefix_is_found_by_the_whole_walk(world, db):
    client = login(world)
    assert "链式校验通过" in client.get("/audit").text
    with db.transaction() as s:
        s.execute(update(AuditEntry).where(AuditEntry.id == 2).values(actor="mallory"))
    page = client.get("/audit").text
    assert "完整校验" in page  # the button: an old entry's change needs the whole walk
    checked = client.post("/audit/verify", data={"csrf": _csrf(page)})
    assert "完整校验失败：记录内容与哈希不符" in checked.text
    assert "链式校验失败：第 2 号记录" in checked.text
    assert "上次完整校验：2011-09-21 10:00" in checked.text and "未通过" in checked.text  # Asia/Shanghai


def test_a_big_log_is_walked_whole_only_on_demand_by_the_county_admin(world, db, monkeypatch):
    monkeypatch.setattr(desk, "AUTO_FULL", 5)  # the demo's log is bigger: as a 1 M-entry log
    staff = login(world, "xinshi")
    count, _ = _entries(db)  # a login is audited too
    page = staff.get("/audit").text
    assert f"审计日志共 {count} 条记录，本服务启动以来尚未做完整校验" in page
    assert 'action="/audit/verify"' not in page  # the whole walk is the county admin's
    refused = staff.post("/audit/verify", data={"csrf": _csrf(page)})
    assert "不能发起完整校验" in refused.text and "尚未做完整校验" in refused.text
    admin = login(world)
    count, _ = _entries(db)
    page = admin.get("/audit").text
    assert 'action="/audit/verify"' in page and "本次核对" not in page
    checked = admin.post("/audit/verify", data={"csrf": _csrf(page)})
    assert f"完整校验通过：共 {count} 条记录" in checked.text
    assert _walked(checked.text) == 0 and "上次完整校验：2011-09-21 10:00" in checked.text
    assert _walked(login(world, "xinshi").get("/audit").text) == 1  # shared by every user: only the login's entry
