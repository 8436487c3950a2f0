"""The command centre's grid (workflow/views/grid.py): cell states, counts, filters, urgency
order, roll-up, and a fixed number of SQL statements however many rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event

from demo.county import _shifted
from demo.province import EXAMPLES, PROVINCE, build_province
from tests.service_fixtures import load_world
from workflow.clock import FixedClock
from workflow.commands import elections as commands
from workflow.commands import jurisdictions as jc
from workflow.plan import JurisdictionRef, load_plan
from workflow.views import jurisdictions
from workflow.views.grid import (
    BLOCKED,
    DONE,
    DUE_SOON,
    NOT_YET_DUE,
    OVERDUE,
    WAIVED,
    Filters,
    grid,
    grid_dict,
)

BUILT = datetime(2011, 8, 20, 2, 0, tzinfo=UTC)
MONTH_ON = date(2011, 9, 21)


@pytest.fixture
def demo(db):
    _tokens, elections = load_world(db, BUILT)
    return elections


def county_grid(db, today=MONTH_ON, **filters):
    with db.reading() as session:
        return grid(session, jurisdictions.by_code(session, "420821"), today, Filters(**filters))


def test_cells_have_one_state_each_and_counts_add_up(db, demo):
    g = county_grid(db)
    people = next(k for k in g.kinds if k.kind == "people_congress")
    xinshi = next(r for r in people.rows if r.election_id == demo["420821100"])
    states = {key: cell.state for key, cell in xinshi.cells.items()}
    assert states["election_committee_formed"] == DONE
    # EL 28: the list was due 20 days before election day (2011-09-19); two days late on 09-21.
    assert states["voter_list_published"] == OVERDUE and xinshi.cells["voter_list_published"].days == 2
    # Districts must come after the quotas (EL 25): open quotas block them; never overdue and blocked twice.
    assert states["districts_published"] == BLOCKED
    assert states["quotas_allocated"] == DUE_SOON
    assert "court_suit_deadline" not in states  # computed deadlines are not work items
    assert "法定最迟 2011-09-19" in xinshi.cells["voter_list_published"].title
    for key, counter in people.per_milestone.items():
        assert sum(counter.values()) == len(people.rows), key
    assert sum(g.totals.values()) == sum(len(r.cells) for r in g.rows())
    assert "5 个选举已逾期：公布选民名单" in people.headline()


def test_rows_sorted_most_overdue_first_and_filters(db, demo):
    with db.transaction() as session:
        commands.waive_milestone(
            session, demo["420821101"], "voter_appeals_closed", reason="无申诉", clock=FixedClock(BUILT), actor="t"
        )
    g = county_grid(db)
    rows = g.rows()
    overdue = [r.most_overdue for r in rows]
    assert overdue == sorted(overdue, reverse=True)
    yongxing = next(r for r in rows if r.election_id == demo["420821101"])
    assert yongxing.cells["voter_appeals_closed"].state == WAIVED
    # Residents' committee: its election day passed on 09-18, three days overdue, so it leads.
    assert rows[0].election_id == demo["residents_committee"]

    only = county_grid(db, overdue_only=True)
    assert all(r.counts[OVERDUE] for r in only.rows())
    assert {r.election_id for r in only.rows()} < {r.election_id for r in rows}
    kind = county_grid(db, kind="party_branch")
    assert [k.kind for k in kind.kinds] == ["party_branch"]
    searched = county_grid(db, search="永兴")
    assert [r.election_id for r in searched.rows()] == [demo["420821101"]]
    phase = county_grid(db, phase="publicity")
    assert [r.election_id for r in phase.rows()] == [demo["residents_committee"]]
    assert county_grid(db, state=NOT_YET_DUE).rows_total <= g.rows_total
    closed = county_grid(db, include_finished=True)
    assert closed.rows_total >= g.rows_total


def test_a_date_before_completion_shows_the_milestone_open(db, demo):
    g = county_grid(db, today=date(2011, 8, 16))
    row = next(r for r in g.rows() if r.election_id == demo["420821100"])
    assert row.cells["election_committee_formed"].state != DONE  # done on 08-17, after that day


def test_rollup_and_json(db, demo):
    g = county_grid(db)
    names = [a["name"] for a in g.rollup]
    assert "新市镇" in names and "京山县（本级）" in names
    xinshi = next(a for a in g.rollup if a["name"] == "新市镇")
    assert xinshi["elections"] == 2  # the township's election and its community's
    body = grid_dict(g)
    assert body["totals"]["overdue"] == g.totals[OVERDUE]
    assert body["kinds"][0]["rows"][0]["cells"]


def _count_statements(db, today, root_code) -> tuple[int, int]:
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.reading() as session:
            root = jurisdictions.by_code(session, root_code)
            before = len(statements)
            g = grid(session, root, today)
            used = len(statements) - before
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return used, g.rows_total


def test_statements_per_grid_do_not_grow_with_rows(db):
    clock = FixedClock(datetime(2026, 9, 1, 2, 0, tzinfo=UTC))
    with db.transaction() as session:
        build_province(session, clock=clock, counties=1, townships=4)
    small, rows_small = _count_statements(db, date(2026, 9, 20), PROVINCE)
    rows_grown = _grow(db, clock)
    large, rows_large = _count_statements(db, date(2026, 9, 20), PROVINCE)
    assert rows_small == 5 and rows_large == rows_grown == 50
    assert large == small <= 4


def _grow(db, clock) -> int:
    """Add counties under the same province until it holds 50 elections."""

    plan = load_plan(EXAMPLES / "jingshan_2011.toml")
    with db.transaction() as session:
        for c in range(9):
            code = f"98{c:04d}"
            jc.add_jurisdiction(session, code=code, name=f"增{c}县", level="county", parent_code=PROVINCE,
                                clock=clock, actor="t")
            codes = []
            for t in range(4):
                jc.add_jurisdiction(session, code=f"{code}{t:03d}", name=f"增{c}县{t}镇", level="township",
                                    parent_code=code, clock=clock, actor="t")
                codes.append(f"{code}{t:03d}")
            made = commands.create_election(
                session, _shifted(plan, date(2026, 10, 15), f"增{c}县选举", "2020", JurisdictionRef(code)),
                clock=clock, actor="t", accept_violations="模拟",
            )
            commands.create_round(
                session, _shifted(plan, date(2026, 10, 15), "乡级选举", "2020", JurisdictionRef(code),
                                  parent=made.election.id),
                codes, clock=clock, actor="t", title_format="{name}{title}", accept_violations="模拟",
            )
    return 5 + 9 * 5
