"""The nomination commands' pure decisions, without a database: a district list's seats, the
supporters missing from the voter list, the birth date an ID number carries."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric

from workflow.errors import DomainError
from workflow.rules import candidates as rules


def make_id(seq: int) -> str:
    body = f"42082119800101{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def test_seats_come_from_the_entry_or_else_the_registry():
    assert rules.district_seats("01", 2, None) == 2
    assert rules.district_seats("01", None, 3) == 3
    assert rules.district_seats("01", 3, 3) == 3


def test_seats_refused_when_unknown_or_disagreeing():
    with pytest.raises(DomainError) as caught:
        rules.district_seats("01", None, None)
    assert caught.value.code == "E_SEATS_REQUIRED" and caught.value.field == "seats"
    with pytest.raises(DomainError) as caught:
        rules.district_seats("02", 2, 3)
    assert caught.value.code == "E_SEATS_MISMATCH"
    assert "3 名" in caught.value.message and "2 名" in caught.value.message


def test_unregistered_numbers_are_masked_and_sorted():
    numbers = [make_id(3), make_id(1), make_id(2)]
    assert rules.unregistered(numbers, set(numbers)) == []
    missing = rules.unregistered(numbers, {make_id(2)})
    assert missing == sorted([rules.mask_id(make_id(1)), rules.mask_id(make_id(3))])
    assert all(make_id(1) not in m for m in missing)  # never a whole number


def test_birth_date_of_an_id_number():
    assert rules.birth_date_of(make_id(1)) == date(1980, 1, 1)
    assert rules.birth_date_of(rules.normalise_id("11010519491231002X")) == date(1949, 12, 31)
