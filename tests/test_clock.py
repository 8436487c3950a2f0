"""The injected clocks: tests move time explicitly, nothing reads the wall clock."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from workflow.clock import FixedClock, SteppingClock, SystemClock

START = datetime(2011, 10, 18, 1, 0, tzinfo=UTC)


def test_fixed_clock_stands_still_until_moved():
    clock = FixedClock(START)
    assert clock.now() == clock.now() == START
    clock.advance(timedelta(days=1))
    assert clock.now() == START + timedelta(days=1)
    clock.set(datetime(2011, 10, 18, 9, 0, tzinfo=timezone(timedelta(hours=8))))
    assert clock.now() == START and clock.now().tzinfo == UTC


def test_stepping_clock_moves_on_each_reading():
    clock = SteppingClock(START, timedelta(minutes=5))
    assert [clock.now() for _ in range(3)] == [START + timedelta(minutes=5 * i) for i in range(3)]


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        FixedClock(datetime(2011, 10, 18))
    with pytest.raises(ValueError):
        FixedClock(START).set(datetime(2011, 10, 18))


def test_system_clock_is_aware_utc():
    assert SystemClock().now().tzinfo == UTC
