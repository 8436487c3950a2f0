"""Holidays not yet announced (issue 14, build 6): a date in a year whose statutory holidays the
State Council has not published is provisional (weekends only); once the data is installed the
daily recheck checks it again and tells the committee once, through the outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from schedules.holidays import recheck_holidays
from workflow.calendar import HolidayCalendar, check_plan, provisional_years, recheck_provisional
from workflow.commands import elections
from workflow.plan import parse_plan
from workflow.store.models import Notification

NATIONAL_DAY = date(2027, 10, 1)


class Installed(HolidayCalendar):
    """The State Council's calendar as installed: data for `years` only (National Day known)."""

    def __init__(self, *years: int) -> None:
        self.years = set(years)

    def holiday_name(self, day: date) -> str | None:
        if day.year not in self.years:
            raise LookupError(day.year)
        return "国庆节" if (day.month, day.day) in {(10, 1), (10, 2), (10, 3)} else None


def plan():
    return parse_plan(
        {
            "kind": "party_branch",
            "title": "某局机关党支部换届选举",
            "jurisdiction": {"code": "420821-DZB-07", "name": "某局机关党支部", "level": "party_org"},
            "term_ends": date(2027, 12, 31),
            "milestones": {"request_submitted": date(2026, 9, 1), "assembly_held": NATIONAL_DAY},
        }
    )


def test_a_year_without_data_is_provisional_and_rechecked_once_installed():
    p = plan()
    report = check_plan(p.kind, p.anchor, p.milestones, Installed(2026))
    assert "W_NO_HOLIDAY_DATA" in {w.code for w in report.warnings}
    assert provisional_years(report) == [2027]
    done, waiting = recheck_provisional([2027], p.milestones, Installed(2026))
    assert (done, waiting) == ([], [2027])
    done, waiting = recheck_provisional([2027], p.milestones, Installed(2026, 2027))
    assert waiting == [] and [w.key for w in done[0].holidays] == ["assembly_held"]
    text = done[0].message("某支部", {"assembly_held": "召开党员大会进行选举"})
    assert "2027年法定节假日安排已发布" in text and "「召开党员大会进行选举」" in text and "国庆节" in text


def test_the_committee_is_told_once_when_the_data_arrives(db, clock):
    clock.set(datetime(2026, 8, 20, 2, tzinfo=UTC))
    with db.transaction() as s:
        created = elections.create_election(s, plan(), clock=clock, actor="t", holidays=Installed(2026))
        election_id = created.election.id
        assert created.election.provisional_years == [2027]
    assert recheck_holidays(db, clock, Installed(2026)) == 0  # still unpublished: nothing to say
    assert recheck_holidays(db, clock, Installed(2026, 2027)) == 1
    assert recheck_holidays(db, clock, Installed(2026, 2027)) == 0  # once
    with db.reading() as s:
        rows = s.execute(select(Notification).where(Notification.category == "holidays")).scalars().all()
        assert rows and {r.election_id for r in rows} == {election_id}
        assert all("国庆节" in r.payload["message"] for r in rows)
        assert elections.get_election(s, election_id).provisional_years == []


def test_an_election_planned_with_the_data_installed_has_nothing_provisional(db, clock):
    clock.set(datetime(2026, 8, 20, 2, tzinfo=UTC))
    with db.transaction() as s:
        created = elections.create_election(s, plan(), clock=clock, actor="t", holidays=Installed(2026, 2027))
        assert created.election.provisional_years == []
    assert recheck_holidays(db, clock, Installed(2026, 2027)) == 0
