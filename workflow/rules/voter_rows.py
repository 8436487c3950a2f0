"""Rows of a voter spreadsheet: header variants, cell parsing, per-row checks. Pure.

A committee's spreadsheets name the same column in several ways; each canonical field lists
the headers we accept. Unknown headers are reported as warnings, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from workflow.rules import ric

HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "选民姓名"),
    "sex": ("性别",),
    "id_number": ("公民身份号码", "身份证号", "身份证号码", "公民身份证号码", "身份证", "证件号码"),
    "ethnicity": ("民族",),
    "birth_date": ("出生日期", "出生年月", "出生年月日"),
    "district": ("选区", "选区名称", "选区编号", "选区代码"),
    "voter_group": ("选民小组", "小组", "村民小组", "居民小组"),
    "address": ("住址", "现住址", "居住地址", "家庭住址", "现居住地"),
    "hukou": ("户籍地", "户籍所在地", "户口所在地", "户籍地址"),
    "note": ("备注",),
}
# Known columns we do not store: the row number and an age we derive ourselves.
IGNORED = frozenset({"序号", "编号", "年龄"})
REQUIRED = ("name", "id_number")
# Column widths of the voters table (workflow/store/voters.py).
LIMITS = {"name": 100, "ethnicity": 40, "voter_group": 100, "address": 300, "hukou": 300}
_LOOKUP = {header: key for key, headers in HEADERS.items() for header in headers}
_BLANKS = re.compile(r"[\s\u3000*＊:：]+")


def clean_header(text: object) -> str:
    return _BLANKS.sub("", str(text or ""))


@dataclass
class HeaderMap:
    """Where each canonical field sits in the row, and the header as the file wrote it."""

    index: dict[str, int] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)
    unknown: list[tuple[int, str]] = field(default_factory=list)  # (position, header)
    repeated: list[tuple[int, str]] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [key for key in REQUIRED if key not in self.index]


def map_headers(cells: list[object]) -> HeaderMap:
    mapping = HeaderMap()
    for position, cell in enumerate(cells):
        header = clean_header(cell)
        if not header:
            continue
        key = _LOOKUP.get(header)
        if key is None:
            if header not in IGNORED:
                mapping.unknown.append((position, str(cell).strip()))
        elif key in mapping.index:
            mapping.repeated.append((position, str(cell).strip()))
        else:
            mapping.index[key] = position
            mapping.written[key] = str(cell).strip()
    return mapping


SEX_WORDS = {"男": "M", "女": "F", "M": "M", "F": "F", "男性": "M", "女性": "F"}
SEX_NAMES = {"M": "男", "F": "女"}
_DATE_PARTS = re.compile(r"^(\d{4})\D{0,2}?(\d{1,2})(?:\D{0,2}?(\d{1,2}))?\D?$")


def parse_birth(value: object) -> tuple[int, int, int | None] | None:
    """(year, month, day or None for 出生年月); None when unreadable. Excel dates come as datetimes."""
    if isinstance(value, datetime | date):
        return value.year, value.month, value.day
    text = str(value).strip()
    if len(text) == 8 and text.isdigit():
        return int(text[:4]), int(text[4:6]), int(text[6:])
    if len(text) == 6 and text.isdigit():
        return int(text[:4]), int(text[4:]), None
    match = _DATE_PARTS.match(text.replace(" ", ""))
    if not match:
        return None
    year, month, day = match.groups()
    return int(year), int(month), int(day) if day else None


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass(frozen=True, slots=True)
class Issue:
    column: str
    reason: str


def check_row(
    cells: list[object],
    headers: HeaderMap,
    *,
    election_day: date,
    cutoff: date,
) -> tuple[dict | None, list[Issue], list[Issue]]:
    """One data row → (record or None, warnings, errors). Deprivation and duplicates are
    checked by the caller, which holds the lists."""
    index = headers.index
    written = headers.written
    errors: list[Issue] = []
    warnings: list[Issue] = []
    width = len(cells)

    def get(key: str) -> object:
        position = index.get(key)
        return cells[position] if position is not None and position < width else None

    name = cell_text(get("name"))
    raw_id = get("id_number")
    if isinstance(raw_id, float):
        # Excel stored the number as a float: the last digits are gone.
        errors.append(
            Issue(written["id_number"], "公民身份号码被存为数字，末几位已丢失，请将该列设为文本后重新导出")
        )
        return None, warnings, errors
    number = ric.normalize(raw_id)
    if not name:
        errors.append(Issue(written["name"], "姓名为空"))
    if not number:
        errors.append(Issue(written["id_number"], "公民身份号码为空"))
        return None, warnings, errors
    parsed = ric.parse(number)
    if isinstance(parsed, ric.IdProblem):
        errors.append(Issue(written["id_number"], parsed.message))
        return None, warnings, errors
    born = parsed.birth_date
    sex = parsed.sex
    if "sex" in index:
        sex_text = cell_text(get("sex"))
        if sex_text:
            given = SEX_WORDS.get(sex_text.upper() if sex_text.isascii() else sex_text)
            if given is None:
                errors.append(Issue(written["sex"], f"性别「{sex_text}」无法识别（应为 男 或 女）"))
            elif given != sex:
                errors.append(
                    Issue(
                        written["sex"],
                        f"性别「{sex_text}」与公民身份号码不符（第 17 位表示{SEX_NAMES[sex]}）",
                    )
                )
    if "birth_date" in index:
        raw_birth = get("birth_date")
        if raw_birth not in (None, ""):
            parts = parse_birth(raw_birth)
            if parts is None:
                errors.append(Issue(written["birth_date"], f"出生日期「{cell_text(raw_birth)}」无法识别"))
            else:
                year, month, day = parts
                if (year, month) != (born.year, born.month) or (day is not None and day != born.day):
                    errors.append(
                        Issue(
                            written["birth_date"],
                            f"出生日期「{cell_text(raw_birth)}」与公民身份号码不符（号码中为 {born.isoformat()}）",
                        )
                    )
    if born > cutoff:
        # EL 4: 18 or over on election day, i.e. born on or before E minus 18 years.
        errors.append(
            Issue(
                written["id_number"],
                f"选举日 {election_day.isoformat()} 未满十八周岁（{born.isoformat()} 出生，应不晚于 {cutoff.isoformat()}）",
            )
        )
    if errors:
        return None, warnings, errors
    record = {
        "name": name,
        "id_number": number,
        "sex": sex,
        "birth_date": born,
        "ethnicity": cell_text(get("ethnicity")) or None,
        "district": cell_text(get("district")) or None,
        "voter_group": cell_text(get("voter_group")) or None,
        "address": cell_text(get("address")) or None,
        "hukou": cell_text(get("hukou")) or None,
        "note": cell_text(get("note")) or None,
    }
    for key, limit in LIMITS.items():
        value = record[key]
        if value is not None and len(value) > limit:
            errors.append(Issue(written[key], f"内容过长（{len(value)} 字，最多 {limit} 字）"))
    if errors:
        return None, warnings, errors
    area = ric.area_warning(number[:6], born.year)
    if area:
        warnings.append(Issue(written["id_number"], area))
    return record, warnings, errors
