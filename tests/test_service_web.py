"""Dashboard: login with a session cookie, CSRF on every form, the county and election views,
completing a milestone from the page; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.service_fixtures import PASSWORD, make_world


@pytest.fixture
def world(db, clock):
    return make_world(db, clock)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(world, username: str):
    client = world.client
    page = client.get("/login?next=/elections/3")
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": _csrf(page.text), "next": "/elections/3"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/elections/3"
    assert "hj_session" in client.cookies
    return client


def test_pages_need_a_login(world):
    response = world.client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/"


def test_login_refuses_bad_password_and_missing_csrf(world):
    client = world.client
    page = client.get("/login")
    wrong = client.post(
        "/login", data={"username": "admin", "password": "nope-nope", "csrf": _csrf(page.text)}
    )
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text
    forged = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf": "forged"})
    assert forged.status_code == 403 and "hj_session" not in client.cookies


def test_county_view_lists_the_subtree_with_progress(world, clock):
    client = login(world, "admin")
    html = client.get("/").text
    assert html.count('class="card election') == 8
    assert "京山县" in html and "新市镇" in html and "下一期限" in html and 'role="progressbar"' in html
    clock.set(datetime(2011, 9, 25, 2, 0, tzinfo=UTC))  # past voter_list_published's bound (09-19)
    assert client.get("/", follow_redirects=False).status_code == 303  # the 12-hour session expired
    late = login(world, "admin").get("/").text
    assert "has-bad" in late and "下一期限：公布选民名单 2011-09-19" in late and "逾期6天" in late


def test_election_view_and_completing_a_milestone(world):
    client = login(world, "xinshi")
    page = client.get("/elections/3")
    assert page.status_code == 200
    html = page.text
    assert "<svg" in html and 'class="vline today"' in html and 'class="vline anchor"' in html
    assert "法定最迟 2011-09-19" in html and "选举委员会成立公告" in html and "尚未发送提醒" in html
    done = client.post(
        "/elections/3/milestones/quotas_allocated/complete",
        data={"csrf": _csrf(html), "on": "2011-08-19"},
        follow_redirects=True,
    )
    assert "已办结「分配代表名额」（2011-08-19）" in done.text
    audit = world.get("admin", "/api/v1/audit?election_id=3&action=milestone.completed").json()["items"]
    assert audit[0]["actor"] == "xinshi"
    assert "进入下一阶段：划分选区、选民登记" in done.text  # its guard now passes
    moved = client.post("/elections/3/advance", data={"csrf": _csrf(done.text)}, follow_redirects=True)
    assert "已进入「划分选区、选民登记」阶段" in moved.text
    again = client.post("/elections/3/advance", data={"csrf": _csrf(done.text)}, follow_redirects=True)
    assert "不能执行：选区划分尚未公布" in again.text
    forged = client.post(
        "/elections/3/milestones/districts_published/complete", data={"csrf": "x"}, follow_redirects=True
    )
    assert "页面已过期" in forged.text


def test_other_township_and_observers(world):
    client = login(world, "xinshi")
    assert client.get("/elections/4").status_code == client.get("/elections/999").status_code == 404
    blocked = client.post(
        "/elections/4/milestones/quotas_allocated/complete",
        data={"csrf": _csrf(client.get("/elections/3").text)},
        follow_redirects=True,
    )
    assert "未找到选举：4" in blocked.text  # answered as a missing election: nothing leaks
    assert world.get("admin", "/api/v1/elections/4").json()["milestones"][1]["status"] == "pending"
    client.cookies.clear()
    observer = login(world, "observer")
    html = observer.get("/elections/3").text
    assert "办结</button>" not in html  # no forms for a read-only role


def test_api_with_the_session_cookie_needs_the_csrf_header(world):
    client = login(world, "xinshi")
    assert client.get("/api/v1/elections/3").status_code == 200
    url = "/api/v1/elections/3/milestones/quotas_allocated/complete"
    assert client.post(url).json()["code"] == "E_CSRF"
    token = _csrf(client.get("/elections/3").text)
    assert client.post(url, headers={"X-CSRF-Token": token}).status_code == 200


def test_logout_ends_the_session(world):
    client = login(world, "admin")
    token = _csrf(client.get("/").text)
    client.post("/logout", data={"csrf": token})
    client.cookies.clear()
    assert client.get("/", follow_redirects=False).status_code == 303


def test_warnings_sent_are_listed(world, db, clock):
    from workflow.store.models import Notification

    with db.transaction() as session:
        for i, (status, category, error) in enumerate(
            [("sent", "warning", None), ("failed", "overdue", "SMTP 550 mailbox unavailable")]
        ):
            session.add(
                Notification(
                    idempotency_key=f"t-{i}",
                    election_id=3,
                    channel="email",
                    recipient={"address": "x@example.gov.cn"},
                    category=category,
                    subject=f"提醒 {i}：公布选民名单",
                    body="…",
                    status=status,
                    next_attempt_at=clock.now(),
                    created_at=clock.now(),
                    last_error=error,
                )
            )
    html = login(world, "xinshi").get("/elections/3").text
    assert "提醒 0：公布选民名单 · 已发送" in html
    # The failure in Chinese; the technical detail folded away (issue 12).
    assert '<li class="bad">' in html and "发送失败：邮件服务器错误" in html
    assert "<summary>技术细节</summary><pre>SMTP 550 mailbox unavailable</pre>" in html
    assert "尚未发送提醒" not in html
    assert "\nhuanjie_delivery_failures 1.0" in world.client.get("/metrics").text
