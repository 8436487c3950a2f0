"""The statute texts kept in the repository (config/laws/), for tests that quote the law.

`article(law, number)` returns one article's text (all its paragraphs), so a test can assert
that the sentence it relies on is really there before checking the code against it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

LAWS_DIR = Path(__file__).resolve().parent.parent / "config" / "laws"

_NUMERALS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ARTICLE = re.compile(r"^第([一二三四五六七八九十百零〇]+)条[ 　]")


def chinese_number(text: str) -> int:
    """一百二十三 → 123 (the numerals used for article numbers)."""
    total, current = 0, 0
    for char in text:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _NUMERALS[char]
    return total + current


@cache
def law_file(prefix: str) -> Path:
    """The one file in config/laws/ whose name starts with `prefix` (e.g. "村民委员会组织法(2018")."""
    matches = sorted(p for p in LAWS_DIR.glob("*.md") if p.name.startswith(prefix))
    if len(matches) != 1:
        raise LookupError(f"{prefix!r}: {[p.name for p in matches]}")
    return matches[0]


@cache
def articles(prefix: str) -> dict[int, str]:
    """Article number → its text (heading line and following paragraphs up to the next article)."""
    result: dict[int, str] = {}
    current: int | None = None
    for line in law_file(prefix).read_text(encoding="utf-8").splitlines():
        match = _ARTICLE.match(line)
        if match:
            current = chinese_number(match.group(1))
            result[current] = line
        elif line.startswith("#"):
            current = None
        elif current is not None and line.strip():
            result[current] += "\n" + line
    return result


def article(prefix: str, number: int) -> str:
    return articles(prefix)[number]


EL2020 = "全国人民代表大会和地方各级人民代表大会选举法(2020"
VCL2018 = "村民委员会组织法(2018"
VCL2025 = "村民委员会组织法(2025"
RCL2018 = "城市居民委员会组织法(2018"
RCL2025 = "城市居民委员会组织法(2025"
ZJ_PC = "浙江省县、乡两级人民代表大会代表选举实施细则"
