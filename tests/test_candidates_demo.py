"""The demo county gains candidates and, for the 2011 Jingshan round, counted results."""

from __future__ import annotations

from datetime import UTC, datetime

from demo.county import build_demo
from workflow.clock import FixedClock
from workflow.commands import candidate_committee, candidate_records
from workflow.commands import results as res
from workflow.commands.voter_districts import list_districts
from workflow.store.audit import verify
from workflow.store.candidates import CandidateStatus


def test_demo_has_candidates_and_2011_results(db):
    clock = FixedClock(datetime(2026, 11, 26, 2, tzinfo=UTC))
    with db.transaction() as s:
        result = build_demo(s, clock=clock, actor="demo")
    seed, county = result.elections["jingshan_2011"], result.elections["county"]
    with db.reading() as s:
        official = candidate_records.candidates_of(s, seed, None, [CandidateStatus.OFFICIAL])
        assert len(official) == 10 and {lst.status for lst in candidate_records.district_lists(s, seed)} == {"official"}
        assert len(candidate_committee.committee(s, seed)) == 15 and candidate_committee.conflicts(s, seed) == []
        view = {d["district"]: d for d in res.results_view(s, seed)["districts"]}
        assert [len(view[k]["elected"]) for k in sorted(view)] == [3, 2, 1]
        assert view["420821-01"]["rounds"] == 2  # the third seat filled in a runoff (EL 45)
        assert all(d["published_on"] is not None for d in view.values())
        deputies = res.deputies(s, seed)
        assert sorted(d.certificate_number for d in deputies) == [f"420821-2011-{i:04d}" for i in range(1, 7)]
        # The current round: every district of the District table (the voters demo's eight,
        # 20 seats) has candidates; joint nominators are registered voters of the district.
        nominated = candidate_records.candidates_of(s, county, None, [CandidateStatus.NOMINATED])
        assert {c.district for c in nominated} == {d["code"] for d in list_districts(s, county)}
        assert len(nominated) == 4 * 5 + 4 * 3 and sum(len(c.supporters) for c in nominated) == 80
        assert {c.supporters_checked for c in nominated if c.nominated_by == "voters"} == {True}
        assert {lst.district: lst.seats for lst in candidate_records.district_lists(s, county)} == {
            d["code"]: d["seats"] for d in list_districts(s, county)
        }
        assert verify(s).ok
