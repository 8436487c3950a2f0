"""Double entry of a count (双人录入核对): a count keyed in by one clerk is checked by a second
keying it in again; any difference is shown field by field and must be resolved (a new entry
that agrees with an earlier one by another person) before the count is accepted. The count
itself then follows EL 43–45 (workflow/rules/tally.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LABELS = {
    "registered_voters": "选民数",
    "ballots_issued": "发出选票数",
    "ballots_returned": "收回选票数",
    "invalid_ballots": "无效票数",
    "seats": "应选名额",
    "round": "轮次",
    "runoff_candidates": "另行选举候选人",
}


def differences(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The fields on which two entries of the same count differ, each {"field", "label",
    "first", "second"}; votes per candidate as 「得票：<name>」. Empty: the entries agree."""
    out = []
    keys = [k for k in LABELS if k in first or k in second]
    keys += sorted(k for k in {*first, *second} if k not in LABELS and k not in ("votes", "kind"))
    for key in keys:
        if first.get(key) != second.get(key):
            out.append(
                {
                    "field": key,
                    "label": LABELS.get(key, key),
                    "first": first.get(key),
                    "second": second.get(key),
                }
            )
    a, b = first.get("votes") or {}, second.get("votes") or {}
    for name in [*a, *(n for n in b if n not in a)]:
        if a.get(name) != b.get(name):
            out.append(
                {
                    "field": f"votes.{name}",
                    "label": f"得票：{name}",
                    "first": a.get(name),
                    "second": b.get(name),
                }
            )
    return out
