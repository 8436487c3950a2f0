"""Counting rules (workflow/rules/tally.py): each threshold of the law at its edge."""

from __future__ import annotations

import pytest

from workflow.errors import DomainError
from workflow.kinds import KINDS_DIR, all_kinds, counting_params, parse_kind
from workflow.rules.tally import (
    CountingParams,
    TallyInput,
    count_round,
    count_tally_document,
)


def congress(votes, *, seats=1, registered=100, issued=60, returned=None, invalid=0, **extra):
    return TallyInput(
        kind="people_congress",
        seats=seats,
        registered_voters=registered,
        ballots_issued=issued,
        ballots_returned=issued if returned is None else returned,
        invalid_ballots=invalid,
        votes=votes,
        **extra,
    )


def branch(votes, *, seats=5, entitled=30, present=28, issued=None, returned=None, **extra):
    issued = present if issued is None else issued
    return TallyInput(
        kind="party_branch",
        seats=seats,
        entitled=entitled,
        present=present,
        ballots_issued=issued,
        ballots_returned=issued if returned is None else returned,
        invalid_ballots=0,
        votes=votes,
        **extra,
    )


def codes(result):
    return [d.code for d in result.decisions]


SEED_VOTES = {"张明": 28, "李华": 28, "王芳": 28, "赵强": 28, "陈静": 28, "刘洋": 0}


# -- the seed's party branch ----------------------------------------------------------------
def test_seed_party_branch_elects_the_five():
    result = count_round("party_branch", branch(SEED_VOTES))
    assert result.valid and result.reasons == ()
    assert set(result.elected) == {"张明", "李华", "王芳", "赵强", "陈静"}
    assert list(result.elected) == sorted(result.elected)  # equal votes → code-point order
    assert result.unfilled == 0 and result.runoff is None and result.tie_break is None
    assert "quorum_met" in codes(result)
    assert result.as_dict() | {"decisions": None} == {
        "valid": True,
        "reasons": [],
        "elected": sorted(n for n in SEED_VOTES if n != "刘洋"),
        "unfilled": 0,
        "runoff": None,
        "tie_break": None,
        "decisions": None,
    }


def test_seed_party_branch_with_exactly_four_fifths_present_is_invalid_for_quorum():
    result = count_round("party_branch", branch({n: min(v, 24) for n, v in SEED_VOTES.items()}, present=24))
    assert not result.valid
    assert result.elected == () and result.unfilled == 5
    assert result.runoff is None and result.tie_break is None
    assert len(result.reasons) == 1 and "法定人数" in result.reasons[0]
    assert "24" in result.reasons[0] and "30" in result.reasons[0]
    quorum = next(d for d in result.decisions if d.code == "quorum_not_met")
    assert quorum.reason == result.reasons[0] and "条例" in quorum.rule


def test_seed_sheet_with_only_present_changed_is_still_counted_invalid():
    result = count_round("party_branch", branch(SEED_VOTES, present=24, issued=28))
    assert not result.valid and len(result.reasons) == 1 and "法定人数" in result.reasons[0]
    assert "ballots_exceed_present" in codes(result)


def test_party_branch_twenty_five_present_is_a_quorum():
    assert count_round("party_branch", branch({"甲": 25}, seats=1, present=25)).valid


def test_party_branch_exactly_half_of_present_fails_and_runoff_needs_one_fifth_more():
    votes = {"甲": 15, "乙": 14, "丙": 14, "丁": 10, "戊": 3, "己": 2}
    result = count_round("party_branch", branch(votes, seats=3))
    assert result.elected == ("甲",)  # 15 × 2 > 28; 14 × 2 = 28 is not more than half
    assert result.runoff is not None
    assert (result.runoff.seats, result.runoff.min_candidates, result.runoff.max_candidates) == (2, 3, 4)
    assert result.runoff.candidates == ("丙", "乙", "丁", "戊")  # not 乙/丙 order by input


