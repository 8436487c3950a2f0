"""Bad input at the edge (issue 16 item 9): NUL, control characters and lone surrogates → a 422
naming the field (JSON bodies, forms, query parameters, file cells, appeal texts); title_format
limited to its documented fields; CR/LF in a title cannot break calendar.ics; database outages
and SQLite locks → 503 with Retry-After; concurrent imports of the same people → no 500."""

from __future__ import annotations

import json
import re
import threading
from datetime import date

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from tests.service_fixtures import make_world
from tests.test_service_api import problem_of
from tests.test_service_api_parts import XINSHI_ELECTION, advance_to, csv_bytes, voter_rows
from tests.voters_support import number
from workflow.errors import DomainError
from workflow.rules.voter_rows import check_addition
from workflow.store.models import Election, Milestone
from workflow.store.voters import Voter

DISTRICTS = f"/api/v1/elections/{XINSHI_ELECTION}/districts"


@pytest.fixture
def world(db, clock):
    return make_world(db, clock)


@pytest.mark.parametrize("bad", ["第\u0000选区", "第\ud800选区", "第\u0007选区", "第\u009b选区"])
def test_json_strings_with_forbidden_characters_are_refused_naming_the_field(world, bad):
    advance_to(world.client.app.state.services.db, world.client.app.state.services.clock, date(2011, 9, 2))
    payload = json.dumps({"code": "03", "name": bad})  # lone surrogates as JSON escapes
    headers = {"Content-Type": "application/json", **world.as_("xinshi")}
    sent = world.client.post(DISTRICTS, content=payload, headers=headers)
    body = problem_of(sent, 422, "name", "E_BAD_CHARACTERS")
    assert "NUL" in body["detail"]
    assert world.get("xinshi", DISTRICTS).json()["districts"] == []


def test_nested_fields_and_query_parameters_are_named(world):
    nested = world.post(
        "admin", "/api/v1/elections/round", json={"plan": {"title": "x\u0000"}, "jurisdictions": []}
    )
    problem_of(nested, 422, "plan.title", "E_BAD_CHARACTERS")
    query = world.get("admin", "/api/v1/audit", params={"action": "a\u0000b"})
    problem_of(query, 422, "action", "E_BAD_CHARACTERS")


def test_form_posts_are_checked_too(world):
    client = world.client
    page = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    sent = client.post(
        "/login", data={"username": "admin\u0000", "password": "x", "csrf": token, "next": "/"}
    )
    problem_of(sent, 422, "username", "E_BAD_CHARACTERS")


def test_tabs_and_newlines_in_text_pass(world):
    clock = world.client.app.state.services.clock
    advance_to(world.client.app.state.services.db, clock, date(2011, 9, 2))
    sent = world.post(
        "xinshi", DISTRICTS, json={"code": "03", "name": "第03选区", "area": "城关社区\n五里铺村"}
    )
    assert sent.status_code == 201, sent.text


@pytest.mark.parametrize(
    "title_format", ["{title.x}", "{name:>1000000000}", "{code!r}", "{0}", "{}", "{title[0]}", "{"]
)
def test_title_format_is_limited_to_the_documented_fields(world, title_format):
    from tests.test_service_api import PLAN_TOML

    body = {"plan": PLAN_TOML, "jurisdictions": ["420821100"], "title_format": title_format}
    sent = world.post("admin", "/api/v1/elections/round", json=body)
    problem_of(sent, 422, "title_format", "E_BAD_TITLE")


def test_a_title_with_cr_lf_does_not_break_the_calendar(world, db):
    with db.transaction() as session:
        session.execute(
            update(Election).where(Election.id == 3).values(title="新市镇\r\nEND:VCALENDAR\r\nBEGIN:VEVENT")
        )
    response = world.get("xinshi", "/api/v1/elections/3/calendar.ics")
    assert response.status_code == 200
    assert b"\r\nEND:VCALENDAR\r\nBEGIN:VEVENT" not in response.content
    cal = Calendar.from_ical(response.content)
    with db.reading() as session:
        milestones = session.execute(select(func.count()).select_from(Milestone).where(Milestone.election_id == 3)).scalar_one()
    assert len(list(cal.walk("VEVENT"))) == milestones and "END:VCALENDAR" in str(cal["x-wr-calname"])


def test_control_characters_cannot_reach_a_voters_name(world):
    """Names feed every DOCX of the district: a control character is refused by hand too."""
    with pytest.raises(DomainError) as refused:
        check_addition(
            "王\x0b伟",
            number(date(1960, 1, 1), 1),
            election_day=date(2011, 10, 9),
            migrant=False,
            proof=None,
            deprived=set(),
        )
    assert refused.value.code == "E_VOTER_INVALID" and "控制字符" in refused.value.message


@pytest.mark.parametrize("message", ["database is locked", "connection refused"])
def test_a_database_outage_is_a_503_with_retry_after(world, monkeypatch, message):
    db = world.client.app.state.services.db

    def down(*_a, **_k):
        raise OperationalError("SELECT 1", {}, Exception(message))

    monkeypatch.setattr(db, "sessions", down)
    monkeypatch.setattr(db, "_read_sessions", down)
    sent = world.get("admin", "/api/v1/elections")
    problem_of(sent, 503, None, "E_DB_UNAVAILABLE")
    assert sent.headers["Retry-After"] == "5"


def test_concurrent_imports_of_the_same_people_all_succeed(world, db, clock):
    """Six uploads of one file at once (on PostgreSQL they race to register the same people):
    every one answers 200, and everyone is registered once."""
    advance_to(db, clock, date(2011, 9, 2))
    for code in ("01", "02"):
        assert (
            world.post("xinshi", DISTRICTS, json={"code": code, "name": f"第{code}选区"}).status_code == 201
        )
    content = csv_bytes(voter_rows(300, seed=11))
    statuses: list[int] = []
    barrier = threading.Barrier(6)
    # One event loop for all six (the app's admission gate lives in it), six threads sending.
    with TestClient(world.client.app) as client:

        def send():
            barrier.wait()
            answer = client.post(
                f"/api/v1/elections/{XINSHI_ELECTION}/voters/import",
                headers=world.as_("xinshi"),
                files={"file": ("v.csv", content, "text/csv")},
            )
            statuses.append(answer.status_code)

        threads = [threading.Thread(target=send) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [200] * 6
    with db.reading() as session:
        assert session.execute(select(func.count()).select_from(Voter)).scalar_one() == 300
