"""Seats allocated to districts by population (EL 15, 25–26): edges and properties."""

from __future__ import annotations

import itertools
import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from service.cli import app
from workflow.errors import DomainError
from workflow.rules.apportion import METHOD, allocate, apportion, variance
from workflow.rules.units import read_units


def seats_of(districts, total):
    return {d.code: d.seats for d in apportion(districts, total).districts}


def test_exact_proportion_gives_zero_deviation():
    result = apportion([("A", "甲", 1000), ("B", "乙", 2000), ("C", "丙", 3000)], 6)
    assert [d.seats for d in result.districts] == [1, 2, 3]
    assert all(d.per_deputy == 1000 and d.deviation == 0 for d in result.districts)
    assert result.variance == 0


def test_deviation_is_exact_fraction_of_the_mean():
    result = apportion([("A", "甲", 1000), ("B", "乙", 1500)], 2)
    a, b = result.districts
    assert result.mean_per_deputy == Fraction(2500, 2)
    assert a.deviation == Fraction(1000, 1250) - 1 == Fraction(-1, 5)
    assert b.deviation == Fraction(1, 5)
    assert a.as_dict()["deviation"] == -0.2 and b.as_dict()["per_deputy"] == 1500.0


def test_one_seat_each_when_seats_equal_districts():
    # EL 15 / 25: the smallest district still keeps one deputy, however small.
    assert seats_of([("A", "", 10), ("B", "", 100_000), ("C", "", 5)], 3) == {"A": 1, "B": 1, "C": 1}


def test_three_seats_each_when_seats_are_three_times_districts():
    assert seats_of([("A", "", 10), ("B", "", 100_000), ("C", "", 5)], 9) == {"A": 3, "B": 3, "C": 3}


def test_populous_district_is_capped_at_three():
    # EL 25: at most three deputies per district, even if its population would justify more.
    assert seats_of([("A", "", 100_000), ("B", "", 1000), ("C", "", 1000)], 6) == {"A": 3, "B": 2, "C": 1}


@pytest.mark.parametrize(
    ("total", "code"), [(2, "E_SEATS_TOO_FEW"), (10, "E_SEATS_TOO_MANY"), (0, "E_BAD_SEATS")]
)
def test_infeasible_totals_are_refused(total, code):
    with pytest.raises(DomainError) as caught:
        apportion([("A", "", 1), ("B", "", 2), ("C", "", 3)], total)
    assert caught.value.code == code
    assert caught.value.field == "seats"
    if total:
        assert "第二十五条" in caught.value.message


def test_nonpositive_population_is_refused():
    with pytest.raises(DomainError) as caught:
        apportion([("A", "", 0), ("B", "", 2)], 2)
    assert caught.value.field == "population"


def test_ties_are_broken_by_code_whatever_the_row_order():
    districts = [("D4", "", 500), ("D2", "", 500), ("D3", "", 500), ("D1", "", 500)]
    expected = {"D1": 2, "D2": 2, "D3": 1, "D4": 1}
    for permutation in itertools.permutations(districts):
        assert seats_of(list(permutation), 6) == expected


def test_output_keeps_the_input_order():
    result = apportion([("B", "乙", 10), ("A", "甲", 20)], 2)
    assert [d.code for d in result.districts] == ["B", "A"]


def brute_force(populations: dict[str, int], total: int) -> Fraction:
    codes = sorted(populations)
    best = None
    for combo in itertools.product((1, 2, 3), repeat=len(codes)):
        if sum(combo) == total:
            v = variance(populations, dict(zip(codes, combo, strict=True)))
            best = v if best is None else min(best, v)
    return best


district_lists = st.lists(st.integers(min_value=1, max_value=50_000), min_size=1, max_size=12).map(
    lambda pops: [(f"C{i:02d}", f"区{i}", p) for i, p in enumerate(pops)]
)


@given(district_lists, st.data())
@settings(max_examples=200, deadline=None)
def test_properties_sum_bounds_and_local_optimality(districts, data):
    total = data.draw(st.integers(min_value=len(districts), max_value=3 * len(districts)))
    result = apportion(districts, total)
    seats = {d.code: d.seats for d in result.districts}
    populations = {code: p for code, _, p in districts}
    assert sum(seats.values()) == total
    assert all(1 <= s <= 3 for s in seats.values())
    # No single seat moved between two districts reduces the spread (variance of population
    # per deputy over all deputies), computed here from scratch, exactly.
    spread = variance(populations, seats)
    assert spread == result.variance
    for giver, taker in itertools.permutations(seats, 2):
        if seats[giver] > 1 and seats[taker] < 3:
            moved = dict(seats)
            moved[giver] -= 1
            moved[taker] += 1
            assert variance(populations, moved) >= spread, (giver, taker)
    # The deviation is what CONTRACTS says: per deputy over the mean, minus one.
    mean = Fraction(sum(populations.values()), total)
    for d in result.districts:
        assert d.deviation == Fraction(d.population, d.seats) / mean - 1


