"""The pure renderer: a template name and a context dict in, HTML out. No database, no clock.

Filters: `doc_date` (Arabic `2021年9月20日` or Chinese `二〇二一年九月二十日`), `mask_id` (the area code
and the check character of an ID number: `ric.mask`, docs/security.md), `age_on` (full years on a date), `cn_number`.
Contexts hold dates as ISO strings, so a notice re-rendered from its stored snapshot gives the
same bytes.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from workflow.rules import ric

TEMPLATES = Path(__file__).resolve().parent / "templates"
LAYOUT_FILES = ("base.html", "certificate_base.html", "notice.css", "wording.html")

_DIGITS = "〇一二三四五六七八九"
# What XML 1.0 cannot hold (a DOCX is XML): C0 controls but tab, LF and CR, DEL, lone
# surrogates, U+FFFE/U+FFFF. Input is refused at the edge (issue 16 item 9), but data stored
# before that (or written around it) must not break every notice of its district.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def printable(value: object) -> object:
    """A printed value without the characters a DOCX (XML) cannot hold; other values as they are."""
    if isinstance(value, str) and _UNPRINTABLE.search(value):
        cleaned = _UNPRINTABLE.sub("", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value


def as_date(value: date | str | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def cn_number(n: int) -> str:
    """1–99 in Chinese numerals as used in dates: 十, 十一, 二十, 三十一."""
    if not 0 < n < 100:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    text = ("" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")) + (
        _DIGITS[ones] if ones else ""
    )
    return text


def doc_date(value: date | str | None, style: str = "arabic") -> str:
    """GB/T 9704-2012 7.3.5.3: the date in full, Arabic numerals (default) or Chinese ones."""
    day = as_date(value)
    if day is None:
        return ""
    if style == "chinese":
        year = "".join(_DIGITS[int(c)] for c in f"{day.year:04d}")
        return f"{year}年{cn_number(day.month)}月{cn_number(day.day)}日"
    return f"{day.year}年{day.month}月{day.day}日"


def mask_id(value: str | None) -> str:
    """An ID number as the one mask shows it (`ric.mask`: area code and check character only;
    docs/security.md: the birth date and sequence code are never derivable from a notice)."""
    if not value:
        return ""
    return ric.mask(str(value).strip())


def age_on(birth: date | str | None, on: date | str | None) -> int | str:
    born, day = as_date(birth), as_date(on)
    if born is None or day is None:
        return ""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def weekday_cn(value: date | str | None) -> str:
    day = as_date(value)
    return "" if day is None else "星期" + "一二三四五六日"[day.weekday()]


def year_month(value: date | str | None) -> str:
    day = as_date(value)
    return "" if day is None else f"{day.year}年{day.month}月"


# The statutes a kind's `source` names by their short name, as a notice cites them in full.
LAW_TITLES = {
    "选举法": "《中华人民共和国全国人民代表大会和地方各级人民代表大会选举法》",
    "地方组织法": "《中华人民共和国地方各级人民代表大会和地方各级人民政府组织法》",
    "城市居民委员会组织法": "《中华人民共和国城市居民委员会组织法》",
    "居委会组织法": "《中华人民共和国城市居民委员会组织法》",
    "村民委员会组织法": "《中华人民共和国村民委员会组织法》",
    "村委会组织法": "《中华人民共和国村民委员会组织法》",
}


def cite(source: str | None) -> str:
    """A kind's citation (`选举法第十二条、第十五条`) as a notice writes it: the statute's full
    title in 《》, then the articles. Text that names no known statute is printed as given."""
    text = (source or "").strip()
    for short in sorted(LAW_TITLES, key=len, reverse=True):
        if text.startswith(short):
            return LAW_TITLES[short] + text[len(short) :]
    return text


def district_label(name: str | None) -> str:
    """A district's full name: `新市镇第一` → `新市镇第一选区` (names are stored without 选区)."""
    text = name or ""
    return text if text.endswith("选区") else f"{text}选区"


# The voter list's layout: how many voters fit side by side on a row of the A4 text area
# (156 mm at 10.5 pt ≈ 42 em), as many as the columns fit — fewer pages to post (issue 13):
# two with the usual data; three would need ~48 em. Widths are estimated in em: a CJK character 1, a digit or Latin letter 0.55.
LIST_WIDTH_EM = 42.0
CELL_PADDING_EM = 0.8  # 3 pt either side at 10.5 pt, and the rules


def _em(text: str) -> float:
    return sum(1.0 if ord(c) > 0x2E7F else 0.55 for c in text)


def voter_layout(voters: list[dict], birth: str, anchor, date_style: str = "arabic", most: int = 3) -> dict:
    """`{"per_row": k, "widths": [percent of the table for each of one voter's five columns]}`.

    Each column is as wide as its header or its widest entry, plus padding; k is the largest of
    3, 2, 1 whose k voters fit the row; the space left over is shared out in proportion."""
    numbers = _em(str(len(voters) or 1))
    names = max((_em(str(v.get("name") or "")) for v in voters), default=2.0)
    if birth == "date":
        births = max((_em(doc_date(v.get("birth_date"), date_style)) for v in voters), default=4.0)
    else:
        births = max((_em(str(age_on(v.get("birth_date"), anchor))) for v in voters), default=1.1)
    groups = max((_em(str(v.get("group") or "")) for v in voters), default=0.0)
    headers = (2.0, 2.0, 2.0, 4.0 if birth == "date" else 2.0, 4.0)  # 序号 姓名 性别 出生日期/年龄 选民小组
    needed = [
        max(header, content) + CELL_PADDING_EM
        for header, content in zip(headers, (numbers, names, 1.0, births, groups), strict=True)
    ]
    one = sum(needed)
    per_row = next((k for k in range(most, 0, -1) if k * one <= LIST_WIDTH_EM), 1)
    return {"per_row": per_row, "widths": [round(100 * w / one / per_row, 2) for w in needed]}


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        finalize=printable,  # every {{ value }} of stored data, before it is escaped
    )
    env.filters.update(
        doc_date=doc_date, mask_id=mask_id, age_on=age_on, year_month=year_month, weekday_cn=weekday_cn
    )
    env.filters["cn_number"] = cn_number
    env.filters["cite"] = cite
    env.filters["district_label"] = district_label
    env.globals["voter_layout"] = voter_layout
    return env


def template_file(name: str) -> str:
    return f"{name}.html"


@cache
def template_hash(name: str) -> str:
    """SHA-256 over the template and the shared layout: what the stored notice was made with."""
    digest = hashlib.sha256()
    for file in (template_file(name), *LAYOUT_FILES):
        digest.update(file.encode())
        digest.update((TEMPLATES / file).read_bytes())
    return digest.hexdigest()


def render_html(name: str, context: dict) -> str:
    """Render one notice to a complete HTML document (pure)."""
    return environment().get_template(template_file(name)).render(**context)