def test_party_branch_runoff_threshold_stays_more_than_half_of_present():
    runoff = ("乙", "丙", "丁")
    passed = branch({"乙": 15, "丙": 10, "丁": 3}, seats=2, round=2, runoff_candidates=runoff)
    result = count_round("party_branch", passed)
    assert result.elected == ("乙",) and result.unfilled == 1 and result.runoff is None
    assert "vacant" in codes(result)
    half = branch({"乙": 14, "丙": 14}, seats=2, round=2, runoff_candidates=runoff)
    assert count_round("party_branch", half).elected == ()


# -- people's congress: validity ------------------------------------------------------------
def test_turnout_exactly_half_is_invalid():
    result = count_round("people_congress", congress({"甲": 50}, registered=100, issued=50))
    assert not result.valid and "turnout_not_met" in codes(result)
    assert "50" in result.reasons[0] and "100" in result.reasons[0]
    assert result.unfilled == 1


def test_turnout_one_more_than_half_is_valid():
    result = count_round("people_congress", congress({"甲": 51}, registered=100, issued=51))
    assert result.valid and result.elected == ("甲",)


def test_more_ballots_returned_than_issued_voids_the_round():
    result = count_round("people_congress", congress({"甲": 60}, issued=60, returned=61))
    assert not result.valid and result.elected == ()
    assert codes(result)[0] == "void_more_ballots_than_voters"
    assert result.decisions[0].rule == "选举法第四十四条第一款"


def test_returned_equal_to_issued_is_not_void():
    assert count_round("people_congress", congress({"甲": 60}, issued=60, returned=60)).valid


def test_void_and_low_turnout_both_named():
    result = count_round("people_congress", congress({"甲": 40}, registered=100, issued=40, returned=41))
    assert not result.valid and len(result.reasons) == 2


# -- people's congress: winners -------------------------------------------------------------
def test_exactly_half_the_votes_is_not_elected():
    result = count_round("people_congress", congress({"甲": 30, "乙": 29}, issued=60))
    assert result.elected == ()
    below = [d for d in result.decisions if d.code == "below_threshold"]
    assert {d.names[0] for d in below} == {"甲", "乙"}
    assert all(d.rule == "选举法第四十五条第一款" for d in below)


def test_one_vote_more_than_half_is_elected():
    result = count_round("people_congress", congress({"甲": 31, "乙": 29}, issued=60))
    assert result.elected == ("甲",) and result.unfilled == 0 and result.runoff is None


def test_threshold_is_of_those_who_took_part_not_of_valid_ballots():
    # 60 took part, 20 ballots invalid: 31 votes is more than half of 60, 30 is not.
    assert count_round("people_congress", congress({"甲": 31}, issued=60, invalid=20)).elected == ("甲",)
    assert count_round("people_congress", congress({"甲": 30}, issued=60, invalid=20)).elected == ()


def test_more_passing_than_seats_most_votes_win():
    votes = {"甲": 70, "乙": 65, "丙": 55, "丁": 5}
    result = count_round("people_congress", congress(votes, seats=2, registered=150, issued=100))
    assert result.elected == ("甲", "乙") and result.tie_break is None
    assert "outranked" in codes(result)


def test_tie_at_the_cut_off_calls_a_new_vote_among_the_tied():
    votes = {"甲": 60, "乙": 55, "丙": 55, "丁": 20}
    result = count_round("people_congress", congress(votes, seats=2, registered=150, issued=100))
    assert result.elected == ("甲",)
    assert result.tie_break is not None
    assert result.tie_break.as_dict() == {"seats": 1, "candidates": ["丙", "乙"]}
    assert result.unfilled == 1 and result.runoff is None
    tie = next(d for d in result.decisions if d.code == "tie_break")
    assert tie.rule == "选举法第四十五条第三款"


def test_tie_inside_the_seats_is_no_tie_break():
    votes = {"甲": 40, "乙": 40, "丙": 35}
    result = count_round("people_congress", congress(votes, seats=2, issued=60))
    assert result.elected == ("乙", "甲")  # equal votes: code-point order (乙 U+4E59 < 甲 U+7532)
    assert result.tie_break is None


def test_write_in_counts_like_a_candidate():
    result = count_round("people_congress", congress({"甲": 20, "另选者": 35}, issued=60))
    assert result.elected == ("另选者",)


