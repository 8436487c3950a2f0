"""The 进度通报 (weekly progress report sent up to the city), written from the grid itself
(`workflow/views/grid.py`), so its figures are the grid's: an XLSX workbook (counts per
milestone; late items) and a short DOCX report in Chinese with the same figures and tables.

`snapshot(g)` is everything the files show, as plain JSON values; `write(data, fmt)` makes a
file from it. A big province's report is made that way as a render job (issue 15): the
snapshot is taken in the request's short transaction, the file written off the request path."""

from __future__ import annotations

import io
from datetime import date

from docx import Document
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from workflow.views.grid import OVERDUE, STATE_TEXT, STATES, Grid, late_items

COUNTS_SHEET = "各节点统计"
LATE_SHEET = "逾期事项"
LATE_HEADER = ("乡镇（单位）", "选举", "工作节点", "法定最迟", "逾期天数", "已催办次数")


def counts_table(g: Grid) -> list[list]:
    """One line per (kind, milestone): the kind, the phase, the milestone, then one count per
    state, then the total."""
    lines = []
    for k in g.kinds:
        for c in k.columns:
            counter = k.per_milestone[c.key]
            lines.append([k.kind_name, c.phase_name, c.name, *(counter[s] for s in STATES), sum(counter.values())])
    return lines


def counts_header() -> list[str]:
    return ["选举类型", "阶段", "工作节点", *(STATE_TEXT[s] for s in STATES), "合计"]


def _title(data: dict) -> str:
    today = date.fromisoformat(data["today"])
    return f"{data['root_name']}换届选举工作进度通报（截至 {today:%Y年%m月%d日}）"


def snapshot(g: Grid) -> dict:
    """What the report shows, as JSON values (dates as ISO text)."""
    return {
        "today": g.today.isoformat(),
        "root_name": g.root_name,
        "rows_total": g.rows_total,
        "overdue": g.totals[OVERDUE],
        "due_soon": g.totals["due_soon"],
        "blocked": g.totals["blocked"],
        "headlines": [line for k in g.kinds for line in k.headline()[:10]],
        "counts": counts_table(g),
        "late": [
            {**item, "latest": item["latest"].isoformat() if item["latest"] is not None else None}
            for item in late_items(g)
        ],
    }


def write(data: dict, fmt: str) -> bytes:
    """The report file from its snapshot: "xlsx" or "docx"."""
    return _xlsx(data) if fmt == "xlsx" else _docx(data)


def report_xlsx(g: Grid) -> bytes:
    return _xlsx(snapshot(g))


def report_docx(g: Grid) -> bytes:
    return _docx(snapshot(g))


def _xlsx(data: dict) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = COUNTS_SHEET
    sheet.append([_title(data)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(counts_header())
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    red = PatternFill("solid", fgColor="F8D7DA")
    overdue_column = 4 + STATES.index(OVERDUE)
    for line in data["counts"]:
        sheet.append(line)
        if line[overdue_column - 1]:
            sheet.cell(sheet.max_row, overdue_column).fill = red
    for column, width in zip("ABC", (26, 22, 30), strict=True):
        sheet.column_dimensions[column].width = width
    late = book.create_sheet(LATE_SHEET)
    late.append(list(LATE_HEADER))
    for cell in late[1]:
        cell.font = Font(bold=True)
    for item in data["late"]:
        latest = date.fromisoformat(item["latest"]) if item["latest"] else None
        late.append([item["jurisdiction"], item["title"], item["milestone"], latest, item["days"], item["chased"]])
        late.cell(late.max_row, 4).number_format = "yyyy-mm-dd"
    for column, width in zip("ABCD", (22, 40, 28, 12), strict=True):
        late.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _docx(data: dict) -> bytes:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(11)
    doc.add_heading(_title(data), level=1)
    late = data["late"]
    townships = len({i["jurisdiction"] for i in late})
    today = date.fromisoformat(data["today"])
    doc.add_paragraph(
        f"截至{today:%Y年%m月%d日}，全{data['root_name']}共有 {data['rows_total']} 个选举在办，"
        f"{townships} 个乡镇（单位）有逾期事项，共 {data['overdue']} 项逾期、"
        f"{data['due_soon']} 项即将到期、{data['blocked']} 项受阻。"
    )
    for line in data["headlines"]:
        doc.add_paragraph(line, style="List Bullet")
    doc.add_heading("一、各节点统计", level=2)
    header = counts_header()
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for line in data["counts"]:
        cells = table.add_row().cells
        for cell, value in zip(cells, line, strict=True):
            cell.text = str(value)
    doc.add_heading("二、逾期事项", level=2)
    if not late:
        doc.add_paragraph("无逾期事项。")
    else:
        table = doc.add_table(rows=1, cols=len(LATE_HEADER))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, LATE_HEADER, strict=True):
            cell.text = text
        for item in late:
            values = [item["jurisdiction"], item["title"], item["milestone"], item["latest"], item["days"], item["chased"]]
            for cell, value in zip(table.add_row().cells, values, strict=True):
                cell.text = "" if value is None else str(value)
    doc.add_paragraph("请各乡镇选举委员会抓紧办理逾期事项，办结后及时在工作台登记。")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
