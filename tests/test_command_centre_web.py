"""The command centre's pages over HTTP (no browser): grid page and JSON from one view, the
milestone page's actions, the advance confirmation, the outbox retry button, HTML error pages
for browsers (problem JSON for the API), and /docs served with no CDN."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import openpyxl
import pytest

from service.api.schemas.grid import Grid
from tests.service_fixtures import PASSWORD, make_world
from workflow.store.models import Notification

HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def world(db, clock):
    made = make_world(db, clock)
    clock.set(datetime(2011, 9, 21, 2, 0, tzinfo=UTC))  # a month on
    return made


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(world, username="admin"):
    client = world.client
    page = client.get("/login")
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf": _csrf(page.text), "next": "/grid"})
    return client


def test_grid_page_json_and_export_agree(world):
    client = login(world)
    body = world.get("admin", "/api/v1/grid?overdue=true").json()
    Grid.model_validate(body)  # the body is serialised without the model: it must still match it
    paged = world.get("admin", "/api/v1/grid?limit=2&offset=1").json()
    first = next(k for k in paged["kinds"] if k["kind"] == "people_congress")
    assert len(first["rows"]) == 2 and first["rows_total"] == 6 and paged["rows_total"] == 8
    html = client.get("/grid?overdue=1").text
    assert body["totals"]["overdue"] == 11
    assert f"<b>{body['totals']['overdue']}</b> 已逾期" in html
    assert "5 个选举已逾期：公布选民名单" in html
    people = next(k for k in body["kinds"] if k["kind"] == "people_congress")
    ids = [r["election_id"] for r in people["rows"]]
    assert html.index(f'id="row-{ids[0]}"') < html.index(f'id="row-{ids[-1]}"')  # urgency order kept
    assert 'href="/elections/3/milestones/voter_list_published" title="公布选民名单：已逾期' in html
    book = openpyxl.load_workbook(io.BytesIO(client.get("/grid/report.xlsx?overdue=1").content))
    assert book["逾期事项"].max_row - 1 == body["totals"]["overdue"]
    assert world.get("xinshi", "/api/v1/grid").json()["rows_total"] == 2  # a township sees its own subtree
    assert world.get("xinshi", "/api/v1/grid?jurisdiction=420821").status_code == 404  # out of scope: as missing


def test_milestone_page_complete_then_undo_with_reason(world):
    client = login(world)
    page = client.get("/elections/3/milestones/quotas_allocated").text
    assert "办结后：可以办理「公布选区划分」" in page and "满足进入「划分选区、选民登记」阶段的全部条件" in page
    token = _csrf(page)
    back = "/elections/3/milestones/quotas_allocated"
    unconfirmed = client.post(
        "/elections/3/milestones/quotas_allocated/complete", data={"csrf": token, "on": "2011-09-20", "back": back}
    )
    assert "请勾选确认后再办结" in unconfirmed.text
    done = client.post(
        "/elections/3/milestones/quotas_allocated/complete",
        data={"csrf": token, "on": "2011-09-20", "confirm": "1", "back": back},
    )
    assert done.url.path == back and "已办结「分配代表名额」（2011-09-20）" in done.text
    refused = client.post("/elections/3/milestones/quotas_allocated/undo", data={"csrf": token, "reason": ""})
    assert "更正必须说明理由" in refused.text
    undone = client.post("/elections/3/milestones/quotas_allocated/undo", data={"csrf": token, "reason": "方案退回重报"})
    assert "已撤销「分配代表名额」的办结（理由：方案退回重报）" in undone.text
    future = client.post(
        "/elections/3/milestones/quotas_allocated/complete",
        data={"csrf": token, "on": "2011-09-30", "confirm": "1", "back": back},
    )
    assert future.url.path == back and "晚于今天" in future.text


def test_earlier_phase_milestone_has_a_complete_button_and_advance_asks_first(world):
    client = login(world)
    page = client.get("/elections/3").text
    # Every pending milestone, whatever its phase, can be completed from the election page.
    assert 'action="/elections/3/milestones/voter_list_published/complete"' in page
    assert 'href="/elections/3/advance"' not in page  # not allowed yet: nothing to confirm
    token = _csrf(page)
    client.post("/elections/3/milestones/quotas_allocated/complete", data={"csrf": token, "on": "2011-09-20"})
    page = client.get("/elections/3").text
    assert 'href="/elections/3/advance"' in page
    confirm = client.get("/elections/3/advance").text
    assert "将把" in confirm and "「划分选区、选民登记」" in confirm and "不能直接撤回" in confirm
    assert client.get("/elections/3").text.count("当前阶段") == 1
    moved = client.post("/elections/3/advance", data={"csrf": token})
    assert "已进入「划分选区、选民登记」阶段" in moved.text


def test_outbox_page_in_chinese_with_retry(world, db, clock):
    with db.transaction() as session:
        session.add(
            Notification(
                idempotency_key="t-failed", election_id=3, jurisdiction_id=4, channel="webhook",
                recipient={"url": "http://127.0.0.1:9/hook"}, category="chase",
                subject="【催办】新市镇：公布选民名单", body="…", status="failed", attempts=5,
                payload={"milestone": "voter_list_published"},
                next_attempt_at=clock.now(), created_at=clock.now(),
                last_error="attempt 5: TransientError: ConnectionRefusedError posting to http://127.0.0.1:9/hook: [Errno 111] Connection refused",
            )
        )
    client = login(world)
    page = client.get("/outbox").text
    assert "对方服务器拒绝连接" in page and "<summary>技术细节</summary>" in page
    assert "公布选民名单" in page and "2011-09-21 10:00" in page  # Asia/Shanghai, not UTC
    retried = client.post(re.search(r'action="(/outbox/\d+/retry)"', page).group(1), data={"csrf": _csrf(page)})
    assert "已重新排队发送" in retried.text and "待发送（1）" in retried.text
    audit = client.get("/audit?action=notification.requeued").text
    assert "链式校验通过" in audit and "通知重发" in audit


def test_browser_errors_are_html_the_api_keeps_problem_json(world):
    client = login(world)
    for url, status in (("/no-such-page", 404), ("/elections/999", 404), ("/elections/3/milestones/nope", 404)):
        response = client.get(url, headers=HTML)
        assert response.status_code == status and response.headers["content-type"].startswith("text/html")
        assert "返回工作台" in response.text and "problem" not in response.text
    api = client.get("/api/v1/elections/999", headers=HTML)
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    # An API address opened as a page in the browser (a notice preview link): HTML too.
    opened = client.get("/api/v1/elections/999", headers=HTML | {"sec-fetch-mode": "navigate"})
    assert opened.status_code == 404 and "返回工作台" in opened.text
    plain = world.client.get("/no-such-page")
    assert plain.headers["content-type"] == "application/problem+json"  # scripts without Accept: text/html


def test_notices_that_cannot_be_rendered_are_disabled_links_with_the_reason(world):
    page = login(world).get("/elections/3").text
    disabled = re.findall(r'<a class="disabled" aria-disabled="true" title="暂不能生成：([^"]+)">预览</a>', page)
    assert disabled and all(reason for reason in disabled)
    assert 'href="None"' not in page


def test_docs_work_offline(world):
    html = world.client.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in html and "/docs-assets/swagger-ui.css" in html
    assert not re.search(r'(src|href)="https?://', html)  # nothing from a CDN
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert world.client.get(f"/docs-assets/{asset}").status_code == 200


def test_reminders_page_names_milestones_in_local_time(world):
    page = login(world).get("/reminders?election=3&status=pending").text
    assert "公布选民名单" in page and "提前 " in page
    assert re.search(r"<td>2011-\d\d-\d\d 09:00</td>", page)  # the kind's 09:00, Asia/Shanghai
    assert "UTC" not in page


def test_api_corrections_and_chase(world):
    done = world.post("admin", "/api/v1/elections/3/milestones/quotas_allocated/complete", json={"on": "2011-09-20"})
    assert done.status_code == 200
    redated = world.post(
        "admin", "/api/v1/elections/3/milestones/quotas_allocated/redate", json={"on": "2011-09-19", "reason": "录入错误"}
    )
    assert redated.status_code == 200 and redated.json()["done_on"] == "2011-09-19"
    missing = world.post("admin", "/api/v1/elections/3/milestones/quotas_allocated/undo", json={"reason": " "})
    assert missing.status_code == 422 and missing.json()["code"] == "E_REASON_REQUIRED"
    undone = world.post("admin", "/api/v1/elections/3/milestones/quotas_allocated/undo", json={"reason": "退回"})
    assert undone.status_code == 200 and undone.json()["status"] == "pending"
    assert world.post("observer", "/api/v1/elections/3/milestones/quotas_allocated/undo", json={"reason": "x"}).status_code == 403
    chased = world.post("admin", "/api/v1/grid/chase", json={"targets": [{"election_id": 3, "key": "voter_list_published"}]})
    assert chased.status_code == 200 and chased.json()["items"][0]["outcome"] == "sent"
    again = world.post("admin", "/api/v1/grid/chase", json={"targets": [{"election_id": 3, "key": "voter_list_published"}]})
    assert again.json()["items"][0]["outcome"] == "already"
    assert world.post("yongxing", "/api/v1/grid/chase", json={"targets": [{"election_id": 3}]}).status_code == 404  # as missing
