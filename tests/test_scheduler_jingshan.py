"""The seed's Jingshan election on a moving clock: every warning on its day, phases on their
window dates, a missing official candidate list blocking the vote and escalated upwards."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from schedules.channels import _require
from schedules.sweep import sweep
from tests.scheduler_helpers import SWEEP_TIMES, flatten, run_days, setup_jingshan, start
from workflow.commands import elections as commands
from workflow.machine import Trigger
from workflow.store.models import (
    AuditEntry,
    Election,
    Jurisdiction,
    Milestone,
    Notification,
    Reminder,
    ReminderStatus,
)
from workflow.timeutil import local_instant

C = "election_committee_formed"
Q = "quotas_allocated"
D = "districts_published"
V = "voter_list_published"
A = "voter_appeals_closed"
P = "preliminary_candidates_published"
OC = "official_candidates_published"
E = "election_day"
R = "results_published"
K = "congress_convened"
Q2 = "deputies_qualified"  # EL 47 ¶2, planned 11-25 (examples/jingshan_2011.toml)


def w(stamp: str, key: str, label: str, phase: str) -> tuple:
    return (stamp, "warnings", key, phase, None, label)


def countdown(key: str, days: tuple[str, str, str, str], phase: str) -> list[tuple]:
    """lead 7, 3, 1 at 09:00 and due today (CONTRACTS.md), on the given days."""
    labels = ("lead7", "lead3", "lead1", "due_today")
    return [w(f"{day} 09:00", key, label, phase) for day, label in zip(days, labels, strict=True)]


# Planned dates: C 08-26, Q 09-03, D 09-10, V 09-20, A 09-28, P 09-30, OC 10-10 (latest E-7 =
# 10-11; done late on 10-14), E and R 10-18, K 11-30. Windows: registration 09-04, nomination
# 09-21, voting 10-11, congress 10-19. Escalation after 2 days (people_congress kind).
EXPECTED = sorted(
    [
        *countdown(C, ("08-19", "08-23", "08-25", "08-26"), "preparation"),
        *countdown(Q, ("08-27", "08-31", "09-02", "09-03"), "preparation"),
        w("09-03 09:00", D, "lead7", "preparation"),
        ("09-04 00:00", "advanced", None, "preparation", "registration", "advanced"),
        w("09-07 09:00", D, "lead3", "registration"),
        w("09-09 09:00", D, "lead1", "registration"),
        w("09-10 09:00", D, "due_today", "registration"),
        *countdown(V, ("09-13", "09-17", "09-19", "09-20"), "registration"),
        ("09-21 00:00", "advanced", None, "registration", "nomination", "advanced"),
        *countdown(A, ("09-21", "09-25", "09-27", "09-28"), "nomination"),
        *countdown(P, ("09-23", "09-27", "09-29", "09-30"), "nomination"),
        *countdown(OC, ("10-03", "10-07", "10-09", "10-10"), "nomination"),
        # The planned date has passed (a note to the committee itself) and the voting window
        # opens without the official list (EL 32): blocked, not advanced.
        w("10-11 00:00", OC, "plan_overdue", "nomination"),
        ("10-11 00:00", "blocked", None, "nomination", "voting", "blocked"),
        w("10-11 09:00", E, "lead7", "nomination"),
        w("10-11 09:00", R, "lead7", "nomination"),
        # Statutory bound 10-11 passed: overdue at 00:00 the day after, escalated 2 days later.
        ("10-12 00:00", "overdue", OC, "nomination", None, "overdue"),
        ("10-14 00:00", "escalated", OC, "nomination", None, "escalation"),
        # Published late on 10-14 at 17:00: the next sweep lets the election into voting.
        ("10-15 00:00", "advanced", None, "nomination", "voting", "advanced"),
        w("10-15 09:00", E, "lead3", "voting"),
        w("10-15 09:00", R, "lead3", "voting"),
        w("10-17 09:00", E, "lead1", "voting"),
        w("10-17 09:00", R, "lead1", "voting"),
        w("10-18 09:00", E, "due_today", "voting"),
        w("10-18 09:00", R, "due_today", "voting"),
        ("10-19 00:00", "advanced", None, "voting", "congress", "advanced"),
        *countdown(Q2, ("11-18", "11-22", "11-24", "11-25"), "congress"),
        *countdown(K, ("11-23", "11-27", "11-29", "11-30"), "congress"),
    ]
)


def test_jingshan_warnings_on_a_moving_clock(db):
    clock = start()
    election_id = setup_jingshan(db, clock)
    seen = run_days(db, clock, election_id, date(2011, 8, 18), date(2011, 12, 31))
    assert sorted(seen) == EXPECTED

    with db.reading() as session:
        election = session.get(Election, election_id)
        assert election.state == "congress"
        assert election.phase_entered_on == {
            "preparation": "2011-08-18",
            "registration": "2011-09-04",
            "nomination": "2011-09-21",
            "voting": "2011-10-15",
            "congress": "2011-10-19",
        }
        assert election.blocked_reasons == []  # cleared when it advanced
        milestones = {m.key: m for m in session.execute(select(Milestone)).scalars()}
        late = milestones[OC]
        assert (late.status, late.done_on, late.late) == ("done", date(2011, 10, 14), True)
        # The computed court-suit deadline (E-5 = 10-13, EL 29) is done once its day is over.
        court = milestones["court_suit_deadline"]
        assert (court.status, court.done_on, court.done_by) == ("done", date(2011, 10, 13), "scheduler")
        assert (
            not session.execute(select(Reminder).where(Reminder.status == ReminderStatus.PENDING))
            .scalars()
            .all()
        )

        # Escalation: the parent committee (荆门市) gets it, the county a copy.
        codes = dict(session.execute(select(Jurisdiction.id, Jurisdiction.code)).all())
        escalations = (
            session.execute(select(Notification).where(Notification.category == "escalation")).scalars().all()
        )
        assert sorted((codes[n.jurisdiction_id], n.channel) for n in escalations) == [
            ("420800", "email"),
            ("420800", "log"),
            ("420821", "email"),
            ("420821", "log"),
        ]
        assert {n.recipient["email"] for n in escalations if n.channel == "email"} == {
            "jingmen@example.gov.cn",
            "jingshan@example.gov.cn",
        }
        # Blocked once (audited with its reason), not at every sweep.
        blocked = (
            session.execute(select(AuditEntry).where(AuditEntry.action == "election.blocked")).scalars().all()
        )
        assert len(blocked) == 1
        assert blocked[0].after["blocked_reasons"] == ["正式代表候选人名单尚未公布"]
        overdue = (
            session.execute(select(AuditEntry).where(AuditEntry.action == "milestone.overdue"))
            .scalars()
            .all()
        )
        assert [a.entity_id for a in overdue] == [f"{election_id}/{OC}"]
        # One notification per message and channel: nothing twice.
        keys = Counter(n.idempotency_key for n in session.execute(select(Notification)).scalars())
        assert max(keys.values()) == 1
        # Log and e-mail for each item; the escalation also reaches the parent's two channels.
        assert len(keys) == 2 * len(EXPECTED) + 2


def test_reschedule_rewrites_reminders_in_the_same_transaction(db):
    clock = start()
    election_id = setup_jingshan(db, clock)
    with db.transaction() as session:
        before = session.execute(
            select(Reminder.milestone_key, Reminder.kind, Reminder.lead_days, Reminder.fire_at).where(
                Reminder.status == ReminderStatus.PENDING, Reminder.milestone_key == V
            )
        ).all()
        commands.reschedule(session, election_id, date(2011, 10, 25), clock=clock, actor="test")
        after = session.execute(
            select(Reminder.kind, Reminder.lead_days, Reminder.target_date).where(
                Reminder.status == ReminderStatus.PENDING, Reminder.milestone_key == V
            )
        ).all()
        cancelled = (
            session.execute(
                select(Reminder).where(
                    Reminder.status == ReminderStatus.CANCELLED, Reminder.milestone_key == V
                )
            )
            .scalars()
            .all()
        )
    assert len(before) == len(cancelled) == len(after) == 7
    assert {row.target_date for row in after} == {date(2011, 9, 27), date(2011, 10, 5)}


def test_swept_notifications_are_deliverable(db):
    """What the sweep writes, the delivery worker can send: the recipient carries the keys
    each channel reads (an e-mail address for e-mail)."""

    clock = start()
    election_id = setup_jingshan(db, clock)
    clock.set(datetime(2011, 9, 20, 1, 0, tzinfo=UTC))
    sweep(db, clock)
    with db.reading() as s:
        rows = s.query(Notification).filter(Notification.election_id == election_id).all()
        emails = [n.recipient for n in rows if n.channel == "email"]
    assert emails
    for recipient in emails:
        assert "@" in _require(recipient, "email", "email")


def test_a_resumed_election_catches_up_on_what_fell_due_while_suspended(db):
    """Suspended 09-01 to 09-10: nothing is sent meanwhile; the first sweep after the resume
    sends one message per milestone still open (the most urgent) and lets the election into
    the registration phase whose window opened on 09-04."""

    clock = start()
    election_id = setup_jingshan(db, clock)
    run_days(db, clock, election_id, date(2011, 8, 18), date(2011, 9, 1))
    clock.set(local_instant(date(2011, 9, 1), time(18, 0)))
    with db.transaction() as session:  # quotas done early, then the province says: wait
        commands.complete_milestone(session, election_id, Q, clock=clock, actor="test", on=date(2011, 9, 1))
    with db.transaction() as session:
        commands.transition(
            session, election_id, Trigger.SUSPEND, clock=clock, actor="test", reason="上级通知暂停"
        )
    day = date(2011, 9, 2)
    while day <= date(2011, 9, 10):
        for at in SWEEP_TIMES:
            when = local_instant(day, at)
            if when > clock.now():
                clock.set(when)
                assert flatten(clock.now(), sweep(db, clock)) == [], day
        day += timedelta(days=1)
    with db.reading() as session:
        cancelled = session.execute(
            select(Reminder.milestone_key, Reminder.kind).where(
                Reminder.election_id == election_id, Reminder.status == ReminderStatus.CANCELLED
            )
        ).all()
    # D's countdown and the registration window: cancelled as they fell due.
    assert (D, "lead") in cancelled and (D, "due_today") in cancelled and (None, "phase_opens") in cancelled

    clock.set(local_instant(date(2011, 9, 10), time(15, 0)))
    with db.transaction() as session:
        commands.transition(session, election_id, Trigger.RESUME, clock=clock, actor="test")
    clock.set(local_instant(date(2011, 9, 10), time(15, 1)))
    caught_up = flatten(clock.now(), sweep(db, clock))
    assert caught_up == [
        # D's lead 7, lead 3, lead 1 and due today all fell due: only the most urgent is sent,
        # naming the phase the election has just entered.
        ("09-10 15:01", "warnings", D, "registration", None, "due_today"),
        ("09-10 15:01", "advanced", None, "preparation", "registration", "advanced"),
    ]
    assert flatten(clock.now(), sweep(db, clock)) == []  # and nothing twice
