"""A small counter after CONTRACTS.md for people_congress rounds, installed as
`workflow.rules.tally` only while the real module (built on feat/tally) is absent, so that the
stored flow (`tallies record`, the demo's results) is exercised on this branch too. When the real
module is importable, the fixture does nothing and the tests run against it."""

from __future__ import annotations

import math
import sys
import types
from dataclasses import dataclass

import pytest


@dataclass
class _Input:
    data: dict

    @classmethod
    def from_dict(cls, data: dict) -> _Input:
        return cls(data)


@dataclass
class _Result:
    doc: dict

    def as_dict(self) -> dict:
        return self.doc


def _count_people_congress(tally: _Input) -> _Result:
    """A small people_congress counter after CONTRACTS.md (EL 44, 45), for when the real
    `workflow.rules.tally` is not installed on this branch."""
    d = tally.data
    issued, returned, seats = d["ballots_issued"], d["ballots_returned"], d["seats"]
    doc = {"valid": True, "reasons": [], "elected": [], "unfilled": seats, "runoff": None, "tie_break": None}
    if returned > issued or issued * 2 <= d["registered_voters"]:
        doc["valid"] = False
        doc["reasons"].append("void")
        return _Result(doc)
    ordered = sorted(d["votes"].items(), key=lambda kv: (-kv[1], kv[0]))
    if d.get("round", 1) == 2:
        passing = [(n, v) for n, v in ordered if 3 * v >= returned]
    else:
        passing = [(n, v) for n, v in ordered if 2 * v > issued]
    elected = [n for n, _ in passing[:seats]]
    doc["elected"], doc["unfilled"] = elected, seats - len(elected)
    if doc["unfilled"] and d.get("round", 1) == 1:
        k = doc["unfilled"]
        rest = [n for n, _ in ordered if n not in elected]
        doc["runoff"] = {"seats": k, "candidates": rest[: 2 * k], "min_candidates": 2 if k == 1 else math.ceil(4 * k / 3),
                         "max_candidates": 2 * k}  # fmt: skip
    return _Result(doc)


@pytest.fixture
def counting(monkeypatch):
    try:
        import workflow.rules.tally  # noqa: F401
    except ImportError:
        module = types.ModuleType("workflow.rules.tally")
        module.TallyInput = _Input
        module.count_round = _count_people_congress
        monkeypatch.setitem(sys.modules, "workflow.rules.tally", module)
