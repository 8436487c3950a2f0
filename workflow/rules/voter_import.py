"""Sorting an imported register's rows: accepted, unchanged (already registered there),
rejected with the column and the reason, and duplicates. Pure: the caller reads what the
database holds once, streams the file's rows through `ImportSorter.sort` and writes the
accepted rows as they come.

Rules: EL 4 (18 or over, not deprived), EL 27 (registration by district, once: 不重登 — the
first registration stands, a duplicate is reported, not rejected).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

from workflow.errors import DomainError, not_found
from workflow.rules import ric
from workflow.rules.voter_rows import HeaderMap, RowChecker

COLUMN_NAMES = {"name": "姓名", "id_number": "公民身份号码"}
# The report keeps this many rejected rows' and warnings' details in memory (and sends them in
# the response); the totals count all, and every rejected row goes to the downloadable file.
REPORT_CAP = 1000
# A file's rejected rows with their reasons: (row number, the row's cells, reasons).
RejectSink = Callable[[int, list[object], list[str]], None]


@dataclass
class ImportReport:
    accepted: int = 0
    unchanged: int = 0  # already registered in the same district (a re-import)
    warnings: list[dict] = field(default_factory=list)  # the first REPORT_CAP
    rejected: list[dict] = field(default_factory=list)  # the first REPORT_CAP (row, column, reason)
    duplicates: list[dict] = field(default_factory=list)
    committed: bool = False
    import_id: int | None = None
    rejected_total: int = 0  # every rejection (a row may have several)
    rejected_rows: int = 0  # rows rejected
    warnings_total: int = 0
    rejected_file: str | None = None  # where the rejected rows can be downloaded (XLSX)

    def reject(self, row: int, column: str, reason: str) -> None:
        self.rejected_total += 1
        if len(self.rejected) < REPORT_CAP:
            self.rejected.append({"row": row, "column": column, "reason": reason})

    def warn(self, row: int, column: str, reason: str) -> None:
        self.warnings_total += 1
        if len(self.warnings) < REPORT_CAP:
            self.warnings.append({"row": row, "column": column, "reason": reason})

    @property
    def truncated(self) -> bool:
        return self.rejected_total > len(self.rejected) or self.warnings_total > len(self.warnings)

    def as_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "unchanged": self.unchanged,
            "warnings": self.warnings,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "committed": self.committed,
            "rejected_total": self.rejected_total,
            "rejected_rows": self.rejected_rows,
            "warnings_total": self.warnings_total,
            "rejected_file": self.rejected_file,
        }


@dataclass(frozen=True)
class Register:
    """What the database holds before the import."""

    districts: dict[str, int]  # district code or name → id (a code wins over a name)
    voters: dict[str, int]  # id number → district id, active or removed
    removed: set[str]  # id numbers of removed voters
    # id numbers excluded on election day (deprived, suspended, incapacity), or each with its
    # cited ground (workflow/rules/voter_rows.exclusion_note)
    deprived: set[str] | Mapping[str, str]


def default_district(headers: HeaderMap, district: str | None, districts: dict[str, int]) -> int | None:
    """The district for rows without one: the one given (it must exist), else None, which
    the file must then make up for with a 选区 column."""
    if headers.missing:
        missing = "、".join(COLUMN_NAMES[m] for m in headers.missing)
        raise DomainError("E_MISSING_COLUMN", f"文件缺少必需的列：{missing}", "file")
    if district is not None:
        district_id = districts.get(district)
        if district_id is None:
            raise not_found("选区", district, "district")
        return district_id
    if "district" not in headers.index:
        raise DomainError(
            "E_MISSING_COLUMN", "文件没有「选区」列：请用 --district 指定这些选民所在的选区", "district"
        )
    return None


def header_warnings(headers: HeaderMap) -> list[dict]:
    warnings = [{"row": 1, "column": text, "reason": "无法识别的列，已忽略"} for _, text in headers.unknown]
    warnings += [
        {"row": 1, "column": text, "reason": "重复的列，已忽略（以第一列为准）"}
        for _, text in headers.repeated
    ]
    return warnings


@dataclass(frozen=True, slots=True)
class Accepted:
    row: int
    district_id: int
    record: dict  # RowChecker's record: name, id_number, sex, birth_date and the optional fields


class ImportSorter:
    """Sorts one file's rows against the register; fills `report` as it goes."""

    def __init__(
        self,
        headers: HeaderMap,
        register: Register,
        *,
        election_day: date,
        default_district_id: int | None,
        on_reject: RejectSink | None = None,
    ):
        self.register = register
        self.on_reject = on_reject
        self.default_district_id = default_district_id
        self.checker = RowChecker(headers, election_day=election_day, cutoff=ric.adult_cutoff(election_day))
        self.district_column = headers.written.get("district", "选区")
        self.id_column = headers.written["id_number"]
        self.report = ImportReport()
        for warning in header_warnings(headers):
            self.report.warn(warning["row"], warning["column"], warning["reason"])
        self.seen: dict[str, int] = {}  # number → first row in this file
        self.repeats: dict[str, list[int]] = {}  # number → later rows
        self.against_register: dict[str, list[int]] = {}  # number → rows of someone registered elsewhere

    def sort(self, rows: Iterable[tuple[int, list[object]]]) -> Iterator[Accepted]:
        """Yield the rows to register, in file order; everything else goes to the report."""
        report = self.report
        for row_number, cells in rows:
            if not any(c not in (None, "") for c in cells):
                continue  # blank rows between blocks are common
            data, warnings, errors = self.checker(cells)
            for issue in warnings:
                report.warn(row_number, issue.column, issue.reason)
            if errors:
                for issue in errors:
                    report.reject(row_number, issue.column, issue.reason)
                self._rejected_row(row_number, cells, [f"{i.column}：{i.reason}" for i in errors])
                continue
            district_id = self._district(row_number, data, cells)
            if district_id is not None and self._is_new(row_number, data["id_number"], district_id):
                report.accepted += 1
                yield Accepted(row_number, district_id, data)

    def _rejected_row(self, row_number: int, cells: list[object], reasons: list[str]) -> None:
        self.report.rejected_rows += 1
        if self.on_reject is not None:
            self.on_reject(row_number, cells, reasons)

    def _reject(self, row_number: int, cells: list[object], column: str, reason: str) -> None:
        self.report.reject(row_number, column, reason)
        self._rejected_row(row_number, cells, [f"{column}：{reason}"])

    def _district(self, row_number: int, data: dict, cells: list[object]) -> int | None:
        """The row's district id, or None with the row rejected."""
        if data["id_number"] in self.register.deprived:
            excluded = self.register.deprived
            reason = (
                f"{excluded[data['id_number']]}，不列入选民名单"  # the cited ground (exclusion_note)
                if isinstance(excluded, Mapping)
                else "依法被剥夺政治权利，不列入选民名单（选举法第四条）"
            )
            self._reject(row_number, cells, self.id_column, reason)
            return None
        if data["district"] is not None:
            district_id = self.register.districts.get(data["district"])
            if district_id is None:
                reason = f"选区「{data['district']}」不存在（请先用 huanjie districts add 添加）"
                self._reject(row_number, cells, self.district_column, reason)
            return district_id
        if self.default_district_id is None:
            self._reject(row_number, cells, self.district_column, "选区为空")
        return self.default_district_id

    def _is_new(self, row_number: int, number: str, district_id: int) -> bool:
        """不重登: a number seen before in this file or registered already is not added again."""
        if number in self.seen:
            self.repeats.setdefault(number, []).append(row_number)
            return False
        self.seen[number] = row_number
        registered_in = self.register.voters.get(number)
        if registered_in is None:
            return True
        if registered_in != district_id:
            self.against_register.setdefault(number, []).append(row_number)
            return False
        self.report.unchanged += 1
        if number in self.register.removed:
            # A removal is a decision with a reason: a file does not undo it silently.
            self.report.warn(
                row_number, self.id_column, "此人已除名，未恢复登记（如需恢复请用 huanjie voters add）"
            )
        return False

    def duplicates(self, codes: dict[int, str]) -> list[dict]:
        """Every number found twice, by its first row; `codes` maps district ids to codes."""
        found = []
        for number, later in self.repeats.items():
            if number in self.against_register:
                continue  # reported once below, with every row of this file
            found.append({"id_masked": ric.mask(number), "rows": [self.seen[number], *later]})
        for number, rows in self.against_register.items():
            found.append(
                {
                    "id_masked": ric.mask(number),
                    "rows": rows + self.repeats.get(number, []),
                    "registered_in": codes.get(self.register.voters[number]),
                }
            )
        found.sort(key=lambda d: d["rows"][0])
        return found
