"""The reminder timetable, pure: which reminders an election's dates imply.

`desired_reminders` takes a kind, a state, the milestones' dates and today, and returns the
reminder specs the sweep will fire. Writing them is `workflow.commands.reminders`' job.

Exact times (CONTRACTS.md): countdown to the planned date, else the statutory bound, at the
kind's hour (09:00 local) 7, 3 and 1 days before and on the day ("due today"); "overdue" at 00:00
local the day after the bound (statutory, escalated to the parent committee N days later) and,
separately, "plan_overdue" the day after an earlier planned date (no escalation).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from workflow.kinds import KindSpec, get_kind
from workflow.machine import FINAL_STATES
from workflow.timeutil import local_instant


class ReminderKind(StrEnum):
    LEAD = "lead"  # N days before the target date
    DUE_TODAY = "due_today"
    PLAN_OVERDUE = "plan_overdue"  # the committee's own earlier date has passed (no escalation)
    OVERDUE = "overdue"  # the statutory bound has passed
    ESCALATION = "escalation"  # N days after the statutory overdue, to the parent committee
    DEADLINE_PASSED = "deadline_passed"  # a computed milestone's date has passed: it is done
    PHASE_OPENS = "phase_opens"  # a phase window starts: advance if the guards pass
    ADVANCE_CHECK = "advance_check"  # an open window's guards may pass now: try again


# Coalescing after downtime keeps the most urgent message per milestone (higher = more urgent).
URGENCY = {
    ReminderKind.LEAD: 0,
    ReminderKind.DUE_TODAY: 1,
    ReminderKind.PLAN_OVERDUE: 2,
    ReminderKind.OVERDUE: 3,
    ReminderKind.ESCALATION: 4,
}

MIDNIGHT = time(0, 0)


@lru_cache(maxsize=65536)
def _at(day: date, at: time, tz: str) -> datetime:
    """`local_instant`, memoised: many elections share their dates (a province votes together)."""
    return local_instant(day, at, tz)


class ReminderSpec(NamedTuple):
    milestone_key: str | None
    kind: ReminderKind
    lead_days: int | None
    target_date: date
    fire_at: datetime
    phase: str | None = None  # the phase a PHASE_OPENS / ADVANCE_CHECK reminder is about

    @property
    def details(self) -> dict[str, Any]:
        return {"phase": self.phase} if self.phase else {}

    @property
    def identity(self) -> tuple:
        return (
            self.milestone_key,
            str(self.kind),
            self.lead_days,
            self.target_date,
            self.phase,
        )


@dataclass(frozen=True)
class MilestoneDates:
    """What the reminder calculus needs of one milestone (pure values, no ORM)."""

    key: str
    planned: date | None
    latest: date | None
    settled: bool
    applicable: bool = True  # False: an approval whose trigger has not arisen (no reminders)


class Dates(NamedTuple):
    """One stored milestone's dates, as the approval test reads them."""

    earliest: date | None
    latest: date | None
    planned: date | None
    done_on: date | None


SETTLED_STATUSES = ("done", "waived")


def approval_triggered(target: Dates | None) -> bool:
    """Whether the act an approval milestone approves has been moved off its statutory bounds
    (planned or done outside them: the same test as the plan check's), e.g. a district's
    election day moved (Zhejiang art. 51): only then is the approval needed."""
    if target is None:
        return False
    when = target.done_on or target.planned
    if when is None:
        return False
    return (target.latest is not None and when > target.latest) or (
        target.earliest is not None and when < target.earliest
    )


def approvals_due(kind: KindSpec, milestones: Iterable[Any]) -> dict[str, date]:
    """Each triggered, unsettled approval without a statutory bound of its own → the date of the
    act it approves, which it must come before ("needs approval of Y before Z"): its deadline."""
    rows = {m.key: m for m in milestones}
    due = {}
    for key, spec in kind.milestones.items():
        row = rows.get(key)
        if spec.type != "approval" or row is None or str(row.status) in SETTLED_STATUSES or row.latest:
            continue
        target = rows.get(spec.approves)
        if target is None:
            continue
        dates = Dates(target.earliest, target.latest, target.planned_date, target.done_on)
        if approval_triggered(dates):
            due[key] = dates.done_on or dates.planned
    return due


