"""Objections (申诉, EL 29): the 5-day filing window (Civil Code art. 201), the 3-day decision
limit with reminder rows, decisions that correct the list, E − 5 for a court suit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.voters_support import (
    ELECTION_DAY,
    LIST_DAY,
    import_file,
    make_election,
    noon,
    number,
    synthetic_csv,
)
from workflow.commands import appeals, elections, voter_list
from workflow.errors import DomainError
from workflow.store.models import Reminder
from workflow.store.voters import SupplementaryEntry, Voter


@pytest.fixture
def election(db, clock, tmp_path):
    election_id = make_election(db, clock)
    import_file(db, clock, election_id, synthetic_csv(tmp_path / "v.csv", 10))
    clock.set(noon(LIST_DAY))
    with db.transaction() as session:
        voter_list.publish(session, election_id, clock=clock, actor="t")
    return election_id


def a_voter(db):
    with db.reading() as session:
        return session.execute(
            select(Voter.id, Voter.name, Voter.id_number).where(Voter.source_row == 2)
        ).one()


def file(db, clock, election_id, on, **kwargs):
    clock.set(noon(on))
    defaults = {
        "filer": "李某",
        "request": "add",
        "subject_name": "漏登者",
        "subject_id_number": number(date(1960, 6, 6), 3, "F"),
        "reason": "本人户籍在本选区，未列入名单",
        "district": "01",
    }
    defaults.update(kwargs)
    with db.transaction() as session:
        return appeals.file_appeal(session, election_id, clock=clock, actor="t", filed_on=on, **defaults)


def test_filing_window_is_five_days_after_publication(db, clock, election):
    last_day = LIST_DAY + timedelta(days=5)  # published 09-20 → last day 09-25
    assert file(db, clock, election, last_day).decide_by == last_day + timedelta(days=3)
    with pytest.raises(DomainError) as error:
        file(db, clock, election, last_day + timedelta(days=1))
    assert error.value.code == "E_APPEAL_WINDOW_CLOSED" and "2011-09-25" in error.value.message
    with pytest.raises(DomainError) as error:
        file(db, clock, election, LIST_DAY - timedelta(days=1))
    assert error.value.code == "E_APPEAL_BEFORE_PUBLICATION"


def test_no_appeal_before_publication(db, clock):
    election_id = make_election(db, clock)
    with db.transaction() as session, pytest.raises(DomainError) as error:
        appeals.file_appeal(
            session,
            election_id,
            filer="甲",
            request="remove",
            subject_name="乙",
            subject_id_number=None,
            reason="不符合条件",
            clock=clock,
            actor="t",
        )
    assert error.value.code == "E_LIST_NOT_PUBLISHED"


def test_reminders_for_the_decision_limit(db, clock, election):
    appeal = file(db, clock, election, date(2011, 9, 22))
    assert appeal.decide_by == date(2011, 9, 25)
    with db.reading() as session:
        reminders = (
            session.execute(select(Reminder).where(Reminder.kind == "appeal_due").order_by(Reminder.fire_at))
            .scalars()
            .all()
        )
        assert [(r.kind, r.milestone_key, r.target_date, r.lead_days) for r in reminders] == [
            ("appeal_due", "voter_appeals_closed", date(2011, 9, 25), 1),
            ("appeal_due", "voter_appeals_closed", date(2011, 9, 25), 0),
        ]
        # 09:00 Beijing time = 01:00 UTC
        assert [r.fire_at for r in reminders] == [
            datetime(2011, 9, 24, 1, 0, tzinfo=UTC),
            datetime(2011, 9, 25, 1, 0, tzinfo=UTC),
        ]
        assert all(r.details["appeal_id"] == appeal.id for r in reminders)
    clock.set(noon(date(2011, 9, 23)))
    with db.transaction() as session:
        decided = appeals.decide_appeal(
            session, appeal.id, upheld=False, reason="户籍不在本选区", clock=clock, actor="t"
        )
        assert decided.status == "rejected" and not decided.late
    with db.reading() as session:
        appeal_reminders = select(Reminder).where(Reminder.kind == "appeal_due")
        assert {r.status for r in session.execute(appeal_reminders).scalars()} == {"cancelled"}


def test_upheld_add_remove_and_correct_update_the_supplementary_list(db, clock, election):
    voter = a_voter(db)
    add = file(db, clock, election, date(2011, 9, 21))
    remove = file(
        db,
        clock,
        election,
        date(2011, 9, 21),
        request="remove",
        subject_name=voter.name,
        subject_id_number=voter.id_number,
        district=None,
        reason="已迁出本县",
    )
    clock.set(noon(date(2011, 9, 23)))
    with db.transaction() as session:
        appeals.decide_appeal(session, add.id, upheld=True, reason=None, clock=clock, actor="t")
        appeals.decide_appeal(session, remove.id, upheld=True, reason="核实属实", clock=clock, actor="t")
    correct = file(
        db,
        clock,
        election,
        date(2011, 9, 23),
        request="correct",
        subject_name="漏登者",
        subject_id_number=number(date(1960, 6, 6), 3, "F"),
        district=None,
        reason="姓名写错",
        correction={"name": "吕登者", "voter_group": "第3组"},
    )
    with db.transaction() as session:
        appeals.decide_appeal(session, correct.id, upheld=True, reason=None, clock=clock, actor="t")
    with db.reading() as session:
        added = session.execute(
            select(Voter).where(Voter.id_number == number(date(1960, 6, 6), 3, "F"))
        ).scalar_one()
        assert (added.name, added.voter_group, added.added_reason, added.status) == (
            "吕登者",
            "第3组",
            "appeal",
            "active",
        )
        removed = session.get(Voter, voter.id)
        assert (removed.status, removed.removed_reason) == ("removed", "appeal")
        changes = session.execute(
            select(SupplementaryEntry.change, SupplementaryEntry.appeal_id).order_by(SupplementaryEntry.id)
        ).all()
        assert changes == [("add", add.id), ("remove", remove.id), ("correct", correct.id)]
        details = session.execute(
            select(SupplementaryEntry.details).where(SupplementaryEntry.change == "correct")
        ).scalar_one()
        assert "漏登者 → 吕登者" in details


def test_rejection_needs_a_reason_and_late_decisions_are_flagged(db, clock, election):
    appeal = file(db, clock, election, date(2011, 9, 21))
    clock.set(noon(date(2011, 9, 26)))
    with db.transaction() as session, pytest.raises(DomainError) as error:
        appeals.decide_appeal(session, appeal.id, upheld=False, reason=" ", clock=clock, actor="t")
    assert error.value.code == "E_REASON_REQUIRED"
    with db.transaction() as session:
        decided = appeals.decide_appeal(
            session, appeal.id, upheld=False, reason="不属实", clock=clock, actor="t"
        )
        assert decided.late and decided.decide_by == date(2011, 9, 24)
    with db.transaction() as session, pytest.raises(DomainError) as error:
        appeals.decide_appeal(session, appeal.id, upheld=True, reason=None, clock=clock, actor="t")
    assert error.value.code == "E_APPEAL_DECIDED"


def test_listing_reports_court_deadline_and_close(db, clock, election):
    appeal = file(db, clock, election, date(2011, 9, 24))
    with db.reading() as session:
        listing = appeals.list_appeals(session, election, clock=clock)
    assert listing["court_suit_deadline"] == ELECTION_DAY - timedelta(days=5) == date(2011, 10, 13)
    assert listing["filing_ends"] == date(2011, 9, 25) and listing["window_open"] and listing["pending"] == 1
    with db.transaction() as session, pytest.raises(DomainError) as error:
        appeals.close_appeals(session, election, clock=clock, actor="t")
    assert error.value.code == "E_APPEAL_WINDOW_OPEN"
    clock.set(noon(date(2011, 9, 26)))
    with db.transaction() as session, pytest.raises(DomainError) as error:
        appeals.close_appeals(session, election, clock=clock, actor="t")
    assert error.value.code == "E_APPEALS_PENDING"
    with db.transaction() as session:
        appeals.decide_appeal(session, appeal.id, upheld=False, reason="不属实", clock=clock, actor="t")
        milestone = appeals.close_appeals(session, election, clock=clock, actor="t")
        assert (milestone.status, milestone.done_on) == ("done", date(2011, 9, 26))
    with db.reading() as session:
        assert elections.get_election(session, election).milestone("voter_appeals_closed").late is False


def test_sweep_warns_of_an_open_appeal_and_not_of_a_decided_one(db, clock, election):
    from schedules.sweep import sweep
    from workflow.timeutil import local_instant

    open_appeal = file(db, clock, election, date(2011, 9, 22), filer="王某")  # decide by 09-25
    decided = file(db, clock, election, date(2011, 9, 22), filer="赵某")
    with db.transaction() as session:
        appeals.decide_appeal(session, decided.id, upheld=False, reason="不属实", clock=clock, actor="t")
    clock.set(local_instant(date(2011, 9, 24), datetime.min.time().replace(hour=9, minute=1)))
    result = sweep(db, clock)
    appeal_items = [w for w in result.warnings if "提出的选民资格申诉" in w.message]
    assert len(appeal_items) == 1
    assert "王某" in appeal_items[0].message and "明天" in appeal_items[0].message
    assert "2011-09-25" in appeal_items[0].message
    assert open_appeal.decide_by == date(2011, 9, 25)
    again = sweep(db, clock)  # idempotent: nothing fires twice
    assert not [w for w in again.warnings if "提出的选民资格申诉" in w.message]
