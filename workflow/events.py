"""Domain events: frozen, past-tense values. The audit log is written from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar


def jsonable(value: Any) -> Any:
    """Dates, sets and tuples as JSON-friendly values (the audit hash covers this form)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all events; subclasses name their action and entity as class constants."""

    action: ClassVar[str] = "event"
    entity: ClassVar[str] = "event"
    entity_id: str | None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def _event(name: str, action: str, entity: str) -> type[Event]:
    return dataclass(frozen=True, kw_only=True)(
        type(name, (Event,), {"action": action, "entity": entity, "__annotations__": {}})
    )


ElectionCreated = _event("ElectionCreated", "election.created", "election")
PhaseAdvanced = _event("PhaseAdvanced", "election.transition", "election")
ElectionRescheduled = _event("ElectionRescheduled", "election.rescheduled", "election")
ElectionBlocked = _event("ElectionBlocked", "election.blocked", "election")
MilestoneCompleted = _event("MilestoneCompleted", "milestone.completed", "milestone")
MilestoneWaived = _event("MilestoneWaived", "milestone.waived", "milestone")
MilestoneOverdue = _event("MilestoneOverdue", "milestone.overdue", "milestone")
JurisdictionAdded = _event("JurisdictionAdded", "jurisdiction.added", "jurisdiction")


@dataclass(frozen=True, kw_only=True)
class Recorded(Event):
    """An event named at the call site, for actions other modules add (imports, tallies …)."""

    action: str  # type: ignore[misc]
    entity: str  # type: ignore[misc]
