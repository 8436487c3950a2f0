"""The 进度通报 (workflow/views/progress_report.py): XLSX and DOCX written from the grid, read
back with openpyxl and python-docx, their figures equal to the grid's."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import docx
import openpyxl

from tests.service_fixtures import load_world
from workflow.views import jurisdictions
from workflow.views.grid import OVERDUE, STATES, grid, late_items
from workflow.views.progress_report import COUNTS_SHEET, LATE_SHEET, report_docx, report_xlsx

BUILT = datetime(2011, 8, 20, 2, 0, tzinfo=UTC)


def test_xlsx_and_docx_carry_the_grids_figures(db):
    load_world(db, BUILT)
    with db.reading() as session:
        g = grid(session, jurisdictions.by_code(session, "420821"), date(2011, 9, 21))
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(g)))
    counts = book[COUNTS_SHEET]
    assert "京山县" in counts["A1"].value and "2011年09月21日" in counts["A1"].value
    header = [c.value for c in counts[2]]
    overdue_col = header.index("已逾期")
    lines = [[c.value for c in row] for row in counts.iter_rows(min_row=3)]
    people = next(k for k in g.kinds if k.kind == "people_congress")
    by_name = {line[2]: line for line in lines if line[0] == people.kind_name}
    for column in people.columns:
        line = by_name[column.name]
        assert line[3 : 3 + len(STATES)] == [people.per_milestone[column.key][s] for s in STATES]
    assert sum(line[overdue_col] for line in lines) == g.totals[OVERDUE]

    late = book[LATE_SHEET]
    rows = [[c.value for c in row] for row in late.iter_rows(min_row=2)]
    assert len(rows) == g.totals[OVERDUE] == len(late_items(g))
    first = rows[0]
    assert first[0] == "新市镇阳光社区" and first[2] == "投票选举" and first[4] == 3

    document = docx.Document(io.BytesIO(report_docx(g)))
    text = "\n".join(p.text for p in document.paragraphs)
    assert f"共 {g.totals[OVERDUE]} 项逾期" in text
    assert "5 个选举已逾期：公布选民名单" in text
    count_table, late_table = document.tables
    assert len(count_table.rows) == len(lines) + 1
    assert len(late_table.rows) == g.totals[OVERDUE] + 1
    docx_overdue = sum(int(row.cells[overdue_col].text) for row in count_table.rows[1:])
    assert docx_overdue == g.totals[OVERDUE]
