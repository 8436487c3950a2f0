"""Party branches (issue 14, missing rules): the postponement limit of the 2020 regulation (art.
3 ¶2: approval of the higher Party organisation, in general at most one year) and a branch of
fewer than 7 full members, which elects a secretary only (《中国共产党支部工作条例（试行）》
art. 20 ¶3, in the laws folder's excerpt, whose header says which copies it was checked against)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from tests.law_texts import article, law_file
from workflow.calendar import check_plan
from workflow.commands import elections as commands
from workflow.errors import DomainError
from workflow.machine import CLOSED, Trigger
from workflow.plan import parse_plan
from workflow.store.models import MilestoneStatus
from workflow.timeutil import local_instant

PARTY = "中国共产党基层组织选举工作条例(2020"
BRANCH = "中国共产党支部工作条例（试行）(2018"
TERM_ENDS = date(2026, 12, 31)


def branch(**extra) -> dict:
    return {
        "kind": "party_branch",
        "title": "某局机关党支部换届选举",
        "jurisdiction": {"code": "420821-DZB-09", "name": "某局机关党支部", "level": "party_org"},
        "term_ends": TERM_ENDS,
        **extra,
    }


def test_the_regulation_text_is_the_one_cited():
    text = article(PARTY, 3)
    assert "如需延期或者提前进行换届选举，应当报上级党组织批准。延长或者提前期限一般不超过1年。" in text
    excerpt = law_file(PARTY).read_text(encoding="utf-8")
    assert "正式党员不足7人的党支部，设1名书记，必要时可以设1名副书记" in excerpt


def test_the_small_branch_rule_quotes_its_article_word_for_word():
    """The kind cites art. 20 ¶3 of the branch regulation; the sentence it prints (before its
    own conclusion, no committee) is that paragraph, and ¶1 sets the committee size it checks."""
    kind = parse_plan(branch()).kind
    assert kind.candidates["no_committee_source"] == "《中国共产党支部工作条例（试行）》第二十条第三款"
    paragraphs = [line for line in article(BRANCH, 20).splitlines() if line.strip()]
    assert paragraphs[2] == "正式党员不足7人的党支部，设1名书记，必要时可以设1名副书记。"
    stated, conclusion = kind.candidates["no_committee_text"].rsplit("，", 1)
    assert paragraphs[2].startswith(stated) and conclusion == "不设支部委员会"
    assert f"不足{kind.candidates['no_committee_below_members']}人" in paragraphs[2]
    assert "有正式党员7人以上的党支部，应当设立党支部委员会" in paragraphs[0]
    assert f"一般不超过{kind.candidates['committee_max']}人" in paragraphs[0]


def test_a_postponed_assembly_needs_approval_and_at_most_a_year():
    late = date(2027, 6, 30)
    unapproved = parse_plan(branch(milestones={"assembly_held": late}))
    report = check_plan(unapproved.kind, unapproved.anchor, unapproved.milestones)
    problems = report.by_key()["assembly_held"].problems
    assert any("经上级党组织同意" in p and "第三条第二款" in p for p in problems)

    approved = parse_plan(branch(milestones={"assembly_held": late, "postponement_approved": date(2026, 12, 1)}))
    report = check_plan(approved.kind, approved.anchor, approved.milestones)
    assert report.ok, report.violations
    assert "W_APPROVED_MOVE" in {w.code for w in report.warnings}

    too_late = parse_plan(
        branch(milestones={"assembly_held": date(2028, 1, 1), "postponement_approved": date(2026, 12, 1)})
    )
    report = check_plan(too_late.kind, too_late.anchor, too_late.milestones)
    assert any("2027-12-31" in p for p in report.by_key()["assembly_held"].problems)


def test_a_branch_of_fewer_than_seven_members_elects_a_secretary_only():
    small = parse_plan(branch(members=5, seats=1))
    assert small.seats == 1
    assert set(small.not_applicable()) == {"committee_meeting_held"}
    assert "不足7人" in small.not_applicable()["committee_meeting_held"]
    assert parse_plan(branch(members=6, seats=2)).seats == 2  # a deputy secretary if needed
    with pytest.raises(DomainError) as err:
        parse_plan(branch(members=6, seats=3))
    assert err.value.code == "E_SEATS_OUT_OF_RANGE" and err.value.field == "seats"
    assert "不设支部委员会" in err.value.message


def test_a_branch_of_seven_or_more_elects_a_committee():
    assert parse_plan(branch(members=7, seats=3)).not_applicable() == {}
    with pytest.raises(DomainError) as err:
        parse_plan(branch(members=7, seats=1))  # 3–7 committee members
    assert err.value.code == "E_SEATS_OUT_OF_RANGE"


def test_members_is_refused_for_kinds_without_the_rule():
    data = {
        "kind": "village_committee",
        "title": "某村",
        "jurisdiction": "420821100201",
        "election_day": date(2026, 6, 1),
        "members": 5,
    }
    with pytest.raises(DomainError) as err:
        parse_plan(data)
    assert err.value.field == "members"


def test_a_small_branch_runs_to_the_end_without_a_committee_meeting(db, clock):
    milestones = {
        "request_submitted": date(2026, 11, 20),
        "approval_received": date(2026, 11, 30),
        "candidates_approved": date(2026, 12, 15),
        "assembly_held": date(2026, 12, 25),
        "results_reported": date(2026, 12, 28),
        "results_approved": date(2027, 1, 8),
    }
    plan = parse_plan(branch(members=5, seats=1, milestones=milestones))
    clock.set(local_instant(date(2026, 11, 16), time(10)))
    with db.transaction() as s:
        election_id = commands.create_election(s, plan, clock=clock, actor="t").election.id
    with db.reading() as s:
        meeting = commands.get_election(s, election_id).milestone("committee_meeting_held")
        assert meeting.status == MilestoneStatus.WAIVED and "不足7人" in meeting.waived_reason
    for phase in plan.kind.phase_keys:
        target = commands.machine_for(plan.kind).next_phase(phase)
        for key in plan.kind.requirements_of(target):
            if key not in milestones:
                continue
            clock.set(local_instant(milestones[key], time(10)))
            with db.transaction() as s:
                commands.complete_milestone(s, election_id, key, clock=clock, actor="t", on=milestones[key])
        with db.transaction() as s:
            commands.transition(s, election_id, Trigger.ADVANCE, clock=clock, actor="t")
    with db.reading() as s:
        assert commands.get_election(s, election_id).state == CLOSED


def test_a_zhejiang_election_gets_the_variants_milestones_as_rows(db, clock):
    plan = parse_plan(
        {
            "kind": "people_congress",
            "title": "西湖区2026年人大代表换届选举",
            "jurisdiction": {"code": "330106", "name": "西湖区", "level": "county"},
            "election_day": date(2026, 11, 20),
        }
    )
    clock.set(datetime(2026, 9, 1, 2, tzinfo=UTC))
    with db.transaction() as s:
        election = commands.create_election(s, plan, clock=clock, actor="t").election
        keys = {m.key for m in election.milestones}
        cutoff = election.milestone("late_registration_cutoff")
        assert {"late_registration_cutoff", "election_day_change_approved"} <= keys
        assert cutoff.latest == date(2026, 11, 8)  # E − 12
