"""The holiday recheck: dates planned in a year whose statutory holidays the State Council had not
published (provisional, checked against weekends only) are checked again once the data for that
year is installed, and the committee is told once (issue 14).

The pure part is `workflow.calendar.recheck_provisional`; this step reads the elections that
still have provisional years, writes one outbox message per election and year (its idempotency
key makes it once even if two workers race) and takes the year off the election's list.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from schedules.digest import DigestItem
from schedules.notify import Outbox, committee_recipients
from workflow.calendar import HolidayCalendar, recheck_provisional
from workflow.clock import Clock
from workflow.kinds import kind_of_election
from workflow.machine import FINAL_STATES
from workflow.store import Database
from workflow.store.models import Election

log = logging.getLogger("huanjie.holidays")


def recheck_holidays(db: Database, clock: Clock, holidays: HolidayCalendar | None = None) -> int:
    """Recheck every active election's provisional years now covered by the installed holiday
    data; return how many (election, year) messages were written."""
    holidays = holidays or HolidayCalendar()
    written = 0
    with db.transaction() as session:
        elections = session.execute(
            select(Election)
            .where(Election.state.not_in(list(FINAL_STATES)))
            .options(selectinload(Election.milestones), selectinload(Election.jurisdiction))
            .order_by(Election.id)
        ).scalars()
        outbox = Outbox(session, clock.now())
        for election in elections:
            if not election.provisional_years:
                continue
            dates = {m.key: m.planned_date for m in election.milestones if m.planned_date and not m.settled}
            done, waiting = recheck_provisional(election.provisional_years, dates, holidays)
            if not done:
                continue
            names = {key: spec.name for key, spec in kind_of_election(election).milestones.items()}
            recipients = committee_recipients(session, election.jurisdiction_id)
            for recheck in done:
                item = DigestItem(election.id, recheck.message(election.title, names))
                outbox.add(
                    f"holidays:{election.id}:{recheck.year}",
                    election.id,
                    recipients,
                    "holidays",
                    item,
                    subject="节假日复核",
                )
                written += 1
            election.provisional_years = waiting
        outbox.flush()
    if written:
        log.info("holiday recheck: %d messages", written)
    return written
