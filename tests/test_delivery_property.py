"""Property: whatever happens to each attempt (success, transient or permanent error, the worker
dying before or after the send), every row ends sent or parked, with the attempts a simple model
predicts, and the receiver saw its key once plus once per death after sending."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from config.settings import Settings
from schedules.channels import PermanentError, TransientError
from schedules.delivery import deliver_batch
from workflow.clock import FixedClock
from workflow.store.models import Notification

POLICY = Settings(
    delivery_max_attempts=4,
    delivery_backoff_base_seconds=60,
    delivery_backoff_factor=2,
    delivery_backoff_max_seconds=600,
    delivery_lease_seconds=300,
    delivery_http_timeout_seconds=10,
)
OUTCOMES = ["ok", "transient", "permanent", "die_before_send", "die_after_send"]


class Died(BaseException):
    """The worker process vanishing mid-batch (nothing after this line of the batch runs)."""


def model(plan: list[str]) -> tuple[str, int, int]:
    """(final status, attempts, deliveries the receiver sees) for one row's attempt outcomes."""
    deliveries = 0
    outcomes = [*plan, *["ok"] * POLICY.delivery_max_attempts]
    for attempts, outcome in enumerate(outcomes, start=1):
        if attempts > POLICY.delivery_max_attempts:
            return "failed", attempts - 1, deliveries  # parked at the claim: every lease ran out
        if outcome == "ok":
            return "sent", attempts, deliveries + 1
        if outcome == "permanent":
            return "failed", attempts, deliveries
        if outcome == "die_after_send":
            deliveries += 1
        if outcome == "transient" and attempts >= POLICY.delivery_max_attempts:
            return "failed", attempts, deliveries
    raise AssertionError("unreachable")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=st.lists(st.lists(st.sampled_from(OUTCOMES), max_size=6), min_size=1, max_size=4))
def test_any_sequence_of_failures_and_deaths(db, plans) -> None:
    clock = FixedClock(datetime(2026, 9, 1, tzinfo=UTC))
    with db.transaction() as session:
        session.execute(delete(Notification))
        for number in range(len(plans)):
            session.add(
                Notification(
                    idempotency_key=f"k{number}", channel="fake", recipient={}, category="warning",
                    subject="s", body="b", payload={}, status="pending", attempts=0,
                    next_attempt_at=clock.now(), created_at=clock.now(),
                )
            )
    script = {f"k{number}": list(plan) for number, plan in enumerate(plans)}
    received: Counter = Counter()

    def sender(message, _settings, _now) -> None:
        outcome = script[message.key].pop(0) if script[message.key] else "ok"
        if outcome == "die_before_send":
            raise Died
        if outcome == "transient":
            raise TransientError("busy")
        if outcome == "permanent":
            raise PermanentError("no such mailbox")
        received[message.key] += 1
        if outcome == "die_after_send":
            raise Died

    for _ in range(100):
        with contextlib.suppress(Died):
            deliver_batch(db, clock, batch=1, settings=POLICY, senders={"fake": sender})
        with db.reading() as session:
            if not session.scalars(select(Notification.id).where(Notification.status == "pending")).first():
                break
        clock.advance(timedelta(seconds=POLICY.delivery_lease_seconds + POLICY.delivery_backoff_max_seconds))

    with db.reading() as session:
        found = {row.idempotency_key: (row.status, row.attempts) for row in session.scalars(select(Notification))}
    for number, plan in enumerate(plans):
        key = f"k{number}"
        status, attempts, deliveries = model(plan)
        assert found[key] == (status, attempts), (plan, found[key])
        assert received[key] == deliveries, plan