# -- runoff lists ---------------------------------------------------------------------------
def test_runoff_list_for_one_seat_has_exactly_two_names():
    votes = {"甲": 25, "乙": 20, "丙": 10, "写入者": 4}
    result = count_round("people_congress", congress(votes, seats=1, issued=60))
    assert result.elected == () and result.unfilled == 1
    assert result.runoff.as_dict() == {
        "seats": 1,
        "candidates": ["甲", "乙"],
        "min_candidates": 2,
        "max_candidates": 2,
    }


def test_runoff_list_for_three_seats_allows_four_to_six():
    votes = {"甲": 31, "乙": 29, "丙": 28, "丁": 27, "戊": 20, "己": 15, "庚": 12, "辛": 5, "壬": 1}
    result = count_round("people_congress", congress(votes, seats=4, issued=60))
    assert result.elected == ("甲",)
    runoff = result.runoff
    assert (runoff.seats, runoff.min_candidates, runoff.max_candidates) == (3, 4, 6)
    assert runoff.candidates == ("乙", "丙", "丁", "戊", "己", "庚")  # top 2k by first-round votes


def test_runoff_list_includes_write_ins_and_zero_vote_candidates_when_few_remain():
    votes = {"甲": 31, "乙": 20, "另选者": 9, "丙": 0}
    result = count_round("people_congress", congress(votes, seats=3, issued=60))
    assert result.elected == ("甲",)
    assert result.runoff.candidates == ("乙", "另选者", "丙")
    assert (result.runoff.min_candidates, result.runoff.max_candidates) == (3, 4)


def test_runoff_list_fewer_than_minimum_is_reported():
    result = count_round("people_congress", congress({"甲": 31, "乙": 20}, seats=3, issued=60))
    assert result.runoff.candidates == ("乙",) and result.runoff.min_candidates == 3
    assert "runoff_list_short" in codes(result)


def test_runoff_list_tie_at_the_cut_off_is_left_out_when_the_minimum_holds():
    # k = 3: 4–6 names. Five clear names, then three tied for the sixth place → list of five.
    votes = {"甲": 29, "乙": 28, "丙": 27, "丁": 26, "戊": 25, "己": 9, "庚": 9, "辛": 9}
    result = count_round("people_congress", congress(votes, seats=3, issued=60))
    assert result.runoff.candidates == ("甲", "乙", "丙", "丁", "戊")
    assert "runoff_list_tie_left_out" in codes(result)


def test_runoff_list_tie_that_spans_the_lawful_range_is_listed_whole_for_the_committee():
    votes = {"甲": 25, "乙": 10, "丙": 10}
    result = count_round("people_congress", congress(votes, seats=1, issued=60))
    assert result.runoff.candidates == ("甲", "丙", "乙")
    assert len(result.runoff.candidates) > result.runoff.max_candidates == 2
    tie = next(d for d in result.decisions if d.code == "runoff_list_tie")
    assert tie.names == ("丙", "乙")


def test_runoff_list_tie_within_the_maximum_is_kept():
    votes = {"甲": 25, "乙": 10, "丙": 10, "丁": 5}
    result = count_round("people_congress", congress(votes, seats=2, issued=60))  # 3–4 names
    assert result.runoff.candidates == ("甲", "丙", "乙", "丁")


# -- round 2 (另行选举) ----------------------------------------------------------------------
def runoff_round(votes, *, seats=1, returned=60, invalid=0, candidates=None):
    return congress(
        votes,
        seats=seats,
        issued=60,
        returned=returned,
        invalid=invalid,
        round=2,
        runoff_candidates=tuple(candidates or votes),
    )


def test_runoff_winner_with_exactly_a_third_of_ballots_is_elected():
    # 60 ballots returned (10 invalid): 20 × 3 = 60 ≥ 60.
    result = count_round("people_congress", runoff_round({"甲": 20, "乙": 19}, invalid=10))
    assert result.valid and result.elected == ("甲",) and result.unfilled == 0
    elected = next(d for d in result.decisions if d.code == "elected")
    assert elected.rule == "选举法第四十五条第五款"


