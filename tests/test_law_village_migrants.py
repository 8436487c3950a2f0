"""VCL 13 ¶2 (三) (2018) / art. 16 ¶2 (三) (2025): a citizen registered elsewhere joins a village
election when living in the village a year or more (2025: or working on village affairs), applying
in person, with the consent of the villagers' meeting or representatives — not with "proof from a
home district" (the people's congress rule, which stays for that kind)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from demo.county import EXAMPLES
from tests.law_texts import article
from tests.voters_support import number
from workflow.commands import elections, voter_changes, voter_districts
from workflow.errors import DomainError
from workflow.kinds import resolve_kind
from workflow.plan import load_plan
from workflow.rules.voter_rows import check_village_migrant
from workflow.store.voters import AddedReason

VCL2018 = "村民委员会组织法(2018"
VCL2025 = "村民委员会组织法(2025"


def kind(on: date):
    return resolve_kind("village_committee", jurisdiction="420821101-201", on=on)


def check(on: date, **given):
    k = kind(on)
    args = {"since": date(2020, 1, 1), "basis": None, "applied": True, "consent": "2026年11月5日村民代表会议"}
    return check_village_migrant(k.law, k.citations, on=on, **{**args, **given})


def test_the_texts():
    assert "户籍不在本村，在本村居住一年以上，本人申请参加选举，并且经村民会议或者村民代表会议同意参加选举的公民" in article(VCL2018, 13)
    assert "在本村居住或者从事村务工作一年以上" in article(VCL2025, 16)


def test_a_year_of_residence_an_application_and_consent_suffice_without_proof():
    proof = check(date(2021, 1, 1), since=date(2020, 1, 1))
    assert "本人申请" in proof and "村民代表会议同意" in proof


@pytest.mark.parametrize(
    ("given", "code", "field"),
    [
        ({"since": date(2020, 6, 2)}, "E_MIGRANT_TOO_RECENT", "resident_since"),
        ({"since": None}, "E_MIGRANT_SINCE_REQUIRED", "resident_since"),
        ({"applied": False}, "E_MIGRANT_NOT_APPLIED", "applied"),
        ({"consent": " "}, "E_MIGRANT_NO_CONSENT", "consent"),
        ({"basis": "在本村从事村务工作"}, "E_MIGRANT_BASIS", "basis"),  # not a basis before 2026
    ],
)
def test_each_missing_condition_is_named_and_cited_2018(given, code, field):
    with pytest.raises(DomainError) as err:
        check(date(2021, 6, 1), **given)
    assert (err.value.code, err.value.field) == (code, field)
    assert "村委会组织法第十三条第二款第三项" in err.value.message


def test_2025_text_adds_village_affairs_work_and_renumbers():
    assert "从事村务工作" in check(date(2026, 6, 1), basis="在本村从事村务工作", since=date(2025, 6, 1))
    with pytest.raises(DomainError) as err:
        check(date(2026, 6, 1), since=date(2025, 6, 2))
    assert "村委会组织法第十六条第二款第三项" in err.value.message


def test_a_village_registers_a_migrant_with_consent_and_no_home_district_proof(db, clock):
    plan = load_plan(EXAMPLES / "village_committee.toml")
    clock.set(datetime(2026, 11, 20, 2, tzinfo=UTC))
    with db.transaction() as s:
        election_id = elections.create_election(s, plan, clock=clock, actor="t").election.id
        voter_districts.add_district(s, election_id, code="01", name="第一组", clock=clock, actor="t")
    person = number(date(1980, 3, 3), 5, "F", area="330102")
    base = {"district": "01", "name": "外来甲", "id_number": person, "reason": AddedReason.MIGRANT}
    with pytest.raises(DomainError) as err, db.transaction() as s:
        voter_changes.add_voter(s, election_id, **base, resident_since=date(2024, 1, 1), applied=True, clock=clock, actor="t")
    assert err.value.code == "E_MIGRANT_NO_CONSENT" and "第十六条第二款第三项" in err.value.message
    with db.transaction() as s:
        voter = voter_changes.add_voter(
            s,
            election_id,
            **base,
            resident_since=date(2024, 1, 1),
            applied=True,
            consent="2026年11月15日村民代表会议",
            clock=clock,
            actor="t",
        )
        assert voter.added_reason == "migrant" and "村民代表会议同意" in voter.proof
