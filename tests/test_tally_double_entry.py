"""Tallies keyed in twice (双人录入核对): a count entered by one clerk is accepted only once a
second person's entry agrees; a mismatch is shown field by field and must be resolved first. On
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.test_candidates_store import election, first_round, to_voting  # noqa: F401  (fixture)
from workflow.commands import results as res
from workflow.commands import tally_entry
from workflow.errors import DomainError
from workflow.rules.tally_entry import differences
from workflow.store.candidates import TallyRecord

VOTES = {"甲": 700, "乙": 650, "丙": 300}


def test_differences_name_each_field_and_candidate():
    a = first_round(2, VOTES)
    b = first_round(2, VOTES | {"乙": 560}, invalid_ballots=3)
    assert differences(a, a) == []
    assert differences(a, b) == [
        {"field": "invalid_ballots", "label": "无效票数", "first": 0, "second": 3},
        {"field": "votes.乙", "label": "得票：乙", "first": 650, "second": 560},
    ]


def _records(db, eid) -> int:
    with db.transaction() as s:
        return s.execute(select(func.count()).where(TallyRecord.election_id == eid)).scalar_one()


def test_second_clerk_agrees_and_the_count_is_recorded(db, clock, election):  # noqa: F811
    to_voting(db, clock, election, [("01", 2, ["甲", "乙", "丙"])])
    with db.transaction() as s:
        first = tally_entry.enter(s, election, "01", first_round(2, VOTES), clock=clock, actor="录入员甲")
    assert first.status == "awaiting_check" and _records(db, election) == 0
    with pytest.raises(DomainError) as same, db.transaction() as s:
        tally_entry.enter(s, election, "01", first_round(2, VOTES), clock=clock, actor="录入员甲")
    assert same.value.code == "E_TALLY_SAME_CLERK" and "另一名工作人员" in same.value.message
    with db.transaction() as s:
        checked = tally_entry.enter(s, election, "01", first_round(2, VOTES), clock=clock, actor="核对员乙")
    assert checked.status == "accepted" and checked.result["elected"] == ["甲", "乙"]
    assert _records(db, election) == 1
    with db.transaction() as s:
        assert [d.name for d in res.deputies(s, election, "01")] == ["甲", "乙"]


def test_a_mismatch_is_shown_and_must_be_resolved_before_the_count_is_accepted(db, clock, election):  # noqa: F811
    to_voting(db, clock, election, [("01", 2, ["甲", "乙", "丙"])])
    with db.transaction() as s:
        tally_entry.enter(s, election, "01", first_round(2, VOTES), clock=clock, actor="录入员甲")
    with db.transaction() as s:
        wrong = tally_entry.enter(
            s, election, "01", first_round(2, VOTES | {"乙": 560}), clock=clock, actor="核对员乙"
        )
    assert wrong.status == "mismatch"
    assert wrong.differences == [{"field": "votes.乙", "label": "得票：乙", "first": 650, "second": 560}]
    assert _records(db, election) == 0
    with db.transaction() as s:
        state = tally_entry.entry_state(s, election, "01")
    assert state["status"] == "mismatch" and [e["by"] for e in state["entries"]] == ["录入员甲", "核对员乙"]
    assert state["differences"][0]["label"] == "得票：乙"
    # a bad document is refused with the counting rules' own message; nothing is stored
    with pytest.raises(DomainError) as bad, db.transaction() as s:
        tally_entry.enter(
            s, election, "01", first_round(2, VOTES | {"丙": -1}), clock=clock, actor="核对员乙"
        )
    assert bad.value.field == "votes.丙" and "不能为负数" in bad.value.message
    with db.transaction() as s:
        assert len(tally_entry.entry_state(s, election, "01")["entries"]) == 2
    # recounted: the checker keys in the first clerk's figures again; they agree, the count stands
    with db.transaction() as s:
        resolved = tally_entry.enter(s, election, "01", first_round(2, VOTES), clock=clock, actor="核对员乙")
    assert resolved.status == "accepted" and _records(db, election) == 1
    with db.transaction() as s:
        after = tally_entry.entry_state(s, election, "01")
    assert after["round"] == 2 and after["entries"] == []
