"""Registers as they come (issue 13 item 3): the header row found below title rows, a merged
title cell and blank rows; the project's own XLSX export read back (round trip); GBK, GB18030
and UTF-8 CSV; rejected rows downloadable as XLSX (the original row plus 原因) from the API and
the dashboard's upload report, fit to be fixed and sent again."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from demo.voters import HEADER
from tests.service_fixtures import make_world
from tests.test_service_api_parts import (
    ID_COLUMN,
    XINSHI_ELECTION,
    _login,
    advance_to,
    csv_bytes,
    voter_rows,
)
from tests.voters_support import import_file, make_election, number, synthetic_csv
from workflow.commands import voter_exports
from workflow.commands.voter_files import HEADER_SCAN, open_sheet, write_xlsx
from workflow.errors import DomainError
from workflow.store.voters import Voter

ROWS = [
    ["1", "王伟", "男", number(date(1960, 1, 5), 1, "M"), "01"],
    ["2", "李芳", "女", number(date(1971, 2, 6), 2, "F"), "01"],
    ["3", "张䶮", "男", number(date(1982, 3, 7), 3, "M"), "02"],  # 䶮: in GB18030, not in GBK
]
SHORT_HEADER = ["序号", "姓名", "性别", "公民身份号码", "选区"]


def _village_register(path, *, blank_rows: int = 1):
    """A village's sheet: a merged title across the table, a date line, blank rows, the header."""
    book = Workbook()
    sheet = book.active
    sheet.append(["京山县新市镇五里铺村选民登记表"])
    sheet.merge_cells("A1:E1")
    sheet.append(["填报单位：五里铺村民委员会", None, None, "填报日期：2011年9月1日"])
    for _ in range(blank_rows):
        sheet.append([])
    sheet.append(SHORT_HEADER)
    for row in ROWS[:2]:
        sheet.append(row)
    book.save(path)
    return path


def test_header_below_a_merged_title_and_blank_rows(db, clock, tmp_path):
    election_id = make_election(db, clock)
    path = _village_register(tmp_path / "五里铺村.xlsx", blank_rows=2)
    sheet = open_sheet(path)
    assert sheet.header_row == 5 and sheet.header == SHORT_HEADER
    sheet.close()
    report = import_file(db, clock, election_id, path)
    assert report.committed and report.accepted == 2 and report.rejected == [] and report.warnings == []
    with db.reading() as session:
        rows = session.execute(select(Voter.name, Voter.source_row).order_by(Voter.source_row)).all()
    assert rows == [("王伟", 6), ("李芳", 7)]  # the rows as staff see them in Excel


def test_a_file_without_any_header_still_names_the_missing_columns(db, clock, tmp_path):
    election_id = make_election(db, clock)
    book = Workbook()
    for i in range(HEADER_SCAN + 5):
        book.active.append([f"说明第{i}行"])
    book.save(tmp_path / "x.xlsx")
    with pytest.raises(DomainError) as missing:
        import_file(db, clock, election_id, tmp_path / "x.xlsx")
    assert missing.value.code == "E_MISSING_COLUMN" and "姓名" in missing.value.message


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_csv_in_chinese_encodings_with_a_title_row(db, clock, tmp_path, encoding):
    election_id = make_election(db, clock)
    rows = ROWS if encoding != "gbk" else ROWS[:2]
    lines = ["五里铺村选民登记表,,,,", ",,,,", ",".join(SHORT_HEADER)] + [",".join(r) for r in rows]
    path = tmp_path / "v.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    report = import_file(db, clock, election_id, path)
    assert report.committed and report.accepted == len(rows), report.rejected
    with db.reading() as session:
        names = set(session.execute(select(Voter.name)).scalars())
    assert names == {r[1] for r in rows}


def test_the_projects_own_xlsx_export_reads_back(db, clock, tmp_path):
    """The register exported as committees print it (title row, header, 年龄 and 序号 columns,
    district names) is accepted as an upload: into another election it registers everyone."""
    first = make_election(db, clock)
    report = import_file(db, clock, first, synthetic_csv(tmp_path / "a.csv", 40))
    assert report.accepted == 40
    out = tmp_path / "登记册.xlsx"
    with db.reading() as session:
        view = voter_exports.list_view(session, first, which="register", full_ids=True)
        assert write_xlsx(out, view.title, view.header, view.rows, view.widths) == 40
    exported = load_workbook(out, read_only=True).active
    assert "选民登记册" in exported.cell(1, 1).value and exported.cell(2, 2).value == "姓名"
    again = import_file(db, clock, first, out)
    assert again.committed and again.rejected == [] and again.unchanged == 40 and again.accepted == 0
    second = make_election(db, clock)
    copied = import_file(db, clock, second, out)
    assert copied.committed and copied.accepted == 40 and copied.rejected == []


