"""A district plan's own rules, decided without a database (`check_planned`)."""

from __future__ import annotations

import pytest

from workflow.commands.districts import PlannedDistrict, check_planned
from workflow.errors import DomainError


def planned(code: str, seats: int = 2, area: str | None = None) -> PlannedDistrict:
    return PlannedDistrict(code=code, name=f"第{code}选区", seats=seats, population=3000, area=area)


def test_a_sound_plan_gives_each_district_its_cleaned_scope():
    areas = check_planned([planned("01", area="  新市镇阳光社区 "), planned("02", seats=3)])
    assert areas == {"01": "新市镇阳光社区", "02": None}


@pytest.mark.parametrize(
    ("plan", "code", "field"),
    [
        ([], "E_NO_DISTRICTS", "file"),
        ([planned("01"), planned("01")], "E_DUPLICATE_CODE", "code"),
        ([planned("01", seats=4)], "E_DISTRICT_SEATS", "seats"),  # EL 25: one to three deputies
        ([planned("01", seats=0)], "E_DISTRICT_SEATS", "seats"),
        ([planned("01", area="区" * 2001)], "E_DISTRICT_INVALID", "area"),
    ],
)
def test_a_broken_plan_is_refused_naming_the_field(plan, code, field):
    with pytest.raises(DomainError) as refused:
        check_planned(plan)
    assert (refused.value.code, refused.value.field) == (code, field)
