"""Issue 14's defects ("wrong results or blocked lawful acts" and wrong citations), each checked
against the statute text it quotes (config/laws/, see tests/law_texts.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.law_texts import EL2020, RCL2018, VCL2018, ZJ_PC, article
from tests.voters_support import LIST_DAY, import_file, make_election, noon, number, synthetic_csv
from workflow.calendar import check_plan
from workflow.commands import appeals, candidate_nominations, notice_data, voter_list
from workflow.commands import elections as commands
from workflow.errors import Conflict, DomainError
from workflow.kinds import KindSpec, all_variants, get_kind, parse_kind
from workflow.plan import load_plan, parse_plan
from workflow.rules.apportion import apportion_townships
from workflow.rules.candidate_structure import Profile, structure_report
from workflow.rules.candidates import CandidateRules
from workflow.rules.districting import propose
from workflow.rules.quota import total_seats
from workflow.rules.tally import TallyInput, count_round
from workflow.rules.units import Unit
from workflow.rules.voter_appeals import after_decision, court_suit_deadline


def codes(result):
    return [d.code for d in result.decisions]


def runoff(kind, votes, *, seats=1, candidates, issued=60, returned=60, registered=100):
    return TallyInput(
        kind=kind,
        seats=seats,
        registered_voters=registered,
        ballots_issued=issued,
        ballots_returned=returned,
        invalid_ballots=0,
        votes=votes,
        round=2,
        runoff_candidates=tuple(candidates),
    )


# -- defect 1: a runoff tally with a written-in name is counted (EL 41) ------------------------
def test_runoff_tally_with_a_write_in_is_counted_not_refused():
    assert "可以另选其他任何选民" in article(EL2020, 41)
    result = count_round(
        "people_congress", runoff("people_congress", {"甲": 15, "乙": 10, "丙": 30}, candidates=("甲", "乙"))
    )
    assert result.valid and result.elected == ("丙",)  # 30 × 3 ≥ 60: at least a third (EL 45 ¶5)
    write_in = next(d for d in result.decisions if d.code == "write_in")
    assert write_in.names == ("丙",) and write_in.rule == "选举法第四十一条"


# -- defect 3: village and residents' runoffs carry no statutory list ratio (VCL 15 ¶2) --------
def test_village_runoff_list_is_ordered_by_votes_without_the_election_law_ratio():
    vcl15 = article(VCL2018, 15)
    assert "第一次投票未当选的人员得票多的为候选人" in vcl15 and "三分之一至一倍" not in vcl15
    first = TallyInput(
        kind="village_committee",
        seats=3,
        registered_voters=100,
        ballots_issued=60,
        ballots_returned=60,
        invalid_ballots=0,
        votes={"甲": 40, "乙": 29, "丙": 28, "丁": 20},
    )
    result = count_round("village_committee", first)
    assert result.elected == ("甲",)
    # EL 31 would demand ⌈4·2/3⌉ = 3 names for 2 seats and call it 法定; VCL 15 ¶2 does not.
    assert (result.runoff.min_candidates, result.runoff.max_candidates) == (2, 4)
    assert "runoff_list_short" not in codes(result)
    two = runoff("village_committee", {"乙": 30, "丙": 25}, seats=2, candidates=("乙", "丙"))
    counted = count_round("village_committee", two)
    assert "runoff_list_outside_ratio" not in codes(counted)
    assert not any("法定差额比例" in d.reason for d in counted.decisions)


def test_residents_one_seat_runoff_may_list_one_name():
    result = count_round("residents_committee", runoff("residents_committee", {"甲": 40}, candidates=("甲",)))
    assert result.elected == ("甲",)
    assert "runoff_list_outside_ratio" not in codes(result)


# -- defect 7: a void round never also says "valid" (EL 44 ¶1) --------------------------------
def test_void_round_does_not_also_print_valid():
    assert "多于投票人数的无效" in article(EL2020, 44)
    tally = TallyInput(
        kind="people_congress",
        seats=1,
        registered_voters=100,
        ballots_issued=60,
        ballots_returned=61,
        invalid_ballots=0,
        votes={"甲": 40},
    )
    result = count_round("people_congress", tally)
    assert not result.valid
    assert not any("本次选举有效" in d.reason for d in result.decisions)
    turnout = next(d for d in result.decisions if d.code == "turnout_met")
    assert "无效" in turnout.reason


# -- wrong citation: Zhejiang's "不再选举" (art. 49) is not the national rule ------------------
def test_seats_unfilled_after_the_runoff_are_not_declared_vacant_under_the_national_law():
    assert "不再选举" in article(ZJ_PC, 49)
    assert "不再选举" not in article(EL2020, 45)
    result = count_round(
        "people_congress",
        runoff("people_congress", {"甲": 19, "乙": 18}, candidates=("甲", "乙"), returned=60),
    )
    assert result.elected == () and result.unfilled == 1
    assert "vacant" not in codes(result)
    unfilled = next(d for d in result.decisions if d.code == "unfilled_after_runoff")
    assert "浙江" not in unfilled.rule


# -- defect 5: a supplementary list opens its own objection window (EL 29) ---------------------
def test_objection_two_days_after_a_supplementary_list_is_accepted(db, clock, tmp_path):
    assert "在选民名单公布之日起五日内" in article(EL2020, 29)
    election_id = make_election(db, clock)
    import_file(db, clock, election_id, synthetic_csv(tmp_path / "v.csv", 10))
    clock.set(noon(LIST_DAY))
    with db.transaction() as session:
        voter_list.publish(session, election_id, clock=clock, actor="t")

    def file(on, subject):
        clock.set(noon(on))
        with db.transaction() as session:
            return appeals.file_appeal(
                session,
                election_id,
                filer="李某",
                request="add",
                subject_name=subject,
                subject_id_number=number(date(1960, 6, 6), len(subject), "F"),
                reason="本人户籍在本选区，未列入名单",
                district="01",
                clock=clock,
                actor="t",
                filed_on=on,
            )

    first = file(date(2011, 9, 22), "漏登者")
    clock.set(noon(date(2011, 9, 24)))
    with db.transaction() as session:
        appeals.decide_appeal(session, first.id, upheld=True, reason=None, clock=clock, actor="t")
    supplement_day = date(2011, 9, 28)  # after the first list's window closed on 09-25
    clock.set(noon(supplement_day))
    with db.transaction() as session:
        voter_list.publish(session, election_id, clock=clock, actor="t", on=supplement_day)
    accepted = file(date(2011, 9, 30), "补正异议人")
    assert accepted.filed_on == date(2011, 9, 30)
    with pytest.raises(DomainError) as error:
        file(date(2011, 10, 4), "逾期异议人")  # supplement + 6
    assert error.value.code == "E_APPEAL_WINDOW_CLOSED"


# -- defect 6: a plan's `seats` is checked against the committee's lawful size -----------------
VILLAGE_PLAN = {
    "kind": "village_committee",
    "title": "某村村民委员会换届选举",
    "jurisdiction": "330104001001",
    "election_day": date(2021, 5, 16),
}


def test_twelve_seat_village_committee_is_refused_citing_vcl_6():
    assert "三至七人" in article(VCL2018, 6)
    assert parse_plan({**VILLAGE_PLAN, "seats": 7}).seats == 7
    for seats in (12, 2):
        with pytest.raises(DomainError) as error:
            parse_plan({**VILLAGE_PLAN, "seats": seats})
        assert error.value.code == "E_SEATS_OUT_OF_RANGE" and error.value.field == "seats"
        assert "村委会组织法第六条" in error.value.message


def test_four_seat_residents_committee_is_refused_citing_rcl_7():
    assert "五至九人" in article(RCL2018, 7)
    with pytest.raises(DomainError) as error:
        parse_plan({**VILLAGE_PLAN, "kind": "residents_committee", "seats": 4})
    assert "居委会组织法第七条" in error.value.message


def test_a_committee_plans_seats_are_its_candidate_lists_seats(db, clock):
    """Defect 6: the checked `seats` is used. The election keeps it; its candidate list opens
    with those seats, and a list opened with other seats is refused."""
    village = {"code": "330104001001", "name": "某村", "level": "village"}
    plan = parse_plan({**VILLAGE_PLAN, "jurisdiction": village, "seats": 5})
    clock.set(noon(date(2021, 4, 1)))
    with db.transaction() as s:
        election_id = commands.create_election(s, plan, clock=clock, actor="t").election.id
    with db.reading() as s:
        assert commands.get_election(s, election_id).seats == 5
    with pytest.raises(DomainError) as error, db.transaction() as s:
        candidate_nominations.open_district(s, election_id, "main", seats=7, clock=clock, actor="t")
    assert error.value.code == "E_SEATS_MISMATCH" and error.value.field == "seats"
    with db.transaction() as s:
        opened = candidate_nominations.open_district(s, election_id, "main", seats=None, clock=clock, actor="t")
        assert opened.seats == 5


def test_seats_in_a_plan_whose_seats_are_per_district_is_refused():
    plan = load_plan(Path(__file__).resolve().parent.parent / "examples" / "jingshan_2011.toml")
    data = {
        "kind": "people_congress",
        "title": plan.title,
        "jurisdiction": plan.jurisdiction.code,
        "election_day": plan.anchor,
        "seats": 274,
    }
    with pytest.raises(DomainError) as error:
        parse_plan(data)
    assert error.value.field == "seats" and "按选区" in error.value.message


# -- defect 6: kind keys that were parsed and never used are refused, not ignored ---------------
KINDS = Path(__file__).resolve().parent.parent / "config" / "kinds"


def kind_text(name: str, **lines: str) -> str:
    """A shipped kind file with extra lines: top-level keys, or `candidates=…` added to its
    [candidates] table."""
    text = (KINDS / f"{name}.toml").read_text(encoding="utf-8")
    if "candidates" in lines:
        text = text.replace("\n[candidates]\n", f"\n[candidates]\n{lines.pop('candidates')}\n", 1)
    return "\n".join(lines.values()) + "\n" + text


def test_holiday_shift_is_refused_with_the_reason():
    assert get_kind("people_congress").key == "people_congress"  # the shipped file no longer sets it
    for value in ("true", "false"):
        with pytest.raises(DomainError) as error:
            parse_kind(kind_text("people_congress", shift=f"holiday_shift = {value}"), "pc.toml")
        assert error.value.code == "E_KIND_INVALID" and error.value.field == "holiday_shift"
        assert "不因节假日顺延" in error.value.message and "pc.toml" in error.value.message
    assert "holiday_shift" not in KindSpec.model_fields


def test_the_seeds_age_limits_are_not_law_and_are_refused():
    """The seed's chair (55) and deputy (53) age limits are practice: a kind that still sets them
    is refused, naming the key, and the residents' kind has none."""
    assert not {"chair_age_limit", "deputy_age_limit"} & set(get_kind("residents_committee").candidates)
    for key in ("chair_age_limit", "deputy_age_limit"):
        with pytest.raises(DomainError) as error:
            parse_kind(kind_text("residents_committee", candidates=f"{key} = 55"), "rc.toml")
        assert error.value.field == f"candidates.{key}"
        assert "不是法律规定" in error.value.message


