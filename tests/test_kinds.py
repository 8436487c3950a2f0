"""Kinds as data: every shipped kind loads; a broken kind names the file, the key and the rule."""

from pathlib import Path

import pytest

from workflow.errors import DomainError
from workflow.kinds import KINDS_DIR, all_kinds, get_kind, load_kind_file, parse_kind
from workflow.machine import machine_for

PEOPLE = (KINDS_DIR / "people_congress.toml").read_text(encoding="utf-8")


def test_every_kind_loads_with_sources():
    kinds = all_kinds()
    assert set(kinds) == {
        "people_congress",
        "people_congress_by_election",
        "party_branch",
        "residents_by_election",
        "residents_committee",
        "residents_recall",
        "village_by_election",
        "village_committee",
        "village_recall",
    }
    for kind in kinds.values():
        for milestone in kind.milestones.values():
            assert milestone.source, f"{kind.key}.{milestone.key} has no source"
            assert milestone.rule.startswith(milestone.source + "：")


def test_people_congress_has_the_canonical_keys():
    kind = get_kind("people_congress")
    assert list(kind.milestones) == [
        "election_committee_formed",
        "quotas_allocated",
        "districts_published",
        "voter_list_published",
        "voter_appeals_closed",
        "court_suit_deadline",
        "preliminary_candidates_published",
        "official_candidates_published",
        "election_day",
        "results_published",
        "deputies_qualified",
        "congress_convened",
    ]
    assert kind.phase_keys == ("preparation", "registration", "nomination", "voting", "congress")
    assert set(kind.quota) == {"2010", "2015", "2020", "2022"} and kind.default_statute == "2022"


def test_party_branch_uses_the_suggested_keys():
    kind = get_kind("party_branch")
    assert kind.anchor == "term_ends"
    # The suggested keys, stable; plus the postponement approval (2020 regulation art. 3 ¶2).
    assert [k for k in kind.milestones if k != "postponement_approved"] == [
        "request_submitted",
        "approval_received",
        "candidates_approved",
        "assembly_held",
        "committee_meeting_held",
        "results_reported",
        "results_approved",
    ]
    assert kind.milestones["postponement_approved"].type == "approval"


@pytest.mark.parametrize(
    ("mutation", "field", "fragment"),
    [
        (
            lambda t: t.replace(
                'phase = "nomination"\nsource = "选举法第三十二条"',
                'phase = "nowhere"\nsource = "选举法第三十二条"',
                1,
            ),
            None,
            "未知阶段 'nowhere'",
        ),
        (
            lambda t: t.replace("latest = { days = -20 }", "latest = { days = -20, weeks = 1 }"),
            "milestones.voter_list_published.latest.weeks",
            "Extra inputs",
        ),
        (
            lambda t: t.replace(
                'requires = ["districts_published", "voter_list_published"]',
                'requires = ["districts_published", "no_such_key"]',
            ),
            None,
            "未知节点 'no_such_key'",
        ),
        (lambda t: t.replace("version = 1", 'version = "one"'), "version", "integer"),
    ],
)
def test_broken_kind_names_file_key_and_rule(mutation, field, fragment):
    broken = mutation(PEOPLE)
    assert broken != PEOPLE
    with pytest.raises(DomainError) as caught:
        parse_kind(broken, "broken.toml")
    assert caught.value.code == "E_KIND_INVALID"
    assert "broken.toml" in caught.value.message
    assert fragment in caught.value.message
    if field:
        assert caught.value.field == field


def test_bound_cycle_is_refused():
    broken = PEOPLE.replace(
        'earliest = { from = "voter_list_published", days = 5 }',
        'earliest = { from = "congress_convened", days = 5 }',
    ).replace(
        'latest = { from = "results_published", months = 2, fallback = "anchor" }',
        'latest = { from = "voter_appeals_closed", months = 2 }',
    )
    with pytest.raises(DomainError, match="成环"):
        parse_kind(broken, "cycle.toml")


def test_toml_syntax_error_names_the_file():
    with pytest.raises(DomainError) as caught:
        parse_kind("key = ", "bad.toml")
    assert caught.value.code == "E_KIND_SYNTAX" and "bad.toml" in caught.value.message


def test_file_name_must_match_key(tmp_path: Path):
    path = tmp_path / "other.toml"
    path.write_text(PEOPLE, encoding="utf-8")
    with pytest.raises(DomainError, match="文件名"):
        load_kind_file(path)


def test_unknown_kind():
    with pytest.raises(DomainError) as caught:
        get_kind("senate")
    assert caught.value.code == "E_UNKNOWN_KIND" and caught.value.field == "kind"


def test_mermaid_diagram_is_drawn_from_the_kind():
    diagram = machine_for(get_kind("party_branch")).mermaid()
    assert "stateDiagram-v2" in diagram
    for phase in ("request", "candidates", "assembly", "reporting", "closed"):
        assert phase in diagram
    assert "request --> candidates: advance" in diagram
