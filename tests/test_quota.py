"""Election Law art. 12 quotas, both statute versions."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.errors import DomainError
from workflow.kinds import get_kind
from workflow.rules.quota import total_seats

KIND = get_kind("people_congress")


def test_issue_examples():
    assert total_seats(KIND, "county", 650_000).seats == 270
    assert total_seats(KIND, "county", 650_000, "2010").seats == 250
    assert total_seats(KIND, "township", 30_000).seats == 65


@pytest.mark.parametrize(
    ("level", "statute", "population", "seats", "capped"),
    [
        ("county", "2020", 1_550_000, 450, False),
        ("county", "2020", 1_555_000, 450, True),
        ("county", "2010", 1_650_000, 450, False),
        ("county", "2010", 1_655_000, 450, True),
        ("township", "2020", 172_500, 160, False),
        ("township", "2020", 174_000, 160, True),
        ("township", "2010", 180_000, 160, False),
        ("township", "2010", 181_500, 160, True),
    ],
)
def test_caps(level, statute, population, seats, capped):
    result = total_seats(KIND, level, population, statute)
    assert (result.seats, result.capped) == (seats, capped)


def test_one_more_seat_per_full_5000():
    assert total_seats(KIND, "county", 654_999).seats == 270
    assert total_seats(KIND, "county", 655_000).seats == 271


def test_small_population_may_be_fewer():
    assert total_seats(KIND, "county", 49_999).may_be_fewer
    assert not total_seats(KIND, "county", 50_000).may_be_fewer
    small = total_seats(KIND, "township", 1_999)
    assert small.may_be_fewer and small.seats == 45 + 1 and "可以少于" in small.rule


def test_extra_percent_after_cap_rounded_down():
    result = total_seats(KIND, "county", 3_000_000, extra_percent=5, extra_decision="省人大常委会决定")
    assert result.capped and result.extra == 22 and result.seats == 472
    assert total_seats(KIND, "township", 30_000, extra_percent=5, extra_decision="决定").seats == 65 + 3


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"level": "city"}, "level"),
        ({"statute": "1995"}, "statute"),
        ({"population": -1}, "population"),
        ({"extra_percent": 6}, "extra_percent"),
    ],
)
def test_bad_input_names_the_field(kwargs, field):
    args = {"level": "county", "population": 100_000, "statute": None, "extra_percent": 0} | kwargs
    with pytest.raises(DomainError) as caught:
        total_seats(KIND, args["level"], args["population"], args["statute"], args["extra_percent"])
    assert caught.value.field == field


@given(st.integers(0, 5_000_000), st.sampled_from(["2010", "2020"]), st.sampled_from(["county", "township"]))
def test_monotone_and_bounded(population, statute, level):
    here = total_seats(KIND, level, population, statute).seats
    more = total_seats(KIND, level, population + 10_000, statute).seats
    rule = KIND.quota[statute][level]
    assert rule.base <= here <= rule.cap
    assert here <= more