def test_a_statute_version_or_variant_cannot_bring_an_age_limit_back(tmp_path):
    text = kind_text("residents_committee") + '\n[versions."2018".candidates]\nchair_age_limit = 55\n'
    with pytest.raises(DomainError) as error:
        parse_kind(text, "rc.toml")
    assert error.value.field == "versions.2018.candidates.chair_age_limit"

    (tmp_path / "variants").mkdir()
    (tmp_path / "residents_committee.toml").write_text(kind_text("residents_committee"), encoding="utf-8")
    (tmp_path / "variants" / "somewhere.toml").write_text(
        'extend = "residents_committee"\njurisdiction_prefix = "99"\nsource = "某省办法"\n'
        'name = "某省居委会选举"\n[candidates]\ndeputy_age_limit = 53\n',
        encoding="utf-8",
    )
    with pytest.raises(DomainError) as error:
        all_variants(tmp_path)
    assert error.value.field == "candidates.deputy_age_limit" and "somewhere.toml" in error.value.message


# -- defect 4: village appeals have no court suit, but the decision is published (VCL 14 ¶2) ---
def test_village_appeal_has_no_court_deadline_and_its_decision_is_published():
    vcl14 = article(VCL2018, 14)
    assert "法院" not in vcl14 and "并公布处理结果" in vcl14
    assert "向人民法院起诉" in article(EL2020, 29)
    village = get_kind("village_committee")
    assert "court_suit_deadline" not in village.milestones
    assert court_suit_deadline(village, date(2021, 5, 16)) is None
    assert "村委会组织法第十四条第二款" in after_decision(village)
    assert "公布处理结果" in after_decision(village)
    congress = get_kind("people_congress")
    assert court_suit_deadline(congress, date(2021, 5, 16)) == date(2021, 5, 11)
    assert "选举法第二十九条" in after_decision(congress)