def test_runoff_winner_one_vote_short_of_a_third_leaves_the_seat_unfilled():
    # The Election Law does not say the seat stays vacant (a province's rules may: see
    # tests/test_law_defects.py); the count reports it unfilled.
    result = count_round("people_congress", runoff_round({"甲": 19, "乙": 18}, invalid=10))
    assert result.valid and result.elected == ()
    assert result.unfilled == 1 and result.runoff is None and result.tie_break is None
    assert "unfilled_after_runoff" in codes(result)


def test_runoff_most_votes_win_among_those_passing_a_third():
    votes = {"甲": 25, "乙": 22, "丙": 21, "丁": 5}
    result = count_round("people_congress", runoff_round(votes, seats=2))
    assert result.elected == ("甲", "乙")


def test_runoff_tie_at_cut_off():
    result = count_round("people_congress", runoff_round({"甲": 25, "乙": 25}))
    assert result.elected == () and result.tie_break.as_dict() == {"seats": 1, "candidates": ["乙", "甲"]}


def test_runoff_is_void_too_when_more_returned_than_issued():
    result = count_round("people_congress", runoff_round({"甲": 30, "乙": 20}, returned=61))
    assert not result.valid and result.elected == ()


def test_runoff_candidate_without_votes_counts_zero():
    result = count_round("people_congress", runoff_round({"甲": 30}, candidates=("甲", "乙")))
    assert result.elected == ("甲",)
    assert any(d.code == "below_threshold" and d.names == ("乙",) for d in result.decisions)


def test_runoff_list_outside_the_ratio_is_flagged_not_refused():
    result = count_round("people_congress", runoff_round({"甲": 30, "乙": 20, "丙": 5}))
    assert result.elected == ("甲",) and "runoff_list_outside_ratio" in codes(result)


# -- village and residents' committees ----------------------------------------------------
def village(votes, **kw):
    data = {
        "kind": "village_committee",
        "seats": kw.pop("seats", 1),
        "registered_voters": 1000,
        "ballots_issued": 800,
        "ballots_returned": 800,
        "invalid_ballots": 0,
        "votes": votes,
        **kw,
    }
    return count_tally_document(data)


def test_village_committee_uses_its_own_law():
    result = village({"甲": 401, "乙": 399})
    assert result.elected == ("甲",)
    assert result.decisions[-1].rule == "村委会组织法第十五条第二款"
    assert village({"甲": 400, "乙": 399}).runoff.candidates == ("甲", "乙")


def test_village_committee_runoff_third_of_all_ballots_cast():
    rule = {"round": 2, "runoff_candidates": ["甲", "乙"]}
    assert village({"甲": 267, "乙": 266}, **rule).elected == ("甲",)  # 267 × 3 = 801 ≥ 800
    assert village({"甲": 266, "乙": 265}, **rule).elected == ()  # 798 < 800


def test_residents_committee_defaults_to_majorities():
    data = {
        "kind": "residents_committee",
        "seats": 2,
        "registered_voters": 100,
        "ballots_issued": 51,
        "ballots_returned": 51,
        "invalid_ballots": 0,
        "votes": {"甲": 26, "乙": 25},
    }
    result = count_tally_document(data)
    assert result.valid and result.elected == ("甲",) and result.runoff.seats == 1
    assert not count_tally_document(data | {"ballots_issued": 50, "ballots_returned": 50}).valid
    # Its runoff keeps the majority rule (provincial parameter), not the third.
    second = data | {"seats": 1, "round": 2, "runoff_candidates": ["乙", "丙"], "votes": {"乙": 25, "丙": 20}}
    assert count_tally_document(second).elected == ()


def test_every_kind_file_has_parseable_counting_rules():
    for kind in all_kinds().values():
        params = counting_params(kind)
        assert params.kind == kind.key
        assert params.source("turnout") and params.source("elected")


def test_a_kind_table_may_give_thresholds_as_tables():
    params = CountingParams.from_table(
        "people_congress",
        {
            "turnout": {"of": "registered_voters", "more_than": "2/3"},
            "elected": {"of": "ballots_returned", "at_least": "1/2"},
            "runoff_threshold": "one_third_of_ballots",
            "runoff_ratio": {"min_more": "1/5", "max_more": "1/2"},
            "source": "test",
        },
    )
    assert params.runoff_ratio.bounds(4) == (5, 6)
    result = count_round(params, congress({"甲": 30, "乙": 30}, registered=90, issued=61, returned=60))
    assert result.valid and result.tie_break is not None  # 30 × 2 ≥ 60: at least half
    assert not count_round(params, congress({"甲": 30}, registered=90, issued=60)).valid  # 60 = 2/3


