"""Property tests for counting: bounds that hold for every lawful counting sheet."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.kinds import counting_params
from workflow.rules.tally import (
    Ballot,
    TallyInput,
    count_ballots,
    count_round,
)

KINDS = ("people_congress", "village_committee", "residents_committee", "party_branch")
PARAMS = {key: counting_params(key) for key in KINDS}
NAMES = ("甲", "乙", "丙", "丁", "戊", "己", "庚", "辛", "Li", "Zhang", "另选者")


@st.composite
def tallies(draw, round_=None):
    kind = draw(st.sampled_from(KINDS))
    seats = draw(st.integers(1, 5))
    round_ = round_ or draw(st.sampled_from((1, 2)))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=9, unique=True))
    extra: dict = {}
    if kind == "party_branch":
        entitled = draw(st.integers(1, 60))
        present = draw(st.integers(0, entitled))
        issued = draw(st.integers(0, present))
        extra = {"entitled": entitled, "present": present}
    else:
        registered = draw(st.integers(1, 300))
        issued = draw(st.integers(0, registered))
        extra = {"registered_voters": registered}
    returned = draw(st.integers(0, issued + 2))
    invalid = draw(st.integers(0, returned))
    valid = returned - invalid
    budget = valid * seats
    votes = {}
    for name in names:
        votes[name] = draw(st.integers(0, min(valid, budget)))
        budget -= votes[name]
    if round_ == 2:
        extra["runoff_candidates"] = tuple(names)
    return TallyInput(
        kind=kind,
        seats=seats,
        ballots_issued=issued,
        ballots_returned=returned,
        invalid_ballots=invalid,
        votes=votes,
        round=round_,
        **extra,
    )


def passes(tally: TallyInput, votes: int) -> bool:
    params = PARAMS[tally.kind]
    threshold = params.runoff_threshold if tally.round == 2 else params.elected
    return threshold.passes(votes, tally.quantity(threshold.base))


@settings(max_examples=300, deadline=None)
@given(tallies())
def test_elected_never_exceeds_seats_and_seats_add_up(tally):
    result = count_round(tally.kind, tally)
    assert len(result.elected) <= tally.seats
    assert len(set(result.elected)) == len(result.elected)
    assert result.unfilled == tally.seats - len(result.elected)
    if not result.valid:
        assert result.reasons and result.elected == ()
        assert result.runoff is None and result.tie_break is None
        return
    assert result.reasons == ()
    tie_seats = result.tie_break.seats if result.tie_break else 0
    runoff_seats = result.runoff.seats if result.runoff else 0
    assert not (result.tie_break and result.runoff)
    if tally.round == 1:
        assert len(result.elected) + tie_seats + runoff_seats == tally.seats
    else:
        assert result.runoff is None


@settings(max_examples=300, deadline=None)
@given(tallies())
def test_nobody_elected_below_the_threshold(tally):
    result = count_round(tally.kind, tally)
    for name in result.elected:
        assert passes(tally, tally.votes[name])
    if result.tie_break:
        tied = {tally.votes[n] for n in result.tie_break.candidates}
        assert len(tied) == 1 and all(passes(tally, v) for v in tied)
        assert len(result.tie_break.candidates) > result.tie_break.seats
    # Whoever is elected has at least as many votes as anyone passing who is not.
    if result.elected:
        lowest = min(tally.votes[n] for n in result.elected)
        others = [v for n, v in tally.votes.items() if n not in result.elected and passes(tally, v)]
        assert all(v <= lowest for v in others)


@settings(max_examples=300, deadline=None)
@given(tallies(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_candidate_order(tally, rng):
    items = list(tally.votes.items())
    rng.shuffle(items)
    runoff = list(tally.runoff_candidates)
    rng.shuffle(runoff)
    shuffled = TallyInput(**{**tally.__dict__, "votes": dict(items), "runoff_candidates": tuple(runoff)})
    assert count_round(tally.kind, shuffled).as_dict() == count_round(tally.kind, tally).as_dict()


@settings(max_examples=300, deadline=None)
@given(tallies(round_=1))
def test_runoff_list_is_the_not_elected_by_votes(tally):
    result = count_round(tally.kind, tally)
    if not result.runoff:
        return
    runoff = result.runoff
    listed = [tally.votes[n] for n in runoff.candidates]
    assert listed == sorted(listed, reverse=True)
    assert not set(runoff.candidates) & set(result.elected)
    left_out = [v for n, v in tally.votes.items() if n not in runoff.candidates and n not in result.elected]
    assert all(v <= min(listed) for v in left_out) if listed else not left_out
    assert runoff.min_candidates <= runoff.max_candidates
    if len(runoff.candidates) > runoff.max_candidates:  # only a tie the list cannot split
        assert any(d.code == "runoff_list_tie" for d in result.decisions)


# -- ballot level ---------------------------------------------------------------------------
MARKS = ("for", "against", "abstain", None)


@st.composite
def ballot_boxes(draw):
    candidates = tuple(draw(st.lists(st.sampled_from(NAMES[:8]), min_size=1, max_size=6, unique=True)))
    seats = draw(st.integers(1, 3))
    n = len(candidates)
    marks = st.lists(st.sampled_from(MARKS), min_size=n, max_size=n).map(tuple)
    write_ins = st.lists(st.sampled_from(("王五", "赵六", candidates[0], " ")), max_size=2).map(tuple)
    ballots = draw(st.lists(st.builds(Ballot, marks, write_ins), max_size=25))
    return candidates, seats, ballots


def reference_count(candidates, seats, ballots):
    """The statute read literally, one ballot at a time."""
    votes = dict.fromkeys(candidates, 0)
    invalid = 0
    for ballot in ballots:
        named = {c for c, m in zip(candidates, ballot.marks, strict=True) if m == "for"}
        named |= {w.strip() for w in ballot.write_ins if w.strip()}
        if len(named) > seats:
            invalid += 1
            continue
        for name in named:
            votes[name] = votes.get(name, 0) + 1
    return votes, invalid


@settings(max_examples=150, deadline=None)
@given(ballot_boxes(), st.randoms(use_true_random=False))
def test_ballot_count_matches_the_literal_reading_in_any_order(box, rng):
    candidates, seats, ballots = box
    expected_votes, expected_invalid = reference_count(candidates, seats, ballots)
    rng.shuffle(ballots)
    count = count_ballots(ballots, seats, candidates)
    assert count.votes == expected_votes
    assert count.invalid_ballots == expected_invalid
    assert count.ballots_returned == len(ballots)
    assert sum(count.votes.values()) <= count.valid_ballots * seats
    for name in candidates:
        assert count.votes[name] + count.against[name] + count.abstain[name] <= count.valid_ballots


def test_random_districts_count_end_to_end():
    rng = random.Random(7)
    for _ in range(50):
        candidates = ("甲", "乙", "丙", "丁")
        ballots = [
            Ballot(tuple(rng.choice(("for", "against", None)) for _ in candidates)) for _ in range(200)
        ]
        count = count_ballots(ballots, 2, candidates)
        tally = TallyInput.from_ballot_count(
            count, kind="people_congress", seats=2, ballots_issued=200, registered_voters=300
        )
        result = count_round("people_congress", tally)
        assert result.valid and len(result.elected) <= 2
