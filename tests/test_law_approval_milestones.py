"""An approval milestone is needed only when its condition arises (Zhejiang art. 51: the
election committee's consent to move a district's election day — only if the day is moved).
Until then it is not applicable (不适用): not pending or overdue, outside the progress figure, no
reminders, shown as 不适用 on the election page and in the grid; when the day is moved it is due
like any other milestone."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from config.settings import Settings
from demo.county import EXAMPLES
from service.app import create_app
from tests.law_texts import ZJ_PC, article
from workflow.commands import auth, elections
from workflow.commands.jurisdictions import find_jurisdiction
from workflow.plan import parse_plan
from workflow.store.models import Reminder
from workflow.views.elections import describe
from workflow.views.grid import NOT_APPLICABLE, STATE_TEXT, grid
from workflow.views.overview import progress

E = date(2021, 11, 20)
APPROVAL = "election_day_change_approved"
CODE = "330781"
PASSWORD = "jingshan-2011"


def at(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC))


def plan(title: str, **milestones):
    """The seed's Jingshan plan moved to Zhejiang (江山市) and to E, every date shifted alike."""
    with (EXAMPLES / "jingshan_2011.toml").open("rb") as handle:
        data = tomllib.load(handle)
    shift = E - data["election_day"]
    data.pop("statute")
    data["title"] = title
    data["election_day"] = E
    data["jurisdiction"] = {"code": CODE, "name": "江山市", "level": "county"}
    data["milestones"] = {k: v + shift for k, v in data["milestones"].items()} | milestones
    data["phases"] = {
        k: {"start": v["start"] + shift, "end": v["end"] + shift} for k, v in data["phases"].items()
    }
    return parse_plan(data)


def create(db, clock, title: str, **milestones) -> int:
    with db.transaction() as s:
        return elections.create_election(s, plan(title, **milestones), clock=clock, actor="t").election.id


def cells(db, today: date) -> dict[int, str]:
    with db.reading() as s:
        g = grid(s, find_jurisdiction(s, CODE), today)
    return {r.election_id: r.cells[APPROVAL].state for k in g.kinds for r in k.rows if APPROVAL in r.cells}


def test_the_text():
    assert "选区因特殊情况需要提前或者推迟选举日的，应当报请本级选举委员会同意" in article(ZJ_PC, 51)


def test_an_approval_not_needed_is_not_applicable_and_becomes_due_when_the_day_moves(db, clock):
    at(clock, E - timedelta(days=90))
    kept = create(db, clock, "江山市2021年人大代表选举（按期）")
    moved = create(
        db,
        clock,
        "江山市2021年人大代表选举（推迟）",
        election_day=E + timedelta(days=3),
        **{APPROVAL: E - timedelta(days=5)},
    )
    today = E - timedelta(days=30)
    with db.reading() as s:
        a, b = elections.get_election(s, kept), elections.get_election(s, moved)
        pa, pb = progress(a, today), progress(b, today)
        # The unneeded approval is outside the figure; the needed one counts.
        assert pb["total"] == pa["total"] + 1
        view_a = {m["key"]: m for m in describe(a)["milestones"]}
        view_b = {m["key"]: m for m in describe(b)["milestones"]}
        assert view_a[APPROVAL]["applicable"] is False and view_b[APPROVAL]["applicable"] is True
        # No reminders for the approval nobody needs; the needed one has its countdown.
        reminded = {
            (r.election_id, r.milestone_key)
            for r in s.execute(select(Reminder).where(Reminder.milestone_key == APPROVAL)).scalars()
        }
        assert (kept, APPROVAL) not in reminded and (moved, APPROVAL) in reminded
    states = cells(db, today)
    assert states[kept] == NOT_APPLICABLE and STATE_TEXT[NOT_APPLICABLE] == "不适用"
    assert states[moved] not in (NOT_APPLICABLE, "waived", "done")

    # Even long after its planned date an unneeded approval is never late nor overdue.
    late_day = E - timedelta(days=1)
    with db.reading() as s:
        pa = progress(elections.get_election(s, kept), late_day)
        assert APPROVAL not in {o["key"] for o in pa["overdue"] + pa["plan_late"]}
        pb = progress(elections.get_election(s, moved), late_day)
        assert APPROVAL in {o["key"] for o in pb["plan_late"]}  # the needed one is behind its plan


def test_the_pages_show_not_applicable(db, clock):
    at(clock, E - timedelta(days=90))
    election_id = create(db, clock, "江山市2021年人大代表选举")
    with db.transaction() as s:
        auth.add_user(
            s,
            username="jiangshan",
            role="county_admin",
            jurisdiction_code=CODE,
            password=PASSWORD,
            clock=clock,
            actor="t",
        )
    at(clock, E - timedelta(days=30))
    app = create_app(Settings(db=db.url, migrate_on_start=False, cookie_secure=False), db, clock)
    from fastapi.testclient import TestClient

    client = TestClient(app, raise_server_exceptions=False, client=("127.0.0.1", 50000))
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"username": "jiangshan", "password": PASSWORD, "csrf": csrf})
    html = client.get(f"/elections/{election_id}").text
    item = html[html.index(f'id="m-{APPROVAL}"') :]
    item = item[: item.index("</li>")]
    assert '<span class="badge s-not_applicable"' in item and "不适用" in item and "待办" not in item
    board = client.get("/grid").text
    assert "选区提前或推迟选举日经选举委员会同意" in board and ">不适用</a>" in board
    detail = client.get(f"/elections/{election_id}/milestones/{APPROVAL}")
    assert detail.status_code == 200 and '<span class="chip s-not_applicable">不适用</span>' in detail.text


def test_a_moved_day_without_a_planned_approval_makes_it_due_before_the_new_day(db, clock):
    at(clock, E - timedelta(days=90))
    with db.transaction() as s:
        election_id = elections.create_election(
            s,
            plan("江山市2021年人大代表选举（推迟，未经同意）", election_day=E + timedelta(days=3)),
            clock=clock,
            actor="t",
            accept_violations="选区因特殊情况推迟选举日，同意手续补办中",
        ).election.id
    with db.reading() as s:
        election = elections.get_election(s, election_id)
        before = progress(election, E)
        assert APPROVAL not in {o["key"] for o in before["overdue"]}
        after = progress(election, E + timedelta(days=4))  # the moved day has passed unapproved
        late = next(o for o in after["overdue"] if o["key"] == APPROVAL)
        assert late["latest"] == (E + timedelta(days=3)).isoformat()
    assert cells(db, E + timedelta(days=4))[election_id] == "overdue"
    assert cells(db, E + timedelta(days=1))[election_id] == "due_soon"
