"""The county view's lines: one per problem, the most urgent first (an overdue milestone that
holds up the next phase is one line, not 已逾期 and 受阻 twice), the next deadline the earliest
unmet bound (逾期N天 while anything is overdue), a link to the grid's row; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from tests.service_fixtures import make_world
from tests.test_service_web import login
from workflow.store.models import Election
from workflow.views.overview import progress

XINSHI_ELECTION = 3  # 新市镇's people's congress election in the demo


@pytest.fixture
def world(db, clock):
    return make_world(db, clock)


def _block(db, election_id: int, reasons: list[str]) -> None:
    """What the sweep records when a phase's window opens but its guard refuses."""
    with Session(db.engine) as session:
        session.get(Election, election_id).blocked_reasons = reasons
        session.commit()


def test_an_overdue_blocking_milestone_is_one_line_and_the_next_deadline_is_the_overdue_one(world, db, clock):
    _block(db, XINSHI_ELECTION, ["代表名额尚未分配", "选举委员会尚未成立", "选区划分尚未公布"])
    today = date(2011, 9, 25)  # past voter_list_published's bound (09-19) and the plan of others
    with Session(db.engine) as session:
        election = session.get(Election, XINSHI_ELECTION)
        p = progress(election, today)
    texts = [o["text"] for o in p["problems"]]
    overdue_keys = [o["key"] for o in p["overdue"]]
    assert overdue_keys, "the demo's township is behind a month on"
    # Each overdue milestone once, the most overdue first, naming its days and bound.
    bad = [o for o in p["problems"] if o["level"] == "bad"]
    assert [o["key"] for o in bad[: len(overdue_keys)]] == sorted(overdue_keys, key=lambda k: next(o["latest"] for o in p["overdue"] if o["key"] == k))
    assert [o["days"] for o in bad[: len(overdue_keys)]] == sorted((o["days"] for o in bad[: len(overdue_keys)]), reverse=True)
    first = bad[0]
    latest = date.fromisoformat(next(o["latest"] for o in p["overdue"] if o["key"] == first["key"]))
    assert first["days"] == (today - latest).days > 0
    assert f"已逾期{first['days']}天" in first["text"] and f"最迟 {latest}" in first["text"]
    # No milestone is named twice; a reason naming an overdue milestone rides on its line.
    keys = [o["key"] for o in p["problems"] if o["key"]]
    assert len(keys) == len(set(keys))
    assert not any(t.startswith("受阻：") and o["key"] in overdue_keys for t, o in zip(texts, p["problems"], strict=True))
    settled = {m.key for m in election.milestones if m.settled}
    for reason, key in (("代表名额尚未分配", "quotas_allocated"), ("选举委员会尚未成立", "election_committee_formed"), ("选区划分尚未公布", "districts_published")):
        if key in overdue_keys:
            assert any(o["key"] == key and o["text"].endswith("下一阶段因此受阻") for o in p["problems"])
        elif key in settled:
            assert all(reason not in t for t in texts)  # done since the sweep saw it: no stale line
        else:
            assert any(t.startswith(f"受阻：{reason}") for t in texts)
    # Bad lines before warnings (late against the plan only).
    levels = [o["level"] for o in p["problems"]]
    assert levels == sorted(levels, key=lambda lv: lv != "bad")
    # The next deadline is the earliest unmet bound: the overdue one, in the past.
    nd = p["next_deadline"]
    assert nd["key"] == bad[0]["key"] and nd["days_left"] == -bad[0]["days"] < 0 and nd["overdue"]


def test_on_time_the_next_deadline_is_ahead_and_nothing_is_red(world, db):
    with Session(db.engine) as session:
        p = progress(session.get(Election, XINSHI_ELECTION), date(2011, 8, 20))
    assert p["overdue"] == [] and all(o["level"] != "bad" for o in p["problems"])
    assert p["next_deadline"]["days_left"] >= 0


def test_the_county_view_shows_one_line_per_problem_and_links_the_grid_row(world, db, clock):
    _block(db, XINSHI_ELECTION, ["选民名单尚未公布"])
    clock.set(datetime(2011, 9, 25, 2, 0, tzinfo=UTC))
    html = login(world, "admin").get("/").text
    card = html[html.index(f'href="/elections/{XINSHI_ELECTION}"') :]
    card = card[: card.index("</li>")]
    # The most overdue is the next deadline: one line, with the days overdue and what it blocks.
    line = card[card.index("下一期限") :].split("</div>")[0]
    assert "公布选民名单 2011-09-19" in line and "逾期6天" in line and line.endswith("，下一阶段因此受阻") and "还有" not in line
    assert card.count("公布选民名单") == 1 and "受阻：选民名单尚未公布" not in card
    assert "已逾期6天：选民资格申诉处理完毕（最迟 2011-09-19）" in card  # the next problem, once
    assert f"#row-{XINSHI_ELECTION}" in card and "/grid?q=" in card
    grid = login(world, "admin").get(card.split('<div class="row-link"><a href="')[1].split('"')[0].replace("&amp;", "&"))
    assert grid.status_code == 200 and f'id="row-{XINSHI_ELECTION}"' in grid.text
