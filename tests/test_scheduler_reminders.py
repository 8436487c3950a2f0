"""Reminder rows: exact times (CONTRACTS.md), the bulk path, and rewrites that never repeat."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from schedules.reminders import (
    MilestoneDates,
    ReminderKind,
    desired_reminders,
    insert_bulk,
    milestone_reminders,
)
from schedules.sweep import sweep
from tests.scheduler_helpers import setup_jingshan, start
from workflow.clock import FixedClock
from workflow.kinds import get_kind
from workflow.store.models import Reminder

KIND = get_kind("people_congress")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(dt: datetime) -> tuple[date, time]:
    value = dt.astimezone(SHANGHAI)
    return value.date(), value.time()


@given(
    planned=st.one_of(st.none(), st.dates(date(2004, 1, 1), date(2030, 12, 31))),
    offset=st.one_of(st.none(), st.integers(-30, 30)),
)
def test_times_follow_the_contract(planned, offset):
    latest = None if offset is None or planned is None else planned + timedelta(days=offset)
    specs = list(
        milestone_reminders(
            KIND, MilestoneDates("voter_list_published", planned, latest, False), "Asia/Shanghai"
        )
    )
    target = planned or latest
    if target is None:
        assert specs == []
        return
    kinds = {(s.kind, s.lead_days): s for s in specs}
    for days in (7, 3, 1):
        assert local(kinds[(ReminderKind.LEAD, days)].fire_at) == (target - timedelta(days=days), time(9, 0))
    assert local(kinds[(ReminderKind.DUE_TODAY, None)].fire_at) == (target, time(9, 0))
    if latest is not None:
        # Overdue at 00:00 local the day after the bound; escalation 2 days later (kind setting).
        assert local(kinds[(ReminderKind.OVERDUE, None)].fire_at) == (latest + timedelta(days=1), time(0, 0))
        assert local(kinds[(ReminderKind.ESCALATION, 2)].fire_at) == (latest + timedelta(days=3), time(0, 0))
    else:
        assert not {k for k, _ in kinds} & {ReminderKind.OVERDUE, ReminderKind.ESCALATION}
    has_plan_overdue = (ReminderKind.PLAN_OVERDUE, None) in kinds
    assert has_plan_overdue == (latest is None or planned < latest)
    if has_plan_overdue:
        assert local(kinds[(ReminderKind.PLAN_OVERDUE, None)].fire_at) == (
            planned + timedelta(days=1),
            time(0, 0),
        )
    assert all(s.fire_at.tzinfo is not None for s in specs)


def test_settled_and_computed_milestones():
    assert (
        list(
            milestone_reminders(
                KIND,
                MilestoneDates("voter_list_published", date(2011, 9, 20), date(2011, 9, 28), True),
                "Asia/Shanghai",
            )
        )
        == []
    )
    (only,) = milestone_reminders(
        KIND, MilestoneDates("court_suit_deadline", None, date(2011, 10, 13), False), "Asia/Shanghai"
    )
    assert only.kind == ReminderKind.DEADLINE_PASSED
    assert local(only.fire_at) == (date(2011, 10, 14), time(0, 0))


def test_ended_elections_have_no_reminders():
    milestones = [MilestoneDates("voter_list_published", date(2011, 9, 20), date(2011, 9, 28), False)]
    assert desired_reminders(KIND, "closed", milestones, {}, "Asia/Shanghai", date(2011, 9, 1)) == []


def test_bulk_insert_stores_what_the_orm_stores(db):
    clock = start()
    election_id = setup_jingshan(db, clock)
    with db.transaction() as session:
        orm_rows = (
            session.execute(select(Reminder).where(Reminder.election_id == election_id)).scalars().all()
        )
        specs = [
            (r.milestone_key, r.kind, r.lead_days, r.target_date, r.fire_at, r.details) for r in orm_rows
        ]
        session.query(Reminder).delete()
    from schedules.reminders import ReminderSpec

    with db.transaction() as session:
        rebuilt = [
            ReminderSpec(k, ReminderKind(kind), d, t, f, det.get("phase")) for k, kind, d, t, f, det in specs
        ]
        assert insert_bulk(session, [(election_id, rebuilt)], clock.now()) == len(specs)
    with db.reading() as session:
        again = session.execute(select(Reminder).order_by(Reminder.id)).scalars().all()
        stored = [(r.milestone_key, r.kind, r.lead_days, r.target_date, r.fire_at, r.details) for r in again]
        assert sorted(stored, key=repr) == sorted(specs, key=repr)
    # And the sweep reads them like any other row: the first countdown message on its hour.
    first = min(f for *_rest, f, _d in specs)
    assert sweep(db, FixedClock(first - timedelta(seconds=1))).as_dict()["warnings"] == []
    assert len(sweep(db, FixedClock(first)).as_dict()["warnings"]) == 1


def test_a_rewrite_never_repeats_a_handled_reminder(db):
    from workflow.commands import elections as commands
    from workflow.timeutil import local_instant

    clock = start()
    election_id = setup_jingshan(db, clock)
    clock.set(local_instant(date(2011, 8, 23), time(9, 30)))
    assert len(sweep(db, clock).warnings) == 1  # committee formation: 3 days left
    with db.transaction() as session:  # any change runs the hook: e.g. quotas allocated early
        commands.complete_milestone(session, election_id, "quotas_allocated", clock=clock, actor="test")
    assert sweep(db, clock).as_dict() == {
        k: [] for k in ("warnings", "overdue", "advanced", "blocked", "escalated")
    }
