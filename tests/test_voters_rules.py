"""Pure rules: identity numbers (GB 11643), eligibility on election day (EL 4), header
variants and per-row checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric as stdnum_ric
from stdnum.exceptions import ValidationError

from workflow.rules import ric
from workflow.rules.voter_rows import check_row, map_headers, parse_birth

E = date(2011, 10, 18)


def row_check(header, cells, election_day=E):
    return check_row(
        cells, map_headers(header), election_day=election_day, cutoff=ric.adult_cutoff(election_day)
    )


# -- identity numbers ---------------------------------------------------------------------------
def test_known_valid_number_and_stdnum_agree_on_check_digit():
    assert stdnum_ric.is_valid("360426199101010071")
    info = ric.parse("360426199101010071")
    assert info == ric.IdInfo("360426199101010071", date(1991, 1, 1), "M")
    assert ric.check_digit("36042619910101007") == stdnum_ric.calc_check_digit("360426199101010071")


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_agrees_with_stdnum_for_any_number(first17):
    # Regression: `int(first17 + "0", 13)` agreed with stdnum on the sample above by chance
    # and gave the wrong check digit for most numbers (real ID cards were refused).
    assert ric.check_digit(first17) == stdnum_ric.calc_check_digit(first17 + "0")


def test_wrong_check_digit_is_rejected():
    problem = ric.parse("360426199101010072")
    assert isinstance(problem, ric.IdProblem) and problem.code == "E_ID_CHECKSUM"


def test_check_digit_x():
    first17 = next(
        f"1101011990010100{d}" for d in range(10) if ric.check_digit(f"1101011990010100{d}") == "X"
    )
    assert isinstance(ric.parse(first17 + "X"), ric.IdInfo)
    assert isinstance(ric.parse(ric.normalize(first17 + "x")), ric.IdInfo)


def test_fifteen_digit_legacy_number_is_rejected_with_a_clear_message():
    problem = ric.parse("420821710101001")
    assert isinstance(problem, ric.IdProblem)
    assert problem.code == "E_ID_LEGACY_15"
    assert "15 位" in problem.message and "18 位" in problem.message


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("42082119900101001", "E_ID_LENGTH"),
        ("42082119900101001A", "E_ID_FORMAT"),
        ("420821********0012", "E_ID_MASKED"),
    ],
)
def test_malformed_numbers(text, code):
    problem = ric.parse(text)
    assert isinstance(problem, ric.IdProblem) and problem.code == code


def test_impossible_birth_date_is_a_hard_error():
    first17 = "42082119990230001"  # 30 February
    problem = ric.parse(first17 + ric.check_digit(first17))
    assert isinstance(problem, ric.IdProblem) and problem.code == "E_ID_BIRTH_DATE"


def test_sex_from_the_17th_digit():
    assert ric.parse(ric.make_number("420821", date(1980, 5, 5), 3, "M")).sex == "M"
    assert ric.parse(ric.make_number("420821", date(1980, 5, 5), 3, "F")).sex == "F"


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    seq=st.integers(min_value=0, max_value=499),
    sex=st.sampled_from("MF"),
    position=st.integers(min_value=0, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_error_is_caught(born, seq, sex, position, delta):
    """MOD 11-2 detects every single-digit substitution, so a mistyped digit is never accepted."""
    good = ric.make_number("420821", born, seq, sex)
    info = ric.parse(good)
    assert info == ric.IdInfo(good, born, sex)
    digit = (int(good[position]) + delta) % 10
    typo = good[:position] + str(digit) + good[position + 1 :]
    assert not isinstance(ric.parse(typo), ric.IdInfo) or ric.parse(typo).number != good
    assert isinstance(ric.parse(typo), ric.IdProblem)


def test_mask_keeps_the_area_code_and_the_check_character():
    assert ric.mask("42082119900101001X") == "420821***********X"
    assert ric.id_hash("42082119900101001X") == ric.id_hash("42082119900101001X")
    assert len(ric.id_hash("42082119900101001X")) == 24


# -- area codes: a warning, never a rejection (stdnum issue #442) ----------------------------------
def test_retired_area_code_after_its_retirement_gives_a_warning():
    # 110103 (崇文区) was merged into 东城区 in 2010: a number issued there to someone born later
    # is suspicious, but only a warning.
    assert ric.area_warning("110103", 2012) is not None
    record, warnings, errors = row_check(
        ["姓名", "身份证号"], ["张三", ric.make_number("110103", date(1993, 1, 1), 0, "M")]
    )
    assert errors == [] and record is not None and warnings == []
    record, warnings, errors = row_check(
        ["姓名", "身份证号"],
        ["张三", ric.make_number("110103", date(1993, 1, 1), 0, "M")],
        election_day=date(2030, 1, 1),
    )
    assert record is not None


def test_real_numbers_that_stdnum_rejects_are_accepted():
    # 420821 (京山县) is listed for 1996–2018: someone born in 1970 holds it legitimately.
    real = ric.make_number("420821", date(1970, 3, 3), 1, "F")
    with pytest.raises(ValidationError):
        stdnum_ric.validate(real)
    assert isinstance(ric.parse(real), ric.IdInfo)
    assert ric.area_warning("420821", 1970) is None


def test_unknown_area_code_warns_but_is_accepted():
    unknown = ric.make_number("990199", date(1970, 3, 3), 1, "F")
    record, warnings, errors = row_check(["姓名", "公民身份号码"], ["李四", unknown])
    assert errors == [] and record is not None
    assert len(warnings) == 1 and "990199" in warnings[0].reason and warnings[0].column == "公民身份号码"


def test_retired_code_warning_through_row_check():
    late = ric.make_number("110103", date(1993, 1, 1), 0, "M")
    record, warnings, errors = row_check(
        ["姓名", "公民身份号码"], ["王五", late], election_day=date(2030, 1, 1)
    )
    assert record is not None and warnings == []  # born 1993, code retired 2010: fine
    born_after = ric.make_number("110103", date(2011, 6, 1), 0, "M")
    record, warnings, errors = row_check(
        ["姓名", "公民身份号码"], ["王五", born_after], election_day=date(2030, 1, 1)
    )
    assert record is not None and errors == []
    assert len(warnings) == 1 and "撤销" in warnings[0].reason


# -- eligibility: 18 or over on election day (EL 4) -----------------------------------------------
def test_born_exactly_e_minus_18_years_is_eligible_and_one_day_later_is_not():
    cutoff = ric.adult_cutoff(E)
    assert cutoff == date(1993, 10, 18)
    assert ric.is_adult(date(1993, 10, 18), E)
    assert not ric.is_adult(date(1993, 10, 19), E)
    ok, _, errors = row_check(
        ["姓名", "公民身份号码"], ["甲", ric.make_number("420821", date(1993, 10, 18), 0, "M")]
    )
    assert ok is not None and errors == []
    young, _, errors = row_check(
        ["姓名", "公民身份号码"], ["乙", ric.make_number("420821", date(1993, 10, 19), 0, "M")]
    )
    assert young is None and "未满十八周岁" in errors[0].reason


def test_feb_29_births():
    """Our rule: someone born on Feb 29 reaches 18 on Mar 1 of a non-leap year."""
    born = date(2008, 2, 29)
    assert not ric.is_adult(born, date(2026, 2, 28))
    assert ric.is_adult(born, date(2026, 3, 1))
    # Election day on Feb 29 with a non-leap year 18 years before: the cutoff is Feb 28.
    assert ric.adult_cutoff(date(2028, 2, 29)) == date(2010, 2, 28)
    assert ric.is_adult(date(2010, 2, 28), date(2028, 2, 29))
    assert not ric.is_adult(date(2010, 3, 1), date(2028, 2, 29))
    # 18 is not a multiple of 4, so a Feb 29 election day always maps to Feb 28.
    assert ric.adult_cutoff(date(2024, 2, 29)) == date(2006, 2, 28)
    # Someone born Feb 29 is eligible on any election day from Mar 1 of their 18th year on.
    assert all(ric.is_adult(born, date(2026, 3, 1) + timedelta(days=d)) for d in range(0, 400, 37))


def test_age_on():
    assert ric.age_on(date(1993, 10, 18), E) == 18
    assert ric.age_on(date(1993, 10, 19), E) == 17


# -- headers and cells -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("姓名", "name"),
        ("名字", "name"),
        ("性别", "sex"),
        ("公民身份号码", "id_number"),
        ("身份证号", "id_number"),
        ("身份证号码", "id_number"),
        ("民族", "ethnicity"),
        ("出生日期", "birth_date"),
        ("出生年月", "birth_date"),
        ("选区", "district"),
        ("选民小组", "voter_group"),
        ("住址", "address"),
        ("现住址", "address"),
        ("户籍地", "hukou"),
        ("户籍所在地", "hukou"),
        (" 身份证号 ", "id_number"),
        ("*姓名", "name"),
    ],
)
def test_header_variants(header, field):
    mapping = map_headers(["序号", header])
    assert mapping.index == {field: 1}
    assert mapping.written[field] == header.strip()
    assert mapping.unknown == []


def test_unknown_and_repeated_headers_are_reported():
    mapping = map_headers(["姓名", "身份证号", "联系电话", "姓名", None])
    assert mapping.unknown == [(2, "联系电话")]
    assert mapping.repeated == [(3, "姓名")]
    assert mapping.missing == []
    assert map_headers(["名字"]).missing == ["id_number"]


def test_birth_date_and_sex_must_match_the_number():
    n = ric.make_number("420821", date(1980, 5, 6), 0, "F")
    header = ["姓名", "性别", "公民身份号码", "出生年月"]
    assert row_check(header, ["丙", "女", n, "1980.05"])[2] == []
    assert row_check(header, ["丙", "女", n, "1980年5月"])[2] == []
    errors = row_check(header, ["丙", "男", n, "1980.05"])[2]
    assert [e.column for e in errors] == ["性别"]
    errors = row_check(header, ["丙", "女", n, "1980-05-07"])[2]
    assert [e.column for e in errors] == ["出生年月"] and "不符" in errors[0].reason
    errors = row_check(header, ["丙", "女", n, "五月"])[2]
    assert "无法识别" in errors[0].reason


def test_excel_number_cell_is_rejected():
    record, _, errors = row_check(["姓名", "身份证号"], ["丁", 4.20821198005061e17])
    assert record is None and "存为数字" in errors[0].reason


def test_parse_birth_forms():
    assert parse_birth("1980-05-06") == (1980, 5, 6)
    assert parse_birth("1980/5/6") == (1980, 5, 6)
    assert parse_birth("19800506") == (1980, 5, 6)
    assert parse_birth("1980年5月6日") == (1980, 5, 6)
    assert parse_birth("198005") == (1980, 5, None)
    assert parse_birth(date(1980, 5, 6)) == (1980, 5, 6)
    assert parse_birth("不详") is None


def test_overlong_cells_are_rejected_not_truncated():
    n = ric.make_number("420821", date(1980, 5, 6), 0, "F")
    record, _, errors = row_check(["姓名", "公民身份号码", "住址"], ["丙", n, "村" * 301])
    assert record is None and errors[0].column == "住址" and "301" in errors[0].reason
    assert row_check(["姓名", "公民身份号码", "住址"], ["丙", n, "村" * 300])[0] is not None
