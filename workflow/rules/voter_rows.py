"""Rows of a voter spreadsheet: header variants, cell parsing, per-row checks, the deprived-of-rights
list and a voter registered by hand. Pure.

A committee's spreadsheets name the same column in several ways; each canonical field lists
the headers we accept. Unknown headers are reported as warnings, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from workflow.calendar import compute_bounds, refusal_after
from workflow.errors import DomainError
from workflow.kinds import KindSpec
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
# Known columns we do not store: the row number, an age we derive ourselves, and the reason
# column of the rejected-rows file when a village sends it back fixed.
IGNORED = frozenset({"序号", "编号", "年龄", "原因"})  # 原因: our rejected-rows file, sent back
REQUIRED = ("name", "id_number")
# Column widths of the voters table (workflow/store/voters.py).
LIMITS = {"name": 100, "ethnicity": 40, "voter_group": 100, "address": 300, "hukou": 300}
_LOOKUP = {header: key for key, headers in HEADERS.items() for header in headers}
_BLANKS = re.compile(r"[\s\u3000*＊:：]+")
# OWASP CSV injection: a cell starting with one of these is a formula to a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# NUL, other C0/C1 controls (tab, LF and CR aside), lone surrogates and the non-characters
# U+FFFE/U+FFFF: they break PostgreSQL text, Word files and terminals, and no name holds them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
CONTROL_REASON = "含有控制字符或无效字符（如 NUL），请删除后重新导出"
FORMULA_REASON = "以 = + - @ 或制表符开头，电子表格会当作公式执行；已按文本保存，导出时也作为文本"


def bad_characters(text: str) -> bool:
    """True when the text holds a control character, a lone surrogate or a non-character."""
    return _CONTROL.search(text) is not None


def is_formula(text: str) -> bool:
    return text.startswith(FORMULA_START)


def unquote_formula(text: str) -> str:
    """A formula neutralised by our own export ('=…) reads back as the original text."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def neutralise(value: object) -> object:
    """For CSV exports: a text cell a spreadsheet would run as a formula gets a leading
    apostrophe (OWASP CSV injection); other values pass unchanged."""
    if value.__class__ is str and value.startswith(FORMULA_START):
        return "'" + value
    return value


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


def header_score(cells: list[object]) -> int:
    """How many cells of a row read as known column headers (to find the header row below
    title rows)."""
    score = 0
    for cell in cells:
        if cell is None or cell == "":
            continue
        header = clean_header(cell)
        if header in _LOOKUP or header in IGNORED:
            score += 1
    return score


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


def _text(value: object) -> str:
    return value.strip() if value.__class__ is str else cell_text(value)


OPTIONAL = ("ethnicity", "district", "voter_group", "address", "hukou", "note")


class RowChecker:
    """Per-row checks with the header positions resolved once (the import's hot loop)."""

    def __init__(self, headers: HeaderMap, *, election_day: date, cutoff: date):
        self.written = headers.written
        index = headers.index
        self.name_at = index.get("name", -1)
        self.id_at = index.get("id_number", -1)
        self.sex_at = index.get("sex", -1)
        self.birth_at = index.get("birth_date", -1)
        self.optional = [(key, index.get(key, -1)) for key in OPTIONAL]
        self.limits = [(key, LIMITS[key]) for key in OPTIONAL if key in LIMITS and key in index]
        self.name_limit = LIMITS["name"]
        self.election_day = election_day
        self.cutoff = cutoff

    def __call__(self, cells: list[object]) -> tuple[dict | None, list[Issue], list[Issue]]:
        """One data row → (record or None, warnings, errors). Deprivation and duplicates are
        checked by the caller, which holds the lists."""
        written = self.written
        errors: list[Issue] = []
        warnings: list[Issue] = []
        width = len(cells)
        name = _text(cells[self.name_at]) if 0 <= self.name_at < width else ""
        raw_id = cells[self.id_at] if 0 <= self.id_at < width else None
        if isinstance(raw_id, float):
            # Excel stored the number as a float: the last digits are gone.
            errors.append(
                Issue(
                    written["id_number"], "公民身份号码被存为数字，末几位已丢失，请将该列设为文本后重新导出"
                )
            )
            return None, warnings, errors
        number = ric.normalize(raw_id)
        if not name:
            errors.append(Issue(written["name"], "姓名为空"))
        if not number:
            errors.append(Issue(written["id_number"], "公民身份号码为空"))
            return None, warnings, errors
        parsed = ric.parse(number)
        if parsed.__class__ is ric.IdProblem:
            errors.append(Issue(written["id_number"], parsed.message))
            return None, warnings, errors
        born = parsed.birth_date
        sex = parsed.sex
        if 0 <= self.sex_at < width:
            issue = self._sex_issue(_text(cells[self.sex_at]), sex)
            if issue is not None:
                errors.append(issue)
        if 0 <= self.birth_at < width:
            raw_birth = cells[self.birth_at]
            if raw_birth is not None and raw_birth != "":
                issue = self._birth_issue(raw_birth, number, born)
                if issue is not None:
                    errors.append(issue)
        if born > self.cutoff:
            # EL 4: 18 or over on election day, i.e. born on or before E minus 18 years.
            errors.append(
                Issue(
                    written["id_number"],
                    f"选举日 {self.election_day.isoformat()} 未满十八周岁"
                    f"（{born.isoformat()} 出生，应不晚于 {self.cutoff.isoformat()}）",
                )
            )
        if len(name) > self.name_limit:
            errors.append(Issue(written["name"], f"内容过长（{len(name)} 字，最多 {self.name_limit} 字）"))
        if name:
            name = self._hygiene("name", name, errors, warnings)
        if errors:
            return None, warnings, errors
        record = {"name": name, "id_number": number, "sex": sex, "birth_date": born}
        for key, position in self.optional:
            value = (_text(cells[position]) or None) if 0 <= position < width else None
            record[key] = self._hygiene(key, value, errors, warnings) if value else value
        for key, limit in self.limits:
            value = record[key]
            if value is not None and len(value) > limit:
                errors.append(Issue(written[key], f"内容过长（{len(value)} 字，最多 {limit} 字）"))
        if errors:
            return None, warnings, errors
        area = ric.area_warning(number[:6], born.year)
        if area:
            warnings.append(Issue(written["id_number"], area))
        return record, warnings, errors

    def _hygiene(self, key: str, value: str, errors: list[Issue], warnings: list[Issue]) -> str:
        """Control characters reject the row; a formula-like cell is kept as text, flagged."""
        value = unquote_formula(value)
        if _CONTROL.search(value) is not None:
            errors.append(Issue(self.written.get(key, key), CONTROL_REASON))
        elif value.startswith(FORMULA_START):
            warnings.append(Issue(self.written.get(key, key), FORMULA_REASON))
        return value

    def _sex_issue(self, sex_text: str, sex: str) -> Issue | None:
        """A written 性别 must be readable and match the number's 17th digit."""
        if not sex_text:
            return None
        given = SEX_WORDS.get(sex_text) or SEX_WORDS.get(sex_text.upper())
        if given is None:
            return Issue(self.written["sex"], f"性别「{sex_text}」无法识别（应为 男 或 女）")
        if given != sex:
            return Issue(
                self.written["sex"], f"性别「{sex_text}」与公民身份号码不符（第 17 位表示{SEX_NAMES[sex]}）"
            )
        return None

    def _birth_issue(self, raw_birth: object, number: str, born: date) -> Issue | None:
        """A written 出生日期 must be readable and match the date in the number."""
        digits = number[6:14]
        # Fast path: the usual written forms of the very date in the number.
        if raw_birth == f"{digits[:4]}-{digits[4:6]}-{digits[6:]}" or raw_birth == digits:
            return None
        parts = parse_birth(raw_birth)
        if parts is None:
            return Issue(self.written["birth_date"], f"出生日期「{cell_text(raw_birth)}」无法识别")
        year, month, day = parts
        if (year, month) != (born.year, born.month) or (day is not None and day != born.day):
            return Issue(
                self.written["birth_date"],
                f"出生日期「{cell_text(raw_birth)}」与公民身份号码不符（号码中为 {born.isoformat()}）",
            )
        return None


def check_row(
    cells: list[object],
    headers: HeaderMap,
    *,
    election_day: date,
    cutoff: date,
) -> tuple[dict | None, list[Issue], list[Issue]]:
    """One data row → (record or None, warnings, errors); see RowChecker."""
    return RowChecker(headers, election_day=election_day, cutoff=cutoff)(cells)


# Why someone is not on the voter list (the ground's words; its citation is the kind's
# `exclusion_<ground>`): deprived of political rights (EL 27 ¶1), a detained suspect whose right
# to vote the procuratorate or court suspended (1983 NPCSC provisions, item 4), or a mentally
# ill person unable to exercise it, as the election committee confirmed (EL 27 ¶2).
EXCLUSION_GROUNDS = {
    "deprived": "依法被剥夺政治权利",
    "suspended": "经人民检察院或者人民法院决定，在被羁押期间停止行使选举权利",
    "incapacity": "精神病患者不能行使选举权利，经选举委员会确认",
}
_GROUND_WORDS = (("suspended", ("停止行使", "停止选举", "羁押")), ("incapacity", ("精神病", "不能行使")))


def exclusion_ground(reason: str | None) -> str:
    """The ground of an entry of the exclusion list from its 原因 column: a suspension by the
    procuratorate or court, a confirmed mental incapacity, else deprivation of political rights."""
    text = (reason or "").strip()
    for ground, words in _GROUND_WORDS:
        if any(word in text for word in words):
            return ground
    return "deprived"


def exclusion_note(ground: str, citations: Mapping[str, str]) -> str:
    """The ground in words with its citation from the kind (per statute version)."""
    cited = citations.get(f"exclusion_{ground}", "")
    return EXCLUSION_GROUNDS[ground] + (f"（{cited}）" if cited else "")


def check_village_migrant(
    law: Mapping[str, Any],
    citations: Mapping[str, str],
    *,
    on: date,
    since: date | None,
    basis: str | None,
    applied: bool,
    consent: str | None,
    applied_on: date | None = None,
    consent_on: date | None = None,
) -> str:
    """A village election's migrant voter (the kind's `migrant_min_years`, `migrant_bases`,
    cited by `migrant`: VCL 13 ¶2 (三), 2025 art. 16 ¶2 (三)): registered elsewhere, living in
    the village (2025: or working on its affairs) for the years required by `on`, applying in
    person (`applied`, or the day `applied_on`: not after `on`, nor after the meeting's consent
    on `consent_on`), with the consent of the villagers' meeting or representatives. Returns the
    record kept as the registration's proof; DomainError naming the missing condition."""
    cited = citations.get("migrant", "")
    rule = f"（{cited}）" if cited else ""
    bases = [str(b) for b in law.get("migrant_bases", ())]
    years = int(law["migrant_min_years"])
    chosen = (basis or bases[0]).strip()
    if chosen not in bases:
        raise DomainError("E_MIGRANT_BASIS", f"户籍不在本村的公民须{'或'.join(bases)}满{years}年{rule}", "basis")
    if since is None:
        raise DomainError("E_MIGRANT_SINCE_REQUIRED", f"请填写{chosen}的起始日期{rule}", "resident_since")
    try:
        enough = since.replace(year=since.year + years)
    except ValueError:  # 29 February: the period ends on 1 March (Civil Code art. 202)
        enough = date(since.year + years, 3, 1)
    if on < enough:
        raise DomainError(
            "E_MIGRANT_TOO_RECENT",
            f"自 {since} 起{chosen}，至 {on} 不满{years}年，不能作为户籍不在本村的公民登记{rule}",
            "resident_since",
        )
    if not (applied or applied_on is not None):
        raise DomainError("E_MIGRANT_NOT_APPLIED", f"户籍不在本村的公民须本人申请参加选举{rule}", "applied")
    if applied_on is not None and applied_on > on:
        raise DomainError(
            "E_MIGRANT_APPLIED_LATER", f"本人申请日期 {applied_on} 晚于今天（{on}），请核对{rule}", "applied_on"
        )
    if applied_on is not None and consent_on is not None and applied_on > consent_on:
        raise DomainError(
            "E_MIGRANT_APPLIED_AFTER_CONSENT",
            f"本人申请日期 {applied_on} 晚于会议同意日期 {consent_on}：须本人申请后经会议同意{rule}",
            "applied_on",
        )
    if not (consent and consent.strip()):
        raise DomainError(
            "E_MIGRANT_NO_CONSENT", f"须经村民会议或者村民代表会议同意参加选举（请填写会议及日期）{rule}", "consent"
        )
    applied_text = f"本人 {applied_on} 申请" if applied_on is not None else "本人申请"
    return f"{chosen}自 {since} 起；{applied_text}；{consent.strip()}同意"


def registration_cutoffs(kind: KindSpec) -> list[str]:
    """The kind's registration cutoffs: `cutoff` milestones of the registration phase, after
    which a late (supplementary) registration is refused, e.g. Zhejiang art. 29 (E − 12). The
    national text sets none: the kind data decides."""
    return [
        key for key, spec in kind.milestones.items() if spec.type == "cutoff" and spec.phase == "registration"
    ]


def registration_closes(kind: KindSpec, election_day: date) -> list[dict]:
    """Each registration cutoff of the kind with its last day and its rule, for the pages."""
    bounds = compute_bounds(kind, election_day, {})
    return [
        {"name": kind.milestones[key].name, "last": bounds[key][1], "rule": kind.milestones[key].rule}
        for key in registration_cutoffs(kind)
    ]


def check_late_registration(kind: KindSpec, *, election_day: date, on: date) -> None:
    """A registration after the voter list is published is a supplementary one (补办选民登记):
    refused, with the article and the last day, once a registration cutoff of the kind has passed."""
    for key in registration_cutoffs(kind):
        refused = refusal_after(kind, key, election_day, on)
        if refused is not None:
            raise DomainError("E_REGISTRATION_CLOSED", refused, "reason")


def check_addition(
    name: str,
    id_number: str,
    *,
    election_day: date,
    migrant: bool,
    proof: str | None,
    deprived: set[str] | Mapping[str, str],
) -> dict:
    """One voter registered by hand (EL 27) → the checked record, or DomainError."""
    if migrant and not (proof and proof.strip()):
        # Provincial rule (seed): migrants register with proof from their home district.
        raise DomainError(
            "E_PROOF_REQUIRED", "流动人口在现居住地登记，须提交户籍地选区的选民资格证明", "proof"
        )
    record, _warnings, errors = check_row(
        [name, id_number],
        map_headers(["姓名", "公民身份号码"]),
        election_day=election_day,
        cutoff=ric.adult_cutoff(election_day),
    )
    if errors:
        raise DomainError("E_VOTER_INVALID", "；".join(e.reason for e in errors), "id_number")
    if record["id_number"] in deprived:
        # `deprived` maps each excluded number to its cited ground (exclusion_note).
        note = deprived[record["id_number"]] if isinstance(deprived, Mapping) else EXCLUSION_GROUNDS["deprived"]
        raise DomainError("E_VOTER_DEPRIVED", f"{note}，不能登记为选民", "id_number")
    return record


def check_text_fields(
    values: dict[str, str | None], labels: dict[str, str], field_prefix: str = ""
) -> dict[str, str | None]:
    """Values typed by hand into the register (an appeal's correction) → the stripped values, or
    DomainError naming the field: the same checks as an imported row (blank name, control
    characters, a formula, the column's length)."""
    checked: dict[str, str | None] = {}
    for key, raw in values.items():
        field = f"{field_prefix}{key}"
        label = labels.get(key, key)
        value = raw.strip() if isinstance(raw, str) else raw
        if value is not None and not isinstance(value, str):
            raise DomainError("E_FIELD_INVALID", f"{label}应为文字", field)
        if not value:
            if key == "name":
                raise DomainError("E_FIELD_BLANK", "姓名不能为空", field)
            checked[key] = None
            continue
        if _CONTROL.search(value) is not None:
            raise DomainError("E_BAD_CHARACTERS", f"{label}{CONTROL_REASON}", field)
        if value.startswith(FORMULA_START):
            raise DomainError(
                "E_FORMULA", f"{label}不能以 = + - @ 或制表符开头（电子表格会当作公式执行）", field
            )
        limit = LIMITS.get(key)
        if limit is not None and len(value) > limit:
            raise DomainError("E_TOO_LONG", f"{label}内容过长（{len(value)} 字，最多 {limit} 字）", field)
        checked[key] = value
    return checked


# -- the deprived-of-rights list ---------------------------------------------------------------
DEPRIVED_UNTIL = ("剥夺期限至", "剥夺政治权利至", "期限至")
DEPRIVED_REASON = ("原因", "事由", "备注")


@dataclass(frozen=True, slots=True)
class DeprivedRow:
    row: int
    id_number: str
    name: str | None
    until: date | None  # None: no end date (or for life)
    reason: str | None


def read_deprived(
    header: list[object], rows: Iterable[tuple[int, list[object]]]
) -> tuple[list[DeprivedRow], list[dict]]:
    """The deprived-of-rights list (columns 姓名, 公民身份号码, optional 剥夺期限至 / 原因) →
    (readable rows, rejected rows with column and reason). Blank rows are skipped."""
    headers = map_headers(header)
    if "id_number" not in headers.index:
        raise DomainError("E_MISSING_COLUMN", "名单缺少「公民身份号码」列", "file")
    extra = {str(c).strip(): i for i, c in enumerate(header) if c is not None}
    until_at = next((extra[h] for h in DEPRIVED_UNTIL if h in extra), None)
    reason_at = next((extra[h] for h in DEPRIVED_REASON if h in extra), None)
    name_at = headers.index.get("name")
    written = headers.written["id_number"]
    found: list[DeprivedRow] = []
    rejected: list[dict] = []
    for row_number, cells in rows:
        if not any(c not in (None, "") for c in cells):
            continue
        number = ric.normalize(cells[headers.index["id_number"]])
        parsed = ric.parse(number)
        if isinstance(parsed, ric.IdProblem):
            rejected.append({"row": row_number, "column": written, "reason": parsed.message})
            continue
        until = None
        if until_at is not None and until_at < len(cells) and cells[until_at] not in (None, ""):
            parts = parse_birth(cells[until_at])
            if parts is None or parts[2] is None:
                rejected.append(
                    {"row": row_number, "column": str(header[until_at]), "reason": "期限日期无法识别"}
                )
                continue
            until = date(*parts)
        name = str(cells[name_at]).strip() if name_at is not None and cells[name_at] else None
        reason = str(cells[reason_at]).strip() if reason_at is not None and cells[reason_at] else None
        found.append(DeprivedRow(row_number, number, name, until, reason))
    return found, rejected
