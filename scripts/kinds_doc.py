"""Regenerate the generated part of docs/kinds.md from config/kinds/*.toml.

Run: .venv/bin/python scripts/kinds_doc.py  (a test checks the file is up to date)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workflow.kinds import _raw_variants, all_kinds, all_variants, resolve_kind  # noqa: E402
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
        out += _versions(kind)
    out += _variants()
    return "\n".join(out) + "\n"


def _versions(kind) -> list[str]:
    """What each statute version changes (its overlay), one row per changed value."""
    if not kind.versions:
        return []
    out = [f"Statute versions of `{kind.key}` (the one in force on the anchor date applies):", ""]
    out += ["| version | in force | changes |", "|---|---|---|"]
    for key in sorted(kind.versions, key=lambda v: kind.versions[v]["in_force"]):
        resolved = _resolve(kind.key, key)
        changes = "; ".join(f"`{path}`" for path in sorted(resolved.provenance)) or "— (this file's text)"
        out.append(f"| {key} | {kind.versions[key]['in_force']} | {changes} |")
    return [*out, ""]


def _resolve(key, statute):

    return resolve_kind(key, statute=statute)


def _variants() -> list[str]:
    variants = all_variants()
    if not variants:
        return []
    out = [
        "## Provincial variants",
        "",
        "Each variant's overrides (under the kind's current statute version):",
        "",
    ]
    out += [
        "| variant | extends | jurisdiction prefix | overridden value | now | source |",
        "|---|---|---|---|---|---|",
    ]
    for name, spec in variants.items():
        if spec.statute not in (None, spec.default_statute):
            continue
        stem = name.split("@")[0]
        for path, origin in sorted(spec.provenance.items()):
            if origin.startswith("法律版本"):
                continue
            value = _value(spec, path)
            out.append(f"| `{stem}` | `{spec.key}` | {_prefix(stem)} | `{path}` | {value} | {origin} |")
    return [*out, ""]


def _prefix(stem: str) -> str:

    return f"`{_raw_variants()[stem]['jurisdiction_prefix']}`"


def _value(spec, path: str) -> str:
    node = spec.model_dump(by_alias=True)
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return str(node).replace("|", "\\|")


def render(current: str) -> str:
    head = current.split(MARK)[0] if MARK in current else current
    return head + generated()


if __name__ == "__main__":
    DOC.write_text(render(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {DOC}")
