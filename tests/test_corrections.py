"""Corrections of recorded milestones (workflow/commands/corrections.py) and the completion
date checks (workflow/commands/elections.py, check_done_date), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.service_fixtures import load_world
from workflow.clock import FixedClock
from workflow.commands import corrections
from workflow.commands import elections as commands
from workflow.errors import DomainError
from workflow.machine import Trigger
from workflow.store.models import AuditEntry, Reminder, ReminderStatus

BUILT = datetime(2011, 8, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(db):
    _tokens, elections = load_world(db, BUILT)
    return elections, FixedClock(datetime(2011, 9, 21, 2, 0, tzinfo=UTC))  # a month on


def complete(db, clock, election_id, key, on, **kw):
    with db.transaction() as session:
        return commands.complete_milestone(session, election_id, key, clock=clock, actor="clerk", on=on, **kw).status


def pending_reminders(db, election_id, key) -> int:
    with db.reading() as session:
        return len(
            session.scalars(
                select(Reminder).where(
                    Reminder.election_id == election_id,
                    Reminder.milestone_key == key,
                    Reminder.status == ReminderStatus.PENDING,
                )
            ).all()
        )


def last_audit(db, action):
    with db.reading() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())).first()
        return entry.entity_id, entry.before, entry.after, entry.actor


def error_of(fn) -> DomainError:
    with pytest.raises(DomainError) as caught:
        fn()
    return caught.value


def test_undo_a_completion_audited_and_reminders_rewritten(db, world):
    elections, clock = world
    xinshi = elections["420821100"]
    complete(db, clock, xinshi, "quotas_allocated", date(2011, 9, 1))
    assert pending_reminders(db, xinshi, "quotas_allocated") == 0
    assert error_of(lambda: _undo(db, clock, xinshi, "quotas_allocated", " ")).code == "E_REASON_REQUIRED"
    _undo(db, clock, xinshi, "quotas_allocated", "名额分配方案被县选举委员会退回")
    with db.reading() as session:
        m = commands.get_election(session, xinshi).milestone("quotas_allocated")
        assert (m.status, m.done_on, m.done_by) == ("pending", None, None)
    entity, before, after, actor = last_audit(db, "milestone.reopened")
    assert entity == f"{xinshi}/quotas_allocated" and actor == "clerk"
    assert before["status"] == "done" and before["done_on"] == "2011-09-01"
    assert after["status"] == "pending" and after["reason"] == "名额分配方案被县选举委员会退回"
    assert pending_reminders(db, xinshi, "quotas_allocated") >= 1  # written again in the same transaction
    assert error_of(lambda: _undo(db, clock, xinshi, "quotas_allocated", "再撤一次")).code == "E_NOT_SETTLED"


def _undo(db, clock, election_id, key, reason):
    with db.transaction() as session:
        return corrections.undo_completion(session, election_id, key, reason=reason, clock=clock, actor="clerk")


def _redate(db, clock, election_id, key, on, reason="登记时日期录错", **kw):
    with db.transaction() as session:
        return corrections.correct_date(session, election_id, key, on, reason=reason, clock=clock, actor="clerk", **kw)


def test_change_the_recorded_date_audited_and_rechecked(db, world):
    elections, clock = world
    xinshi = elections["420821100"]
    complete(db, clock, xinshi, "voter_list_published", date(2011, 9, 21))  # late: EL 28 bound 09-19
    _redate(db, clock, xinshi, "voter_list_published", date(2011, 9, 18))
    with db.reading() as session:
        election = commands.get_election(session, xinshi)
        m = election.milestone("voter_list_published")
        assert (m.done_on, m.late) == (date(2011, 9, 18), False)
        # EL 29: appeals are decided within 5 + 3 days of publication; the bound follows the new date.
        assert election.milestone("voter_appeals_closed").latest == date(2011, 9, 26)
    _entity, before, after, _actor = last_audit(db, "milestone.redated")
    assert (before["done_on"], before["late"]) == ("2011-09-21", True)
    assert (after["done_on"], after["late"], after["reason"]) == ("2011-09-18", False, "登记时日期录错")
    assert error_of(lambda: _redate(db, clock, xinshi, "voter_list_published", date(2011, 9, 25))).code == "E_DATE_IN_FUTURE"
    assert error_of(lambda: _redate(db, clock, xinshi, "quotas_allocated", date(2011, 9, 1))).code == "E_NOT_DONE"
    assert error_of(lambda: _redate(db, clock, xinshi, "voter_list_published", date(2011, 9, 17), "")).code == "E_REASON_REQUIRED"


def test_refused_when_a_dependent_milestone_is_done(db, world):
    elections, clock = world
    xinshi = elections["420821100"]
    complete(db, clock, xinshi, "quotas_allocated", date(2011, 9, 1))
    complete(db, clock, xinshi, "districts_published", date(2011, 9, 2))
    error = error_of(lambda: _undo(db, clock, xinshi, "quotas_allocated", "退回"))
    assert error.code == "E_DEPENDENT_DONE" and "公布选区划分" in error.message
    error = error_of(lambda: _redate(db, clock, xinshi, "quotas_allocated", date(2011, 8, 30)))
    assert error.code == "E_DEPENDENT_DONE"
    with db.reading() as session:  # stored data unchanged
        assert commands.get_election(session, xinshi).milestone("quotas_allocated").done_on == date(2011, 9, 1)
    _undo(db, clock, xinshi, "districts_published", "选区划分须重新公布")
    _undo(db, clock, xinshi, "quotas_allocated", "退回")  # allowed once the later one is undone


def test_future_and_impossible_dates_refused_with_the_rule(db, world):
    elections, clock = world
    xinshi = elections["420821100"]
    error = error_of(lambda: complete(db, clock, xinshi, "quotas_allocated", date(2011, 9, 30)))
    assert (error.code, error.field) == ("E_DATE_IN_FUTURE", "on")
    # The committee was formed on 08-17; the quotas cannot be allocated before it (EL 10, 12).
    error = error_of(lambda: complete(db, clock, xinshi, "quotas_allocated", date(2011, 8, 10)))
    assert error.code == "E_BEFORE_PREDECESSOR" and "成立选举委员会" in error.message and "选举法第九条第二款" in error.message  # EL 9 ¶2 (issue 14)
    complete(db, clock, xinshi, "quotas_allocated", date(2011, 9, 1))
    complete(db, clock, xinshi, "districts_published", date(2011, 9, 2))
    complete(db, clock, xinshi, "voter_list_published", date(2011, 9, 18))
    # EL 29: appeals cannot all be decided before the 5-day filing window has run.
    error = error_of(lambda: complete(db, clock, xinshi, "voter_appeals_closed", date(2011, 9, 20)))
    assert error.code == "E_BEFORE_EARLIEST" and "选举法第二十九条" in error.message
    with db.reading() as session:
        assert commands.get_election(session, xinshi).milestone("voter_appeals_closed").status == "pending"


def test_a_date_more_than_a_year_before_election_day_needs_confirmation(db, world):
    elections, clock = world
    seed = elections["jingshan_2011"]  # election day 2011-10-18, nothing done yet
    error = error_of(lambda: complete(db, clock, seed, "election_committee_formed", date(2010, 9, 15)))
    assert (error.code, error.field) == ("E_DATE_NEEDS_CONFIRMATION", "confirm_early")
    # More than a year before the plan's start (its first date, 2011-08-26): never, even confirmed.
    floor = error_of(
        lambda: complete(db, clock, seed, "election_committee_formed", date(2010, 8, 1), confirm_early=True)
    )
    assert (floor.code, floor.field) == ("E_DATE_OUT_OF_RANGE", "on")
    assert complete(db, clock, seed, "election_committee_formed", date(2010, 9, 15), confirm_early=True) == "done"


def test_an_overdue_milestone_of_an_earlier_phase_can_be_completed(db, world):
    elections, clock = world
    xinshi = elections["420821100"]
    complete(db, clock, xinshi, "quotas_allocated", date(2011, 9, 1))
    complete(db, clock, xinshi, "districts_published", date(2011, 9, 2))
    complete(db, clock, xinshi, "voter_list_published", date(2011, 9, 10))
    with db.transaction() as session:
        commands.transition(session, xinshi, Trigger.ADVANCE, clock=clock, actor="clerk")
        commands.transition(session, xinshi, Trigger.ADVANCE, clock=clock, actor="clerk")
        assert commands.get_election(session, xinshi).state == "nomination"
    # Appeals (a registration milestone) were due 09-18; the election is already nominating.
    assert complete(db, clock, xinshi, "voter_appeals_closed", date(2011, 9, 20)) == "done"
    with db.reading() as session:
        assert commands.get_election(session, xinshi).milestone("voter_appeals_closed").late is True


def test_the_cli_undoes_and_redates(tmp_path):
    import json

    from typer.testing import CliRunner

    from service.cli import app

    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.sqlite3'}"

    def run(*args):
        result = runner.invoke(app, ["--db", db, *args, "--json"])
        return result.exit_code, json.loads(result.stdout)

    plan = str(Path(__file__).resolve().parent.parent / "examples" / "jingshan_2011.toml")
    code, created = run("elections", "create", "--plan", plan)
    election = str(created["id"])
    assert run("milestones", "complete", election, "election_committee_formed", "--on", "2011-08-26")[0] == 0
    assert run("milestones", "complete", election, "quotas_allocated", "--on", "2011-09-03")[0] == 0
    code, refused = run("milestones", "redate", election, "election_committee_formed", "--on", "2011-08-25", "--reason", "录错")
    assert code == 2 and refused["error"]["code"] == "E_DEPENDENT_DONE"
    code, redated = run("milestones", "redate", election, "quotas_allocated", "--on", "2011-09-02", "--reason", "录错")
    assert code == 0 and redated["done_on"] == "2011-09-02"
    code, undone = run("milestones", "undo", election, "quotas_allocated", "--reason", "方案退回")
    assert code == 0 and undone["status"] == "pending"
