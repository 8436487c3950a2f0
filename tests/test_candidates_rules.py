"""Pure candidate rules: ratio per kind, structure, nomination limits, conflicts, proxies,
mobile boxes, primaries, and how a district's rounds add up."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from workflow.errors import DomainError
from workflow.kinds import get_kind, resolve_kind
from workflow.rules import candidate_structure as list_structure
from workflow.rules import candidates as rules
from workflow.rules import polling, results


def make_id(seq: int, birth: str = "19800101", region: str = "420821") -> str:
    body = f"{region}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def r(kind: str) -> rules.CandidateRules:
    return rules.CandidateRules.of(get_kind(kind))


# -- ratio --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "seats", "bounds"),
    [
        ("people_congress", 1, (2, 2)),  # EL 31/45: one seat → exactly two candidates
        ("people_congress", 2, (3, 4)),  # 2 × 4/3 = 8/3 → 3; 2 × 2 = 4
        ("people_congress", 3, (4, 6)),
        ("party_branch", 5, (6, None)),  # ≥ 20% more: 5 × 6/5 = 6
        ("party_branch", 3, (4, None)),  # 3.6 → 4
        ("residents_committee", 7, (7, None)),  # uncontested allowed
        ("village_committee", 3, (4, None)),  # VCL 15: more than seats
    ],
)
def test_ratio_bounds_per_kind(kind, seats, bounds):
    assert rules.ratio_bounds(r(kind), seats) == bounds


def test_ratio_check_edges_people_congress():
    pc = r("people_congress")
    assert not rules.check_ratio(pc, 3, 3).ok  # equal to seats: not 差额
    assert rules.check_ratio(pc, 3, 4).ok
    assert rules.check_ratio(pc, 3, 6).ok
    check = rules.check_ratio(pc, 3, 7)
    assert not check.ok and check.too_many
    error = rules.ratio_error("第1选区", check)
    assert error.code == "E_RATIO_OUT_OF_BOUNDS"
    assert "第1选区" in error.message and "选举法第三十一条" in error.message and "至多 6 名" in error.message


def test_ratio_refuses_zero_seats():
    with pytest.raises(DomainError) as info:
        rules.ratio_bounds(r("people_congress"), 0)
    assert info.value.code == "E_BAD_SEATS"


@given(st.integers(min_value=1, max_value=500))
def test_people_congress_bounds_are_the_tightest_integers(seats):
    least, most = rules.ratio_bounds(r("people_congress"), seats)
    assert Fraction(least) >= Fraction(4 * seats, 3) > least - 1
    assert most == 2 * seats


@given(st.integers(min_value=1, max_value=500))
def test_party_branch_at_least_a_fifth_more(seats):
    least, most = rules.ratio_bounds(r("party_branch"), seats)
    assert most is None
    assert Fraction(least) >= Fraction(6 * seats, 5) > least - 1


# -- structure --------------------------------------------------------------------------------
def profiles(women: int, cpc: int, cadres: int, total: int) -> list[list_structure.Profile]:
    out = []
    for i in range(total):
        out.append(
            list_structure.Profile(
                name=f"p{i}",
                sex="female" if i < women else "male",
                party="中国共产党" if i < cpc else "群众",
                occupation="cadre" if i < cadres else "farmer",
            )
        )
    return out


def test_structure_exactly_on_targets_has_no_warning():
    # 30% women (at least), 65% CPC (at most), cadres 24% (below 25%): all fine.
    report = list_structure.structure_report(r("people_congress"), profiles(30, 65, 24, 100))
    assert report.warnings == []
    shares = {s.key: s.as_dict() for s in report.shares}
    assert shares["women"]["share"] == "3/10" and shares["cpc"]["share"] == "13/20"


def test_structure_just_past_each_target_warns():
    report = list_structure.structure_report(r("people_congress"), profiles(29, 66, 25, 100), "选区 01")
    assert len(report.warnings) == 3
    assert all(w.startswith("选区 01：") for w in report.warnings)
    assert any("妇女 29/100" in w for w in report.warnings)
    assert any("中共党员 66/100" in w for w in report.warnings)
    assert any("党政干部 25/100" in w for w in report.warnings)  # cadres must be *below* 25%
    assert report.front_line == 75


def test_structure_without_targets_or_people():
    assert list_structure.structure_report(r("party_branch"), profiles(0, 5, 5, 5)).warnings == []
    assert list_structure.structure_report(r("people_congress"), []).warnings == []


# -- nominations ------------------------------------------------------------------------------
def voters_nomination(n: int, start: int = 1) -> rules.Nomination:
    return rules.Nomination(
        "01",
        "张三",
        rules.NominatorType.VOTERS,
        supporters=tuple(make_id(i) for i in range(start, start + n)),
    )


def test_ten_voters_may_nominate_nine_may_not():
    pc = r("people_congress")
    existing = rules.DistrictNominations(seats=2)
    assert len(rules.check_nomination(pc, voters_nomination(10), existing)) == 10
    with pytest.raises(DomainError) as info:
        rules.check_nomination(pc, voters_nomination(9), existing)
    assert info.value.code == "E_TOO_FEW_NOMINATORS" and "第三十条" in info.value.message


def test_a_voter_may_not_back_more_candidates_than_seats():
    pc = r("people_congress")
    ids = [make_id(i) for i in range(1, 11)]
    ok = rules.DistrictNominations(seats=2, by_supporter={ids[0]: 1})
    rules.check_nomination(pc, voters_nomination(10), ok)
    full = rules.DistrictNominations(seats=2, by_supporter={ids[0]: 2})
    with pytest.raises(DomainError) as info:
        rules.check_nomination(pc, voters_nomination(10), full)
    assert info.value.code == "E_SUPPORTER_LIMIT"
    assert ids[0] not in info.value.message  # masked, never whole
    assert rules.mask_id(ids[0]) in info.value.message


def test_bad_or_duplicate_supporter_ids_are_refused():
    pc = r("people_congress")
    ids = [make_id(i) for i in range(1, 11)]
    bad = ids[0][:-1] + ("0" if ids[0][-1] != "0" else "1")
    with pytest.raises(DomainError) as info:
        rules.check_nomination(
            pc,
            rules.Nomination("01", "张三", rules.NominatorType.VOTERS, supporters=(bad, *ids[1:])),
            rules.DistrictNominations(2),
        )
    assert info.value.code == "E_BAD_ID_NUMBER"
    with pytest.raises(DomainError) as info:
        rules.check_nomination(
            pc,
            rules.Nomination("01", "张三", rules.NominatorType.VOTERS, supporters=(*ids, ids[3])),
            rules.DistrictNominations(2),
        )
    assert info.value.code == "E_DUPLICATE_SUPPORTER"
    with pytest.raises(DomainError):
        rules.normalise_id(make_id(1, birth="19800231"))  # no 31 February


def test_voters_nomination_names_no_party():
    nomination = rules.Nomination(
        "01",
        "张三",
        rules.NominatorType.VOTERS,
        nominators=("中国共产党",),
        supporters=tuple(make_id(i) for i in range(1, 11)),
    )
    with pytest.raises(DomainError) as info:
        rules.check_nomination(r("people_congress"), nomination, rules.DistrictNominations(2))
    assert info.value.code == "E_NOMINATORS_NOT_ALLOWED"


def test_party_may_not_back_more_candidates_than_seats_jointly_or_singly():
    pc = r("people_congress")
    joint = rules.Nomination("01", "李四", rules.NominatorType.PARTY, nominators=("中国共产党", "共青团"))
    rules.check_nomination(pc, joint, rules.DistrictNominations(2, by_nominator={"中国共产党": 1}))
    with pytest.raises(DomainError) as info:
        rules.check_nomination(pc, joint, rules.DistrictNominations(2, by_nominator={"共青团": 2}))
    assert info.value.code == "E_NOMINATOR_LIMIT" and "共青团" in info.value.message
    with pytest.raises(DomainError) as info:
        rules.check_nomination(
            pc, rules.Nomination("01", "李四", rules.NominatorType.ORGANISATION), rules.DistrictNominations(2)
        )
    assert info.value.code == "E_NOMINATOR_REQUIRED"


def test_mask_and_hash():
    number = make_id(7)
    assert rules.mask_id(number) == number[:6] + "*" * 11 + number[-1:]
    assert rules.id_hash(number) == rules.id_hash(number.lower())
    assert len(rules.id_hash(number)) == 64


# -- conflicts (EL 10) ---------------------------------------------------------------------------
def test_committee_member_who_is_candidate_must_resign():
    h = rules.id_hash(make_id(1))
    people = [rules.Person("王五", h, None, "01"), rules.Person("赵六", None, date(1970, 1, 1), "02")]
    members = [
        rules.CommitteeSeat("王五", "委员", h),
        rules.CommitteeSeat("赵六", "副主任", None, date(1970, 1, 1)),
        rules.CommitteeSeat("钱七", "主任"),
    ]
    found = rules.committee_conflicts(
        people, members, get_kind("people_congress").cite("committee_member_candidate")
    )
    assert [(c.candidate, c.certain) for c in found] == [("王五", True), ("赵六", False)]
    assert "选举法第十条" in found[0].as_dict()["message"]
    resigned = [rules.CommitteeSeat("王五", "委员", h, resigned_on=date(2011, 10, 1))]
    assert rules.committee_conflicts(people, resigned) == []
    # Same name, different person (ID numbers differ): no conflict.
    other = [rules.CommitteeSeat("王五", "委员", rules.id_hash(make_id(2)))]
    assert rules.committee_conflicts(people, other) == []


# -- proxies and mobile boxes ------------------------------------------------------------------
def proxy(grantor: int, holder: int, **kw) -> polling.ProxyRequest:
    args = {"consent_document": "委托书001", "approved": True, **kw}
    return polling.ProxyRequest(make_id(grantor), make_id(holder), **args)


def test_proxy_holder_at_most_three():
    pc = r("people_congress")
    polling.check_proxy(pc, proxy(1, 2), holder_count=2, grantor_count=0)
    with pytest.raises(DomainError) as info:
        polling.check_proxy(pc, proxy(1, 2), holder_count=3, grantor_count=0)
    assert info.value.code == "E_PROXY_LIMIT" and "第四十二条" in info.value.message


@pytest.mark.parametrize(
    ("request_kw", "counts", "code"),
    [
        ({"consent_document": " "}, (0, 0), "E_PROXY_NO_CONSENT"),
        ({"approved": False}, (0, 0), "E_PROXY_NOT_APPROVED"),
        ({}, (0, 1), "E_PROXY_DUPLICATE"),
    ],
)
def test_proxy_needs_written_approved_single_grant(request_kw, counts, code):
    with pytest.raises(DomainError) as info:
        polling.check_proxy(
            r("people_congress"), proxy(1, 2, **request_kw), holder_count=counts[0], grantor_count=counts[1]
        )
    assert info.value.code == code


def test_proxy_self_and_village_relatives():
    with pytest.raises(DomainError):
        polling.check_proxy(r("people_congress"), proxy(1, 1), holder_count=0, grantor_count=0)
    vc = r("village_committee")
    polling.check_proxy(vc, proxy(1, 2, relationship="配偶"), holder_count=0, grantor_count=0)
    with pytest.raises(DomainError) as info:
        polling.check_proxy(vc, proxy(1, 2, relationship="邻居"), holder_count=0, grantor_count=0)
    assert info.value.code == "E_PROXY_NOT_RELATIVE"


def test_mobile_box_needs_two_distinct_scrutineers_not_candidates():
    # The numbers are provincial (EL 38 fixes none): Zhejiang art. 40 ¶4, two scrutineers.
    pc = rules.CandidateRules.of(resolve_kind("people_congress", jurisdiction="330104", on=date(2021, 11, 1)))
    assert polling.check_mobile_box(pc, ["甲", " 乙 "], ["张三"]) == ["甲", "乙"]
    for scrutineers, code in [
        (["甲"], "E_TOO_FEW_SCRUTINEERS"),
        (["甲", "甲"], "E_DUPLICATE_SCRUTINEER"),
        (["甲", "张三"], "E_SCRUTINEER_IS_CANDIDATE"),
        (["甲", " "], "E_TOO_FEW_SCRUTINEERS"),
    ]:
        with pytest.raises(DomainError) as info:
            polling.check_mobile_box(pc, scrutineers, ["张三"])
        assert info.value.code == code


# -- primaries and tie-breaks --------------------------------------------------------------------
def test_primary_ranking_and_tie_across_cut_off():
    assert rules.rank_by_votes({"a": 5, "b": 9, "c": 7, "d": 1}, 2).selected == ("b", "c")
    tie = rules.rank_by_votes({"a": 5, "b": 9, "c": 5, "d": 5}, 2)
    assert tie.selected == ("b",) and tie.tied == ("a", "c", "d") and tie.open_places == 1
    assert rules.rank_by_votes({"a": 5, "b": 5}, 2).tied == ()  # tie inside the places: fine


@given(
    st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 20), max_size=8),
    st.integers(0, 8),
    st.randoms(),
)
def test_ranking_does_not_depend_on_input_order(votes, places, rnd):
    items = list(votes.items())
    rnd.shuffle(items)
    a, b = rules.rank_by_votes(votes, places), rules.rank_by_votes(dict(items), places)
    assert a == b
    assert len(a.selected) + a.open_places == min(places, len(votes))
    assert all(votes[s] > votes[t] for s in a.selected for t in a.tied)


# -- a district's rounds --------------------------------------------------------------------------
def doc(elected=(), valid=True, runoff=None, tie=None, unfilled=0) -> dict:
    return {
        "valid": valid,
        "reasons": [],
        "elected": list(elected),
        "unfilled": unfilled,
        "runoff": runoff,
        "tie_break": tie,
    }


def test_progress_first_round_then_runoff_then_vacancy():
    runoff = {"seats": 2, "candidates": ["c", "d", "e", "f"], "min_candidates": 3, "max_candidates": 4}
    rounds = [results.Round(1, "first", {"a": 60, "c": 40}, doc(["a"], runoff=runoff, unfilled=2))]
    p = results.progress(3, rounds)
    assert [e.name for e in p.elected] == ["a"] and p.pending["purpose"] == "runoff" and p.vacant == 0
    rounds.append(results.Round(2, "runoff", {"c": 50}, doc(["c"], unfilled=1)))
    p = results.progress(3, rounds)
    assert (
        p.done
        and p.vacant == 1
        and [(e.name, e.votes, e.round) for e in p.elected] == [("a", 60, 1), ("c", 50, 2)]
    )


def test_progress_void_round_is_voted_again_and_order_is_enforced():
    p = results.progress(1, [results.Round(1, "first", {}, doc(valid=False))])
    assert p.pending == {"purpose": "first", "seats": 1, "after_void": True} and p.void_rounds == 1
    with pytest.raises(DomainError) as info:
        results.progress(1, [results.Round(1, "runoff", {}, doc())])
    assert info.value.code == "E_WRONG_ROUND"
    with pytest.raises(DomainError):
        results.progress(
            1, [results.Round(1, "first", {"a": 9}, doc(["a"])), results.Round(2, "first", {}, doc())]
        )


def test_tie_break_then_done():
    tie = {"seats": 1, "candidates": ["b", "c"]}
    p = results.progress(
        2, [results.Round(1, "first", {"a": 9, "b": 7, "c": 7}, doc(["a"], tie=tie, unfilled=1))]
    )
    assert p.pending == {"purpose": "tie_break", "seats": 1, "candidates": ["b", "c"]}
    again = results.tie_break_result(1, ["b", "c"], {"b": 4, "c": 4})
    assert again["elected"] == [] and again["tie_break"] == {"seats": 1, "candidates": ["b", "c"]}
    won = results.tie_break_result(1, ["b", "c"], {"b": 3, "c": 5})
    p = results.progress(
        2,
        [
            results.Round(1, "first", {"a": 9, "b": 7, "c": 7}, doc(["a"], tie=tie, unfilled=1)),
            results.Round(2, "tie_break", {"b": 4, "c": 4}, again),
            results.Round(3, "tie_break", {"b": 3, "c": 5}, won),
        ],
    )
    assert p.done and [e.name for e in p.elected] == ["a", "c"] and p.vacant == 0
    with pytest.raises(DomainError):
        results.tie_break_result(1, ["b", "c"], {"x": 1})


def test_runoff_list_follows_first_round_order():
    pending = {
        "purpose": "runoff",
        "seats": 1,
        "candidates": ["b", "c"],
        "min_candidates": 2,
        "max_candidates": 2,
    }
    results.check_runoff_list(pending, ["c", "b"])
    for chosen in (["b"], ["b", "x"], ["b", "b"]):
        with pytest.raises(DomainError):
            results.check_runoff_list(pending, chosen)
    three = {
        "purpose": "runoff",
        "seats": 3,
        "candidates": list("bcdefg"),
        "min_candidates": 4,
        "max_candidates": 6,
    }
    results.check_runoff_list(three, list("bcde"))
    with pytest.raises(DomainError):
        results.check_runoff_list(three, list("bcdg"))  # skips e and f
    with pytest.raises(DomainError):
        results.check_runoff_list(three, list("bcd"))  # fewer than ⌈4k/3⌉


@given(
    st.integers(1, 3),
    st.lists(st.integers(0, 1000), min_size=2, max_size=7),
    st.lists(st.integers(0, 1000), min_size=6, max_size=6),
)
def test_rounds_never_elect_more_than_seats(seats, first_votes, runoff_votes):
    """First round, then the runoff the result asks for (with the longest lawful list): the
    district ends done, with elected + vacant = seats and nobody elected twice."""
    from workflow.rules.tally import count_tally_document

    names = [f"c{i}" for i in range(len(first_votes))]
    ballots = max(1000, sum(first_votes), sum(runoff_votes))  # every vote fits on a ballot
    first = {
        "seats": seats,
        "registered_voters": 3 * ballots // 2,
        "ballots_issued": ballots,
        "ballots_returned": ballots,
        "votes": dict(zip(names, first_votes, strict=True)),
        "round": 1,
    }
    rounds = [
        results.Round(
            1,
            "first",
            first["votes"],
            count_tally_document({"kind": "people_congress", "invalid_ballots": 0, **first}).as_dict(),
        )
    ]
    p = results.progress(seats, rounds)
    if not p.done:
        pending = p.pending
        chosen = pending["candidates"][: pending["max_candidates"]]
        results.check_runoff_list(pending, chosen)
        second = {
            **first,
            "seats": pending["seats"],
            "round": 2,
            "runoff_candidates": chosen,
            "votes": dict(zip(chosen, runoff_votes, strict=False)),
        }
        rounds.append(
            results.Round(
                2,
                "runoff",
                second["votes"],
                count_tally_document({"kind": "people_congress", "invalid_ballots": 0, **second}).as_dict(),
            )
        )
        p = results.progress(seats, rounds)
    elected = [e.name for e in p.elected]
    assert len(elected) == len(set(elected)) and len(elected) <= seats
    if p.done:
        assert len(elected) + p.vacant == seats
    else:  # a tie across the last seat of the runoff: a new vote among the tied (EL 45)
        assert p.pending["purpose"] == "tie_break"