# -- defect 2: county seats go to townships (> 3 each, ≥ 1 each, EL 15) ------------------------
def test_county_seats_are_apportioned_to_townships_beyond_three_each():
    el15 = article(EL2020, 15)
    assert "人口特少的乡、民族乡、镇，至少应有代表一人" in el15 and "相同的原则" in el15
    townships = [("T1", "城关镇", 60_000), ("T2", "新市镇", 30_000), ("T3", "小乡", 800)]
    result = apportion_townships(townships, 20)
    seats = {d.code: d.seats for d in result.districts}
    assert sum(seats.values()) == 20 and seats["T3"] == 1  # the tiny township keeps one
    assert seats["T1"] > 3 and seats["T1"] == 13 and seats["T2"] == 6
    assert result.as_dict()["method"] == "huntington_hill_at_least_one"
    assert "选举法第十五条" in result.as_dict()["method_text"]
    with pytest.raises(DomainError) as error:
        apportion_townships(townships, 2)
    assert error.value.code == "E_SEATS_TOO_FEW" and "选举法第十五条" in error.value.message


def test_districts_propose_warns_when_a_tiny_township_has_no_district_of_its_own():
    units = [
        Unit("A1", "甲一村", 3000, 2, "甲镇", ("A2",)),
        Unit("A2", "甲二村", 3000, 3, "甲镇", ("A1", "B1")),
        Unit("B1", "乙小村", 800, 4, "乙乡", ("A2",)),
    ]
    proposal = propose(units, 2)
    mixed = [d for d in proposal.districts if "乙乡" in d.parents]
    assert mixed and len(mixed[0].parents) == 2  # merged into 甲镇's district
    assert any("乙乡" in w and "选举法第十五条" in w for w in proposal.warnings)


