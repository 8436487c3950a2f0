"""Reminders belong to an existing election on both backends: SQLite by its foreign key,
PostgreSQL by the statement-level check of migration 0007 (same SQLSTATE, same cascade)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from tests.scheduler_helpers import setup_jingshan, stage_from, start
from workflow.commands.reminders import election_desired
from workflow.store.models import Election, Milestone, Reminder
from workflow.store.reminders import insert_bulk
from workflow.timeutil import local_date


def _specs(db, election_id: int, clock) -> tuple:
    with db.reading() as session:
        election = session.get(Election, election_id)
        return tuple(election_desired(election, local_date(clock.now(), "Asia/Shanghai")))


def _count(db) -> int:
    with db.reading() as session:
        return session.execute(select(func.count()).select_from(Reminder)).scalar_one()


def _sqlstate(error: IntegrityError) -> str | None:
    return getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)


@pytest.mark.parametrize("path", ["direct", "staged", "orm"])
def test_a_reminder_for_a_missing_election_is_refused(db, path, monkeypatch):
    clock = start()
    election_id = setup_jingshan(db, clock)
    specs = _specs(db, election_id, clock)
    before = _count(db)
    stage_from(monkeypatch, 1 if path == "staged" else 10**9)
    missing = election_id + 1000
    with pytest.raises(IntegrityError) as raised, db.transaction() as session:
        if path == "orm":
            session.execute(
                insert(Reminder),
                [
                    {
                        "election_id": missing,
                        "kind": "lead",
                        "fire_at": clock.now(),
                        "status": "pending",
                        "created_at": clock.now(),
                        "details": {},
                    }
                ],
            )
        else:
            # Good rows and one bad election in the same statement: the whole statement fails.
            insert_bulk(session, [(election_id, specs), (missing, specs), (election_id, specs)], clock.now())
    if db.is_postgres:
        assert _sqlstate(raised.value) == "23503"  # foreign_key_violation, as the constraint gave
    assert _count(db) == before


def test_a_reminder_cannot_move_to_another_election(db):
    clock = start()
    election_id = setup_jingshan(db, clock)
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.execute(
            update(Reminder).where(Reminder.election_id == election_id).values(election_id=election_id + 1000)
        )


def test_deleting_an_election_deletes_its_reminders(db):
    clock = start()
    kept = setup_jingshan(db, clock)
    with db.transaction() as session:
        from tests.scheduler_helpers import JINGSHAN
        from workflow.commands import elections as commands
        from workflow.plan import load_plan

        gone = commands.create_election(session, load_plan(JINGSHAN), clock=clock, actor="test").election.id
    with db.reading() as session:
        per_election = dict(
            session.execute(select(Reminder.election_id, func.count()).group_by(Reminder.election_id)).all()
        )
    assert per_election[kept] == per_election[gone] > 50
    with db.transaction() as session:
        session.execute(delete(Milestone).where(Milestone.election_id == gone))
        session.execute(delete(Election).where(Election.id == gone))
    with db.reading() as session:
        left = dict(
            session.execute(select(Reminder.election_id, func.count()).group_by(Reminder.election_id)).all()
        )
    assert left == {kept: per_election[kept]}


def test_new_reminders_lock_their_election_against_deletion(db):
    """Like a foreign key: until the inserting transaction ends, the election cannot be
    deleted (its row is locked FOR KEY SHARE), so no reminder is left without its election."""
    if not db.is_postgres:
        pytest.skip("SQLite has one writer: nothing can delete meanwhile")
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    clock = start()
    election_id = setup_jingshan(db, clock)
    specs = _specs(db, election_id, clock)
    with db.transaction() as session:
        insert_bulk(session, [(election_id, specs)], clock.now())
        with db.engine.connect() as other:
            other.execute(text("SET lock_timeout = '200ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                other.execute(delete(Election).where(Election.id == election_id))
            other.rollback()
