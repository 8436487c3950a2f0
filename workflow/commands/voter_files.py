"""Reading and writing the committee's spreadsheets (CSV, XLSX and old XLS), streaming.

Rows are numbered as staff see them in Excel. The header row is found among the first rows
(a village register has title rows, a merged title cell or blank rows above it; the project's
own export has a title row). CSV files from Excel in China are often GB18030 (GBK); UTF-8 (with
or without BOM) is tried first.

Every read is bounded (issue 16): the upload's size (the edge's), the rows, the columns, and for
XLSX the zip container (members, inflated size, compression ratio: a zip bomb is refused before
openpyxl opens it) and its XML (openpyxl parses with defusedxml: no entities, no DTD, no XXE).
Exports neutralise cells a spreadsheet would run as formulas (OWASP CSV injection).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import pickle
import secrets
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflow.errors import DomainError, not_found
from workflow.rules.voter_rows import FORMULA_START, header_score, neutralise
from workflow.store.voters import RejectedRowsFile

CSV_SUFFIXES = {".csv", ".txt"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
XLS_SUFFIXES = {".xls"}
HEADER_SCAN = 20  # the header row is looked for among this many first rows
MAX_ROWS = 1_000_000  # rows of one file: a county's register in one file stays well below
MAX_COLUMNS = 64  # a register has a dozen columns; the rest of a wider row is an error
MAX_LINE = 256 * 1024  # characters in one line of a CSV file (a register's row: well under 4 KB)
# XLSX containers: a zip bomb is refused before any member is inflated.
MAX_ZIP_MEMBERS = 2000
MAX_INFLATED = 1 << 30  # 1 GiB of XML for the whole workbook
MAX_RATIO = 100  # inflated / compressed, for members over 1 MiB (real sheets: 5–30)


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
    header_row: int = 1  # where the header was found (title rows above it are skipped)


def _too_wide(number: int, width: int) -> DomainError:
    return DomainError(
        "E_FILE_TOO_WIDE", f"第 {number} 行有 {width} 列，超过 {MAX_COLUMNS} 列：请检查文件是否正确", "file"
    )


def _bounded(rows: Iterable[tuple[int, list[object]]]) -> Iterator[tuple[int, list[object]]]:
    """Rows with the row and column limits applied (a clear error past them)."""
    for count, (number, cells) in enumerate(rows, 1):
        if count > MAX_ROWS:
            raise DomainError(
                "E_FILE_TOO_MANY_ROWS", f"文件超过 {MAX_ROWS} 行：请按乡镇或选区分开上传", "file"
            )
        if len(cells) > MAX_COLUMNS:
            while cells and cells[-1] in (None, ""):  # trailing empty cells of a wide sheet
                cells.pop()
            if len(cells) > MAX_COLUMNS:
                raise _too_wide(number, len(cells))
        yield number, cells


def find_header(
    rows: Iterator[tuple[int, list[object]]],
) -> tuple[int, list[object], Iterator[tuple[int, list[object]]]]:
    """(header row number, header cells, the rows after it) from the first rows: the row that
    reads best as column headers (title rows, merged title cells and blank rows above it are
    skipped); with none recognised, the first non-blank row (its missing columns are reported)."""
    scanned: list[tuple[int, list[object]]] = []
    for item in rows:
        scanned.append(item)
        if len(scanned) >= HEADER_SCAN:
            break
    best, best_score = None, 0
    for position, (_number, cells) in enumerate(scanned):
        score = header_score(cells)
        if score > best_score:
            best, best_score = position, score
    if best is None:
        best = next(
            (i for i, (_n, cells) in enumerate(scanned) if any(c not in (None, "") for c in cells)), None
        )
        if best is None:
            raise DomainError("E_FILE_EMPTY", "文件为空，没有表头行", "file")
    number, header = scanned[best]

    def rest() -> Iterator[tuple[int, list[object]]]:
        yield from scanned[best + 1 :]
        yield from rows

    return number, header, rest()


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
    if suffix in XLS_SUFFIXES:
        return _open_xls(path, sheet)
    raise DomainError(
        "E_FILE_FORMAT", f"不支持的文件格式：{path.suffix or '无扩展名'}（应为 .csv、.xlsx 或 .xls）", "file"
    )


def _bounded_lines(text) -> Iterator[str]:
    """The file's physical lines, none longer than MAX_LINE characters: csv would otherwise build
    a row of a million empty fields from one line of commas before anyone could count them."""
    while True:
        line = text.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) > MAX_LINE and not line.endswith(("\n", "\r")):
            raise DomainError(
                "E_FILE_TOO_WIDE", f"文件中有一行超过 {MAX_LINE // 1024} KB：请检查文件是否正确", "file"
            )
        yield line


def _open_csv(path: Path, on_progress) -> Sheet:
    encoding = _detect_encoding(path)
    raw = path.open("rb", buffering=0)
    text = io.TextIOWrapper(
        io.BufferedReader(_CountingReader(raw, on_progress), 1 << 20), encoding=encoding, newline=""
    )
    reader = csv.reader(_bounded_lines(text))

    def rows() -> Iterator[tuple[int, list[object]]]:
        try:
            yield from enumerate(reader, start=1)
        except UnicodeDecodeError:
            raise DomainError(
                "E_FILE_ENCODING", "文件中有无法识别的字符（应为 UTF-8 或 GBK 编码）", "file"
            ) from None
        except csv.Error as error:  # e.g. a field over csv's 128 KB limit
            raise DomainError("E_FILE_FORMAT", f"CSV 格式有误：{error}", "file") from None

    try:
        number, header, rest = find_header(_bounded(rows()))
    except DomainError:
        text.close()
        raise
    return Sheet(header, rest, path.stat().st_size, "bytes", text.close, number)


def check_zip(path: Path) -> None:
    """Refuse a zip bomb before anything is inflated: too many members, too much XML in all,
    or a member compressed more than real spreadsheets ever are."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DomainError(
            "E_FILE_FORMAT", "无法读取 Excel 文件：文件已损坏或不是 .xlsx 格式", "file"
        ) from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise DomainError("E_FILE_BOMB", f"Excel 文件内含 {len(members)} 个部件，超过上限", "file")
    inflated = sum(m.file_size for m in members)
    if inflated > MAX_INFLATED:
        raise DomainError(
            "E_FILE_BOMB", f"Excel 文件解压后超过 {MAX_INFLATED >> 20} MB（疑似压缩炸弹），已拒绝", "file"
        )
    for member in members:
        if member.file_size > (1 << 20) and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise DomainError(
                "E_FILE_BOMB",
                f"Excel 文件的部件 {member.filename[:60]} 压缩比异常（疑似压缩炸弹），已拒绝",
                "file",
            )