def test_quota_notice_says_the_same_population_per_deputy_as_el_15():
    template = Path(__file__).resolve().parent.parent / "notices" / "templates" / "quota_allocation.html"
    text = template.read_text(encoding="utf-8")
    assert "每一代表所代表的城乡人口数相同的原则" in article(EL2020, 15)
    assert "每一代表所代表的城乡人口数相同的原则" in text and "大体相等" not in text


# -- wrong citation / blocked condition: --extra-percent needs the provincial decision (EL 12 ¶3) --
def test_extra_percent_requires_the_provincial_standing_committee_decision():
    el12 = article(EL2020, 12)
    assert "经省、自治区、直辖市的人民代表大会常务委员会决定，代表名额可以另加百分之五" in el12
    kind = get_kind("people_congress")
    with pytest.raises(DomainError) as error:
        total_seats(kind, "county", 300_000, extra_percent=5)
    assert error.value.code == "E_EXTRA_NEEDS_DECISION" and "选举法第十二条第三款" in error.value.message
    result = total_seats(kind, "county", 300_000, extra_percent=5, extra_decision="省人大常委会第12号决定")
    assert result.extra == 10 and "省人大常委会第12号决定" in result.rule and "第十二条第三款" in result.rule


# -- missing rule: EL 47 ¶2, the deputy list is published before the first session --------------
def test_first_session_needs_the_qualification_review_first(db, clock):
    assert "在每届人民代表大会第一次会议前公布代表名单" in article(EL2020, 47)
    plan = load_plan(Path(__file__).resolve().parent.parent / "examples" / "jingshan_2011.toml")
    swapped = dict(plan.milestones, deputies_qualified=date(2011, 12, 1))  # after the session (11-30)
    report = check_plan(plan.kind, plan.anchor, swapped)
    assert [v.key for v in report.violations] == ["deputies_qualified", "congress_convened"]
    clock.set(noon(date(2011, 12, 1)))
    with db.transaction() as s:
        election_id = commands.create_election(s, plan, clock=clock, actor="t").election.id
    with pytest.raises(Conflict) as error, db.transaction() as s:
        commands.complete_milestone(
            s, election_id, "congress_convened", clock=clock, actor="t", on=date(2011, 11, 30)
        )
    assert error.value.code == "E_MILESTONE_REQUIRES" and "代表资格审查" in error.value.message
    with db.transaction() as s:
        commands.complete_milestone(
            s, election_id, "deputies_qualified", clock=clock, actor="t", on=date(2011, 11, 25)
        )
        commands.complete_milestone(
            s, election_id, "congress_convened", clock=clock, actor="t", on=date(2011, 11, 30)
        )


