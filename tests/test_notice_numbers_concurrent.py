"""Notice numbers stay unique under concurrent publishes (issue 16, the held list: "notice
numbers unique across 55 concurrent publishes"), on SQLite and PostgreSQL: every template of
the county's and a township's election published at once, each in its own transaction."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from notices.catalog import SPECS
from tests.test_notices_store import CLOCK, DATA, county  # noqa: F401 (the fixture)
from workflow.commands import notices as commands
from workflow.errors import DomainError
from workflow.store.notices import Notice


def test_concurrent_publishes_get_distinct_numbers(county):  # noqa: F811
    db, election_id = county

    def publish(job: tuple[int, str]) -> str | None:
        election, template = job
        try:
            with db.transaction() as session:
                published = commands.publish_notice(
                    session, election, template, fmt="html", clock=CLOCK, actor="a", providers=DATA
                )
                return published.notice.number
        except DomainError:  # not publishable in this election now (missing data, a scope): an answer
            return None

    # The county's and a township's (two committees), each template three times (versions).
    jobs = [(e, t) for e in (election_id, election_id + 1) for t in sorted(SPECS)] * 3
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = [n for n in pool.map(publish, jobs) if n]
    with db.reading() as session:
        rows = session.execute(
            select(Notice.election_id, Notice.template, Notice.district, Notice.number, Notice.version).where(
                Notice.number.is_not(None)
            )
        ).all()
    first = {(e, t, d): n for e, t, d, n, v in rows if v == 1}
    assert len(first) >= 6 and {e for e, *_ in first} == {election_id, election_id + 1}, rows
    assert len(set(first.values())) == len(first)  # one number per notice, never two notices one number
    assert all(n == first[(e, t, d)] for e, t, d, n, _ in rows)  # later versions keep theirs
    assert max(v for *_, v in rows) == 3
    assert len(numbers) == len(rows)
