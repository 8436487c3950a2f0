"""`tallies record`: count a round with the pure counting rules and store it.

The counting is `workflow.rules.tally.count_tally_document`: it validates a TALLY.json document
(raising DomainError on bad input) and counts it with its kind's parameters; the result's
`as_dict()` is the contract's {"valid", "reasons", "elected", "unfilled", "runoff", "tie_break"}
plus the decisions with their rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands import results
from workflow.rules.tally import count_tally_document
from workflow.store.candidates import TallyRecord


def count(data: Mapping[str, Any]) -> dict[str, Any]:
    """Count one round (pure)."""
    return count_tally_document(dict(data)).as_dict()


def record(
    session: Session,
    election_id: int,
    district: str,
    data: Mapping[str, Any],
    *,
    clock: Clock,
    actor: str,
    historical: bool = False,
) -> TallyRecord:
    """Count the district's next round from TALLY.json data and store input and result."""
    return results.record_counted(
        session, election_id, district, data, count(data), clock=clock, actor=actor, historical=historical
    )
