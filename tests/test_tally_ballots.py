"""Ballot-level counting (workflow/rules/ballots.py): marks, write-ins, over-marked ballots."""

from __future__ import annotations

import pytest

from workflow.errors import DomainError
from workflow.rules.tally import Ballot, Mark, TallyInput, count_ballots, count_round

CANDIDATES = ("甲", "乙", "丙", "丁")


def test_for_against_abstain_are_counted_per_candidate():
    ballots = [
        Ballot(("for", "against", None, "abstain")),
        Ballot((Mark.FOR, Mark.FOR, Mark.AGAINST, None)),
        Ballot((None, None, None, None)),  # blank: valid, nobody voted for
    ]
    count = count_ballots(ballots, 2, CANDIDATES)
    assert count.votes == {"甲": 2, "乙": 1, "丙": 0, "丁": 0}
    assert count.against == {"甲": 0, "乙": 1, "丙": 1, "丁": 0}
    assert count.abstain == {"甲": 1, "乙": 1, "丙": 2, "丁": 3}
    assert (count.ballots_returned, count.invalid_ballots, count.valid_ballots) == (3, 0, 3)


def test_a_ballot_naming_more_people_than_seats_is_void():
    ballots = [
        Ballot(("for", "for", "for", None)),  # three for two seats: void (EL 44 ¶2)
        Ballot(("for", "for", "against", "against")),  # exactly two: valid
        Ballot(("for", None, None, None), write_ins=("王五", "赵六")),  # 1 + 2 write-ins: void
        Ballot(("for", None, None, None), write_ins=("王五",)),  # 1 + 1: valid
    ]
    count = count_ballots(ballots, 2, CANDIDATES)
    assert count.invalid_ballots == 2 and count.ballots_returned == 4
    assert count.votes == {"甲": 2, "乙": 1, "丙": 0, "丁": 0, "王五": 1}
    assert count.write_ins == ("王五",)


def test_write_in_of_a_listed_name_or_twice_counts_once():
    ballots = [
        Ballot(("for", None, None, None), write_ins=("甲", " 甲 ")),
        Ballot((None, None, None, None), write_ins=("乙", "乙")),
    ]
    count = count_ballots(ballots, 1, CANDIDATES)
    assert count.invalid_ballots == 0
    assert count.votes == {"甲": 1, "乙": 1, "丙": 0, "丁": 0}


def test_marks_may_be_a_mapping_and_write_ins_may_be_disallowed():
    ballots = [Ballot({"丙": "for", "甲": "against"}), Ballot({"丙": "for"}, write_ins=("王五",))]
    count = count_ballots(ballots, 1, CANDIDATES, write_ins=False)
    assert count.votes == {"甲": 0, "乙": 0, "丙": 2, "丁": 0} and count.invalid_ballots == 0


@pytest.mark.parametrize(
    "ballot",
    [
        Ballot(("for", None)),  # shorter than the list
        Ballot(("yes", None, None, None)),  # unknown mark
        Ballot({"王五": "for"}),  # marks a name not on the list
    ],
)
def test_malformed_ballots_are_refused(ballot):
    with pytest.raises(DomainError) as caught:
        count_ballots([ballot], 1, CANDIDATES)
    assert caught.value.code == "E_BAD_BALLOT"


def test_bad_seats_and_duplicate_candidates_are_refused():
    with pytest.raises(DomainError):
        count_ballots([], 0, CANDIDATES)
    with pytest.raises(DomainError):
        count_ballots([], 1, ("甲", "甲"))


def test_ballots_feed_a_round():
    ballots = [Ballot(("for", None, None, None))] * 31 + [Ballot((None, "for", None, None))] * 29
    ballots += [Ballot(("for", "for", None, None))]  # over-marked for one seat
    count = count_ballots(ballots, 1, CANDIDATES)
    tally = TallyInput.from_ballot_count(
        count, kind="people_congress", seats=1, ballots_issued=61, registered_voters=100
    )
    assert (tally.ballots_returned, tally.invalid_ballots) == (61, 1)
    result = count_round("people_congress", tally)
    assert result.elected == ("甲",)  # 31 × 2 > 61 who took part (the void ballot included)
    one_less = count_ballots(ballots[1:], 1, CANDIDATES)  # 30 of 60 valid, 61 took part
    tally = TallyInput.from_ballot_count(
        one_less, kind="people_congress", seats=1, ballots_issued=61, registered_voters=100
    )
    assert count_round("people_congress", tally).runoff.candidates == ("甲", "乙")
