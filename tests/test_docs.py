"""docs/kinds.md is generated from the kind files and must not drift from them."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_kinds_doc_is_up_to_date():
    spec = importlib.util.spec_from_file_location("kinds_doc", ROOT / "scripts" / "kinds_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = (ROOT / "docs" / "kinds.md").read_text(encoding="utf-8")
    assert current == module.render(current), "run: .venv/bin/python scripts/kinds_doc.py"
