"""File names offered for download (Content-Disposition), made safe to show and to save.

Right-to-left overrides and the other invisible format characters (Unicode category Cf: U+202E
makes "报告‮fdp.exe" display as "报告exe.pdf"), control characters, unpaired surrogates and the
characters a file system reads as paths are taken out; the name is kept to a sane length."""

from __future__ import annotations

import re
import unicodedata

_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_PATH_CHARS = re.compile(r'[\\/:*?"<>|]+')
_SPACES = re.compile(r"\s+")


def safe_file_name(text: str, *, limit: int = 120, fallback: str = "download") -> str:
    kept = "".join(c for c in str(text or "") if unicodedata.category(c) not in _DROPPED)
    kept = _SPACES.sub(" ", _PATH_CHARS.sub("_", kept)).strip(" .")
    return kept[:limit] or fallback