@given(district_lists.filter(lambda d: len(d) <= 6), st.data())
@settings(max_examples=100, deadline=None)
def test_greedy_reaches_the_global_minimum(districts, data):
    total = data.draw(st.integers(min_value=len(districts), max_value=3 * len(districts)))
    populations = {code: p for code, _, p in districts}
    assert apportion(districts, total).variance == brute_force(populations, total)


@given(district_lists, st.data(), st.randoms(use_true_random=False))
@settings(max_examples=100, deadline=None)
def test_input_order_does_not_change_the_allocation(districts, data, rng):
    total = data.draw(st.integers(min_value=len(districts), max_value=3 * len(districts)))
    shuffled = list(districts)
    rng.shuffle(shuffled)
    assert seats_of(districts, total) == seats_of(shuffled, total)


def test_allocate_honours_per_key_bounds():
    assert allocate({"a": 10, "b": 1000}, 7, lower=1, upper={"a": 3, "b": 5}) == {"a": 2, "b": 5}


# -- CSV and CLI ---------------------------------------------------------------------------
runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_cli_json_document(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(
        "code,name,population\n001,城关镇,3000\n002,新市镇,1000\n003,永兴镇,2000\n", encoding="utf-8"
    )
    result = run("apportion", str(path), "--seats", "6", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["method"] == METHOD
    assert [(d["code"], d["name"], d["seats"]) for d in doc["districts"]] == [
        ("001", "城关镇", 3),
        ("002", "新市镇", 1),
        ("003", "永兴镇", 2),
    ]
    assert set(doc["districts"][0]) == {"code", "name", "population", "seats", "per_deputy", "deviation"}
    assert all(isinstance(d["deviation"], float) for d in doc["districts"])


def test_cli_reads_gbk_and_chinese_headers(tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes('代码,名称,人口数\nA,城关镇,"1,500"\nB,新市镇,1500\n'.encode("gbk"))
    result = run("apportion", str(path), "--seats", "2", "--json")
    assert result.exit_code == 0, result.output
    assert [d["population"] for d in json.loads(result.stdout)["districts"]] == [1500, 1500]


@pytest.mark.parametrize(
    ("text", "code", "field", "row"),
    [
        ("code,name\nA,甲\n", "E_CSV_MISSING_COLUMN", "population", None),
        ("code,name,population\nA,甲,100\nB,乙,十万\n", "E_CSV_BAD_NUMBER", "population", "第 3 行"),
        ("code,name,population\nA,甲,100\nB,乙,-5\n", "E_CSV_BAD_NUMBER", "population", "第 3 行"),
        ("code,name,population\nA,甲,100\nB,乙,5\nA,丙,7\n", "E_CSV_DUPLICATE_CODE", "code", "第 4 行"),
        ("code,name,population\n", "E_CSV_EMPTY", None, None),
    ],
)
def test_cli_bad_csv_exits_2_with_field_and_row(tmp_path, text, code, field, row):
    path = tmp_path / "units.csv"
    path.write_text(text, encoding="utf-8")
    result = run("apportion", str(path), "--seats", "2", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code and error["field"] == field
    if row:
        assert row in error["message"]


def test_cli_infeasible_seats_exit_2(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("code,name,population\nA,甲,100\nB,乙,200\n", encoding="utf-8")
    result = run("apportion", str(path), "--seats", "7", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"] == {
        "code": "E_SEATS_TOO_MANY",
        "message": "代表名额 7 名超过选区数的三倍 6 名：每个选区至多应选三名代表（选举法第二十五条第二款）",
        "field": "seats",
    }


def test_cli_missing_file_exit_2(tmp_path):
    result = run("apportion", str(tmp_path / "none.csv"), "--seats", "2", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["field"] == "file"


def test_read_units_row_numbers_follow_the_spreadsheet():
    units = read_units("code,name,population\nA,甲,1\n\nB,乙,2\n")
    assert [(u.code, u.row) for u in units] == [("A", 2), ("B", 4)]
