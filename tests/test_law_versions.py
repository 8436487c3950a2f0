"""Statute versions by election day and provincial variants by jurisdiction (issue 14, Build 1–2),
each checked against the statute text it cites (config/laws/)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from service.cli import app
from tests.law_texts import EL2020, RCL2018, RCL2025, VCL2018, VCL2025, ZJ_PC, article, articles
from workflow.calendar import check_plan, compute_bounds
from workflow.errors import DomainError
from workflow.kinds import counting_params, get_kind, resolve_kind
from workflow.plan import parse_plan
from workflow.rules import polling
from workflow.rules.candidates import CandidateRules
from workflow.rules.tally import TallyInput, count_round

EL2015 = "全国人民代表大会和地方各级人民代表大会选举法(2015"


def plan(kind, day, code, **extra):
    anchor = "term_ends" if kind == "party_branch" else "election_day"
    return parse_plan({"kind": kind, "title": "测试", "jurisdiction": code, anchor: day, **extra})


# -- statute versions ----------------------------------------------------------------------------
def test_a_2011_people_congress_plan_cites_the_2010_numbering_and_quota_article_11():
    assert "代表名额基数为一百二十名" in article(EL2015, 11)
    assert "选民名单应在选举日的二十日以前公布" in article(EL2015, 27)
    jingshan = plan("people_congress", date(2011, 10, 18), "420821")
    assert jingshan.statute == "2010"
    assert jingshan.kind.milestones["voter_list_published"].source == "选举法第二十七条"
    assert jingshan.kind.quota["2010"]["county"].source.startswith("选举法第十一条第一款第三项")
    later = plan("people_congress", date(2021, 11, 1), "420821")
    assert (
        later.statute == "2020" and later.kind.milestones["voter_list_published"].source == "选举法第二十八条"
    )
    assert "选民名单应在选举日的二十日以前公布" in article(EL2020, 28)
    explicit = plan("people_congress", date(2021, 11, 1), "420821", statute="2015")
    assert explicit.kind.milestones["election_committee_formed"].source == "选举法第八条第二款"


def test_residents_election_2026_runs_under_the_2025_text_and_2021_under_2018():
    rcl17 = article(RCL2025, 17)
    assert "选举日的二十日前公布" in rcl17
    new = plan("residents_committee", date(2026, 12, 27), "420821100-001")
    assert new.statute == "2025"
    spec = new.kind.milestones["voter_list_published"]
    assert spec.source == "居委会组织法第十七条第一款" and spec.latest.days == -20
    assert "居民委员会的选举，由居民选举委员会主持" in article(RCL2025, 15)
    old = plan("residents_committee", date(2021, 5, 16), "420821100-001")
    assert old.statute == "2018" and old.kind.milestones["voter_list_published"].latest is None
    assert "居民选举委员会" not in "".join(article(RCL2018, n) for n in range(1, 11))
    # Turnout and runoff: RCL 2025 art. 19 (at least a third of the ballots in the runoff).
    rcl19 = article(RCL2025, 19)
    assert "不得少于已投选票总数的三分之一" in rcl19
    runoff = TallyInput(
        kind="residents_committee",
        seats=1,
        registered_voters=100,
        ballots_issued=60,
        ballots_returned=60,
        invalid_ballots=0,
        votes={"甲": 20, "乙": 15},
        round=2,
        runoff_candidates=("甲", "乙"),
    )
    assert count_round(counting_params(new.kind), runoff).elected == ("甲",)  # 20 × 3 ≥ 60
    assert count_round(counting_params(old.kind), runoff).elected == ()  # 2018 default: > half
    elected = next(d for d in count_round(counting_params(new.kind), runoff).decisions if d.code == "elected")
    assert elected.rule == "居委会组织法第十九条第二款"


def test_village_proxies_2026_open_to_other_villagers_but_not_candidates():
    vcl18 = article(VCL2025, 18)
    assert "近亲属或者其他村民代为投票" in vcl18 and "候选人不得接受委托投票" in vcl18
    assert "近亲属代为投票" in article(VCL2018, 15)
    request = polling.ProxyRequest("A", "B", "委托书1", True, "邻居")
    new = CandidateRules.of(plan("village_committee", date(2026, 12, 20), "420821101-201").kind)
    polling.check_proxy(new, request, holder_count=0, grantor_count=0)
    with pytest.raises(DomainError) as error:
        polling.check_proxy(new, request, holder_count=0, grantor_count=0, holder_is_candidate=True)
    assert error.value.code == "E_PROXY_HOLDER_IS_CANDIDATE" and "村委会组织法第十八条" in error.value.message
    with pytest.raises(DomainError) as error:
        polling.check_proxy(new, request, holder_count=3, grantor_count=0)
    assert error.value.code == "E_PROXY_LIMIT"
    old = CandidateRules.of(plan("village_committee", date(2021, 5, 16), "420821101-201").kind)
    with pytest.raises(DomainError) as error:
        polling.check_proxy(old, request, holder_count=0, grantor_count=0)
    assert error.value.code == "E_PROXY_NOT_RELATIVE" and "村委会组织法第十五条" in error.value.message


def test_village_2026_citations_follow_the_2025_numbering():
    new = plan("village_committee", date(2026, 12, 20), "420821101-201").kind
    assert new.milestones["voter_appeals_closed"].source == "村委会组织法第十七条第二款"
    assert "并公布处理结果" in article(VCL2025, 17)
    assert new.milestones["handover_completed"].source == "村委会组织法第二十四条"
    assert "十日内完成工作移交" in article(VCL2025, 24)
    assert new.candidates["committee_source"] == "村委会组织法第八条第一款"


# -- provincial variants ------------------------------------------------------------------------
def test_zhejiang_variant_applies_to_a_zhejiang_county_without_naming_it():
    assert "不再选举" in article(ZJ_PC, 49)
    hangzhou = plan("people_congress", date(2021, 11, 1), "330106")
    assert hangzhou.kind.variant == "zhejiang_people_congress"
    params = counting_params(hangzhou.kind)
    assert params.vacant_after_runoff and params.source("vacant") == "浙江省选举实施细则第四十九条第三款"
    assert hangzhou.kind.provenance["counting.vacant_after_runoff"].startswith("《浙江省")
    assert hangzhou.kind.milestones["voter_list_published"].source == "浙江省选举实施细则第三十三条第一款"
    runoff = TallyInput(
        kind="people_congress",
        seats=1,
        registered_voters=100,
        ballots_issued=60,
        ballots_returned=60,
        invalid_ballots=0,
        votes={"甲": 19, "乙": 18},
        round=2,
        runoff_candidates=("甲", "乙"),
    )
    vacant = next(d for d in count_round(params, runoff).decisions if d.code == "vacant")
    assert vacant.rule == "浙江省选举实施细则第四十九条第三款"
    # Another province gets the national rule.
    other = plan("people_congress", date(2021, 11, 1), "110105")
    assert other.kind.variant is None and not counting_params(other.kind).vacant_after_runoff


def test_mobile_box_numbers_are_provincial():
    assert "两名以上工作人员负责，其中至少有两名监票人" in article(ZJ_PC, 40)
    assert "流动票箱" in article(EL2020, 38) and "监票人" not in article(EL2020, 38)
    national = CandidateRules.of(plan("people_congress", date(2021, 11, 1), "110105").kind)
    assert polling.check_mobile_box(national, ["甲"], []) == ["甲"]
    hubei = CandidateRules.of(plan("people_congress", date(2021, 11, 1), "420821").kind)
    with pytest.raises(DomainError) as error:
        polling.check_mobile_box(hubei, ["甲", "乙"], [], staff=())
    assert error.value.code == "E_TOO_FEW_MOBILE_BOX_STAFF" and "3人以上" in error.value.message
    assert polling.check_mobile_box(hubei, ["甲", "乙"], [], staff=("丙",)) == ["甲", "乙"]
    zhejiang = CandidateRules.of(plan("people_congress", date(2021, 11, 1), "330106").kind)
    with pytest.raises(DomainError) as error:
        polling.check_mobile_box(zhejiang, ["甲"], [], staff=("乙",))
    assert error.value.code == "E_TOO_FEW_SCRUTINEERS" and "第四十条第四款" in error.value.message


def test_zhejiang_variant_does_not_reach_back_before_its_text():
    assert resolve_kind("people_congress", jurisdiction="330106", on=date(2016, 11, 1)).variant is None


# -- plan check says which rules applied and where from; the two readings of "N日以前" -----------
ZJ_PLAN = """kind = "people_congress"
title = "杭州市西湖区2021年区乡两级人大代表换届选举"
jurisdiction = "330106"
election_day = 2021-11-18
[milestones]
voter_list_published = 2021-10-29
official_candidates_published = 2021-11-10
"""


def test_plan_check_names_the_variant_the_statute_and_the_practice_only_date(tmp_path):
    assert "选民名单应在选举日的二十日以前公布" in article(EL2020, 28)
    plan_file = tmp_path / "zj.toml"
    plan_file.write_text(ZJ_PLAN, encoding="utf-8")
    result = CliRunner().invoke(app, ["plan", "check", str(plan_file), "--json"])
    assert result.exit_code == 0  # lawful under the practice reading (the default)
    doc = json.loads(result.stdout)
    assert doc["statute"] == "2020" and doc["variant"] == "zhejiang_people_congress"
    assert doc["reading"] == "practice"
    assert doc["rules_from"]["counting.vacant_after_runoff"].startswith("《浙江省")
    flagged = [w for w in doc["warnings"] if w["code"] == "W_PRACTICE_READING_ONLY"]
    assert [w["key"] for w in flagged] == ["voter_list_published"]  # 10-29 = E − 20 exactly
    assert "2021-10-28" in flagged[0]["message"]  # the strict reading's last day
    text = CliRunner().invoke(app, ["plan", "check", str(plan_file)]).output
    assert "浙江省" in text and "适用法律版本：2020" in text


def test_strict_reading_moves_the_bound_one_day_earlier():
    kind = get_kind("people_congress")
    strict = kind.model_copy(update={"calendar": {"before_anchor": "strict", "source": "严格计法"}})
    day = date(2021, 11, 18)
    assert compute_bounds(kind, day)["voter_list_published"][1] == date(2021, 10, 29)
    assert compute_bounds(strict, day)["voter_list_published"][1] == date(2021, 10, 28)
    planned = {"voter_list_published": date(2021, 10, 29)}
    assert check_plan(kind, day, planned).ok and not check_plan(strict, day, planned).ok


def test_a_2021_election_cites_the_local_organic_law_of_2015_and_a_2026_one_that_of_2022():
    lol2015 = articles("地方各级人民代表大会和地方各级人民政府组织法(2015")[16]
    lol2022 = articles("地方各级人民代表大会和地方各级人民政府组织法(2022")[20]
    assert "选举完成后的两个月内" in lol2015 and "选举完成后的两个月内" in lol2022
    y2021 = plan("people_congress", date(2021, 11, 1), "420821")
    assert y2021.statute == "2020" and y2021.kind.milestones["congress_convened"].source == "地方组织法第十六条"
    y2026 = plan("people_congress", date(2026, 11, 1), "420821")
    assert y2026.statute == "2022" and y2026.kind.milestones["congress_convened"].source == "地方组织法第二十条"


def test_residents_2026_objections_run_five_plus_three_days_and_are_published():
    rcl17 = article(RCL2025, 17)
    assert "五日内" in rcl17 and "三日内" in rcl17 and "并公布处理结果" in rcl17
    new = plan("residents_committee", date(2026, 12, 27), "420821100-001").kind
    appeals = new.milestones["voter_appeals_closed"]
    assert (appeals.earliest.days, appeals.latest.days, appeals.source) == (5, 8, "居委会组织法第十七条第二款")
    old = plan("residents_committee", date(2021, 5, 16), "420821100-001").kind
    assert old.milestones["voter_appeals_closed"].latest is None
