"""Statutory sentences a notice prints follow the statute version the election runs under: the
kinds' `[texts]` tables (config/kinds/*.toml), overlaid per version like the citations."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from workflow.clock import FixedClock
from workflow.commands import notices
from workflow.commands.elections import create_election
from workflow.kinds import resolve_kind
from workflow.plan import load_plan
from workflow.store import Database

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "residents_committee.toml"
RCL_2018_ART_8 = (
    "居民委员会主任、副主任和委员，由本居住地区全体有选举权的居民或者由每户派代表选举产生；"
    "根据居民意见，也可以由每个居民小组选举代表二至三人选举产生"
)
RCL_2025_ART_14 = (
    "居民委员会主任、副主任和委员，由本社区全体有选举权的居民或者由每户派代表选举产生；"
    "根据居民意见，也可以由居民代表选举产生"
)


@pytest.fixture
def database(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'texts.sqlite3'}")
    db.migrate()
    yield db
    db.dispose()


def _announcement(db: Database, tmp_path: Path, year: int) -> str:
    """The residents' 选举公告 of the seed's community election moved to `year`."""
    plan_file = tmp_path / f"residents-{year}.toml"
    seed = EXAMPLE.read_text(encoding="utf-8").replace("第八届", f"{year}年")
    # RCL 2025 art. 17: the list twenty days before election day (the seed's was nineteen)
    seed = seed.replace("voter_list_published = 2007-03-22", "voter_list_published = 2007-03-20")
    plan_file.write_text(seed.replace("2007-", f"{year}-"), encoding="utf-8")
    plan = load_plan(plan_file)
    clock = FixedClock(datetime(year, 3, 25, 2, 0, tzinfo=UTC))
    with db.transaction() as session:
        election = create_election(session, plan, clock=clock, actor="test").election
        rendered = notices.render_notice(session, election.id, "residents_announcement", clock=clock)
    body = rendered.html.split("</style>", 1)[1]
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", body))


def test_a_2021_residents_notice_prints_the_2018_sentence(database, tmp_path):
    text = _announcement(database, tmp_path, 2021)
    assert RCL_2018_ART_8 + "。" in text
    assert "根据《中华人民共和国城市居民委员会组织法》第八条的规定" in text
    assert "也可以由居民代表选举产生" not in text
    assert "选民名单在本居住地区公告栏另行张贴公布" in text
    # the 2018 text names no election body (the provinces do): the committee's recorded name signs
    assert "向新市镇阳光社区选举委员会提出" in text and "居民选举委员会" not in text


def test_a_2026_residents_notice_prints_the_2025_sentence(database, tmp_path):
    text = _announcement(database, tmp_path, 2026)
    assert RCL_2025_ART_14 + "。" in text
    assert "第十四条第一款" in text
    assert "本居住地区" not in text
    assert "选民名单在本社区公告栏另行张贴公布" in text
    # signed by the body RCL 2025 art. 15 names, not the congress election's 选举委员会
    assert "向新市镇阳光社区居民选举委员会提出" in text and "新市镇阳光社区居民选举委员会2026年" in text


@pytest.mark.parametrize(("on", "statute", "sentence"), [(date(2021, 5, 1), "2018", RCL_2018_ART_8), (date(2026, 5, 1), "2025", RCL_2025_ART_14)])  # fmt: skip
def test_the_texts_table_is_overlaid_per_statute_version(on, statute, sentence):
    kind = resolve_kind("residents_committee", on=on)
    assert kind.statute == statute and kind.texts["elected_by"] == sentence
    # the election-day milestone quotes the same article (the 2018 one its first clause)
    assert sentence.startswith(kind.milestones["election_day"].text)


def test_a_village_notice_is_signed_by_the_villagers_election_committee(database):
    """VCL 2025 art. 15: 村民委员会的选举，由村民选举委员会主持; the warning cites the 2025 numbering."""
    plan = load_plan(EXAMPLE.with_name("village_committee.toml"))
    clock = FixedClock(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    with database.transaction() as session:
        election = create_election(session, plan, clock=clock, actor="test").election
        rendered = notices.render_notice(session, election.id, "deadline_warning", clock=clock)
    text = re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", rendered.html.split("</style>", 1)[1]))
    assert rendered.context["doc"]["issuer"] == "永兴镇长岗村村民选举委员会"
    assert "永兴镇长岗村村民选举委员会2026年11月20日" in text
    milestone = resolve_kind("village_committee", on=plan.anchor).milestones[
        rendered.context["warning"]["key"]
    ]
    assert (
        milestone.source.startswith("村委会组织法第")
        and f"依据：{milestone.source}：{milestone.text}" in text
    )
