"""Milestone types the law uses beyond "latest/earliest from an anchor" (issue 14, build 3), and
variants that add or remove milestones (build 2): Zhejiang's late-registration cutoff (art. 29,
E − 12) and its approval to move a district's election day (art. 51), each checked against the
statute text in config/laws/."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.law_texts import article
from workflow.calendar import check_plan, refusal_after
from workflow.errors import DomainError
from workflow.kinds import parse_kind, resolve_kind
from workflow.plan import parse_plan

ZJ = "浙江省县、乡两级人民代表大会代表选举实施细则"
E = date(2021, 11, 20)


def zhejiang():
    return resolve_kind("people_congress", jurisdiction="330781", on=E)


def test_zhejiang_late_registration_cutoff_is_e_minus_12():
    text = article(ZJ, 29)
    assert "在选举日十二日以前取得联系，并主动要求登记的，应当予以补办选民登记手续" in text
    kind = zhejiang()
    spec = kind.milestones["late_registration_cutoff"]
    assert spec.type == "cutoff" and spec.computed and spec.source == "浙江省选举实施细则第二十九条"
    assert kind.provenance["milestones.late_registration_cutoff"] == kind.provenance["counting.vacant_after_runoff"]
    cutoff = E - timedelta(days=12)
    assert refusal_after(kind, "late_registration_cutoff", E, cutoff) is None
    refused = refusal_after(kind, "late_registration_cutoff", E, cutoff + timedelta(days=1))
    assert refused is not None and "不能补办选民登记" in refused and "第二十九条" in refused
    report = check_plan(kind, E, {})
    assert report.by_key()["late_registration_cutoff"].latest == cutoff


def test_the_cutoff_is_zhejiangs_only():
    hubei = resolve_kind("people_congress", jurisdiction="420821", on=E)
    national = resolve_kind("people_congress", on=E)
    assert "late_registration_cutoff" not in hubei.milestones
    assert "late_registration_cutoff" not in national.milestones


def plan(**milestones):
    return parse_plan(
        {
            "kind": "people_congress",
            "title": "某区2021年人大代表选举",
            "jurisdiction": "330781",
            "election_day": E,
            "milestones": milestones,
        }
    )


def test_moving_the_election_day_needs_the_committees_approval_before_it():
    text = article(ZJ, 51)
    assert "选区因特殊情况需要提前或者推迟选举日的，应当报请本级选举委员会同意" in text
    later = E + timedelta(days=3)
    unapproved = plan(election_day=later)
    report = check_plan(unapproved.kind, unapproved.anchor, unapproved.milestones)
    problems = report.by_key()["election_day"].problems
    assert not report.ok and any("经本级选举委员会同意" in p and "第五十一条" in p for p in problems)

    approved = plan(election_day=later, election_day_change_approved=E - timedelta(days=5))
    report = check_plan(approved.kind, approved.anchor, approved.milestones)
    assert report.by_key()["election_day"].ok
    assert [w.code for w in report.warnings if w.key == "election_day"] == ["W_APPROVED_MOVE"]

    too_late = plan(election_day=later, election_day_change_approved=later + timedelta(days=1))
    report = check_plan(too_late.kind, too_late.anchor, too_late.milestones)
    assert not report.by_key()["election_day"].ok


def test_outside_zhejiang_a_moved_election_day_stays_unlawful():
    data = {
        "kind": "people_congress",
        "title": "京山县",
        "jurisdiction": "420821",
        "election_day": E,
        "milestones": {"election_day": E + timedelta(days=3)},
    }
    p = parse_plan(data)
    assert not check_plan(p.kind, p.anchor, p.milestones).by_key()["election_day"].ok
    data["milestones"]["election_day_change_approved"] = E
    with pytest.raises(DomainError) as err:
        parse_plan(data)
    assert err.value.code == "E_UNKNOWN_MILESTONE"


def test_an_approval_limit_caps_the_move():
    kind = parse_kind(
        """
