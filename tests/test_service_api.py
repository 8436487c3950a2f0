"""HTTP API: every endpoint, its authorisation (role and jurisdiction subtree) and bad input,
on SQLite and PostgreSQL. Requests go through the real app built by the factory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import delete, func, select

from tests.service_fixtures import COUNTY, XINSHI, YONGXING, make_world
from workflow.store.models import AuditEntry, Milestone, Reminder

PLAN_TOML = """
kind = "people_congress"
title = "新市镇补选"
jurisdiction = "420821100"
election_day = 2011-10-18
[milestones]
voter_list_published = 2011-09-20
"""


@pytest.fixture
def world(db, clock):
    return make_world(db, clock)


def problem_of(response, status: int, field: str | None = None, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["detail"] and body["code"]
    if field is not None:
        assert body["field"] == field, body
    if code is not None:
        assert body["code"] == code, body
    return body


# -- operations ---------------------------------------------------------------------------
def test_health_openapi_and_metrics(world):
    assert world.client.get("/healthz").json()["status"] == "ok"
    spec = world.client.get("/openapi.json").json()
    assert "/api/v1/elections/{election_id}/milestones/{key}/complete" in spec["paths"]
    metrics = world.client.get("/metrics").text
    assert 'huanjie_elections{kind="people_congress",phase="preparation"} 6.0' in metrics
    for name in ("huanjie_reminders_due", "huanjie_outbox_backlog", "huanjie_delivery_failures"):
        assert f"\n{name} " in metrics


def test_metrics_count_due_reminders(world, db, clock):
    with db.transaction() as session:
        session.execute(delete(Reminder))  # the scheduler's own rows for the demo elections
        for minutes in (-5, 60):  # one due, one not yet
            session.add(
                Reminder(
                    election_id=2,
                    milestone_key="quotas_allocated",
                    kind="lead",
                    fire_at=clock.now() + timedelta(minutes=minutes),
                    created_at=clock.now(),
                )
            )
    assert "\nhuanjie_reminders_due 1.0" in world.client.get("/metrics").text


# -- authentication -----------------------------------------------------------------------
def test_requests_without_or_with_bad_token_are_401(world):
    body = problem_of(world.client.get("/api/v1/elections"), 401, "Authorization", "E_UNAUTHORIZED")
    assert "令牌" in body["detail"]
    bad = world.client.get("/api/v1/elections", headers={"Authorization": "Bearer hj_nope"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"].startswith("Bearer")


# -- jurisdictions ------------------------------------------------------------------------
def test_jurisdictions_are_scoped_to_the_subtree(world):
    admin = {j["code"] for j in world.get("admin", "/api/v1/jurisdictions").json()["items"]}
    assert admin == {COUNTY, XINSHI, YONGXING, "420821102", "420821103", "420821100-001", "420821-DZB-01"}
    staff = {j["code"] for j in world.get("xinshi", "/api/v1/jurisdictions").json()["items"]}
    assert staff == {XINSHI, "420821100-001"}
    shown = world.get("admin", f"/api/v1/jurisdictions/{COUNTY}").json()
    assert shown["parent"] == "420800" and {c["code"] for c in shown["children"]} >= {XINSHI, YONGXING}
    problem_of(world.get("xinshi", f"/api/v1/jurisdictions/{YONGXING}"), 404, "jurisdiction", "E_NOT_FOUND")
    problem_of(world.get("admin", "/api/v1/jurisdictions/999999"), 404, "jurisdiction")
    problem_of(world.get("admin", "/api/v1/jurisdictions/bad%20code"), 422, "code")


# -- elections: read ----------------------------------------------------------------------
def test_list_elections_scoped_paginated_filtered(world):
    everything = world.get("admin", "/api/v1/elections").json()
    assert everything["total"] == 8 and len(everything["items"]) == 8
    mine = world.get("xinshi", "/api/v1/elections").json()
    assert {e["id"] for e in mine["items"]} == {3, 8}  # its township and the community below it
    page = world.get("admin", "/api/v1/elections?limit=3&offset=3").json()
    assert [e["id"] for e in page["items"]] == [4, 5, 6] and page["total"] == 8
    kinds = world.get("admin", "/api/v1/elections?kind=party_branch").json()
    assert [e["kind"] for e in kinds["items"]] == ["party_branch"]
    within = world.get("admin", f"/api/v1/elections?jurisdiction={XINSHI}").json()
    assert {e["id"] for e in within["items"]} == {3, 8}
    states = world.get("admin", "/api/v1/elections?state=publicity").json()
    assert [e["id"] for e in states["items"]] == [8]
    row = everything["items"][1]
    assert row["progress"]["next_deadline"]["key"] == "quotas_allocated"
    # 11 milestones to do (EL 47 ¶2's qualification review included; the court deadline is computed)
    assert row["progress"]["settled"] == 1 and row["progress"]["total"] == 11


def test_list_elections_bad_input_names_field_and_rule(world):
    body = problem_of(world.get("admin", "/api/v1/elections?limit=0"), 422, "limit", "E_INVALID_INPUT")
    assert body["rule"] == "greater_than_equal" and "不能小于 1" in body["detail"]
    body = problem_of(world.get("admin", "/api/v1/elections?offset=x"), 422, "offset")
    assert body["rule"] == "int_parsing"
    problem_of(world.get("xinshi", f"/api/v1/elections?jurisdiction={YONGXING}"), 404)


def test_show_election_and_its_scope(world):
    shown = world.get("xinshi", "/api/v1/elections/3").json()
    assert shown["jurisdiction"]["code"] == XINSHI and shown["state"] == "preparation"
    assert shown["next"]["refusals"][0]["milestone"] == "quotas_allocated"
    problem_of(world.get("xinshi", "/api/v1/elections/4"), 404, "election_id", "E_NOT_FOUND")
    problem_of(world.get("xinshi", "/api/v1/elections/2"), 404)  # the county above is not its own
    problem_of(world.get("admin", "/api/v1/elections/999"), 404, "election_id", "E_NOT_FOUND")
    problem_of(world.get("admin", "/api/v1/elections/0"), 422, "election_id")


# -- elections: create --------------------------------------------------------------------
def test_create_from_toml_text_and_from_json(world, db):
    made = world.post("xinshi", "/api/v1/elections", json={"plan": PLAN_TOML})
    assert made.status_code == 201, made.text
    election = made.json()["election"]
    assert election["jurisdiction"]["code"] == XINSHI and made.headers["location"].endswith(
        f"/{election['id']}"
    )
    plan = {
        "kind": "people_congress",
        "title": "永兴镇补选",
        "jurisdiction": YONGXING,
        "election_day": "2011-10-18",
        "milestones": {"voter_list_published": "2011-09-20"},
    }
    made = world.post("admin", "/api/v1/elections", json={"plan": plan})
    assert made.status_code == 201, made.text
    with db.reading() as session:
        actors = session.execute(
            select(AuditEntry.actor)
            .where(AuditEntry.action == "election.created")
            .order_by(AuditEntry.id.desc())
        ).scalars()
        assert list(actors)[:2] == ["admin", "xinshi"]


def test_create_refuses_violations_unless_accepted(world):
    late = PLAN_TOML.replace("2011-09-20", "2011-10-01")  # after E − 20 (EL 28)
    body = problem_of(world.post("admin", "/api/v1/elections", json={"plan": late}), 422, "milestones")
    assert body["code"] == "E_PLAN_VIOLATIONS" and body["violations"][0]["key"] == "voter_list_published"
    made = world.post("admin", "/api/v1/elections", json={"plan": late, "accept_violations": "上级批准延期"})
    assert made.status_code == 201 and made.json()["accepted_violations"] == ["voter_list_published"]


def test_create_bad_plans_name_the_field(world):
    post = lambda plan: world.post("admin", "/api/v1/elections", json={"plan": plan})  # noqa: E731
    problem_of(post({"kind": "people_congress"}), 422, "plan.title", "E_MISSING_FIELD")
    bad_key = {"kind": "people_congress", "title": "x", "jurisdiction": XINSHI, "election_day": "2011-10-18"}
    problem_of(post({**bad_key, "milestones": {"nope": "2011-09-01"}}), 422, "plan.milestones.nope")
    problem_of(post({**bad_key, "election_day": "18/10/2011"}), 422, "plan.election_day", "E_BAD_DATE")
    problem_of(post({**bad_key, "election_day": "9999-12-31"}), 422, "plan.anchor", "E_DATE_OUT_OF_RANGE")
    problem_of(post("kind = "), 422, "plan", "E_PLAN_SYNTAX")
    problem_of(post({**bad_key, "jurisdiction": "000000"}), 422, "plan.jurisdiction", "E_NOT_FOUND")
    problem_of(post({**bad_key, "parent_election": 777}), 422, "plan.parent_election")
    problem_of(world.post("admin", "/api/v1/elections", json={}), 422, "plan", "E_INVALID_INPUT")
    problem_of(world.post("admin", "/api/v1/elections", json={"plan": "", "x": 1}), 422, "x")


def test_create_is_scoped_and_refused_to_observers(world):
    other = PLAN_TOML.replace(XINSHI, YONGXING)
    problem_of(world.post("xinshi", "/api/v1/elections", json={"plan": other}), 404, code="E_NOT_FOUND")
    problem_of(
        world.post("observer", "/api/v1/elections", json={"plan": PLAN_TOML}), 403, "role", "E_READ_ONLY"
    )
    problem_of(world.post("registrar", "/api/v1/elections", json={"plan": PLAN_TOML}), 403, "role")
    new_area = {
        "kind": "people_congress",
        "title": "新乡补选",
        "jurisdiction": {"code": "420821199", "name": "新乡", "level": "township"},
        "election_day": "2011-10-18",
    }
    problem_of(
        world.post("admin", "/api/v1/elections", json={"plan": new_area}), 403, "plan.jurisdiction.parent"
    )
    new_area["jurisdiction"]["parent"] = COUNTY
    assert world.post("admin", "/api/v1/elections", json={"plan": new_area}).status_code == 201
    assert world.get("xinshi", "/api/v1/elections").json()["total"] == 2  # nothing leaked to it


def test_create_round_for_several_townships_at_once(world, db):
    before = world.get("admin", "/api/v1/elections").json()["total"]
    body = {"plan": PLAN_TOML, "jurisdictions": [XINSHI, YONGXING, "420821102"], "title_format": "{name}{title}"}
    made = world.post("admin", "/api/v1/elections/round", json=body)
    assert made.status_code == 201, made.text
    doc = made.json()
    assert doc["count"] == 3 and [e["jurisdiction"] for e in doc["elections"]] == body["jurisdictions"]
    assert doc["elections"][0]["title"] == "新市镇新市镇补选"
    assert world.get("admin", "/api/v1/elections").json()["total"] == before + 3
    with db.reading() as session:
        per_election = dict(
            session.execute(
                select(Reminder.election_id, func.count())
                .where(Reminder.election_id.in_([e["id"] for e in doc["elections"]]))
                .group_by(Reminder.election_id)
            ).all()
        )
    assert len(set(per_election.values())) == 1 and len(per_election) == 3  # one timetable, each


def test_create_round_is_scoped_and_checked_before_writing(world):
    before = world.get("admin", "/api/v1/elections").json()["total"]
    post = lambda who, **kw: world.post(who, "/api/v1/elections/round", json={"plan": PLAN_TOML, **kw})  # noqa: E731
    problem_of(post("xinshi", jurisdictions=[XINSHI, YONGXING]), 422, "jurisdictions", "E_NOT_FOUND")
    problem_of(post("observer", jurisdictions=[XINSHI]), 403, "role", "E_READ_ONLY")
    body = problem_of(post("admin", jurisdictions=[XINSHI, "429999"]), 422, "jurisdictions", "E_NOT_FOUND")
    assert "429999" in body["detail"]
    problem_of(post("admin", jurisdictions=[XINSHI, XINSHI]), 422, "jurisdictions", "E_DUPLICATE_JURISDICTION")
    problem_of(post("admin", jurisdictions=[]), 422, "jurisdictions", "E_INVALID_INPUT")
    problem_of(post("admin", jurisdictions=[XINSHI], title_format="{town}"), 422, "title_format", "E_BAD_TITLE")
    late = PLAN_TOML.replace("2011-09-20", "2011-10-01")
    problem_of(
        world.post("admin", "/api/v1/elections/round", json={"plan": late, "jurisdictions": [XINSHI]}),
        422,
        "milestones",
        "E_PLAN_VIOLATIONS",
    )
    assert world.get("admin", "/api/v1/elections").json()["total"] == before  # nothing written


# -- transitions and reschedule -----------------------------------------------------------
def test_advance_refused_then_allowed(world):
    refused = problem_of(
        world.post("xinshi", "/api/v1/elections/3/advance"), 409, "state", "E_TRANSITION_REFUSED"
    )
    assert [r["milestone"] for r in refused["refusals"]] == ["quotas_allocated"]
    done = world.post(
        "xinshi", "/api/v1/elections/3/milestones/quotas_allocated/complete", json={"on": "2011-08-19"}
    )
    assert done.status_code == 200, done.text
    moved = world.post("xinshi", "/api/v1/elections/3/advance", json={})
    assert moved.status_code == 200 and moved.json()["to"] == "registration"


def test_suspend_resume_cancel(world):
    problem_of(
        world.post("admin", "/api/v1/elections/4/suspend", json={}), 422, "reason", "E_REASON_REQUIRED"
    )
    problem_of(world.post("xinshi", "/api/v1/elections/4/suspend", json={"reason": "x"}), 404)
    problem_of(world.post("observer", "/api/v1/elections/4/suspend", json={"reason": "x"}), 403, "role")
    assert (
        world.post("admin", "/api/v1/elections/4/suspend", json={"reason": "汛情"}).json()["to"]
        == "suspended"
    )
    assert world.post("admin", "/api/v1/elections/4/resume").json()["to"] == "preparation"
    assert (
        world.post("yongxing", "/api/v1/elections/4/cancel", json={"reason": "区划调整"}).json()["to"]
        == "cancelled"
    )
    problem_of(world.post("admin", "/api/v1/elections/4/resume"), 409, code="E_TRANSITION_REFUSED")
    body = problem_of(world.post("admin", "/api/v1/elections/4/advance", json={"bogus": 1}), 422, "bogus")
    assert body["rule"] == "extra_forbidden"


def test_reschedule_moves_bounds(world):
    moved = world.post("admin", "/api/v1/elections/2/reschedule", json={"anchor_date": "2011-10-16"})
    assert moved.status_code == 200, moved.text
    m = {x["key"]: x for x in moved.json()["election"]["milestones"]}
    assert m["voter_list_published"]["latest"] == "2011-09-26"  # E − 20 (EL 28)
    problem_of(
        world.post("admin", "/api/v1/elections/2/reschedule", json={"anchor_date": "16.10.2011"}),
        422,
        "anchor_date",
    )
    problem_of(world.post("admin", "/api/v1/elections/2/reschedule", json={}), 422, "anchor_date")
    problem_of(
        world.post("xinshi", "/api/v1/elections/2/reschedule", json={"anchor_date": "2011-10-16"}), 404
    )
    squeezed = world.post(
        "admin", "/api/v1/elections/2/reschedule", json={"anchor_date": "2011-08-25", "keep_plan": True}
    )
    problem_of(squeezed, 422, code="E_PLAN_VIOLATIONS")


# -- milestones ---------------------------------------------------------------------------
def test_complete_milestone_rules(world, db):
    url = "/api/v1/elections/3/milestones/quotas_allocated/complete"
    problem_of(world.post("xinshi", url, json={"on": "2011-08-21"}), 422, "on", "E_DATE_IN_FUTURE")
    problem_of(world.post("xinshi", url, json={"on": "2011-8-1"}), 422, "on")
    problem_of(world.post("yongxing", url), 404, "election_id")  # another township
    problem_of(world.post("observer", url), 403, "role", "E_READ_ONLY")
    problem_of(world.post("xinshi", url, json={"expected_version": 99}), 409, "version", "E_VERSION_CONFLICT")
    problem_of(world.post("xinshi", "/api/v1/elections/3/milestones/no_such/complete"), 404, "key")
    problem_of(
        world.post("xinshi", "/api/v1/elections/3/milestones/court_suit_deadline/complete"), 422, "key"
    )
    with db.reading() as session:
        assert (
            session.execute(
                select(Milestone.status).where(
                    Milestone.election_id == 3, Milestone.key == "quotas_allocated"
                )
            ).scalar_one()
            == "pending"
        )
    done = world.post("xinshi", url)
    assert done.json() == {
        "election_id": 3,
        "key": "quotas_allocated",
        "status": "done",
        "done_on": "2011-08-20",
        "late": False,
        "done_by": "xinshi",
    }
    problem_of(world.post("xinshi", url), 409, "key", "E_MILESTONE_SETTLED")


def test_waive_milestone(world):
    url = "/api/v1/elections/3/milestones/voter_appeals_closed/waive"
    problem_of(world.post("xinshi", url, json={"reason": "  "}), 422, "reason", "E_REASON_REQUIRED")
    problem_of(world.post("xinshi", url, json={}), 422, "reason")
    problem_of(world.post("observer", url, json={"reason": "无申诉"}), 403)
    waived = world.post("xinshi", url, json={"reason": "无人申诉"})
    assert waived.json()["status"] == "waived" and waived.json()["waived_reason"] == "无人申诉"


# -- reminders, audit, calendar -----------------------------------------------------------
def test_reminders_are_listed_within_scope(world, db, clock):
    with db.transaction() as session:
        session.execute(delete(Reminder))  # the scheduler's own rows for the demo elections
        for election_id in (3, 4):
            session.add(
                Reminder(
                    election_id=election_id,
                    milestone_key="quotas_allocated",
                    kind="lead",
                    lead_days=3,
                    fire_at=clock.now() + timedelta(days=1),
                    created_at=clock.now(),
                )
            )
    assert world.get("admin", "/api/v1/reminders").json()["total"] == 2
    mine = world.get("xinshi", "/api/v1/reminders").json()
    assert [r["election_id"] for r in mine["items"]] == [3] and mine["items"][0]["lead_days"] == 3
    assert world.get("admin", "/api/v1/reminders?election_id=4&status=pending").json()["total"] == 1
    problem_of(world.get("xinshi", "/api/v1/reminders?election_id=4"), 404)
    problem_of(world.get("admin", "/api/v1/reminders?limit=501"), 422, "limit")


def test_audit_log_records_the_actor_and_verifies(world, db):
    world.post("xinshi", "/api/v1/elections/3/milestones/quotas_allocated/complete")
    entries = world.get("xinshi", "/api/v1/audit?election_id=3&action=milestone.completed").json()["items"]
    assert entries[0]["actor"] == "xinshi" and entries[0]["entity_id"] == "3/quotas_allocated"
    assert all(e["entity_id"] != "4" for e in world.get("xinshi", "/api/v1/audit?limit=500").json()["items"])
    verified = world.get("admin", "/api/v1/audit/verify").json()
    assert verified | {"head_hash": None} == {
        "ok": True,
        "entries": world.get("admin", "/api/v1/audit?limit=1").json()["total"],  # its own subtree
        "broken_at": None,
        "reason": None,
        "head_seq": pytest.approx(_count(db)),
        "head_hash": None,
        "key_id": "dev",
    }
    assert len(verified["head_hash"]) == 64
    problem_of(world.get("yongxing", "/api/v1/audit?election_id=3"), 404)


def _count(db) -> int:
    with db.reading() as session:
        return session.execute(select(func.count(AuditEntry.id))).scalar_one()


def test_calendar_feed_has_every_milestone_with_alarms(world):
    response = world.get("xinshi", "/api/v1/elections/3/calendar.ics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert len(events) == 12  # every people_congress milestone (EL 47 ¶2's review included) has a date
    vlp = events["election-3-voter_list_published@huanjie"]
    assert vlp.decoded("dtstart").isoformat() == "2011-09-11"
    assert sorted(a.decoded("trigger") for a in vlp.walk("VALARM")) == [timedelta(days=-d) for d in (7, 3, 1)]
    done = events["election-3-election_committee_formed@huanjie"]
    assert not done.walk("VALARM")  # nothing to remind about a milestone already done
    problem_of(world.get("yongxing", "/api/v1/elections/3/calendar.ics"), 404)


def test_registrar_alone_sees_full_ids(world, db):
    from workflow.commands.auth import can_see_full_ids, find_user

    with db.reading() as session:
        seen = {
            name: can_see_full_ids(find_user(session, name))
            for name in ("admin", "xinshi", "observer", "registrar")
        }
    assert seen == {"admin": False, "xinshi": False, "observer": False, "registrar": True}
    assert world.get("registrar", "/api/v1/elections/3").status_code == 200


def test_one_transaction_per_request(world, db, monkeypatch):
    """A failure after the command ran leaves nothing behind (the request's one transaction)."""
    from service.api import elections as routes

    def broken(*args, **kwargs):
        raise RuntimeError("boom after the write")

    monkeypatch.setattr(routes, "election_view", broken)
    before = _count(db)
    response = world.post("admin", "/api/v1/elections/2/reschedule", json={"anchor_date": "2011-10-16"})
    assert response.status_code == 500 and response.json()["code"] == "E_INTERNAL"
    assert _count(db) == before
    monkeypatch.undo()
    assert world.get("admin", "/api/v1/elections/2").json()["anchor_date"] == "2011-10-09"


def test_clock_is_injected(world, clock):
    clock.set(datetime(2011, 9, 25, 2, 0, tzinfo=UTC))  # after voter_list_published's bound (09-19)
    row = world.get("admin", "/api/v1/elections/3").json()["progress"]
    assert "voter_list_published" in [o["key"] for o in row["overdue"]]


def test_many_concurrent_requests_all_finish(world):
    """More requests at once than worker threads: none may wait for a connection or the SQLite
    write lock while holding a thread the lock's holder needs (that would stall for the whole
    busy timeout). Requests queue for admission in the event loop instead."""
    import anyio
    import httpx

    app = world.client.app
    headers = world.as_("admin")
    statuses: list[int] = []

    async def one(client: httpx.AsyncClient, i: int) -> None:
        if i % 10 == 0:
            response = await client.post("/api/v1/elections/2/advance", headers=headers)  # a refused write
        else:
            response = await client.get(f"/api/v1/elections/{2 + i % 7}", headers=headers)
        statuses.append(response.status_code)

    async def main() -> float:
        started = anyio.current_time()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            with anyio.fail_after(25):  # SQLite's busy timeout is 30 s: a stall would exceed this
                async with anyio.create_task_group() as group:
                    for i in range(80):
                        group.start_soon(one, client, i)
        return anyio.current_time() - started

    anyio.run(main)
    assert len(statuses) == 80
    assert statuses.count(200) == 72 and statuses.count(409) == 8
