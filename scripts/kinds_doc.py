"""Regenerate the generated part of docs/kinds.md from config/kinds/*.toml.

Run: .venv/bin/python scripts/kinds_doc.py  (a test checks the file is up to date)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workflow.kinds import all_kinds  # noqa: E402
from workflow.machine import machine_for  # noqa: E402

DOC = ROOT / "docs" / "kinds.md"
MARK = "<!-- generated below by scripts/kinds_doc.py; do not edit by hand -->"


def _bound(spec, anchor_name: str) -> str:
    if spec is None:
        return "—"
    base = anchor_name if spec.from_ == "anchor" else f"`{spec.from_}`"
    parts = [base]
    if spec.months:
        parts.append(f"{spec.months:+d} months")
    if spec.days or not spec.months:
        parts.append(f"{spec.days:+d} days")
    text = " ".join(parts)
    return text + (" (else the anchor)" if spec.fallback else "")


def generated() -> str:
    out = [MARK, ""]
    for kind in all_kinds().values():
        out += [f"## `{kind.key}` — {kind.name} (version {kind.version})", ""]
        out += [f"Anchor: `{kind.anchor}` ({kind.anchor_name}).", ""]
        out += ["| phase | name | requires before it starts |", "|---|---|---|"]
        for phase in kind.phases:
            out.append(
                f"| `{phase.key}` | {phase.name} | {', '.join(f'`{r}`' for r in phase.requires) or '—'} |"
            )
        out.append(
            f"| `closed` | {kind.closing.name} | {', '.join(f'`{r}`' for r in kind.closing.requires)} |"
        )
        out += [
            "",
            "| milestone | name | phase | earliest | latest | before | source |",
            "|---|---|---|---|---|---|---|",
        ]
        for m in kind.milestones.values():
            out.append(
                f"| `{m.key}`{' (computed)' if m.computed else ''} | {m.name} | `{m.phase}` | "
                f"{_bound(m.earliest, kind.anchor_name)} | {_bound(m.latest, kind.anchor_name)} | "
                f"{', '.join(f'`{b}`' for b in m.before) or '—'} | {m.source} |"
            )
        out += ["", "```mermaid", machine_for(kind).mermaid().strip(), "```", ""]
    return "\n".join(out) + "\n"


def render(current: str) -> str:
    head = current.split(MARK)[0] if MARK in current else current
    return head + generated()


if __name__ == "__main__":
    DOC.write_text(render(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {DOC}")
