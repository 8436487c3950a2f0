"""Tallies entered twice (计票双人录入核对): one clerk keys in a district's count, a second
clerk checks it by keying it in again. When the two agree the count is recorded through
`workflow.commands.tallies.record` (the same rules and messages as `huanjie tallies record`);
when they differ, the differences are shown and the count waits until a new entry agrees with
an earlier entry by another person (a recount settles which figures are right).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands import results, tallies
from workflow.commands.elections import get_election
from workflow.errors import Conflict
from workflow.events import TallyEntered
from workflow.rules.tally_entry import differences
from workflow.store.audit import record
from workflow.store.tally_entries import TallyEntry

AWAITING = "awaiting_check"
MISMATCH = "mismatch"
ACCEPTED = "accepted"


@dataclass
class Entered:
    status: str  # awaiting_check / mismatch / accepted
    round: int
    differences: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None  # the count, once accepted


def _entries(session: Session, election_id: int, district: str, round_: int) -> list[TallyEntry]:
    return list(
        session.execute(
            select(TallyEntry)
            .where(
                TallyEntry.election_id == election_id,
                TallyEntry.district == district,
                TallyEntry.round == round_,
            )
            .order_by(TallyEntry.id)
        ).scalars()
    )


def next_round(session: Session, election_id: int, district: str) -> int:
    return len(results.rounds_of(session, election_id, district)) + 1


def enter(
    session: Session,
    election_id: int,
    district: str,
    data: Mapping[str, Any],
    *,
    clock: Clock,
    actor: str,
) -> Entered:
    """Key in a district's next count. The first entry waits for a check; a later one by
    another person that agrees with an earlier entry records the count; one that differs
    from the latest entry by another person is a mismatch, shown field by field."""
    data = dict(data)
    # The document's own rules first (EL 43–45), as the election applies them (its kind's
    # version and variant, its voting method): a bad entry is refused.
    tallies.count(data, get_election(session, election_id))
    round_ = next_round(session, election_id, district)
    earlier = _entries(session, election_id, district, round_)
    others = [e for e in earlier if e.entered_by != actor]
    if earlier and not others:
        raise Conflict(
            "E_TALLY_SAME_CLERK",
            f"选区 {district} 第 {round_} 轮计票已由 {actor} 录入，须由另一名工作人员录入核对（双人录入）",
            "actor",
        )
    agreeing = next((e for e in reversed(others) if not differences(e.data, data)), None)
    entry = TallyEntry(
        election_id=election_id,
        district=district,
        round=round_,
        data=data,
        status=AWAITING,
        entered_by=actor,
        entered_at=clock.now(),
    )
    session.add(entry)
    session.flush()
    outcome = Entered(AWAITING, round_)
    if agreeing is not None:
        stored = tallies.record(session, election_id, district, data, clock=clock, actor=actor)
        session.execute(
            update(TallyEntry)
            .where(TallyEntry.id.in_([e.id for e in earlier] + [entry.id]))
            .values(status=ACCEPTED)
        )
        outcome = Entered(ACCEPTED, round_, result=dict(stored.result))
    elif others:
        entry.status = MISMATCH
        outcome = Entered(MISMATCH, round_, differences=differences(others[-1].data, data))
    session.flush()
    record(
        session,
        TallyEntered(
            entity_id=f"{election_id}/{district}/{round_}/{entry.id}",
            after={"status": outcome.status, "differences": [d["field"] for d in outcome.differences]},
        ),
        actor=actor,
        clock=clock,
    )
    return outcome


def entry_state(session: Session, election_id: int, district: str) -> dict[str, Any]:
    """The entries of the district's next count: who keyed in what, and where the latest two
    by different people differ."""
    round_ = next_round(session, election_id, district)
    entries = _entries(session, election_id, district, round_)
    diff: list[dict[str, Any]] = []
    if entries:
        latest = entries[-1]
        other = next((e for e in reversed(entries) if e.entered_by != latest.entered_by), None)
        if other is not None:
            diff = differences(other.data, latest.data)
    return {
        "round": round_,
        "entries": [
            {"id": e.id, "by": e.entered_by, "at": e.entered_at, "status": e.status, "data": e.data}
            for e in entries
        ],
        "differences": diff,
        "status": entries[-1].status if entries else None,
    }
