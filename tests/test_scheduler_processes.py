"""Real worker processes: kill -9 in the middle of a sweep, and four sweepers on PostgreSQL."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time as wall
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from schedules.sweep import due_count, sweep
from tests.scheduler_helpers import setup_jingshan, start
from workflow.clock import FixedClock
from workflow.store import Database
from workflow.store.models import Election, Milestone, Notification, Reminder, ReminderStatus
from workflow.timeutil import parse_instant

HUANJIE = str(Path(sys.executable).parent / "huanjie")
ROOT = Path(__file__).resolve().parent.parent
# The digest job must not fire during the test: schedule it twelve hours away.
QUIET_HOUR = str((datetime.now(UTC).hour + 8 + 12) % 24)


def clone_elections(db: Database, source_id: int, copies: int) -> None:
    """`copies` more elections like `source_id`, with its milestones and reminder rows (fast)."""
    with db.transaction() as session:
        election = (
            session.execute(select(Election.__table__).where(Election.id == source_id)).mappings().one()
        )
        milestones = (
            session.execute(select(Milestone.__table__).where(Milestone.election_id == source_id))
            .mappings()
            .all()
        )
        reminders = (
            session.execute(select(Reminder.__table__).where(Reminder.election_id == source_id))
            .mappings()
            .all()
        )
        table = Election.__table__
        rows = [
            {k: v for k, v in election.items() if k != "id"} | {"title": f"{election['title']} #{n + 2}"}
            for n in range(copies)
        ]
        new_ids = (
            session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
            .scalars()
            .all()
        )
        session.execute(
            insert(Milestone.__table__),
            [
                {k: v for k, v in m.items() if k != "id"} | {"election_id": i}
                for i in new_ids
                for m in milestones
            ],
        )
        session.execute(
            insert(Reminder.__table__),
            [
                {k: v for k, v in r.items() if k != "id"} | {"election_id": i}
                for i in new_ids
                for r in reminders
            ],
        )


def outcome(db: Database) -> Counter:
    """What the outbox holds, independent of row ids and of which process wrote it."""
    with db.reading() as session:
        rows = session.execute(
            select(
                Notification.election_id,
                Notification.category,
                Notification.channel,
                Notification.jurisdiction_id,
                Notification.body,
            )
        ).all()
    return Counter(tuple(r) for r in rows)


class Worker:
    """A `huanjie worker` process whose stderr is read line by line; with `hang_at_batch`, the
    same worker run by tests/sweep_hang.py, whose sweep hangs before that batch's commit."""

    def __init__(self, url: str, hang_at_batch: int | None = None):
        self.lines: list[str] = []
        if hang_at_batch is None:
            program = [HUANJIE, "--db", url, "worker"]
        else:
            hang = ["--hang-at-batch", str(hang_at_batch)]
            program = [sys.executable, "-m", "tests.sweep_hang", "--db", url, *hang]
        self.process = subprocess.Popen(
            [
                *program,
                "--sweep-every",
                "3600",
                "--batch",
                "2",
                "--digest-hour",
                QUIET_HOUR,
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float = 90) -> None:
        deadline = wall.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.process.poll() is None, "".join(self.lines)
            assert wall.monotonic() < deadline, "".join(self.lines)
            wall.sleep(0.05)  # waiting for a real process, not for simulated time


@pytest.mark.slow
def test_kill_9_in_the_middle_of_a_sweep_loses_and_repeats_nothing(db, tmp_path):
    clock = start()
    first = setup_jingshan(db, clock)
    clone_elections(db, first, 9)
    # The same elections swept in one go without a crash, for comparison.
    reference = Database(f"sqlite:///{tmp_path / 'reference.sqlite3'}")
    reference.migrate()
    setup_jingshan(reference, start())
    clone_elections(reference, first, 9)
    sweep(reference, FixedClock(datetime.now(UTC)))
    expected = outcome(reference)
    assert sum(expected.values()) > 100

    # Everything of 2011 is due for a worker on today's clock. The third batch hangs before
    # its commit; kill -9 it there.
    crashed = Worker(db.url, hang_at_batch=3)
    crashed.wait_for("FAULT: batch 3")
    crashed.process.send_signal(signal.SIGKILL)
    assert crashed.process.wait(30) == -signal.SIGKILL
    with db.reading() as session:
        states = Counter(session.execute(select(Reminder.status)).scalars())
    assert states[ReminderStatus.DONE] > 0 and states[ReminderStatus.PENDING] > 0
    partial = outcome(db)
    assert partial and all(expected[key] >= count for key, count in partial.items())  # two batches only

    # Restart: the worker catches up on the rest, then stops cleanly on SIGTERM.
    again = Worker(db.url)
    deadline = wall.monotonic() + 120
    while True:
        with db.reading() as session:
            if due_count(session, datetime.now(UTC)) == 0:
                break
        assert wall.monotonic() < deadline, "".join(again.lines)
        wall.sleep(0.2)
    again.wait_for("sweep at")
    again.process.send_signal(signal.SIGTERM)
    assert again.process.wait(60) == 0
    again.reader.join(5)
    assert any("worker stopped" in line for line in again.lines)
    assert outcome(db) == expected


@pytest.mark.slow
def test_four_sweepers_on_postgresql_handle_each_reminder_once(db):
    if not db.is_postgres:
        pytest.skip("SKIP LOCKED concurrency is a PostgreSQL matter (SQLite has one writer)")
    clock = start()
    first = setup_jingshan(db, clock)
    clone_elections(db, first, 999)
    now = "2011-08-27T09:00:30"  # the committee's formation is a day late; quotas: 7 days left
    processes = [
        subprocess.Popen(
            [HUANJIE, "--db", db.url, "sweep", "--now", now, "--batch", "25", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=240) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], [err for _out, err in outputs]
    warnings = [item for out, _err in outputs for item in json.loads(out)["warnings"]]
    per_process = [len(json.loads(out)["warnings"]) for out, _err in outputs]
    print("warnings per process:", per_process)
    # 1,000 elections × 6 due reminders: 2 messages each (the rest coalesced), each sent by
    # exactly one process.
    assert len(warnings) == 2000
    assert len({(w["election_id"], w["milestone_key"]) for w in warnings}) == 2000
    with db.reading() as session:
        due = select(Reminder.status).where(Reminder.fire_at <= parse_instant(now))
        states = Counter(session.execute(due).scalars())
        assert states == {ReminderStatus.DONE: 2000, ReminderStatus.SUPERSEDED: 4000}
        assert session.execute(select(func.count()).select_from(Notification)).scalar_one() == 4000
        per_reminder = Counter(
            n.payload["reminder_id"] for n in session.execute(select(Notification)).scalars()
        )
        assert len(per_reminder) == 2000 and set(per_reminder.values()) == {2}
