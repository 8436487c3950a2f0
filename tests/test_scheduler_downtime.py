"""Downtime: the worker stops after 09-10 and sweeps again on 10-12. The first sweep logs its
backlog, catches up on everything that fell due and sends one message per milestone (the most
urgent that still makes sense); nothing is sent twice, nothing goes missing."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, time

from sqlalchemy import select

from schedules.sweep import due_count
from tests.scheduler_helpers import run_days, setup_jingshan, start
from tests.test_scheduler_jingshan import EXPECTED, OC, E, R
from workflow.store.models import Milestone, Notification, Reminder, ReminderStatus
from workflow.timeutil import local_instant


def test_downtime_coalesces_one_message_per_milestone(db, caplog):
    clock = start()
    election_id = setup_jingshan(db, clock)
    before = run_days(
        db,
        clock,
        election_id,
        date(2011, 8, 18),
        date(2011, 10, 11),
        skip=(date(2011, 9, 11), date(2011, 10, 11)),
    )
    assert sorted(before) == [row for row in EXPECTED if row[0] <= "09-10 09:00"]

    with db.reading() as session:
        backlog = due_count(session, local_instant(date(2011, 10, 12), time(0, 0, 30)))
    assert backlog > 10  # the official list's countdown, two lead-7s, the phase windows …
    caplog.set_level(logging.INFO, logger="huanjie.sweep")
    after = run_days(db, clock, election_id, date(2011, 10, 12), date(2011, 12, 31), check_idempotent=False)

    first_sweep = [row for row in after if row[0] == "10-12 00:00"]
    assert sorted(first_sweep) == sorted(
        [
            # Windows passed while down: into nomination (guards pass), voting blocked.
            ("10-12 00:00", "advanced", None, "registration", "nomination", "advanced"),
            ("10-12 00:00", "blocked", None, "nomination", "voting", "blocked"),
            # Official list: lead 7/3/1, due today, plan overdue and overdue all fell due: only
            # "overdue" is sent.
            ("10-12 00:00", "overdue", OC, "nomination", None, "overdue"),
            # Election day and results: their 7-day warning (10-11 09:00) is still true.
            ("10-12 00:00", "warnings", E, "nomination", None, "lead7"),
            ("10-12 00:00", "warnings", R, "nomination", None, "lead7"),
        ]
    )
    assert sorted(row for row in after if row[0] != "10-12 00:00") == [
        row for row in EXPECTED if row[0] > "10-12 00:00"
    ]
    messages = [r.getMessage() for r in caplog.records if r.name == "huanjie.sweep"]
    assert messages[0].endswith(f"backlog of {backlog} due reminders")

    with db.reading() as session:
        reminders = session.execute(select(Reminder)).scalars().all()
        assert not [r for r in reminders if r.status == ReminderStatus.PENDING]
        superseded = [r for r in reminders if r.status == ReminderStatus.SUPERSEDED]
        # The official list's five stale reminders point at the one "overdue" that was sent.
        assert sorted((r.kind, r.lead_days) for r in superseded) == sorted(
            [("lead", 7), ("lead", 3), ("lead", 1), ("due_today", None), ("plan_overdue", None)]
        )
        sent = {r.id for r in reminders if r.status == ReminderStatus.DONE}
        assert {r.details["superseded_by"] for r in superseded} <= sent
        # Nothing twice: each (milestone, reminder kind, lead) produced at most one message.
        notifications = (
            session.execute(select(Notification).where(Notification.channel == "log")).scalars().all()
        )
        per_message = Counter(
            (
                n.payload.get("milestone_key"),
                n.payload.get("reminder_kind"),
                n.payload.get("lead_days"),
                n.jurisdiction_id,
            )
            for n in notifications
            if n.payload.get("reminder_kind")
        )
        assert max(per_message.values()) == 1
        # Nothing missing: every milestone still open when a reminder fell due was told once.
        milestones = {m.key: m for m in session.execute(select(Milestone)).scalars()}
        assert milestones[OC].late and milestones[OC].done_on == date(2011, 10, 14)