def test_a_kind_file_with_broken_counting_rules_fails_on_load():
    text = (KINDS_DIR / "village_committee.toml").read_text(encoding="utf-8")
    broken = text.replace('elected = "participants_more_than_half"', 'elected = "most_votes"')
    assert broken != text
    with pytest.raises(DomainError) as caught:
        parse_kind(broken, "village_committee.toml")
    assert caught.value.code == "E_KIND_INVALID" and "counting.elected" in caught.value.message


@pytest.mark.parametrize(
    "table, key",
    [
        ({"turnout": "nope"}, "counting.turnout"),
        ({"turnout": "registered_more_than_half", "elected": {"of": "moon", "more_than": "1/2"}}, "of"),
        ({"turnout": "registered_more_than_half", "elected": {"of": "present"}}, "more_than"),
    ],
)
def test_broken_counting_tables_name_the_key(table, key):
    with pytest.raises(ValueError, match=key):
        CountingParams.from_table("x", table)


# -- bad input ------------------------------------------------------------------------------
GOOD = {
    "kind": "people_congress",
    "seats": 1,
    "registered_voters": 100,
    "ballots_issued": 60,
    "ballots_returned": 60,
    "invalid_ballots": 0,
    "votes": {"甲": 40, "乙": 20},
}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"seats": None}, "seats"),
        ({"votes": None}, "votes"),
        ({"registered_voters": None}, "registered_voters"),
        ({"seats": 0}, "seats"),
        ({"ballots_issued": -1}, "ballots_issued"),
        ({"invalid_ballots": 61}, "invalid_ballots"),
        ({"ballots_issued": 101}, "ballots_issued"),
        ({"seats": 1.5}, "seats"),
        ({"seats": True}, "seats"),
        ({"votes": {"甲": 61}}, "votes.甲"),
        ({"votes": {"甲": -1}}, "votes.甲"),
        ({"votes": {"甲": 40, "乙": 30}}, "votes"),
        ({"votes": {"": 1}}, "votes"),
        ({"kind": "senate"}, "kind"),
        ({"round": 3}, "round"),
        ({"round": 2}, "runoff_candidates"),
        ({"round": 2, "runoff_candidates": ["甲", "甲"], "votes": {"甲": 1}}, "runoff_candidates"),
        ({"runoff_candidates": ["甲"]}, "runoff_candidates"),
        ({"ballot_issued": 60}, "ballot_issued"),
    ],
)
def test_bad_input_names_the_field(change, field):
    data = {k: v for k, v in (GOOD | change).items() if v is not None}
    with pytest.raises(DomainError) as caught:
        count_tally_document(data)
    assert caught.value.field == field
    assert caught.value.code.startswith("E_")


def test_party_branch_needs_entitled_and_present():
    data = GOOD | {"kind": "party_branch"}
    with pytest.raises(DomainError) as caught:
        count_tally_document(data)
    assert caught.value.field in {"entitled", "present"}
    with pytest.raises(DomainError) as caught:
        count_tally_document(data | {"entitled": 50, "present": 51})
    assert caught.value.field == "present"


def test_params_of_another_kind_are_refused():
    with pytest.raises(DomainError) as caught:
        count_round("party_branch", congress({"甲": 40}))
    assert caught.value.field == "kind"


def test_decisions_all_carry_reason_and_rule():
    votes = {"甲": 50, "乙": 40, "丙": 40, "丁": 20}
    for result in (
        count_round("people_congress", congress(votes, seats=2, registered=150, issued=100)),
        count_round("people_congress", congress(votes, seats=3, issued=90, registered=100)),
        count_round("party_branch", branch(SEED_VOTES, present=24, issued=28)),
    ):
        assert result.decisions
        for decision in result.decisions:
            assert decision.reason and decision.rule