def _xlsx_error(error: Exception) -> DomainError:
    from defusedxml import DefusedXmlException

    if isinstance(error, DefusedXmlException):
        return DomainError("E_FILE_UNSAFE", "Excel 文件含有不允许的 XML 结构（实体或 DTD），已拒绝", "file")
    return DomainError("E_FILE_FORMAT", f"无法读取 Excel 文件：{type(error).__name__}", "file")


# What openpyxl raises on a broken or hostile workbook (XML errors, defusedxml's refusals,
# a missing part); anything else is a bug of ours and stays a 500.
_XLSX_ERRORS: tuple[type[Exception], ...] = (
    KeyError,
    OSError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
)


def _xml_errors() -> tuple[type[Exception], ...]:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException

    return (*_XLSX_ERRORS, ParseError, DefusedXmlException, EOFError)


def _open_xlsx(path: Path, sheet: str | None, on_progress) -> Sheet:
    import zipfile

    from openpyxl import load_workbook

    check_zip(path)
    errors = (zipfile.BadZipFile, *_xml_errors())
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except errors as error:
        raise _xlsx_error(error) from None
    try:
        if sheet is not None:
            if sheet not in book.sheetnames:
                names = "、".join(book.sheetnames)
                raise DomainError("E_SHEET_NOT_FOUND", f"工作表「{sheet}」不存在（有：{names}）", "sheet")
            worksheet = book[sheet]
        else:
            if not book.worksheets:
                raise DomainError("E_SHEET_NOT_FOUND", "Excel 文件中没有工作表", "sheet")
            worksheet = book.worksheets[0]
        # Columns are capped here: a sheet claiming 16,384 columns would pad every row to them.
        iterator = worksheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
        total = worksheet.max_row
    except DomainError:
        book.close()
        raise
    except errors as error:
        book.close()
        raise _xlsx_error(error) from None

    def rows() -> Iterator[tuple[int, list[object]]]:
        try:
            for number, cells in enumerate(iterator, start=1):
                if on_progress and number % 1000 == 0:
                    on_progress(1000)
                yield number, list(cells)
        except errors as error:
            raise _xlsx_error(error) from None

    try:
        number, header, rest = find_header(_bounded(rows()))
    except DomainError:
        book.close()
        raise
    return Sheet(header, rest, total, "rows", book.close, number)


def _open_xls(path: Path, sheet: str | None) -> Sheet:
    """Old Excel 97–2003 files (xlrd 2 reads .xls only; the file is bounded by the upload cap)."""
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except (xlrd.XLRDError, OSError, ValueError, AssertionError, IndexError, KeyError) as error:
        raise DomainError("E_FILE_FORMAT", f"无法读取 .xls 文件：{type(error).__name__}", "file") from None
    names = book.sheet_names()
    if sheet is not None and sheet not in names:
        book.release_resources()
        raise DomainError("E_SHEET_NOT_FOUND", f"工作表「{sheet}」不存在（有：{'、'.join(names)}）", "sheet")
    worksheet = book.sheet_by_name(sheet) if sheet is not None else book.sheet_by_index(0)

    def value(cell) -> object:
        if cell.ctype == xlrd.XL_CELL_DATE:
            try:
                return xlrd.xldate_as_datetime(cell.value, book.datemode)
            except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                return cell.value
        if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            return None
        return cell.value

    def rows() -> Iterator[tuple[int, list[object]]]:
        for index in range(worksheet.nrows):
            yield index + 1, [value(c) for c in worksheet.row(index)[: MAX_COLUMNS + 1]]

    try:
        number, header, rest = find_header(_bounded(rows()))
    except DomainError:
        book.release_resources()
        raise
    return Sheet(header, rest, worksheet.nrows, "rows", book.release_resources, number)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_csv(path: Path, header: list[str], rows: Iterable[list[object]]) -> int:
    """UTF-8 with BOM, so Excel opens it with the right characters. A text cell a spreadsheet
    would run as a formula gets a leading apostrophe (OWASP CSV injection)."""
    count = 0
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([neutralise(c) for c in header])
        for row in rows:
            writer.writerow([neutralise(c) for c in row])
            count += 1
    return count


