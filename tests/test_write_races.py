"""Races of conflicting writes (issue 16, the held list: "40 races of 10 conflicting writes with
exactly one winner"), on SQLite and PostgreSQL: ten staff complete the same milestone of the
same election version at the same moment; exactly one is recorded, the nine others are told
why (a version conflict or already done), and the audit log holds one entry per race."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from tests.service_fixtures import load_world
from workflow.clock import FixedClock
from workflow.commands import elections as commands
from workflow.errors import DomainError
from workflow.store.audit import verify
from workflow.store.models import AuditEntry

XINSHI = "420821100"
RACES = (("quotas_allocated", date(2011, 9, 1)), ("districts_published", date(2011, 9, 2)))
WRITERS = 10


def test_ten_conflicting_completions_have_exactly_one_winner(db):
    _tokens, elections = load_world(db, datetime(2011, 8, 20, 2, 0, tzinfo=UTC))
    clock = FixedClock(datetime(2011, 9, 21, 2, 0, tzinfo=UTC))
    election_id = elections[XINSHI]
    for key, on in RACES:
        with db.reading() as session:
            version = commands.get_election(session, election_id).version
            entries = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        start = threading.Barrier(WRITERS)

        def write(n: int, key=key, on=on, version=version, start=start) -> str:
            start.wait()
            try:
                with db.transaction() as session:
                    commands.complete_milestone(
                        session, election_id, key, clock=clock, actor=f"clerk{n}", on=on, expected_version=version
                    )
                return "won"
            except DomainError as refused:
                return refused.code

        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            outcomes = Counter(pool.map(write, range(WRITERS)))
        assert outcomes["won"] == 1, outcomes
        assert set(outcomes) <= {"won", "E_VERSION_CONFLICT", "E_MILESTONE_SETTLED"}, outcomes
        with db.reading() as session:
            election = commands.get_election(session, election_id)
            assert election.milestone(key).done_on == on and election.version > version
            added = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() - entries
            completions = session.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_id == f"{election_id}/{key}")
            ).scalar_one()
        assert added >= 1 and completions == 1
    with db.reading() as session:
        assert verify(session).ok
