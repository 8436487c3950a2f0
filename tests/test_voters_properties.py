"""Property: 不重登 never drops a row silently. Whatever the overlap between two files and the
districts people are listed in, every row is accepted, unchanged or listed under duplicates,
and each person is registered exactly once, where the first file put them. SQLite only, one
database, a fresh election per example (fast)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.voters_support import import_file, make_election, number, write_csv
from workflow.clock import FixedClock
from workflow.store import Database
from workflow.store.voters import District, Voter

HEADER = ["姓名", "身份证号", "选区"]
people = st.lists(st.tuples(st.integers(0, 7), st.sampled_from(["01", "02"])), min_size=1, max_size=14)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.sqlite3'}")
    db.migrate()
    yield db
    db.dispose()


def accounted(report, rows: int) -> bool:
    in_file_groups = sum(1 for d in report.duplicates if "registered_in" not in d)
    listed = sum(len(d["rows"]) for d in report.duplicates)
    return report.accepted + report.unchanged + listed - in_file_groups == rows


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=people, second=people)
def test_every_row_is_accounted_for(database, tmp_path, first, second):
    clock = FixedClock(datetime(2011, 8, 20, 2, tzinfo=UTC))
    election_id = make_election(database, clock)
    ids = [number(date(1960, 1, 1), i, "F") for i in range(8)]
    reports = []
    where: dict[str, str] = {}
    for index, rows in enumerate((first, second)):
        path = write_csv(
            tmp_path / f"{election_id}_{index}.csv", HEADER, [[f"人{i}", ids[i], d] for i, d in rows]
        )
        reports.append(import_file(database, clock, election_id, path))
        for i, district in rows:
            where.setdefault(ids[i], district)
    for report, rows in zip(reports, (first, second), strict=True):
        assert report.rejected == [] and accounted(report, len(rows))
        # Each repeated number is reported once (masks may coincide: only area and check show).
        assert len({d["rows"][0] for d in report.duplicates}) == len(report.duplicates)
    with database.reading() as session:
        registered = dict(
            session.execute(
                select(Voter.id_number, District.code)
                .join(District, District.id == Voter.district_id)
                .where(Voter.election_id == election_id)
            ).all()
        )
    assert registered == where  # each person once, in the district where they were first listed
    assert reports[0].accepted + reports[1].accepted == len(where)
