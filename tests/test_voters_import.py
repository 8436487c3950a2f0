"""Importing the register: validation, 不重登 across the election, re-import, rejection without
a half-import, the deprived list, XLSX and CSV (UTF-8 and GBK). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.voters_support import (
    ELECTION_DAY,
    import_file,
    make_election,
    number,
    synthetic_csv,
    write_csv,
)
from workflow.commands import voter_changes
from workflow.commands.voter_files import open_sheet
from workflow.errors import DomainError
from workflow.rules import ric
from workflow.store.models import AuditEntry
from workflow.store.voters import AddedReason, RemovedReason, Voter, VoterImport

HEADER = ["序号", "名字", "性别", "身份证号码", "出生年月", "选区", "选民小组", "现住址", "户籍所在地"]


def counts(db) -> tuple[int, int, int]:
    with db.reading() as session:
        return (
            session.execute(select(func.count()).select_from(Voter)).scalar_one(),
            session.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
            session.execute(select(func.count()).select_from(VoterImport)).scalar_one(),
        )


def person(seq, born, sex="M", district="01", name=None):
    n = number(born, seq, sex)
    return [
        seq,
        name or f"测试{seq}",
        "男" if sex == "M" else "女",
        n,
        f"{born:%Y.%m}",
        district,
        "第1组",
        "某村",
        "京山县",
    ]


def test_import_then_reimport_changes_nothing(db, clock, tmp_path):
    election_id = make_election(db, clock)
    path = synthetic_csv(tmp_path / "a.csv", 300)
    report = import_file(db, clock, election_id, path)
    assert (report.accepted, report.rejected, report.duplicates, report.committed) == (300, [], [], True)
    with db.reading() as session:
        voter = session.execute(select(Voter).where(Voter.source_row == 2)).scalar_one()
        assert voter.id_hash == ric.id_hash(voter.id_number)
        assert voter.district_id is not None and voter.voter_group == "第1组"
    before = counts(db)
    again = import_file(db, clock, election_id, path)
    assert again.accepted == 0 and again.unchanged == 300 and again.duplicates == [] and again.rejected == []
    assert counts(db) == before  # not even an audit entry or an import record


def test_same_person_in_two_files_is_reported_not_dropped(db, clock, tmp_path):
    election_id = make_election(db, clock)
    shared = person(1, date(1970, 1, 1), district="01")
    first = write_csv(tmp_path / "one.csv", HEADER, [shared, person(2, date(1971, 2, 2))])
    moved = [*shared]
    moved[5] = "02"
    second = write_csv(tmp_path / "two.csv", HEADER, [person(3, date(1972, 3, 3), district="02"), moved])
    assert import_file(db, clock, election_id, first).accepted == 2
    report = import_file(db, clock, election_id, second)
    assert report.accepted == 1
    assert report.duplicates == [{"id_masked": ric.mask(shared[3]), "rows": [3], "registered_in": "01"}]
    with db.reading() as session:
        kept = session.execute(select(Voter).where(Voter.id_number == shared[3])).scalar_one()
        assert kept.source_row == 2  # the first registration stands


def test_duplicate_within_one_file(db, clock, tmp_path):
    election_id = make_election(db, clock)
    row = person(1, date(1970, 1, 1))
    path = write_csv(tmp_path / "d.csv", HEADER, [row, person(2, date(1980, 1, 1)), row, row])
    report = import_file(db, clock, election_id, path)
    assert report.accepted == 2
    assert report.duplicates == [{"id_masked": ric.mask(row[3]), "rows": [2, 4, 5]}]


def test_rejected_rows_commit_nothing_unless_accept_valid(db, clock, tmp_path):
    election_id = make_election(db, clock)
    bad = person(2, date(1980, 1, 1))
    bad[3] = bad[3][:-1] + ("0" if bad[3][-1] != "0" else "1")  # wrong check digit
    legacy = person(3, date(1981, 1, 1))
    legacy[3] = "420821810101001"
    rows = [person(1, date(1970, 1, 1)), bad, legacy, person(4, date(1982, 1, 1))]
    path = write_csv(tmp_path / "r.csv", HEADER, rows)
    before = counts(db)
    report = import_file(db, clock, election_id, path)
    assert not report.committed and report.accepted == 2
    assert [(r["row"], r["column"]) for r in report.rejected] == [(3, "身份证号码"), (4, "身份证号码")]
    assert "校验码" in report.rejected[0]["reason"] and "15 位" in report.rejected[1]["reason"]
    assert counts(db) == before
    report = import_file(db, clock, election_id, path, accept_valid=True)
    assert report.committed and report.accepted == 2 and len(report.rejected) == 2
    assert counts(db)[0] == 2


def test_age_edges_through_import(db, clock, tmp_path):
    election_id = make_election(db, clock)
    cutoff = date(ELECTION_DAY.year - 18, ELECTION_DAY.month, ELECTION_DAY.day)
    rows = [person(1, cutoff), person(2, date(1993, 10, 19))]
    report = import_file(
        db, clock, election_id, write_csv(tmp_path / "age.csv", HEADER, rows), accept_valid=True
    )
    assert report.accepted == 1
    assert report.rejected[0]["row"] == 3 and "未满十八周岁" in report.rejected[0]["reason"]


def test_warnings_for_unknown_headers_and_area_codes(db, clock, tmp_path):
    election_id = make_election(db, clock)
    unknown_area = ric.make_number("990199", date(1970, 3, 3), 0, "F")
    header = ["姓名", "身份证号", "选区", "联系电话"]
    path = write_csv(tmp_path / "w.csv", header, [["赵六", unknown_area, "01", "13800000000"]])
    report = import_file(db, clock, election_id, path)
    assert report.accepted == 1
    assert report.warnings[0] == {"row": 1, "column": "联系电话", "reason": "无法识别的列，已忽略"}
    assert report.warnings[1]["row"] == 2 and report.warnings[1]["column"] == "身份证号"


def test_unknown_district_and_missing_columns(db, clock, tmp_path):
    election_id = make_election(db, clock)
    path = write_csv(tmp_path / "x.csv", HEADER, [person(1, date(1970, 1, 1), district="99")])
    report = import_file(db, clock, election_id, path)
    assert report.rejected[0]["column"] == "选区" and "99" in report.rejected[0]["reason"]
    no_id = write_csv(tmp_path / "y.csv", ["姓名", "选区"], [["钱七", "01"]])
    with pytest.raises(DomainError) as error:
        import_file(db, clock, election_id, no_id)
    assert error.value.code == "E_MISSING_COLUMN"
    no_district = write_csv(
        tmp_path / "z.csv", ["姓名", "公民身份号码"], [["钱七", number(date(1970, 1, 1))]]
    )
    with pytest.raises(DomainError):
        import_file(db, clock, election_id, no_district)
    report = import_file(db, clock, election_id, no_district, district="02")
    assert report.accepted == 1


def test_deprived_persons_are_rejected_and_removed(db, clock, tmp_path):
    election_id = make_election(db, clock)
    registered = person(1, date(1960, 1, 1))
    newcomer = person(2, date(1961, 1, 1))
    served = person(3, date(1962, 1, 1))
    import_file(db, clock, election_id, write_csv(tmp_path / "a.csv", HEADER, [registered]))
    deprived = write_csv(
        tmp_path / "dep.csv",
        ["姓名", "公民身份号码", "剥夺期限至", "原因"],
        [
            [registered[1], registered[3], "", "判处"],
            [newcomer[1], newcomer[3], "2012-01-01", "判处"],
            [served[1], served[3], "2011-10-17", "刑满"],
        ],
    )
    sheet = open_sheet(deprived)
    with db.transaction() as session:
        report = voter_changes.load_deprived(
            session, election_id, sheet.header, sheet.rows, clock=clock, actor="t"
        )
    assert report.loaded == 3 and report.removed == [
        {"id_masked": ric.mask(registered[3]), "name": registered[1]}
    ]
    with db.reading() as session:
        assert session.execute(select(Voter.status, Voter.removed_reason)).one() == ("removed", "deprived")
    result = import_file(
        db, clock, election_id, write_csv(tmp_path / "b.csv", HEADER, [newcomer, served]), accept_valid=True
    )
    assert result.accepted == 1  # the term of `served` ended before election day
    assert "剥夺政治权利" in result.rejected[0]["reason"] and result.rejected[0]["row"] == 2


def test_xlsx_with_sheet_and_header_variants(db, clock, tmp_path):
    election_id = make_election(db, clock)
    book = Workbook()
    book.active.title = "说明"
    book.active.append(["本表为选民登记表"])
    sheet = book.create_sheet("登记表")
    sheet.append(["序号", "姓名", "性别", "公民身份号码", "民族", "出生日期", "选民小组", "住址", "户籍地"])
    born = date(1975, 7, 7)
    sheet.append([1, "孙八", "女", number(born, 0, "F"), "汉族", born, "第2组", "新市镇", "京山县"])
    sheet.append([None] * 9)  # a blank row between blocks
    sheet.append([3, "周九", "男", 4.2082119750707e17, "汉族", born, "第2组", "新市镇", "京山县"])
    path = tmp_path / "v.xlsx"
    book.save(path)
    with pytest.raises(DomainError) as error:
        import_file(db, clock, election_id, path, sheet="没有")
    assert error.value.code == "E_SHEET_NOT_FOUND"
    report = import_file(db, clock, election_id, path, sheet="登记表", district="01", accept_valid=True)
    assert report.accepted == 1
    assert (
        report.rejected == [{"row": 4, "column": "公民身份号码", "reason": report.rejected[0]["reason"]}]
        and "存为数字" in report.rejected[0]["reason"]
    )
    with db.reading() as session:
        voter = session.execute(select(Voter)).scalar_one()
        assert (voter.name, voter.sex, voter.birth_date, voter.ethnicity, voter.source_row) == (
            "孙八",
            "F",
            born,
            "汉族",
            2,
        )


def test_gbk_csv_is_read(db, clock, tmp_path):
    election_id = make_election(db, clock)
    path = write_csv(
        tmp_path / "g.csv", HEADER, [person(1, date(1970, 1, 1), name="欧阳修")], encoding="gb18030"
    )
    report = import_file(db, clock, election_id, path)
    assert report.accepted == 1
    with db.reading() as session:
        assert session.execute(select(Voter.name)).scalar_one() == "欧阳修"


def test_moved_out_and_back_reuses_the_registration(db, clock, tmp_path):
    election_id = make_election(db, clock)
    row = person(1, date(1970, 1, 1))
    import_file(db, clock, election_id, write_csv(tmp_path / "a.csv", HEADER, [row]))
    with db.transaction() as session:
        removed = voter_changes.remove_voter(
            session,
            election_id,
            row[3],
            reason=RemovedReason.MOVED_OUT,
            note="迁往武汉",
            clock=clock,
            actor="t",
        )
        assert (removed.status, removed.removed_reason, removed.removed_note) == (
            "removed",
            "moved_out",
            "迁往武汉",
        )
        with pytest.raises(DomainError) as error:
            voter_changes.remove_voter(
                session, election_id, row[3], reason=RemovedReason.DECEASED, clock=clock, actor="t"
            )
        assert error.value.code == "E_ALREADY_REMOVED"
    # Registered but removed: a re-import does not silently bring them back.
    report = import_file(db, clock, election_id, write_csv(tmp_path / "b.csv", HEADER, [row]))
    assert report.accepted == 0 and report.unchanged == 1
    assert report.warnings == [{"row": 2, "column": "身份证号码", "reason": report.warnings[0]["reason"]}]
    assert "已除名" in report.warnings[0]["reason"]
    with db.transaction() as session:
        back = voter_changes.add_voter(
            session,
            election_id,
            district="02",
            name=row[1],
            id_number=row[3],
            reason=AddedReason.MOVED_IN,
            clock=clock,
            actor="t",
        )
        assert (back.status, back.added_reason, back.removed_reason) == ("active", "moved_in", None)
    with db.reading() as session:
        assert session.execute(select(func.count()).select_from(Voter)).scalar_one() == 1
