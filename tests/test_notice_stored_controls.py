"""Control characters in data already stored (issue 16 item 9): input is refused at the edge,
but a value stored before that, or written around it, must not break a notice. The renderer
strips what XML (a DOCX) cannot hold from every printed value; a stored HTML snapshot is
stripped again on its way to DOCX."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import update

from notices.output import to_docx
from notices.render import printable
from tests.service_fixtures import make_world
from tests.test_service_api_parts import XINSHI_ELECTION, advance_to, csv_bytes, upload, voter_rows
from workflow.store.models import Jurisdiction
from workflow.store.voters import Voter

BASE = f"/api/v1/elections/{XINSHI_ELECTION}"


@pytest.fixture
def world(db, clock):
    return make_world(db, clock)


def _text(docx: bytes) -> str:
    from docx import Document

    document = Document(io.BytesIO(docx))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_printable_strips_what_xml_cannot_hold():
    assert printable("王\x0b伟\x00\x1f\x7f\ud800\uffff") == "王伟"
    assert printable("第一行\n第二行\t尾") == "第一行\n第二行\t尾"  # tab, LF, CR are XML
    assert printable(12) == 12 and printable(None) is None


def test_a_voters_name_with_a_control_character_does_not_break_the_districts_docx(world, db, clock):
    assert advance_to(db, clock, date(2011, 9, 2)) == "registration"
    made = world.post("xinshi", f"{BASE}/districts", json={"code": "01", "name": "第01选区", "seats": 2})
    assert made.status_code == 201, made.text
    rows = [[*row[:6], "01", *row[7:]] for row in voter_rows(5)]
    assert upload(world, "xinshi", csv_bytes(rows)).status_code == 200
    with db.transaction() as session:  # stored around the edge's checks (an older release, SQL)
        session.execute(update(Voter).where(Voter.source_row == 2).values(name="王\x0b伟\x1b"))
        session.execute(
            update(Jurisdiction)
            .where(Jurisdiction.code == "420821100")
            .values(committee_name="新市镇\x08选举委员会")
        )
    got = world.get(
        "observer", f"{BASE}/notices/voter_list/preview", params={"format": "docx", "district": "01"}
    )
    assert got.status_code == 200, got.text[:300]
    text = _text(got.content)
    assert "王伟" in text and "\x0b" not in text and "\x1b" not in text
    html = world.get(
        "observer", f"{BASE}/notices/voter_list/preview", params={"format": "html", "district": "01"}
    )
    assert html.status_code == 200 and "王伟" in html.text and "\x0b" not in html.text
    formed = world.get(
        "observer", f"{BASE}/notices/election_committee_formed/preview", params={"format": "docx"}
    )
    assert formed.status_code == 200 and "新市镇选举委员会" in _text(formed.content)


def test_a_stored_snapshot_with_control_characters_still_makes_a_docx():
    html = (
        '<html><body><h1 data-docx="title">公告\x0b</h1>'
        '<p data-docx="para">选民王\x0c伟，住\x1f址</p></body></html>'
    )
    assert "选民王伟，住址" in _text(to_docx(html))
