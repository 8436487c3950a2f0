"""Crash: `kill -9` a real delivery process in the middle of a batch, restart, and show that nothing
is lost and nothing is delivered twice past its idempotency key (the receiver counts keys)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.delivery_servers import RobotServer
from tests.test_delivery import make_jurisdiction, queue
from workflow.store.models import Notification

ROOT = Path(__file__).resolve().parent.parent
ROWS = 12
BATCH = 5


def huanjie(db_url: str, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "HUANJIE_DELIVERY_LEASE_SECONDS": "60",
        "HUANJIE_DELIVERY_HTTP_TIMEOUT_SECONDS": "30",  # the held request must not time out first
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from service.cli import main; main()", "--db", db_url, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return json.loads(out)


def states(db) -> list[tuple[int, str, int]]:
    with db.reading() as session:
        return [
            (row.id, row.status, row.attempts)
            for row in session.scalars(select(Notification).order_by(Notification.id))
        ]


@pytest.fixture
def receiver():
    # The receiver dedupes on the key, as docs/delivery.md asks of webhook receivers; it holds the
    # third request open so that the kill lands between "sent" and "marked sent".
    server = RobotServer("webhook", now=lambda: datetime.now(UTC), hold_at=3)
    yield server
    server.close()


def test_kill_9_mid_batch_loses_nothing_and_duplicates_only_past_the_key(db, clock, receiver) -> None:
    contacts = [{"name": "hook", "channels": {"webhook": {"url": receiver.url, "secret": receiver.secret}}}]
    jurisdiction_id = make_jurisdiction(db, clock, contacts)
    for number in range(ROWS):
        queue(db, clock, jurisdiction_id, key=f"reminder:{number}")
    with db.reading() as session:
        keys = {row.id: row.idempotency_key for row in session.scalars(select(Notification))}

    worker = huanjie(db.url, "outbox", "deliver", "--batch", str(BATCH), "--json")
    try:
        assert receiver.holding.wait(60), "the worker never reached the third send"
        os.kill(worker.pid, signal.SIGKILL)  # kill -9 while the third request is in flight
        worker.wait(30)
    finally:
        if worker.poll() is None:
            worker.kill()
    receiver.release.set()
    assert worker.returncode == -signal.SIGKILL

    # Two rows sent and marked; the third delivered but not marked; two more claimed, not sent.
    after_kill = states(db)
    assert after_kill[:BATCH] == [(1, "sent", 1), (2, "sent", 1), (3, "pending", 1), (4, "pending", 1),
                                  (5, "pending", 1)]
    assert {(status, attempts) for _, status, attempts in after_kill[BATCH:]} == {("pending", 0)}
    assert [key for key in receiver.keys] == [keys[1], keys[2], keys[3]]

    # Restart once the dead worker's lease has run out (the lease itself, and that a restart
    # before it leaves the dead worker's rows alone, are tested in test_delivery.py).
    later = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    report = finished(huanjie(db.url, "outbox", "deliver", "--now", later, "--batch", str(BATCH), "--json"))
    assert sorted(report["sent_ids"]) == list(range(3, ROWS + 1))

    assert {status for _, status, _ in states(db)} == {"sent"}  # nothing lost
    assert receiver.distinct == set(keys.values())  # every notification arrived
    duplicates = {key: count for key, count in receiver.keys.items() if count > 1}
    assert duplicates == {keys[3]: 2}  # only the in-flight one, recognisable by its key
    assert len(receiver.accepted) == ROWS + 1