def not_applicable(kind: KindSpec, milestones: Iterable[Any]) -> set[str]:
    """The approval milestones that are not applicable: not done or waived, and the act they
    approve has not been moved off its bounds (their trigger has not arisen). They are neither
    pending nor overdue, count in no progress figure and have no reminders; once the trigger
    arises they are due like any other. `milestones`: anything with key, status, earliest,
    latest, planned_date and done_on (the stored rows)."""
    approvals = [key for key, spec in kind.milestones.items() if spec.type == "approval"]
    if not approvals:
        return set()
    rows = {m.key: m for m in milestones}
    result = set()
    for key in approvals:
        row = rows.get(key)
        if row is None or str(row.status) in SETTLED_STATUSES:
            continue
        target = rows.get(kind.milestones[key].approves)
        dates = (
            None
            if target is None
            else Dates(target.earliest, target.latest, target.planned_date, target.done_on)
        )
        if not approval_triggered(dates):
            result.add(key)
    return result


def milestone_reminders(kind: KindSpec, milestone: MilestoneDates, tz: str) -> Iterator[ReminderSpec]:
    """The countdown, overdue and escalation reminders of one unsettled milestone."""
    if milestone.settled or not milestone.applicable:
        return
    spec = kind.milestones[milestone.key]
    settings = kind.reminders
    if spec.computed:
        # A computed date (e.g. court_suit_deadline, EL 29) is not the committee's task: no
        # countdown; the milestone is done once its day is over.
        if milestone.latest is not None:
            yield ReminderSpec(
                milestone.key,
                ReminderKind.DEADLINE_PASSED,
                None,
                milestone.latest,
                _at(milestone.latest + timedelta(days=1), MIDNIGHT, tz),
            )
        return
    target = milestone.planned or milestone.latest
    if target is None:
        return
    at_hour = time(settings.hour, 0)
    for days in settings.lead_days:
        yield ReminderSpec(
            milestone.key,
            ReminderKind.LEAD,
            days,
            target,
            _at(target - timedelta(days=days), at_hour, tz),
        )
    yield ReminderSpec(milestone.key, ReminderKind.DUE_TODAY, None, target, _at(target, at_hour, tz))
    if milestone.planned is not None and (milestone.latest is None or milestone.planned < milestone.latest):
        yield ReminderSpec(
            milestone.key,
            ReminderKind.PLAN_OVERDUE,
            None,
            milestone.planned,
            _at(milestone.planned + timedelta(days=1), MIDNIGHT, tz),
        )
    if milestone.latest is not None:
        overdue_day = milestone.latest + timedelta(days=1)
        yield ReminderSpec(
            milestone.key,
            ReminderKind.OVERDUE,
            None,
            milestone.latest,
            _at(overdue_day, MIDNIGHT, tz),
        )
        after = settings.escalate_after_days
        yield ReminderSpec(
            milestone.key,
            ReminderKind.ESCALATION,
            after,
            milestone.latest,
            _at(overdue_day + timedelta(days=after), MIDNIGHT, tz),
        )


def desired_reminders(
    kind: KindSpec,
    state: str,
    milestones: Iterable[MilestoneDates],
    phase_windows: dict[str, Any],
    tz: str,
    today: date,
) -> list[ReminderSpec]:
    """Every reminder an election in `state` should have pending or already handled."""
    if state in FINAL_STATES:
        return []
    result: list[ReminderSpec] = []
    for milestone in milestones:
        result.extend(milestone_reminders(kind, milestone, tz))
    phases = kind.phase_keys
    current = phases.index(state) if state in phases else None
    for index, phase in enumerate(phases):
        window = (phase_windows or {}).get(phase) or [None, None]
        if index == 0 or not window[0]:
            continue
        start = date.fromisoformat(window[0])
        result.append(
            ReminderSpec(None, ReminderKind.PHASE_OPENS, None, start, _at(start, MIDNIGHT, tz), phase)
        )
        if current is not None and index == current + 1 and start <= today:
            # The window is open but the election is still in the phase before it (it was
            # blocked, or a date just changed): check the guards again at the next sweep.
            result.append(
                ReminderSpec(None, ReminderKind.ADVANCE_CHECK, None, start, _at(today, MIDNIGHT, tz), phase)
            )
    return result


@lru_cache(maxsize=4096)
def desired_cached(
    kind_key: str,
    state: str,
    milestones: tuple[MilestoneDates, ...],
    phase_windows: tuple[tuple[str, tuple], ...],
    tz: str,
    today: date,
) -> tuple[ReminderSpec, ...]:
    """`desired_reminders`, memoised on hashable arguments: elections of one provincial round
    share their timetable, so their reminders are computed once (a pure function)."""
    windows = {key: list(window) for key, window in phase_windows}
    return tuple(desired_reminders(get_kind(kind_key), state, milestones, windows, tz, today))


def windows_key(phase_windows: dict[str, Any]) -> tuple[tuple[str, tuple], ...]:
    return tuple(sorted((key, tuple(window or ())) for key, window in (phase_windows or {}).items()))