def _text_cell(sheet, value: object):
    """A cell that is text even when it starts with `=` (openpyxl would write a live formula)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def _safe_row(sheet, row: Iterable[object]) -> list[object]:
    return [
        _text_cell(sheet, value) if value.__class__ is str and value.startswith(FORMULA_START) else value
        for value in row
    ]


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
    title_cell.data_type = "s"
    title_cell.font = Font(bold=True, size=14)
    title_cell.alignment = Alignment(horizontal="center")
    sheet.append([title_cell])
    sheet.merged_cells.add(f"A1:{get_column_letter(len(header))}1")
    header_cells = []
    for text in header:
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        sheet.append(_safe_row(sheet, row))
        count += 1
    sheet.print_title_rows = "1:2"
    book.save(path)
    return count


# -- an upload's rejected rows, for the village to fix and send again -----------------------------
MAX_REJECTED_FILE = 200_000  # rows in the downloadable file (the report counts them all)
REASON_HEADER = "原因"
REJECTS_KEPT_DAYS = 30


class RejectedRows:
    """Collects rejected rows on disk as they come (memory stays flat however many there are),
    then writes them as XLSX: the file's header plus 原因, each original row plus its reasons."""

    def __init__(self) -> None:
        self._spool = tempfile.SpooledTemporaryFile(max_size=4 << 20)  # noqa: SIM115 (closed by close())
        self.rows = 0
        self.dropped = 0
        self._built: bytes | None = None

    def __call__(self, row: int, cells: list[object], reasons: list[str]) -> None:
        if self.rows >= MAX_REJECTED_FILE:
            self.dropped += 1
            return
        self.rows += 1
        pickle.dump((row, cells, "；".join(reasons)), self._spool, protocol=5)

    def to_xlsx(self, header: list[object]) -> bytes:
        """The file (built once: a caller may build it before its transaction and store it in)."""
        if self._built is None:
            self._built = self._xlsx(header)
        return self._built

    def _xlsx(self, header: list[object]) -> bytes:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("被拒绝的行")
        width = len(header)
        sheet.append(_safe_row(sheet, [*("" if h is None else str(h) for h in header), REASON_HEADER]))
        self._spool.seek(0)
        while True:
            try:
                row, cells, reason = pickle.load(self._spool)
            except EOFError:
                break
            cells = list(cells[:width]) + [None] * (width - len(cells))
            sheet.append(_safe_row(sheet, [*cells, f"第 {row} 行：{reason}"]))
        if self.dropped:
            sheet.append([None] * width + [f"另有 {self.dropped} 行被拒绝，未列入本文件（请分批上传）"])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def close(self) -> None:
        self._spool.close()


def save_rejected(
    session: Session,
    election_id: int,
    rows: RejectedRows,
    header: list[object],
    *,
    file_name: str,
    actor: str,
    now: datetime,
) -> str | None:
    """Store the rejected rows' XLSX in the caller's transaction → its token (None: no rows).
    Files older than REJECTS_KEPT_DAYS are dropped on the way (they hold ID numbers)."""
    session.execute(
        delete(RejectedRowsFile).where(RejectedRowsFile.created_at < now - timedelta(days=REJECTS_KEPT_DAYS))
    )
    if not rows.rows:
        return None
    token = secrets.token_urlsafe(24)
    session.add(
        RejectedRowsFile(
            token=token,
            election_id=election_id,
            actor=actor,
            file_name=file_name[:300],
            rows=rows.rows,
            created_at=now,
            content=rows.to_xlsx(header),
        )
    )
    session.flush()
    return token


def load_rejected(session: Session, election_id: int, token: str, *, actor: str) -> tuple[str, bytes]:
    """(download name, XLSX) of an upload's rejected rows; only its uploader gets it."""
    found = session.execute(
        select(RejectedRowsFile).where(
            RejectedRowsFile.token == token, RejectedRowsFile.election_id == election_id
        )
    ).scalar_one_or_none()
    if found is None or found.actor != actor:
        raise not_found("被拒绝行文件", token[:8], "token")
    stem = Path(found.file_name).stem or "upload"
    return f"{stem}-被拒绝的行.xlsx", found.content