# -- missing rules: VCL 35 (outgoing audit published before the election), VCL 15 ¶1 (candidates
# meet the villagers) guard the vote ------------------------------------------------------------
def test_village_vote_waits_for_the_outgoing_audit_and_the_candidates_meeting():
    assert "离任经济责任审计结果应当在下一届村民委员会选举之前公布" in article(VCL2018, 35)
    assert "组织候选人与村民见面" in article(VCL2018, 15)
    plan = parse_plan({**VILLAGE_PLAN, "election_day": date(2021, 5, 16)})
    voting = plan.kind.requirements_of("voting")
    assert {"outgoing_audit_published", "candidates_met_villagers"} <= set(voting)
    late = {"outgoing_audit_published": date(2021, 5, 17), "candidates_published": date(2021, 5, 1)}
    report = check_plan(plan.kind, plan.anchor, {**late, "election_day": date(2021, 5, 16)})
    assert [v.key for v in report.violations] == ["outgoing_audit_published"]
    assert plan.kind.milestones["outgoing_audit_published"].source == "村委会组织法第三十五条第二款"
    new = parse_plan({**VILLAGE_PLAN, "election_day": date(2026, 12, 20)})
    assert new.kind.milestones["outgoing_audit_published"].source == "村委会组织法第四十条第二款"


# -- missing rule: VCL 6 ¶2, at least one woman member --------------------------------------------
def test_village_candidate_list_without_a_woman_is_flagged_citing_vcl_6():
    assert "应当有妇女成员" in article(VCL2018, 6)
    rules = CandidateRules.of(parse_plan({**VILLAGE_PLAN, "election_day": date(2021, 5, 16)}).kind)
    men = [Profile(f"男{i}", "male", None, "farmer") for i in range(4)]
    report = structure_report(rules, men)
    assert any("村委会组织法第六条第二款" in w for w in report.warnings)
    assert not any(
        "妇女成员" in w
        for w in structure_report(rules, [*men, Profile("女", "female", None, "farmer")]).warnings
    )


# -- wrong citation: a 2010-statute election's notices cite the 2010 numbering -------------------
def test_notice_data_of_a_2011_election_carries_the_2010_numbering(db, clock):
    assert "选民名单应在选举日的二十日以前公布" in article(
        "全国人民代表大会和地方各级人民代表大会选举法(2015", 27
    )
    plan = load_plan(Path(__file__).resolve().parent.parent / "examples" / "jingshan_2011.toml")
    clock.set(noon(date(2011, 8, 20)))
    with db.transaction() as s:
        election_id = commands.create_election(s, plan, clock=clock, actor="t").election.id
    with db.reading() as s:
        data = notice_data.election_data(commands.get_election(s, election_id))
    assert data["statute"] == "2010"
    assert data["milestones"]["voter_list_published"]["source"] == "选举法第二十七条"
    assert data["milestones"]["election_committee_formed"]["source"] == "选举法第八条第二款"
    assert data["citations"]["districts_notice"] == "选举法第二十四条、第二十五条"  # the notices' own
