"""Reading and writing the committee's spreadsheets (CSV and XLSX), streaming.

Rows are numbered as staff see them in Excel: the header is row 1. CSV files from Excel in
China are often GB18030 (GBK); UTF-8 (with or without BOM) is tried first.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from workflow.errors import DomainError

CSV_SUFFIXES = {".csv", ".txt"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}


class _CountingReader(io.RawIOBase):
    """Counts bytes read, so a progress bar can follow a streamed text file."""

    def __init__(self, raw, on_bytes: Callable[[int], None] | None):
        self._raw = raw
        self._on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer)
        if count and self._on_bytes:
            self._on_bytes(count)
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass
class Sheet:
    header: list[object]
    rows: Iterator[tuple[int, list[object]]]  # (Excel row number, cells)
    total: int | None  # bytes (CSV) or rows (XLSX), for progress
    unit: str  # "bytes" / "rows"
    close: Callable[[], None]


def _detect_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 4:  # a character cut at the end of the sample
            return "utf-8"
        return "gb18030"


def open_sheet(
    path: Path, *, sheet: str | None = None, on_progress: Callable[[int], None] | None = None
) -> Sheet:
    """Open a CSV or XLSX file; `on_progress(n)` is called with bytes (CSV) or rows (XLSX) done."""
    path = Path(path)
    if not path.is_file():
        raise DomainError("E_FILE_NOT_FOUND", f"找不到文件：{path}", "file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _open_csv(path, on_progress)
    if suffix in XLSX_SUFFIXES:
        return _open_xlsx(path, sheet, on_progress)
    raise DomainError(
        "E_FILE_FORMAT", f"不支持的文件格式：{path.suffix or '无扩展名'}（应为 .csv 或 .xlsx）", "file"
    )


def _open_csv(path: Path, on_progress) -> Sheet:
    encoding = _detect_encoding(path)
    raw = path.open("rb", buffering=0)
    text = io.TextIOWrapper(
        io.BufferedReader(_CountingReader(raw, on_progress), 1 << 20), encoding=encoding, newline=""
    )
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        text.close()
        raise DomainError("E_FILE_EMPTY", "文件为空，没有表头行", "file") from None
    except UnicodeDecodeError:
        text.close()
        raise DomainError("E_FILE_ENCODING", "文件编码无法识别（应为 UTF-8 或 GBK）", "file") from None

    def rows() -> Iterator[tuple[int, list[object]]]:
        try:
            yield from enumerate(reader, start=2)
        except UnicodeDecodeError:
            raise DomainError(
                "E_FILE_ENCODING", "文件中有无法识别的字符（应为 UTF-8 或 GBK 编码）", "file"
            ) from None
        except csv.Error as error:
            raise DomainError("E_FILE_FORMAT", f"CSV 格式有误：{error}", "file") from None

    return Sheet(header, rows(), path.stat().st_size, "bytes", text.close)


def _open_xlsx(path: Path, sheet: str | None, on_progress) -> Sheet:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise DomainError("E_FILE_FORMAT", f"无法读取 Excel 文件：{error}", "file") from None
    if sheet is not None:
        if sheet not in book.sheetnames:
            book.close()
            names = "、".join(book.sheetnames)
            raise DomainError("E_SHEET_NOT_FOUND", f"工作表「{sheet}」不存在（有：{names}）", "sheet")
        worksheet = book[sheet]
    else:
        worksheet = book.worksheets[0]
    iterator = worksheet.iter_rows(values_only=True)
    try:
        header = list(next(iterator))
    except StopIteration:
        book.close()
        raise DomainError("E_FILE_EMPTY", "工作表为空，没有表头行", "file") from None
    total = worksheet.max_row

    def rows() -> Iterator[tuple[int, list[object]]]:
        for number, cells in enumerate(iterator, start=2):
            if on_progress and number % 1000 == 0:
                on_progress(1000)
            yield number, list(cells)

    return Sheet(header, rows(), total, "rows", book.close)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_csv(path: Path, header: list[str], rows: Iterable[list[object]]) -> int:
    """UTF-8 with BOM, so Excel opens it with the right characters."""
    count = 0
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def write_xlsx(
    path: Path, title: str, header: list[str], rows: Iterable[list[object]], widths: list[int] | None = None
) -> int:
    """The layout committees print: a title row across the table, the header, then the rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("名单")
    for index, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    title_cell = WriteOnlyCell(sheet, value=title)
    title_cell.font = Font(bold=True, size=14)
    title_cell.alignment = Alignment(horizontal="center")
    sheet.append([title_cell])
    sheet.merged_cells.add(f"A1:{get_column_letter(len(header))}1")
    header_cells = []
    for text in header:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        sheet.append(row)
        count += 1
    sheet.print_title_rows = "1:2"
    book.save(path)
    return count
