"""`tallies record`: count a round with the pure counting rules and store it.

The counting is `workflow.rules.tally.count_tally_document`: it validates a TALLY.json document
(raising DomainError on bad input) and counts it with its kind's parameters; the result's
`as_dict()` is the contract's {"valid", "reasons", "elected", "unfilled", "runoff", "tie_break"}
plus the decisions with their rules. A round of a stored election is counted with the kind as
it applies to that election (statute version, province's variant) and its voting method
(`workflow.rules.tally.count_for_election`), never with the base kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands import results
from workflow.commands.elections import get_election, kind_of
from workflow.rules.tally import count_for_election, count_tally_document
from workflow.store.candidates import TallyRecord
from workflow.store.models import Election


def count(data: Mapping[str, Any], election: Election | None = None) -> dict[str, Any]:
    """Count one round (pure): as `election` applies the law (its resolved kind and voting
    method), or, for a document on its own, with the document's kind and method."""
    if election is None:
        return count_tally_document(dict(data)).as_dict()
    return count_for_election(kind_of(election), election.voting_method, dict(data)).as_dict()


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
    counted = count(data, get_election(session, election_id))
    return results.record_counted(
        session, election_id, district, data, counted, clock=clock, actor=actor, historical=historical
    )
