"""Population units read from the CSV files committees keep (pure: takes text, not paths).

Two layouts share one reader:
- apportionment: `code,name,population` (one row per district or township);
- district division: `code,name,population,parent,neighbours` (one row per village, residents'
  group or residents' committee; `neighbours` lists adjacent codes separated by `;` or spaces).

Rows are numbered as staff see them in a spreadsheet: the header is row 1. Errors name the
column and the row, so a committee can fix the file and try again.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from workflow.errors import DomainError

# Header variants seen in committee spreadsheets, mapped to the canonical column names.
HEADER_ALIASES: dict[str, str] = {
    "code": "code",
    "代码": "code",
    "编码": "code",
    "编号": "code",
    "name": "name",
    "名称": "name",
    "单位名称": "name",
    "population": "population",
    "人口": "population",
    "人口数": "population",
    "parent": "parent",
    "上级": "parent",
    "所属乡镇": "parent",
    "乡镇": "parent",
    "neighbours": "neighbours",
    "neighbors": "neighbours",
    "邻接": "neighbours",
    "相邻单元": "neighbours",
}

_NEIGHBOUR_SEPARATORS = re.compile(r"[;；,，\s]+")


@dataclass(frozen=True)
class Unit:
    """One row: a district (apportionment) or a small unit (district division)."""

    code: str
    name: str
    population: int
    row: int
    parent: str = ""
    neighbours: tuple[str, ...] = ()


def _canonical(header: str) -> str:
    key = header.strip().lstrip("\ufeff")
    return HEADER_ALIASES.get(key.lower(), HEADER_ALIASES.get(key, key.lower()))


def _population(text: str, row: int) -> int:
    cleaned = text.strip().replace(",", "").replace("，", "").replace(" ", "")
    if not re.fullmatch(r"\d+", cleaned):
        raise DomainError(
            "E_CSV_BAD_NUMBER",
            f"第 {row} 行 population（人口数）应为非负整数，实际为 {text!r}",
            "population",
        )
    return int(cleaned)


def read_units(text: str, *, with_graph: bool = False) -> list[Unit]:
    """Parse CSV text into units. `with_graph` requires the parent and neighbours columns.

    Refuses (DomainError, nothing returned) a missing column, a bad population, an empty code
    or a duplicate code; each error names the column and the spreadsheet row.
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise DomainError("E_CSV_EMPTY", "文件为空：缺少表头行", None) from None
    columns = [_canonical(h) for h in header]
    required = ["code", "name", "population"] + (["parent", "neighbours"] if with_graph else [])
    for column in required:
        if column not in columns:
            raise DomainError(
                "E_CSV_MISSING_COLUMN",
                f"缺少列 {column}（表头应为：{','.join(required)}）",
                column,
            )
    index = {c: columns.index(c) for c in required}
    units: list[Unit] = []
    first_row: dict[str, int] = {}
    for row_number, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank lines at the end of an exported sheet

        def cell(column: str, record=record) -> str:
            position = index[column]
            return record[position].strip() if position < len(record) else ""

        code = cell("code")
        if not code:
            raise DomainError("E_CSV_MISSING_VALUE", f"第 {row_number} 行 code（代码）为空", "code")
        if code in first_row:
            raise DomainError(
                "E_CSV_DUPLICATE_CODE",
                f"第 {row_number} 行 code（代码）{code} 与第 {first_row[code]} 行重复",
                "code",
            )
        first_row[code] = row_number
        population = _population(cell("population"), row_number)
        neighbours: tuple[str, ...] = ()
        parent = ""
        if with_graph:
            parent = cell("parent")
            neighbours = tuple(n for n in _NEIGHBOUR_SEPARATORS.split(cell("neighbours")) if n)
        units.append(Unit(code, cell("name") or code, population, row_number, parent, neighbours))
    if not units:
        raise DomainError("E_CSV_EMPTY", "文件中没有数据行", None)
    return units


def decode(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM), else GB18030 (Excel's default in China)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise DomainError("E_CSV_ENCODING", "文件编码无法识别（应为 UTF-8 或 GBK）", None) from None
