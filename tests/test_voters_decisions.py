"""The voters part's decisions, without a database: how an import sorts its rows, which list
numbers a supplementary version gives, the deprived list's rows, a voter added by hand and
the objection time limits (EL 4, 27, 28, 29)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.voters_support import ELECTION_DAY, number
from workflow.errors import DomainError, NotFound
from workflow.kinds import get_kind
from workflow.rules import ric
from workflow.rules.voter_appeals import (
    check_correction,
    check_decision,
    check_filing,
    correction_details,
    court_suit_deadline,
    decide_by,
    last_filing_day,
)
from workflow.rules.voter_import import ImportSorter, Register, default_district
from workflow.rules.voter_list import (
    changes_by_district,
    check_first_list,
    check_publishable,
    number_supplement,
    supplement_date,
)
from workflow.rules.voter_rows import check_addition, map_headers, read_deprived

HEADER = ["序号", "姓名", "公民身份号码", "选区", "籍贯"]
ADULT = number(date(1970, 1, 1), 1)
OTHER = number(date(1971, 2, 2), 2, "F")
THIRD = number(date(1972, 3, 3), 3)
MINOR = number(date(1995, 1, 1), 4)  # 16 on 2011-10-18
DEPRIVED = number(date(1960, 6, 6), 5)


def register(**changes) -> Register:
    values = {
        "districts": {"01": 11, "02": 12, "第一选区": 11},
        "voters": {},
        "removed": set(),
        "deprived": set(),
    }
    values.update(changes)
    return Register(**values)


def sort(rows, *, reg=None, district_id=None, header=HEADER):
    sorter = ImportSorter(
        map_headers(header), reg or register(), election_day=ELECTION_DAY, default_district_id=district_id
    )
    accepted = [(a.row, a.district_id, a.record["id_number"]) for a in sorter.sort(rows)]
    return sorter, accepted


# -- import ------------------------------------------------------------------------------------
def test_import_accepts_rows_and_rejects_each_with_its_column_and_reason():
    sorter, accepted = sort(
        [
            (2, [1, "张三", ADULT, "01", ""]),
            (3, [2, "李四", MINOR, "01", ""]),
            (4, [None, None, None, None, None]),  # a blank row is skipped, not rejected
            (5, [3, "王五", DEPRIVED, "01", ""]),
            (6, [4, "赵六", OTHER, "09", ""]),
            (7, [5, "钱七", THIRD, "第一选区", ""]),
        ],
        reg=register(deprived={DEPRIVED}),
    )
    assert accepted == [(2, 11, ADULT), (7, 11, THIRD)]
    report = sorter.report
    assert report.accepted == 2
    assert [(r["row"], r["column"]) for r in report.rejected] == [
        (3, "公民身份号码"),
        (5, "公民身份号码"),
        (6, "选区"),
    ]
    assert "未满十八周岁" in report.rejected[0]["reason"]
    assert report.rejected[1]["reason"] == "依法被剥夺政治权利，不列入选民名单（选举法第四条）"
    assert report.rejected[2]["reason"] == "选区「09」不存在（请先用 huanjie districts add 添加）"
    assert report.warnings == [{"row": 1, "column": "籍贯", "reason": "无法识别的列，已忽略"}]


def test_import_reports_duplicates_in_the_file_and_against_the_register():
    sorter, accepted = sort(
        [
            (2, [1, "张三", ADULT, "01", ""]),
            (3, [2, "张三", ADULT, "01", ""]),  # the same person twice in the file
            (4, [3, "李四", OTHER, "01", ""]),  # registered in 02 already
            (5, [4, "李四", OTHER, "01", ""]),
            (6, [5, "王五", THIRD, "02", ""]),  # registered here already: a re-import
        ],
        reg=register(voters={OTHER: 12, THIRD: 12}),
    )
    assert accepted == [(2, 11, ADULT)]
    assert sorter.report.unchanged == 1 and sorter.report.rejected == []
    assert sorter.duplicates({11: "01", 12: "02"}) == [
        {"id_masked": ric.mask(ADULT), "rows": [2, 3]},
        {"id_masked": ric.mask(OTHER), "rows": [4, 5], "registered_in": "02"},
    ]


def test_import_does_not_bring_back_a_removed_voter():
    sorter, accepted = sort(
        [(2, [1, "张三", ADULT, "01", ""])], reg=register(voters={ADULT: 11}, removed={ADULT})
    )
    assert accepted == [] and sorter.report.unchanged == 1
    assert sorter.report.warnings[-1] == {
        "row": 2,
        "column": "公民身份号码",
        "reason": "此人已除名，未恢复登记（如需恢复请用 huanjie voters add）",
    }


def test_import_rows_without_a_district_take_the_given_one_or_are_rejected():
    header = ["姓名", "公民身份号码", "选区"]
    _sorter, accepted = sort([(2, ["张三", ADULT, ""])], district_id=12, header=header)
    assert accepted == [(2, 12, ADULT)]
    sorter, accepted = sort([(2, ["张三", ADULT, ""])], header=header)
    assert accepted == [] and sorter.report.rejected == [{"row": 2, "column": "选区", "reason": "选区为空"}]


def test_import_needs_the_required_columns_and_a_district():
    districts = {"01": 11}
    with pytest.raises(DomainError) as error:
        default_district(map_headers(["姓名", "选区"]), None, districts)
    assert (error.value.code, error.value.message) == ("E_MISSING_COLUMN", "文件缺少必需的列：公民身份号码")
    with pytest.raises(DomainError) as error:
        default_district(map_headers(["姓名", "身份证号"]), None, districts)
    assert (error.value.code, error.value.field) == ("E_MISSING_COLUMN", "district")
    with pytest.raises(NotFound):
        default_district(map_headers(["姓名", "身份证号"]), "09", districts)
    assert default_district(map_headers(["姓名", "身份证号"]), "01", districts) == 11
    assert default_district(map_headers(["姓名", "身份证号", "选区"]), None, districts) is None


# -- publication -------------------------------------------------------------------------------
def test_supplement_keeps_numbers_and_never_reuses_a_removed_voters_number():
    # Version 1 numbered voters 1..4 (ids 10, 11, 12, 13); 11 was removed, 13 moved away.
    kept = {10: 1, 12: 3}
    assert number_supplement(kept, previous_max=4, active=[10, 12, 20, 21]) == [
        (10, 1),
        (12, 3),
        (20, 5),
        (21, 6),
    ]
    # A district's first version through the supplement path starts at 1.
    assert number_supplement({}, previous_max=0, active=[7, 8]) == [(7, 1), (8, 2)]


def test_pending_changes_are_grouped_by_district_in_filing_order():
    assert changes_by_district([(1, 12), (2, 11), (3, 12)]) == {12: [1, 3], 11: [2]}
    with pytest.raises(DomainError) as error:
        changes_by_district([])
    assert error.value.code == "E_NOTHING_TO_PUBLISH"


def test_publication_preconditions_and_dates():
    with pytest.raises(DomainError) as error:
        check_publishable(kind_name="乡镇人大", milestones=["election_day"], districts=2)
    assert (error.value.code, error.value.message) == ("E_NO_VOTER_LIST", "乡镇人大没有「公布选民名单」节点")
    with pytest.raises(DomainError) as error:
        check_publishable(kind_name="县人大", milestones=["voter_list_published"], districts=0)
    assert error.value.code == "E_NO_DISTRICTS"
    with pytest.raises(DomainError) as error:
        check_first_list(0)
    assert error.value.code == "E_NO_VOTERS"
    today = date(2011, 9, 25)
    assert supplement_date(None, today) == today
    assert supplement_date(date(2011, 9, 22), today) == date(2011, 9, 22)
    with pytest.raises(DomainError) as error:
        supplement_date(date(2011, 9, 26), today)
    assert error.value.code == "E_DATE_IN_FUTURE"


# -- the deprived list and single additions ------------------------------------------------------
def test_deprived_rows_are_read_with_their_terms_and_bad_rows_rejected():
    found, rejected = read_deprived(
        ["姓名", "公民身份号码", "剥夺期限至", "原因"],
        [
            (2, ["张三", ADULT, "2012-01-01", "判处"]),
            (3, [None, None, None, None]),
            (4, ["李四", "123", "", ""]),
            (5, ["王五", OTHER, "2012年", ""]),
            (6, ["赵六", THIRD, "", ""]),
        ],
    )
    assert [(r.row, r.id_number, r.name, r.until, r.reason) for r in found] == [
        (2, ADULT, "张三", date(2012, 1, 1), "判处"),
        (6, THIRD, "赵六", None, None),
    ]
    assert [(r["row"], r["column"]) for r in rejected] == [(4, "公民身份号码"), (5, "剥夺期限至")]
    assert rejected[1]["reason"] == "期限日期无法识别"
    with pytest.raises(DomainError) as error:
        read_deprived(["姓名"], [])
    assert error.value.code == "E_MISSING_COLUMN"


def test_a_voter_added_by_hand():
    record = check_addition(
        " 张三 ", ADULT, election_day=ELECTION_DAY, migrant=False, proof=None, deprived=set()
    )
    assert (record["name"], record["id_number"], record["sex"]) == ("张三", ADULT, "M")
    cases = [
        ({"migrant": True, "proof": "  "}, ADULT, "E_PROOF_REQUIRED"),
        ({}, MINOR, "E_VOTER_INVALID"),
        ({"deprived": {DEPRIVED}}, DEPRIVED, "E_VOTER_DEPRIVED"),
    ]
    for options, id_number, code in cases:
        given = {"migrant": False, "proof": None, "deprived": set(), **options}
        with pytest.raises(DomainError) as error:
            check_addition("张三", id_number, election_day=ELECTION_DAY, **given)
        assert error.value.code == code


# -- appeals -------------------------------------------------------------------------------------
def test_appeal_time_limits():
    published = date(2011, 9, 20)
    assert last_filing_day(published) == date(2011, 9, 25)
    assert decide_by(date(2011, 9, 25)) == date(2011, 9, 28)
    assert court_suit_deadline(get_kind("people_congress"), ELECTION_DAY) == date(2011, 10, 13)
    assert court_suit_deadline(get_kind("village_committee"), ELECTION_DAY) is None  # VCL 14
    filing = {"filer": "甲", "reason": "漏登", "subject_name": "乙", "request": "add"}
    check_filing(filed_on=date(2011, 9, 25), today=date(2011, 9, 25), published=published, **filing)
    for filed_on, today, code in [
        (date(2011, 9, 26), date(2011, 9, 26), "E_APPEAL_WINDOW_CLOSED"),
        (date(2011, 9, 19), date(2011, 9, 22), "E_APPEAL_BEFORE_PUBLICATION"),
        (date(2011, 9, 23), date(2011, 9, 22), "E_DATE_IN_FUTURE"),
    ]:
        with pytest.raises(DomainError) as error:
            check_filing(filed_on=filed_on, today=today, published=published, **filing)
        assert error.value.code == code
    day = date(2011, 9, 22)
    for changes, code in [({"filer": " "}, "E_APPEAL_INCOMPLETE"), ({"request": "move"}, "E_APPEAL_REQUEST")]:
        with pytest.raises(DomainError) as error:
            check_filing(filed_on=day, today=day, published=published, **{**filing, **changes})
        assert error.value.code == code


def test_appeal_decisions_and_corrections():
    filed, today = date(2011, 9, 22), date(2011, 9, 24)
    assert check_decision(decided_on=today, today=today, filed_on=filed, upheld=True, reason="  ") is None
    assert (
        check_decision(decided_on=today, today=today, filed_on=filed, upheld=False, reason=" 无据 ") == "无据"
    )
    for decided_on, upheld, code in [
        (date(2011, 9, 21), True, "E_DATE_BEFORE_FILING"),
        (date(2011, 9, 25), True, "E_DATE_IN_FUTURE"),
        (today, False, "E_REASON_REQUIRED"),
    ]:
        with pytest.raises(DomainError) as error:
            check_decision(decided_on=decided_on, today=today, filed_on=filed, upheld=upheld, reason=None)
        assert error.value.code == code
    check_correction({"address": "新市镇"})
    for bad in (None, {}, {"birth_date": "1970-01-01"}):
        with pytest.raises(DomainError) as error:
            check_correction(bad)
        assert error.value.code == "E_APPEAL_CORRECTION"
    details = correction_details({"address": None, "name": "张山"}, {"address": "新市镇", "name": "张三"})
    assert details == "住址：空 → 新市镇；姓名：张山 → 张三"
