"""Reminder rows: exact times (CONTRACTS.md), the bulk path, and rewrites that never repeat."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from schedules.sweep import sweep
from tests.scheduler_helpers import JINGSHAN, setup_jingshan, stage_from, start
from workflow.clock import FixedClock
from workflow.commands import elections as commands
from workflow.commands.reminders import election_desired
from workflow.kinds import get_kind
from workflow.plan import load_plan
from workflow.store.models import Election, Reminder
from workflow.store.reminders import insert_bulk
from workflow.timetable import MilestoneDates, ReminderKind, desired_reminders, milestone_reminders
from workflow.timeutil import local_date, local_instant

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


@pytest.mark.parametrize("path", ["direct", "staged"])
def test_bulk_insert_stores_what_the_orm_stores(db, path, monkeypatch):
    """Both bulk paths (rows straight in, or timetables staged and fanned out by the database)
    store exactly what the ORM stores for the same specs, each election's rows together."""

    clock = start()
    first = setup_jingshan(db, clock)
    with db.transaction() as session:
        others = [
            commands.create_election(session, load_plan(JINGSHAN), clock=clock, actor="test").election.id
            for _ in range(3)
        ]
        election = session.get(Election, first)
        specs = tuple(election_desired(election, local_date(clock.now(), "Asia/Shanghai")))
        session.query(Reminder).delete()
        for spec in specs:  # the ORM's way, one object per row, for the first election
            session.add(
                Reminder(
                    election_id=first,
                    milestone_key=spec.milestone_key,
                    kind=str(spec.kind),
                    lead_days=spec.lead_days,
                    target_date=spec.target_date,
                    fire_at=spec.fire_at,
                    status="pending",
                    created_at=clock.now(),
                    details=spec.details,
                )
            )
    stage_from(monkeypatch, 1 if path == "staged" else 10**9)
    with db.transaction() as session:
        assert insert_bulk(session, [(eid, specs) for eid in others], clock.now()) == 3 * len(specs)
    with db.reading() as session:
        stored = [
            (r.election_id, r.milestone_key, r.kind, r.lead_days, r.target_date, r.fire_at, r.status,
             r.created_at, r.handled_at, r.details)
            for r in session.execute(select(Reminder).order_by(Reminder.id)).scalars()
        ]
    by_election = {eid: [r[1:] for r in stored if r[0] == eid] for eid in [first, *others]}
    assert len(by_election[first]) == len(specs) > 50
    for eid in others:
        assert by_election[eid] == by_election[first]  # the same values, in the specs' order
    owners = [r[0] for r in stored]
    assert owners == sorted(owners)  # each election's rows together, in the order given
    # And the sweep reads them like any other row: the first countdown message on its hour,
    # once per election.
    earliest = min(spec.fire_at for spec in specs)
    assert sweep(db, FixedClock(earliest - timedelta(seconds=1))).as_dict()["warnings"] == []
    assert len(sweep(db, FixedClock(earliest)).as_dict()["warnings"]) == 4


def test_a_bulk_insert_rolls_back_with_its_transaction(db, monkeypatch):
    """A failing statement after the staged insert leaves no reminder and no staging table."""
    clock = start()
    election_id = setup_jingshan(db, clock)
    with db.reading() as session:
        before = session.execute(select(func.count()).select_from(Reminder)).scalar_one()
        election = session.get(Election, election_id)
        specs = tuple(election_desired(election, local_date(clock.now(), "Asia/Shanghai")))
    stage_from(monkeypatch, 1)
    with pytest.raises(IntegrityError), db.transaction() as session:
        insert_bulk(session, [(election_id, specs), (election_id, specs)], clock.now())
        insert_bulk(session, [(election_id + 999, specs)] * 2, clock.now())  # no such election
    with db.transaction() as session:
        assert session.execute(select(func.count()).select_from(Reminder)).scalar_one() == before
        # The staging tables went with the transaction: the next bulk insert creates them again.
        assert insert_bulk(session, [(election_id, specs)] * 2, clock.now()) == 2 * len(specs)


def test_a_rewrite_never_repeats_a_handled_reminder(db):
    clock = start()
    election_id = setup_jingshan(db, clock)
    clock.set(local_instant(date(2011, 8, 23), time(9, 30)))
    assert len(sweep(db, clock).warnings) == 1  # committee formation: 3 days left
    with db.transaction() as session:  # any change runs the hook: e.g. quotas allocated early
        commands.complete_milestone(session, election_id, "quotas_allocated", clock=clock, actor="test")
    assert sweep(db, clock).as_dict() == {
        k: [] for k in ("warnings", "overdue", "advanced", "blocked", "escalated")
    }
