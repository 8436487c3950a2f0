"""`huanjie rounds create`: a province's whole 县乡两级 round — every county's and every township's
election, each township's under its county's — in one process and one transaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from service.cli import app
from workflow.clock import FixedClock
from workflow.commands import jurisdictions as jurisdiction_commands
from workflow.store.models import AuditEntry, Election, Reminder

JINGSHAN = Path(__file__).resolve().parent.parent / "examples" / "jingshan_2011.toml"
# 湖北省 → 荆门市 (a city between) → two counties; 随州市 → one county directly under the province.
TREE = [
    ("420000", "湖北省", "province", None),
    ("420800", "荆门市", "city", "420000"),
    ("420821", "京山县", "county", "420800"),
    ("420822", "沙洋县", "county", "420800"),
    ("421381", "广水市", "county", "420000"),
    ("420821100", "新市镇", "township", "420821"),
    ("420821101", "永兴镇", "township", "420821"),
    ("420821102", "曹武镇", "township", "420821"),
    ("420822100", "沙洋镇", "township", "420822"),
    ("420822101", "五里铺镇", "township", "420822"),
    ("421381100", "应山街道", "township", "421381"),
    ("420821900", "京山县开发区", "community", "420821"),  # not a township: no election
]


@pytest.fixture
def province(db, clock: FixedClock):
    with db.transaction() as session:
        for code, name, level, parent in TREE:
            jurisdiction_commands.add_jurisdiction(
                session, code=code, name=name, level=level, parent_code=parent, clock=clock, actor="test"
            )
    return db


def invoke(db, *args: str):
    result = CliRunner().invoke(app, ["--db", db.url, "--actor", "cli:clerk", *args])
    return result.exit_code, result.stdout, result.stderr


def create_round(db, *extra: str, province: str = "420000"):
    """`huanjie rounds create` for a province with the seed's plan."""
    return invoke(db, "rounds", "create", "--province", province, "--plan", str(JINGSHAN), *extra)


def counts(db) -> tuple[int, int, int]:
    with db.reading() as session:
        return tuple(
            session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (Election, Reminder, AuditEntry)
        )


def test_the_whole_province_in_one_command(province):
    code, out, err = create_round(province, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["county_count"] == 3 and doc["count"] == 3 + 6
    by_county = {c["jurisdiction"]: c for c in doc["counties"]}
    assert list(by_county) == ["420821", "420822", "421381"]  # code order, through the city or not
    assert [t["jurisdiction"] for t in by_county["420821"]["townships"]] == [
        "420821100",
        "420821101",
        "420821102",
    ]
    assert (
        by_county["420821"]["townships"][0]["title"]
        == "京山县2011年县乡两级人民代表大会代表换届选举（新市镇）"
    )
    with province.reading() as session:
        elections = {e.jurisdiction.code: e for e in session.execute(select(Election)).scalars()}
        for county in doc["counties"]:
            assert elections[county["jurisdiction"]].parent_election_id is None
            for township in county["townships"]:
                assert elections[township["jurisdiction"]].parent_election_id == county["id"]
        actors = set(
            session.execute(select(AuditEntry.actor).where(AuditEntry.action == "election.created")).scalars()
        )
    assert "420821900" not in elections and "420000" not in elections
    assert actors == {"cli:clerk"}
    assert counts(province)[1] > 0  # every election got its reminders


def test_only_the_counties_named(province):
    code, out, _ = create_round(province, "--county", "420822", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["count"] == 3 and [c["jurisdiction"] for c in doc["counties"]] == ["420822"]
    code, out, _ = create_round(province, "--county", "999999", "--json")
    assert code == 2 and json.loads(out)["error"]["field"] == "counties"


def test_a_failure_in_the_last_county_leaves_nothing(province, clock):
    with province.transaction() as session:  # a township whose title will be too long
        jurisdiction_commands.add_jurisdiction(
            session,
            code="421381101",
            name="长" * 160,
            level="township",
            parent_code="421381",
            clock=clock,
            actor="t",
        )
    before = counts(province)
    code, out, err = create_round(province, "--title", "{name}{name}", "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "E_BAD_TITLE", err
    assert counts(province) == before
    code, _, err = create_round(province, province="420821100")
    assert code == 2 and "没有县级行政区域" in err and "Traceback" not in err
