"""The statutory calendar: the seed's Jingshan plan, bounds, ordering, holidays, properties."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.calendar import HolidayCalendar, check_plan, compute_bounds, shift
from workflow.kinds import BoundSpec, get_kind
from workflow.plan import load_plan

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
KIND = get_kind("people_congress")
E = date(2011, 10, 18)


def jingshan():
    return load_plan(EXAMPLES / "jingshan_2011.toml")


def test_jingshan_checks_clean():
    plan = jingshan()
    report = check_plan(plan.kind, plan.anchor, plan.milestones, HolidayCalendar())
    assert report.ok, [m.problems for m in report.violations]
    bounds = report.by_key()
    assert bounds["voter_list_published"].latest == date(2011, 9, 28)
    assert bounds["preliminary_candidates_published"].latest == date(2011, 10, 3)
    assert bounds["official_candidates_published"].latest == date(2011, 10, 11)
    assert bounds["court_suit_deadline"].latest == date(2011, 10, 13)
    assert bounds["court_suit_deadline"].planned is None
    assert bounds["congress_convened"].latest == date(2011, 12, 18)


def test_official_list_at_e_minus_6_is_exactly_one_violation():
    plan = jingshan()
    planned = dict(plan.milestones, official_candidates_published=E - timedelta(days=6))
    report = check_plan(plan.kind, plan.anchor, planned)
    assert [v.key for v in report.violations] == ["official_candidates_published"]
    violation = report.violations[0].as_dict()
    assert violation["latest"] == "2011-10-11"
    # A 2011 election runs under the 2010 text, where this is article 31 (2020: article 32).
    assert violation["rule"] == "选举法第三十一条：正式代表候选人名单应当在选举日的七日以前公布"


def test_every_canonical_milestone_is_listed_even_when_unplanned():
    report = check_plan(KIND, E, {})
    assert [m.key for m in report.milestones] == list(KIND.milestones)
    assert report.ok
    assert all(m.planned is None for m in report.milestones)


def test_ordering_without_day_count():
    report = check_plan(
        KIND, E, {"districts_published": date(2011, 9, 21), "voter_list_published": date(2011, 9, 20)}
    )
    assert [v.key for v in report.violations] == ["districts_published"]
    assert "公布选民名单" in report.violations[0].problems[0]
    same_day = check_plan(
        KIND, E, {"districts_published": date(2011, 9, 20), "voter_list_published": date(2011, 9, 20)}
    )
    assert same_day.ok


def test_appeals_window_follows_the_voter_list():
    bounds = compute_bounds(KIND, E, {"voter_list_published": date(2011, 9, 1)})
    # Published on the 1st: the last day to file is the 6th (Civil Code art. 201), the last
    # decision three days later.
    assert bounds["voter_appeals_closed"] == (date(2011, 9, 6), date(2011, 9, 9))
    actual = compute_bounds(
        KIND, E, {"voter_list_published": date(2011, 9, 1)}, {"voter_list_published": date(2011, 9, 3)}
    )
    assert actual["voter_appeals_closed"] == (date(2011, 9, 8), date(2011, 9, 11))


def test_congress_two_months_after_results_civil_code_202():
    bounds = compute_bounds(KIND, date(2011, 12, 31), {"results_published": date(2011, 12, 31)})
    assert bounds["congress_convened"][1] == date(2012, 2, 29)
    fallback = compute_bounds(KIND, date(2011, 10, 18), {})
    assert fallback["congress_convened"][1] == date(2011, 12, 18)


def test_holiday_warning_does_not_change_ok():
    report = check_plan(KIND, E, {"preliminary_candidates_published": date(2011, 10, 3)}, HolidayCalendar())
    assert report.ok
    # 10-03 is exactly E − 15: lawful under the practice reading only, which is flagged too.
    assert [w.code for w in report.warnings] == ["W_PRACTICE_READING_ONLY", "W_HOLIDAY"]
    assert "国庆节" in report.warnings[1].message


def test_ordinary_weekend_is_not_a_holiday():
    assert HolidayCalendar().holiday_name(date(2011, 9, 17)) is None  # a Saturday


def test_year_without_holiday_data_is_a_warning():
    report = check_plan(
        KIND, date(2031, 10, 18), {"voter_list_published": date(2031, 9, 20)}, HolidayCalendar()
    )
    assert report.ok
    assert report.warnings[0].code == "W_NO_HOLIDAY_DATA"
    assert "no holiday data for 2031" in report.warnings[0].message and "暂定" in report.warnings[0].message


def test_dates_in_a_year_without_holiday_data_are_provisional_and_weekends_flagged():
    calendar = HolidayCalendar()
    planned = {"voter_list_published": date(2031, 9, 20), "election_day": date(2031, 10, 18)}  # Sat, Sat
    report = check_plan(KIND, date(2031, 10, 18), planned, calendar)
    codes = [(w.key, w.code) for w in report.warnings]
    assert ("voter_list_published", "W_PROVISIONAL_WEEKEND") in codes
    assert calendar.provisional(planned) == planned
    assert calendar.provisional({"voter_list_published": date(2011, 9, 20)}) == {}


DAY_BOUNDED = [
    k for k, m in KIND.milestones.items() if m.latest and m.latest.from_ == "anchor" and not m.computed
]


@settings(max_examples=150, deadline=None)
@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.sampled_from(DAY_BOUNDED))
def test_plan_exactly_at_bound_passes_and_one_day_later_fails(election_day, key):
    bounds = compute_bounds(KIND, election_day, {})
    latest = bounds[key][1]
    assert check_plan(KIND, election_day, {key: latest}).ok
    late = check_plan(KIND, election_day, {key: latest + timedelta(days=1)})
    assert [v.key for v in late.violations] == [key]


@settings(max_examples=100, deadline=None)
@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.integers(-400, 400))
def test_rescheduling_moves_every_anchor_bound_by_the_same_delta(election_day, days):
    moved_day = election_day + timedelta(days=days)
    before = compute_bounds(KIND, election_day, {})
    after = compute_bounds(KIND, moved_day, {})
    for key, spec in KIND.milestones.items():
        for index, bound in enumerate((spec.earliest, spec.latest)):
            if bound is not None and bound.from_ == "anchor" and not bound.months:
                assert after[key][index] - before[key][index] == timedelta(days=days)


@settings(max_examples=100, deadline=None)
@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)))
def test_a_plan_at_every_bound_at_once_is_lawful(election_day):
    bounds = compute_bounds(KIND, election_day, {})
    planned = {k: b[1] for k, b in bounds.items() if b[1] and not KIND.milestones[k].computed}
    # Appeals close relative to the planned voter list date.
    planned["voter_appeals_closed"] = planned["voter_list_published"] + timedelta(days=8)
    assert check_plan(KIND, election_day, planned).ok


@given(st.dates(date(2000, 1, 1), date(2100, 12, 31)), st.integers(0, 24))
def test_month_shift_lands_on_same_day_or_month_end(start, months):
    landed = shift(start, BoundSpec(months=months))
    assert (landed.year * 12 + landed.month) - (start.year * 12 + start.month) == months
    assert landed.day == start.day or (landed.day < start.day and (landed + timedelta(days=1)).day == 1)


@pytest.mark.parametrize("kind", ["party_branch", "residents_committee", "village_committee"])
def test_example_plans_of_other_kinds_check_clean(kind):
    plan = load_plan(EXAMPLES / f"{kind}.toml")
    assert plan.kind.key == kind
    assert check_plan(plan.kind, plan.anchor, plan.milestones).ok
