"""Local calendar dates from instants and back (Asia/Shanghai unless the jurisdiction says)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"


def local_date(instant: datetime, tz: str = DEFAULT_TZ) -> date:
    return instant.astimezone(ZoneInfo(tz)).date()


def local_instant(day: date, at: time = time(0, 0), tz: str = DEFAULT_TZ) -> datetime:
    """The UTC instant of `at` local time on `day`."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def parse_instant(text: str, tz: str = DEFAULT_TZ) -> datetime:
    """ISO date-time; without an offset it is local time (CONTRACTS.md)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(UTC)
