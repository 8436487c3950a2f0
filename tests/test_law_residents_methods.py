"""RCL 2025 art. 14 ¶1 (all voters, one representative per household, or the residents'
representatives) with art. 19 ¶1's turnout for each way: more than half of the voters, more than
half of the household representatives, over two thirds of the residents' representatives. A
tally names its `method`; the 2018 text (art. 8) names the ways and leaves their turnout to the
provincial measures."""

from __future__ import annotations

from datetime import date

import pytest

from tests.law_texts import RCL2018, RCL2025, article
from workflow.errors import DomainError
from workflow.kinds import counting_params, resolve_kind
from workflow.rules.tally import TallyInput, count_round


def kind(on: date = date(2026, 12, 27)):
    return resolve_kind("residents_committee", jurisdiction="420821100-001", on=on)


def tally(registered: int, issued: int, method: str | None) -> TallyInput:
    return TallyInput(
        kind="residents_committee",
        seats=1,
        registered_voters=registered,
        ballots_issued=issued,
        ballots_returned=issued,
        invalid_ballots=0,
        votes={"张三": issued - 2, "李四": 2},
        method=method,
    )


def test_the_texts():
    assert "由本社区全体有选举权的居民或者由每户派代表选举产生；根据居民意见，也可以由居民代表选举产生" in article(RCL2025, 14)
    rcl19 = article(RCL2025, 19)
    assert "采取每户派代表选举方式的，有户的代表的过半数参加投票，选举有效" in rcl19
    assert "采取居民代表选举方式的，有超过三分之二的居民代表参加投票，选举有效" in rcl19
    assert "采取居民代表选举方式的，不实行委托投票" in rcl19


def test_representatives_need_more_than_two_thirds():
    spec = kind()
    assert count_round(spec, tally(30, 20, "representatives")).valid is False  # 20 = 2/3, not more
    result = count_round(spec, tally(30, 21, "representatives"))
    assert result.valid and result.elected == ("张三",)
    assert "居民代表数" in counting_params(spec, "representatives").turnout.requirement()


def test_households_need_more_than_half_of_their_representatives():
    spec = kind()
    assert count_round(spec, tally(400, 200, "households")).valid is False
    assert count_round(spec, tally(400, 201, "households")).valid
    params = counting_params(spec, "households")
    assert "户的代表" in params.turnout.requirement() and params.source("turnout") == "居委会组织法第十九条第一款"


def test_all_voters_is_the_default_and_an_unknown_method_is_refused():
    spec = kind()
    assert count_round(spec, tally(900, 451, None)).valid
    with pytest.raises(DomainError) as err:
        count_round(spec, tally(900, 451, "by_groups"))
    assert err.value.code == "E_UNKNOWN_METHOD" and err.value.field == "method"
    assert "households" in err.value.message


def test_the_2018_text_names_the_ways_and_leaves_the_turnout_to_the_provinces():
    # RCL 2018 art. 8: all voters, households, or two or three representatives per residents'
    # group; the turnout is the provincial measures' majority, of whichever group votes.
    assert "也可以由每个居民小组选举代表二至三人选举产生" in article(RCL2018, 8)
    spec = kind(date(2021, 6, 1))
    assert count_round(spec, tally(30, 16, "representatives")).valid  # more than half suffices
    assert count_round(spec, tally(30, 15, "representatives")).valid is False
    assert "居民小组选举的代表数" in counting_params(spec, "representatives").turnout.requirement()
    assert counting_params(spec, "households").source("turnout") == "省级实施办法"
    with pytest.raises(DomainError) as err:
        count_round(spec, tally(30, 21, "by_groups"))
    assert err.value.code == "E_UNKNOWN_METHOD"


def test_a_tally_document_names_its_method():
    data = {
        "kind": "residents_committee",
        "method": "representatives",
        "seats": 1,
        "registered_voters": 30,
        "ballots_issued": 21,
        "ballots_returned": 21,
        "invalid_ballots": 0,
        "votes": {"张三": 19, "李四": 2},
    }
    assert TallyInput.from_dict(data).method == "representatives"
    with pytest.raises(DomainError) as err:
        TallyInput.from_dict({**data, "method": 3})
    assert err.value.field == "method"
