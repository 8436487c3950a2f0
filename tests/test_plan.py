"""Plan files: every mistake names its field."""

import pytest

from workflow.errors import DomainError
from workflow.plan import parse_plan_text

GOOD = """
kind = "people_congress"
title = "测试"
jurisdiction = "420821"
election_day = 2011-10-18
[milestones]
voter_list_published = 2011-09-20
"""


def test_good_plan_parses():
    plan = parse_plan_text(GOOD)
    # No `statute`: the text in force on election day (2011-10-18) is the 2010 one.
    assert plan.kind.key == "people_congress" and plan.statute == "2010"
    assert plan.milestones["voter_list_published"].isoformat() == "2011-09-20"


@pytest.mark.parametrize(
    ("text", "code", "field"),
    [
        (GOOD.replace('"people_congress"', '"senate"'), "E_UNKNOWN_KIND", "kind"),
        (
            GOOD.replace("voter_list_published =", "voters_listed ="),
            "E_UNKNOWN_MILESTONE",
            "milestones.voters_listed",
        ),
        (GOOD.replace("2011-09-20", '"2011-09-31"'), "E_BAD_DATE", "milestones.voter_list_published"),
        (GOOD.replace("2011-09-20", '"20.9.2011"'), "E_BAD_DATE", "milestones.voter_list_published"),
        (GOOD.replace("election_day = 2011-10-18\n", ""), "E_MISSING_ANCHOR", "election_day"),
        (GOOD.replace('title = "测试"\n', ""), "E_MISSING_FIELD", "title"),
        (GOOD.replace('jurisdiction = "420821"\n', ""), "E_MISSING_FIELD", "jurisdiction"),
        ("colour = 1\n" + GOOD, "E_UNKNOWN_FIELD", "colour"),
        (GOOD.replace("[milestones]", 'statute = "1979"\n[milestones]'), "E_PLAN_INVALID", "statute"),
        (GOOD + "court_suit_deadline = 2011-10-13\n", "E_PLAN_INVALID", "milestones.court_suit_deadline"),
        (GOOD + "[phases.campaign]\nstart = 2011-09-01\n", "E_UNKNOWN_PHASE", "phases.campaign"),
        (GOOD + "[phases.voting]\nstart = 2011-10-18\nend = 2011-10-11\n", "E_PLAN_INVALID", "phases.voting"),
        (
            GOOD.replace("election_day = 2011-10-18", "election_day = 2011-10-18T09:00:00"),
            "E_BAD_DATE",
            "election_day",
        ),
        ("kind = ", "E_PLAN_SYNTAX", None),
    ],
)
def test_bad_plans_name_the_field(text, code, field):
    with pytest.raises(DomainError) as caught:
        parse_plan_text(text)
    assert caught.value.code == code
    assert caught.value.field == field
    assert caught.value.message  # Chinese text for staff


def test_party_branch_needs_term_ends_not_election_day():
    text = 'kind = "party_branch"\ntitle = "支部"\njurisdiction = "1"\nelection_day = 2026-12-31\n'
    with pytest.raises(DomainError) as caught:
        parse_plan_text(text)
    assert caught.value.field == "election_day"