def test_a_broken_xls_is_a_clear_error(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0 not really an OLE2 file")
    with pytest.raises(DomainError) as refused:
        open_sheet(path)
    assert refused.value.code == "E_FILE_FORMAT" and ".xls" in refused.value.message


# -- the rejected rows, downloaded ---------------------------------------------------------------
@pytest.fixture
def registration(db, clock):
    world = make_world(db, clock)
    assert advance_to(db, clock, date(2011, 9, 2)) == "registration"
    for code in ("01", "02"):
        made = world.post(
            "xinshi",
            f"/api/v1/elections/{XINSHI_ELECTION}/districts",
            json={"code": code, "name": f"第{code}选区", "seats": 2},
        )
        assert made.status_code == 201, made.text
    return world


def _xlsx(rows: list[list[object]], title: str | None = "新市镇选民登记表") -> bytes:
    book = Workbook()
    if title:
        book.active.append([title])
        book.active.merge_cells(f"A1:{chr(64 + len(HEADER))}1")
    book.active.append(HEADER)
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_rejected_rows_download_as_xlsx_and_go_back_in_fixed(registration):
    world = registration
    url = f"/api/v1/elections/{XINSHI_ELECTION}/voters/import"
    rows = voter_rows(6)
    good_numbers = [r[ID_COLUMN] for r in rows]
    bad = [list(r) for r in rows[3:]]
    bad[0][ID_COLUMN] = "12345"
    bad[1][HEADER.index("姓名")] = ""
    bad[2][HEADER.index("选区")] = "09"
    content = _xlsx([*rows[:3], *bad])
    sent = world.post("xinshi", url, files={"file": ("村.xlsx", content)})
    assert sent.status_code == 422
    body = sent.json()
    assert body["rejected_rows"] == 3 and [r["row"] for r in body["rejected"]] == [6, 7, 8]
    link = body["rejected_file"]
    assert link.startswith(f"{url}/rejects/")
    # Only the uploader gets the file (it holds whole ID numbers as the village sent them).
    assert world.get("admin", link).status_code == 404
    got = world.get("xinshi", link)
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(got.content)).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0] == [*HEADER, "原因"]
    assert [r[ID_COLUMN] for r in table[1:]] == ["12345", bad[1][ID_COLUMN], bad[2][ID_COLUMN]]
    assert "第 6 行" in table[1][-1] and "公民身份号码" in table[1][-1]
    assert "姓名为空" in table[2][-1] and "选区「09」不存在" in table[3][-1]
    # The village fixes the three rows in the file itself and sends it back (原因 is ignored).
    sheet.cell(2, ID_COLUMN + 1).value = good_numbers[3]
    sheet.cell(3, HEADER.index("姓名") + 1).value = "赵六"
    sheet.cell(4, HEADER.index("选区") + 1).value = "02"
    fixed = io.BytesIO()
    sheet.parent.save(fixed)
    first_three = world.post("xinshi", url, files={"file": ("村.xlsx", _xlsx(rows[:3]))})
    assert first_three.status_code == 200 and first_three.json()["accepted"] == 3
    again = world.post("xinshi", url, files={"file": ("村-改.xlsx", fixed.getvalue())})
    assert again.status_code == 200, again.text
    assert again.json()["accepted"] == 3 and again.json()["warnings"] == []
    assert again.json()["rejected_file"] is None


def test_the_dashboard_report_links_the_rejected_rows(registration):
    world = registration
    client = _login(world, "xinshi")
    page = client.get(f"/elections/{XINSHI_ELECTION}").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    rows = voter_rows(3)
    rows[1] = list(rows[1])
    rows[1][ID_COLUMN] = "12345"
    sent = client.post(
        f"/elections/{XINSHI_ELECTION}/voters/import",
        data={"csrf": token},
        files={"file": ("v.csv", csv_bytes(rows), "text/csv")},
    )
    assert sent.status_code == 422 and "下载被拒绝的行" in sent.text
    link = re.search(r'href="(/elections/3/voters/import/rejects/[^"]+)"', sent.text).group(1)
    got = client.get(link)
    assert got.status_code == 200
    table = list(load_workbook(io.BytesIO(got.content)).active.iter_rows(values_only=True))
    assert len(table) == 2 and table[1][ID_COLUMN] == "12345" and "第 3 行" in table[1][-1]
