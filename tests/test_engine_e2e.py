"""End to end on storage: whole elections from creation to closed on a stepping clock,
reloading from the database between steps, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from workflow.clock import FixedClock
from workflow.commands import elections as commands
from workflow.errors import Conflict, DomainError
from workflow.events import declare
from workflow.machine import CLOSED, Trigger
from workflow.plan import load_plan
from workflow.store.audit import record, verify
from workflow.store.models import AuditEntry, Election, MilestoneStatus
from workflow.timeutil import local_instant

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def at(day: date) -> datetime:
    return local_instant(day, time(10, 0))


def run_to_close(db, plan_name: str, clock: FixedClock, *, accept: str | None = None) -> int:
    """Drive an election through every phase: at each phase, first try to advance too early
    (refused with reasons), then complete the phase's milestones on their planned dates."""
    plan = load_plan(EXAMPLES / plan_name)
    clock.set(at(min(plan.milestones.values()) - timedelta(days=1)))
    with db.transaction() as s:
        election_id = commands.create_election(
            s, plan, clock=clock, actor="tester", accept_violations=accept
        ).election.id
    kind = plan.kind
    for phase in kind.phase_keys:
        with db.reading() as s:
            election = commands.get_election(s, election_id)
            assert election.state == phase
            target = commands.machine_for(kind).next_phase(phase)
            required = kind.requirements_of(target)
        # An early transition is refused, naming every missing milestone.
        with pytest.raises(commands.TransitionRefused) as refused, db.transaction() as s:
            commands.transition(s, election_id, Trigger.ADVANCE, clock=clock, actor="tester")
        assert {r.milestone for r in refused.value.decision.refusals} == set(required)
        for key in required:
            planned = plan.milestones[key]
            if at(planned) > clock.now():
                clock.set(at(planned))
            with db.transaction() as s:
                commands.complete_milestone(s, election_id, key, clock=clock, actor="tester", on=planned)
        with db.transaction() as s:
            decision = commands.transition(s, election_id, Trigger.ADVANCE, clock=clock, actor="tester")
        assert decision.target == target
    with db.reading() as s:
        assert commands.get_election(s, election_id).state == CLOSED
        assert verify(s).ok
    return election_id


def test_people_congress_runs_through_all_five_phases(db, clock):
    election_id = run_to_close(db, "jingshan_2011.toml", clock)
    with db.reading() as s:
        election = commands.get_election(s, election_id)
        done = {m.key: m.done_on for m in election.milestones if m.status == MilestoneStatus.DONE}
        assert done["official_candidates_published"] == date(2011, 10, 10)
        assert not any(m.late for m in election.milestones)
        assert set(election.phase_entered_on) == {*commands.kind_of(election).phase_keys, CLOSED}
        actions = s.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert actions[0] == "jurisdiction.added" and actions[1] == "election.created"
    assert actions.count("election.transition") == 5


def test_party_branch_runs_through_its_phases(db, clock):
    run_to_close(db, "party_branch.toml", clock)


def test_residents_committee_runs_through_its_phases(db, clock):
    run_to_close(db, "residents_committee.toml", clock)


def test_village_committee_runs_through_its_phases(db, clock):
    run_to_close(db, "village_committee.toml", clock)


def create_jingshan(db, clock, **kwargs) -> int:
    with db.transaction() as s:
        return commands.create_election(
            s, load_plan(EXAMPLES / "jingshan_2011.toml"), clock=clock, actor="tester", **kwargs
        ).election.id


def test_violating_plan_is_refused_and_nothing_is_written(db, clock):
    plan = load_plan(EXAMPLES / "jingshan_2011.toml")
    plan.milestones["official_candidates_published"] = date(2011, 10, 12)
    with pytest.raises(commands.PlanViolations) as refused, db.transaction() as s:
        commands.create_election(s, plan, clock=clock, actor="tester")
    assert [v.key for v in refused.value.report.violations] == ["official_candidates_published"]
    with db.reading() as s:
        assert s.execute(select(func.count()).select_from(Election)).scalar() == 0
        assert s.execute(select(func.count()).select_from(AuditEntry)).scalar() == 0
    with db.transaction() as s:
        created = commands.create_election(
            s, plan, clock=clock, actor="tester", accept_violations="县人大常委会决定推迟公布"
        )
        assert created.report.violations
    with db.reading() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "election.created")).scalar_one()
        assert entry.after["accepted_violations"]["reason"] == "县人大常委会决定推迟公布"


def test_milestone_dates_are_checked(db, clock):
    election_id = create_jingshan(db, clock)
    clock.set(at(date(2011, 9, 21)))
    with pytest.raises(DomainError) as future, db.transaction() as s:
        commands.complete_milestone(
            s, election_id, "districts_published", clock=clock, actor="t", on=date(2011, 9, 22)
        )
    assert future.value.code == "E_DATE_IN_FUTURE"
    with db.transaction() as s:
        commands.complete_milestone(
            s, election_id, "voter_list_published", clock=clock, actor="t", on=date(2011, 9, 20)
        )
    # Appeals cannot close before the five-day filing window has run (EL 29).
    with pytest.raises(DomainError) as early, db.transaction() as s:
        commands.complete_milestone(
            s, election_id, "voter_appeals_closed", clock=clock, actor="t", on=date(2011, 9, 21)
        )
    assert early.value.code == "E_BEFORE_EARLIEST"
    clock.set(at(date(2011, 10, 20)))
    with db.transaction() as s:
        late = commands.complete_milestone(
            s, election_id, "voter_appeals_closed", clock=clock, actor="t", on=date(2011, 9, 30)
        )
        assert late.late  # after the bound: recorded, flagged late
    with pytest.raises(DomainError) as computed, db.transaction() as s:
        commands.complete_milestone(s, election_id, "court_suit_deadline", clock=clock, actor="t")
    assert computed.value.code == "E_MILESTONE_COMPUTED"
    with pytest.raises(Conflict), db.transaction() as s:
        commands.complete_milestone(s, election_id, "voter_list_published", clock=clock, actor="t")