key = "demo"
name = "示例"
version = 1
anchor = "term_ends"
anchor_name = "任期届满日"
[[phases]]
key = "only"
name = "唯一阶段"
[milestones.held]
name = "召开大会"
phase = "only"
source = "示例"
text = "任期届满时召开"
latest = { days = 0 }
[milestones.delay_approved]
type = "approval"
name = "延期经批准"
phase = "only"
source = "示例"
text = "延期一般不超过一年"
approves = "held"
approver = "上级组织"
limit = { months = 12 }
""",
        "demo.toml",
    )
    end = date(2026, 3, 31)
    ok = check_plan(kind, end, {"held": date(2027, 3, 31), "delay_approved": date(2026, 3, 1)})
    assert ok.by_key()["held"].ok
    late = check_plan(kind, end, {"held": date(2027, 4, 1), "delay_approved": date(2026, 3, 1)})
    assert any("超过经批准可推迟的最迟日期 2027-03-31" in p for p in late.by_key()["held"].problems)


def test_a_filing_window_counts_from_its_reference():
    kind = parse_kind(
        """
key = "demo"
name = "示例"
version = 1
anchor = "election_day"
anchor_name = "选举日"
[[phases]]
key = "only"
name = "唯一阶段"
[milestones.list_published]
name = "公布名单"
phase = "only"
source = "示例"
text = "公布名单"
[milestones.objections_close]
type = "filing"
name = "异议期限"
phase = "only"
source = "示例"
text = "自名单公布之日起五日内提出"
latest = { from = "list_published", days = 5 }
refuses = "提出异议"
""",
        "demo.toml",
    )
    assert kind.milestones["objections_close"].computed
    published = {"list_published": date(2026, 12, 1)}
    assert refusal_after(kind, "objections_close", E, date(2026, 12, 6), published) is None
    assert "不能提出异议" in refusal_after(kind, "objections_close", E, date(2026, 12, 7), published)


def test_bad_typed_milestones_are_refused_with_the_key():
    base = """
key = "demo"
name = "示例"
version = 1
anchor = "election_day"
anchor_name = "选举日"
[[phases]]
key = "only"
name = "唯一阶段"
[milestones.a]
name = "甲"
phase = "only"
source = "示例"
text = "甲"
"""
    with pytest.raises(DomainError, match="approves 和 approver"):
        parse_kind(base + 'type = "approval"\n', "demo.toml")
    with pytest.raises(DomainError, match="computed 节点必须有 latest"):
        parse_kind(base + 'type = "cutoff"\n', "demo.toml")


def kinds_with(tmp_path: Path, name: str, variant: str) -> Path:
    """A kinds directory holding the national people_congress kind and one variant file."""
    kinds = tmp_path / name
    (kinds / "variants").mkdir(parents=True)
    source = Path(__file__).resolve().parent.parent / "config" / "kinds" / "people_congress.toml"
    (kinds / "people_congress.toml").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (kinds / "variants" / "x_people_congress.toml").write_text(variant, encoding="utf-8")
    return kinds


def test_a_variant_may_remove_a_milestone_and_every_guard_naming_it(tmp_path):
    """A province whose rules have no separate step drops it: the milestone goes, and so do the
    phase guards and orderings that name it; removing an unknown one is refused."""
    head = 'extend = "people_congress"\nname = "示例省"\njurisdiction_prefix = "99"\nsource = "示例省实施细则"\n'
    kinds = kinds_with(tmp_path, "a", head + 'remove_milestones = ["voter_appeals_closed"]\n')
    national = resolve_kind("people_congress", on=E, directory=kinds)
    assert "voter_appeals_closed" in national.phase("voting").requires
    kind = resolve_kind("people_congress", jurisdiction="990101", on=E, directory=kinds)
    assert "voter_appeals_closed" not in kind.milestones
    assert "voter_appeals_closed" not in kind.phase("voting").requires
    assert kind.provenance["milestones.voter_appeals_closed"] == "示例省实施细则（删除）"
    bad = kinds_with(tmp_path, "b", head + 'remove_milestones = ["no_such_step"]\n')
    with pytest.raises(DomainError, match="no_such_step"):
        resolve_kind("people_congress", jurisdiction="990101", on=E, directory=bad)
