"""Bounded work per upload (issue 16 item 3): zip bombs and XML bombs refused before openpyxl
inflates them, broken workbooks, over-long CSV fields and over-wide rows → a clear 4xx; the
report keeps at most REPORT_CAP rejected rows in memory (and in the response) while the
downloadable file has them all; a row limit."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from demo.voters import HEADER
from tests.service_fixtures import make_world
from tests.test_service_api import problem_of
from tests.test_service_api_parts import ID_COLUMN, XINSHI_ELECTION, advance_to, csv_bytes, voter_rows
from workflow.commands import voter_files
from workflow.rules.voter_import import REPORT_CAP
from workflow.store.voters import Voter

URL = f"/api/v1/elections/{XINSHI_ELECTION}/voters/import"


@pytest.fixture
def world(db, clock):
    world = make_world(db, clock)
    assert advance_to(db, clock, date(2011, 9, 2)) == "registration"
    made = world.post(
        "xinshi", f"/api/v1/elections/{XINSHI_ELECTION}/districts", json={"code": "01", "name": "第01选区"}
    )
    assert made.status_code == 201
    return world


def _send(world, name: str, content: bytes):
    return world.post("xinshi", URL, files={"file": (name, content)})


def _workbook_with_sheet(xml: bytes) -> bytes:
    """A real workbook whose first worksheet's XML is replaced by `xml`."""
    book = Workbook()
    book.active.append(HEADER)
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = xml if item.filename == "xl/worksheets/sheet1.xml" else source.read(item)
            target.writestr(item.filename, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


SHEET = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>%s</sheetData></worksheet>'


def test_a_zip_bomb_is_refused_before_it_is_inflated(world):
    row = b'<row><c t="inlineStr"><is><t>junk</t></is></c><c t="inlineStr"><is><t>junk</t></is></c></row>'
    bomb = _workbook_with_sheet(SHEET % (row * 400_000))  # some 40 MB of XML
    assert len(bomb) < 200_000
    started = time.perf_counter()
    body = problem_of(_send(world, "bomb.xlsx", bomb), 422, "file", "E_FILE_BOMB")
    assert time.perf_counter() - started < 5 and "压缩" in body["detail"]


@pytest.mark.parametrize(
    "doctype",
    [
        # billion laughs
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>',
        # XXE: an external entity reading a local file
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    ],
)
def test_xml_bombs_and_external_entities_are_refused(world, doctype):
    xml = doctype + SHEET % b'<row><c t="inlineStr"><is><t>&lol2;</t></is></c></row>'
    body = problem_of(_send(world, "x.xlsx", _workbook_with_sheet(xml)), 422, "file")
    assert body["code"] in ("E_FILE_UNSAFE", "E_FILE_FORMAT")
    assert "root:" not in body["detail"]


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("broken.xlsx", b"PK\x03\x04 this is not a workbook", "E_FILE_FORMAT"),
        ("empty.xlsx", b"", "E_FILE_FORMAT"),
        ("text.xlsx", "姓名,公民身份号码\n".encode(), "E_FILE_FORMAT"),
        ("big-header.csv", b"\xe5\xa7\x93\xe5\x90\x8d," + b"x" * 140_000 + b"\n", "E_FILE_FORMAT"),
    ],
)
def test_broken_files_are_a_clear_4xx(world, name, content, code):
    problem_of(_send(world, name, content), 422, "file", code)


def test_a_missing_sheet_names_the_sheets_there_are(world):
    book = Workbook()
    book.active.title = "名单"
    book.active.append(HEADER)
    out = io.BytesIO()
    book.save(out)
    sent = world.post("xinshi", URL, params={"sheet": "Sheet9"}, files={"file": ("v.xlsx", out.getvalue())})
    body = problem_of(sent, 422, "sheet", "E_SHEET_NOT_FOUND")
    assert "名单" in body["detail"]


def test_over_wide_rows_are_refused(world):
    rows = voter_rows(2)
    wide = [*rows[1], *(["x"] * 5000)]
    body = problem_of(_send(world, "wide.csv", csv_bytes([rows[0], wide])), 422, "file", "E_FILE_TOO_WIDE")
    assert "第 3 行" in body["detail"]


def test_a_million_columns_are_refused_without_reading_them(world):
    line = ("," * 1_000_000).encode()
    started = time.perf_counter()
    body = problem_of(_send(world, "wide.csv", "姓名,公民身份号码\n".encode() + line + b"\n"), 422, "file")
    assert body["code"] == "E_FILE_TOO_WIDE" and time.perf_counter() - started < 5


def test_rejected_rows_are_capped_in_the_report_but_all_in_the_file(world):
    junk = []
    for i, row in enumerate(voter_rows(3000, seed=3)):
        row = list(row)
        row[ID_COLUMN] = f"bad{i}"
        junk.append(row)
    sent = _send(world, "junk.csv", csv_bytes(junk))
    assert sent.status_code == 422
    body = sent.json()
    assert body["rejected_rows"] == 3000 and body["rejected_total"] == 3000
    assert len(body["rejected"]) == REPORT_CAP
    assert len(sent.content) < 300_000  # the response no longer grows with the file
    got = world.get("xinshi", body["rejected_file"])
    table = list(load_workbook(io.BytesIO(got.content), read_only=True).active.iter_rows(values_only=True))
    assert len(table) == 3001 and table[-1][ID_COLUMN] == "bad2999"


def test_a_file_over_the_row_limit_is_refused(world, monkeypatch):
    monkeypatch.setattr(voter_files, "MAX_ROWS", 50)
    body = problem_of(
        _send(world, "many.csv", csv_bytes(voter_rows(60))), 422, "file", "E_FILE_TOO_MANY_ROWS"
    )
    assert "50" in body["detail"]
    with world.client.app.state.services.db.reading() as session:  # nothing of it was written
        assert session.execute(select(func.count()).select_from(Voter)).scalar_one() == 0
