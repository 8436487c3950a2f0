"""Refuse text the notice font cannot draw, before a PDF is made.

A PDF writer falls back to another font or draws an empty box ("tofu") for a character the
font lacks; on a posted voter list that is a wrong name. So every character of the rendered
text is looked up in the cmap of each face the CSS names (regular and bold), and the ones
missing are named in the error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import unicodedata
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from workflow.errors import DomainError

FONT_FAMILY = "Noto Serif CJK SC"  # named in templates/notice.css
FONT_PATHS = {
    "regular": Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
    "bold": Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
}
SETUP_HINT = "请安装字体软件包 fonts-noto-cjk（make setup 或 apt-get install fonts-noto-cjk）"


def _locate(style: str) -> Path:
    """The font file: HUANJIE_NOTICE_FONT[_BOLD], else fontconfig, else Debian's path."""
    env = os.environ.get("HUANJIE_NOTICE_FONT" + ("_BOLD" if style == "bold" else ""))
    if env:
        return Path(env)
    if shutil.which("fc-match"):
        pattern = FONT_FAMILY + (":bold" if style == "bold" else "")
        found = subprocess.run(
            ["fc-match", "-f", "%{file}|%{family}", pattern], capture_output=True, text=True, check=False
        ).stdout
        file, _, family = found.partition("|")
        if file and FONT_FAMILY in family:
            return Path(file)
    return FONT_PATHS[style]


@cache
def font_codepoints() -> frozenset[int]:
    """Code points that every face of the notice font maps to a glyph."""
    from fontTools.ttLib import TTCollection, TTFont

    sets = []
    for style in ("regular", "bold"):
        path = _locate(style)
        if not path.exists():
            raise DomainError(
                "E_FONT_MISSING", f"找不到公告字体 {FONT_FAMILY}（{path}）；{SETUP_HINT}", "format"
            )
        if path.suffix.lower() == ".ttc":
            collection = TTCollection(str(path), lazy=True)
            fonts = collection.fonts
            # Pick the Simplified Chinese face of the collection (the one CSS names).
            chosen = next((f for f in fonts if FONT_FAMILY in str(f["name"].getDebugName(1))), fonts[0])
        else:
            chosen = TTFont(str(path), lazy=True)
        sets.append(frozenset(chosen.getBestCmap()))
    return frozenset.intersection(*sets)


class _Text(HTMLParser):
    """All character data of a document (the text that will be drawn), without <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


# Drawn by the CSS itself (page numbers), not by the template text.
CSS_TEXT = "— 0123456789"


def missing_glyphs(text: str) -> list[str]:
    have = font_codepoints()
    missing = []
    for char in sorted(set(text + CSS_TEXT)):
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf"):
            continue
        if ord(char) not in have:
            missing.append(char)
    return missing


def check_glyphs(html: str) -> None:
    """Raise E_MISSING_GLYPH naming each character the font cannot draw."""
    missing = missing_glyphs(html_text(html))
    if missing:
        shown = "、".join(f"「{c}」(U+{ord(c):04X})" for c in missing[:20])
        more = f"等{len(missing)}个字符" if len(missing) > 20 else ""
        raise DomainError(
            "E_MISSING_GLYPH",
            f"公告字体 {FONT_FAMILY} 没有以下字符的字形：{shown}{more}。"
            "为避免打印成方框或错字，未生成 PDF；请核对姓名用字（可改用规范字或手工补写）。",
            "text",
        )
