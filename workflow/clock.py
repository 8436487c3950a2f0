"""Injected time. Only the edges (CLI, API, worker) hold a real clock; the domain takes one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told otherwise; tests move it explicitly."""

    def __init__(self, at: datetime):
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


class SteppingClock(FixedClock):
    """Each call to now() returns the current instant, then moves on by `step`."""

    def __init__(self, at: datetime, step: timedelta):
        super().__init__(at)
        self.step = step

    def now(self) -> datetime:
        current = self._at
        self._at += self.step
        return current
