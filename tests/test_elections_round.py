"""A round: one plan, many jurisdictions (the townships of a county in 县乡两级换届), one
transaction, the reminders written together and fanned out by the database."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from schedules.sweep import sweep
from service.cli import app
from tests.scheduler_helpers import JINGSHAN, contacts, setup_jingshan, stage_from, start
from workflow.clock import FixedClock
from workflow.commands import elections as commands
from workflow.commands import jurisdictions as jurisdiction_commands
from workflow.errors import DomainError
from workflow.plan import load_plan
from workflow.store import reminders
from workflow.store.audit import verify
from workflow.store.models import AuditEntry, Election, Milestone, Reminder

TOWNSHIPS = [(f"420821{100 + i}", name) for i, name in enumerate(
    ["新市镇", "永兴镇", "曹武镇", "罗店镇", "宋河镇", "坪坝镇", "三阳镇", "绿林镇", "杨集镇", "孙桥镇",
     "石龙镇", "钱场镇"]
)]  # fmt: skip


def add_townships(db, clock) -> None:
    with db.transaction() as session:
        for code, name in TOWNSHIPS:
            jurisdiction_commands.add_jurisdiction(
                session,
                code=code,
                name=name,
                level="township",
                parent_code="420821",
                clock=clock,
                actor="test",
                contacts=contacts(code),
            )


def reminder_values(session, election_id: int) -> list[tuple]:
    return [
        (r.milestone_key, r.kind, r.lead_days, r.target_date, r.fire_at, r.status, r.details)
        for r in session.execute(
            select(Reminder).where(Reminder.election_id == election_id).order_by(Reminder.id)
        ).scalars()
    ]


def counts(db) -> tuple[int, int, int, int]:
    with db.reading() as session:
        return tuple(
            session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (Election, Milestone, Reminder, AuditEntry)
        )


@pytest.mark.parametrize("path", ["direct", "staged"])
def test_a_round_gives_every_township_the_county_timetable(db, path, monkeypatch):
    clock = start()
    county = setup_jingshan(db, clock)
    add_townships(db, clock)
    staged: list[int] = []
    for name in ("_stage_sqlite", "_stage_postgres"):
        real = getattr(reminders, name)

        def spy(connection, pairs, timetables, now, real=real):
            staged.append(len(pairs))
            return real(connection, pairs, timetables, now)

        monkeypatch.setattr(reminders, name, spy)
    stage_from(monkeypatch, 100 if path == "staged" else 10**9)
    plan = dataclasses.replace(load_plan(JINGSHAN), parent_election=county)
    with db.transaction() as session:
        codes = jurisdiction_commands.child_codes(session, "420821", "township")
        created = commands.create_round(
            session, plan, codes, clock=clock, actor="test", title_format="{name}{title}"
        )
        ids = [e.id for e in created.elections]
    assert staged == ([12] if path == "staged" else [])  # the 12 townships, one shared timetable
    with db.reading() as session:
        rows = session.execute(select(Election).where(Election.id.in_(ids)).order_by(Election.id)).scalars()
        elections = list(rows)
        assert [(e.jurisdiction.code, e.title) for e in elections] == [
            (code, f"{name}京山县2011年县乡两级人民代表大会代表换届选举") for code, name in sorted(TOWNSHIPS)
        ]
        county_election = session.get(Election, county)
        plan_of = {m.key: (m.planned_date, m.earliest, m.latest) for m in county_election.milestones}
        expected = reminder_values(session, county)
        for election in elections:
            assert election.parent_election_id == county and election.state == "preparation"
            assert {m.key: (m.planned_date, m.earliest, m.latest) for m in election.milestones} == plan_of
            # Exactly what creating it alone writes: the county's rows, in the same order.
            assert reminder_values(session, election.id) == expected
        created_entries = session.execute(
            select(AuditEntry).where(AuditEntry.action == "election.created").order_by(AuditEntry.id)
        ).scalars()
        audited = [(e.entity_id, (e.after or {}).get("round_size")) for e in created_entries]
        assert audited == [(str(county), None)] + [(str(i), 12) for i in ids]
        assert verify(session).ok
    # The first countdown message goes to all thirteen committees at the same sweep.
    first = min(r[4] for r in expected)
    result = sweep(db, FixedClock(first))
    assert sorted(item.election_id for item in result.warnings) == sorted([county, *ids])


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (lambda codes: [*codes, "429999"], "E_NOT_FOUND", "jurisdictions"),
        (lambda codes: [*codes, codes[0]], "E_DUPLICATE_JURISDICTION", "jurisdictions"),
        (lambda codes: [], "E_NO_JURISDICTIONS", "jurisdictions"),
    ],
)
def test_a_bad_round_writes_nothing(db, change, code, field):
    clock = start()
    setup_jingshan(db, clock)
    add_townships(db, clock)
    before = counts(db)
    with pytest.raises(DomainError) as raised, db.transaction() as session:
        codes = jurisdiction_commands.child_codes(session, "420821")
        commands.create_round(session, load_plan(JINGSHAN), change(codes), clock=clock, actor="test")
    assert (raised.value.code, raised.value.field) == (code, field)
    if code == "E_NOT_FOUND":
        assert "429999" in raised.value.message
    assert counts(db) == before


def test_a_bad_title_format_names_the_field(db):
    clock = start()
    setup_jingshan(db, clock)
    add_townships(db, clock)
    with pytest.raises(DomainError) as raised, db.transaction() as session:
        commands.create_round(
            session, load_plan(JINGSHAN), ["420821100"], clock=clock, actor="test", title_format="{town}"
        )
    assert (raised.value.code, raised.value.field) == ("E_BAD_TITLE", "title")
    assert "{name}" in raised.value.message


def test_cli_create_round_under_a_county(tmp_path):
    runner = CliRunner()
    db = ["--db", f"sqlite:///{tmp_path / 'round.sqlite3'}"]

    def run(*args):
        result = runner.invoke(app, [*db, *args])
        return result.exit_code, result.stdout

    assert run("jurisdictions", "add", "420821", "京山县", "--level", "county")[0] == 0
    for code, name in TOWNSHIPS[:3]:
        assert run("jurisdictions", "add", code, name, "--level", "township", "--parent", "420821")[0] == 0
    assert (
        run(
            "jurisdictions", "add", "420821900", "京山县开发区", "--level", "community", "--parent", "420821"
        )[0]
        == 0
    )
    code, out = run(
        "elections",
        "create-round",
        "--plan",
        str(JINGSHAN),
        "--under",
        "420821",
        "--level",
        "township",
        "--json",
    )
    assert code == 0, out
    doc = json.loads(out)
    assert doc["count"] == 3 and doc["accepted_violations"] == []
    assert [e["jurisdiction"] for e in doc["elections"]] == [c for c, _ in TOWNSHIPS[:3]]
    assert doc["elections"][0]["title"] == "京山县2011年县乡两级人民代表大会代表换届选举（新市镇）"
    code, out = run(
        "elections",
        "create-round",
        "--plan",
        str(JINGSHAN),
        "--jurisdiction",
        "420821",
        "--jurisdiction",
        "420821999",
        "--json",
    )
    assert code == 2 and json.loads(out)["error"]["field"] == "jurisdictions"
    code, out = run("elections", "list", "--json")
    assert len(json.loads(out)) == 3  # the refused round left nothing behind
