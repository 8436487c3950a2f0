"""A residents' by-election kind (issue 14): RCL 2025 art. 24 (a vacancy filled by the residents'
meeting or representatives' meeting, the procedure of arts. 18 and 19, for the rest of the term)
and, for one dated before 2026, RCL 2018 art. 10 ¶3 (the residents' meeting by-elects)."""

from __future__ import annotations

from datetime import date

from tests.law_texts import RCL2018, RCL2025, article
from tests.test_by_election_recall import run_to_close
from workflow.kinds import counting_params
from workflow.plan import parse_plan
from workflow.rules.tally import TallyInput, count_round

BASE = {
    "kind": "residents_by_election",
    "title": "城关社区补选居委会委员",
    "jurisdiction": {"code": "420821100-001", "name": "城关社区", "level": "community"},
}
MILESTONES = {
    "by_election_decided": date(2026, 4, 20),
    "candidates_published": date(2026, 5, 1),
    "candidates_met_residents": date(2026, 5, 5),
    "election_day": date(2026, 5, 10),
    "results_published": date(2026, 5, 10),
}


def tally(**votes) -> TallyInput:
    return TallyInput(
        kind="residents_by_election",
        seats=1,
        registered_voters=900,
        ballots_issued=460,
        ballots_returned=460,
        invalid_ballots=0,
        votes=votes,
        round=2,
        runoff_candidates=("张三", "李四"),
    )


def test_the_texts():
    rcl24 = article(RCL2025, 24)
    assert "居民委员会成员出缺，可以通过居民会议或者居民代表会议补选" in rcl24
    assert "补选程序参照本法第十八条、第十九条的规定办理" in rcl24
    assert "居民会议有权撤换和补选居民委员会成员" in article(RCL2018, 10)


def test_2026_runs_under_rcl_2025_with_its_runoff_threshold():
    plan = parse_plan({**BASE, "election_day": date(2026, 5, 10), "milestones": MILESTONES})
    assert plan.statute == "2025"
    assert plan.kind.milestones["by_election_decided"].source == "居委会组织法第二十四条第一款"
    params = counting_params(plan.kind)
    # Art. 19 ¶2: in the runoff the most votes win with at least a third of the ballots cast.
    result = count_round(params, tally(张三=154, 李四=150))
    assert result.elected == ("张三",) and "居委会组织法第十九条第二款" in {d.rule for d in result.decisions}
    short = count_round(params, tally(张三=153, 李四=150))  # 153 × 3 < 460
    assert short.elected == ()


def test_2021_cites_the_2018_text():
    plan = parse_plan({**BASE, "election_day": date(2021, 5, 10)})
    assert plan.statute == "2018"
    assert plan.kind.milestones["by_election_decided"].source == "居委会组织法第十条第三款"
    assert plan.kind.counting["uncontested_allowed"] is True


def test_a_residents_by_election_runs_end_to_end(db, clock):
    plan = parse_plan({**BASE, "election_day": date(2026, 5, 10), "milestones": MILESTONES})
    assert run_to_close(db, clock, plan) > 0
