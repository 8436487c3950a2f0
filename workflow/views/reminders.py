"""The reminders the scheduler wrote, as listed by `huanjie reminders list` and
`GET /api/v1/reminders`."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from workflow.errors import DomainError
from workflow.store.models import Election, Jurisdiction, Reminder, ReminderStatus, reminder_status_is
from workflow.timeutil import local_instant

ALL = "all"


def check_status(status: str) -> str | None:
    """A status filter from the command line: one of the reminder statuses, or "all" (None: no
    filter)."""
    statuses = [s.value for s in ReminderStatus]
    if status != ALL and status not in statuses:
        raise DomainError(
            "E_BAD_STATUS", f"未知的状态 {status!r}（可用：{'、'.join(statuses)}、all）", "status"
        )
    return None if status == ALL else status


def _query(
    *,
    election_id: int | None,
    status: str | None,
    due_before: date | None,
    jurisdiction_ids: Collection[int] | None,
) -> Select:
    query = (
        select(Reminder, Jurisdiction.timezone)
        .join(Election, Election.id == Reminder.election_id)
        .join(Jurisdiction, Jurisdiction.id == Election.jurisdiction_id)
    )
    if jurisdiction_ids is not None:
        query = query.where(Election.jurisdiction_id.in_(list(jurisdiction_ids)))
    if election_id is not None:
        query = query.where(Reminder.election_id == election_id)
    if status:
        query = query.where(reminder_status_is(status))
    if due_before is not None:
        # "Before a date" is before 00:00 local time on that date.
        query = query.where(Reminder.fire_at < local_instant(due_before, time(0, 0)))
    return query


def list_reminders(
    session: Session,
    *,
    election_id: int | None = None,
    status: str | None = None,
    due_before: date | None = None,
    jurisdiction_ids: Collection[int] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Reminders by the time they fire. Each row: the CLI's fields (with `fire_at_local` in the
    jurisdiction's time zone and the `phase` of a phase reminder), then `handled_at`.
    `jurisdiction_ids` limits the list to elections in those jurisdictions (an API caller's scope);
    None means no limit."""
    query = _query(
        election_id=election_id, status=status, due_before=due_before, jurisdiction_ids=jurisdiction_ids
    ).order_by(Reminder.fire_at, Reminder.id)
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    return [
        {
            "id": r.id,
            "election_id": r.election_id,
            "milestone_key": r.milestone_key,
            "kind": r.kind,
            "lead_days": r.lead_days,
            "target_date": r.target_date,
            "fire_at": r.fire_at,
            "fire_at_local": r.fire_at.astimezone(ZoneInfo(tz)),
            "status": r.status,
            "phase": (r.details or {}).get("phase"),
            "handled_at": r.handled_at,
        }
        for r, tz in session.execute(query)
    ]


def count_reminders(
    session: Session,
    *,
    election_id: int | None = None,
    status: str | None = None,
    due_before: date | None = None,
    jurisdiction_ids: Collection[int] | None = None,
) -> int:
    """How many reminders `list_reminders` gives with the same filters and no limit."""
    query = _query(
        election_id=election_id, status=status, due_before=due_before, jurisdiction_ids=jurisdiction_ids
    )
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