def test_completion_recomputes_dependent_bounds(db, clock):
    election_id = create_jingshan(db, clock)
    clock.set(at(date(2011, 9, 25)))
    with db.transaction() as s:
        commands.complete_milestone(
            s, election_id, "voter_list_published", clock=clock, actor="t", on=date(2011, 9, 15)
        )
    with db.reading() as s:
        appeals = commands.get_election(s, election_id).milestone("voter_appeals_closed")
        assert (appeals.earliest, appeals.latest) == (date(2011, 9, 20), date(2011, 9, 23))


def test_reschedule_recomputes_every_bound(db, clock):
    election_id = create_jingshan(db, clock)
    with db.transaction() as s:
        report = commands.reschedule(s, election_id, date(2011, 10, 25), clock=clock, actor="t")
    assert report.ok
    with db.reading() as s:
        election = commands.get_election(s, election_id)
        assert election.anchor_date == date(2011, 10, 25)
        official = election.milestone("official_candidates_published")
        assert official.latest == date(2011, 10, 18) and official.planned_date == date(2011, 10, 17)
        assert election.milestone("court_suit_deadline").latest == date(2011, 10, 20)
    # Keeping the plan while pulling election day forward breaks bounds: refused unless accepted.
    with pytest.raises(commands.PlanViolations), db.transaction() as s:
        commands.reschedule(s, election_id, date(2011, 10, 12), clock=clock, actor="t", shift_plan=False)
    with db.reading() as s:
        assert commands.get_election(s, election_id).anchor_date == date(2011, 10, 25)


def test_optimistic_locking(db, clock):
    election_id = create_jingshan(db, clock)
    with db.reading() as s:
        version = commands.get_election(s, election_id).version
    clock.set(at(date(2011, 8, 27)))
    with db.transaction() as s:
        commands.complete_milestone(
            s,
            election_id,
            "election_committee_formed",
            clock=clock,
            actor="a",
            on=date(2011, 8, 26),
            expected_version=version,
        )
    with pytest.raises(Conflict) as stale, db.transaction() as s:
        commands.complete_milestone(
            s,
            election_id,
            "quotas_allocated",
            clock=clock,
            actor="b",
            on=date(2011, 8, 27),
            expected_version=version,
        )
    assert stale.value.code == "E_VERSION_CONFLICT"


def test_suspend_needs_reason_and_resume_returns(db, clock):
    election_id = create_jingshan(db, clock)
    with pytest.raises(DomainError) as no_reason, db.transaction() as s:
        commands.transition(s, election_id, Trigger.SUSPEND, clock=clock, actor="t")
    assert no_reason.value.field == "reason"
    with db.transaction() as s:
        commands.transition(s, election_id, Trigger.SUSPEND, clock=clock, actor="t", reason="防汛")
    with pytest.raises(Conflict), db.transaction() as s:
        commands.complete_milestone(
            s, election_id, "election_committee_formed", clock=clock, actor="t", on=date(2011, 8, 20)
        )
    with db.transaction() as s:
        commands.transition(s, election_id, Trigger.RESUME, clock=clock, actor="t")
    with db.reading() as s:
        assert commands.get_election(s, election_id).state == "preparation"


def test_audit_chain_detects_tampering(db, clock):
    election_id = create_jingshan(db, clock)
    clock.set(at(date(2011, 8, 27)))
    with db.transaction() as s:
        commands.complete_milestone(
            s, election_id, "election_committee_formed", clock=clock, actor="t", on=date(2011, 8, 26)
        )
    with db.reading() as s:
        assert verify(s).ok and verify(s).entries == 3
    with db.transaction() as s:
        s.execute(update(AuditEntry).where(AuditEntry.action == "election.created").values(actor="intruder"))
    with db.reading() as s:
        report = verify(s)
    assert not report.ok and report.broken_at == 2 and "修改" in report.reason


def test_audit_chain_survives_a_rolled_back_savepoint(db, clock):
    """Entries appended in one transaction chain on each other; one rolled back with its
    savepoint is not a link of the chain."""
    kept, undone, after = (declare(n.title(), f"test.{n}", "test") for n in ("kept", "undone", "after"))
    with db.transaction() as s:
        record(s, kept(entity_id="1"), actor="t", clock=clock)
        try:
            with s.begin_nested():
                record(s, undone(entity_id="2"), actor="t", clock=clock)
                raise RuntimeError("refused")
        except RuntimeError:
            pass
        record(s, after(entity_id="3"), actor="t", clock=clock)
    with db.reading() as s:
        report = verify(s)
        actions = s.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
    assert actions == ["test.kept", "test.after"]
    assert report.ok and report.entries == 2
