"""No legal number or citation left in the domain's Python (issue 14): every article cited and
every statutory number the domain uses comes from the kind data (config/kinds/), where the
citation test checks it against the statute texts.

The scan reads the domain modules this rule covers — the kinds, plan, calendar and machine
modules and the pure rules — and fails on (a) a string literal, other than a docstring, that
cites an article ("第…条") and (b) a module-level integer constant whose line comment names a
law (EL, VCL, RCL, Civil Code, 选举法, 组织法): such a number belongs in the kind file."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# voter_import/voter_rows are owned by the voter-import work (their citations move with it).
SCANNED = [
    *(ROOT / "workflow" / name for name in ("kinds.py", "plan.py", "calendar.py", "machine.py")),
    *(
        p
        for p in sorted((ROOT / "workflow" / "rules").glob("*.py"))
        if p.stem not in ("voter_import", "voter_rows")
    ),
]
ARTICLE = re.compile(r"第[一二三四五六七八九十百]+条")
LAW_COMMENT = re.compile(r"#.*(\b(EL|VCL|RCL|Civil Code)\b|选举法|组织法)")


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def leftovers(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    skip = docstrings(tree)
    lines = source.splitlines()
    found = [
        f"{path.name}:{node.lineno}: {node.value[:40]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and ARTICLE.search(node.value)
    ]
    for node in tree.body:
        value = getattr(node, "value", None)
        if (
            isinstance(node, ast.Assign | ast.AnnAssign)
            and isinstance(value, ast.Constant)
            and type(value.value) is int
            and LAW_COMMENT.search(lines[node.lineno - 1])
        ):
            found.append(f"{path.name}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return found


def test_the_scan_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""第一条 in a docstring is fine."""\nX = 5  # EL 29\nM = "见选举法第二十九条"\n', encoding="utf-8"
    )
    assert [line.split(":")[1] for line in leftovers(sample)] == ["3", "2"]


def test_no_legal_citation_or_number_left_in_the_domain_python():
    assert len(SCANNED) > 10
    found = [line for path in SCANNED for line in leftovers(path)]
    assert found == [], "move these into the kind data:\n" + "\n".join(found)
