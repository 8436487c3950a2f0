"""Publishing on SQLite and PostgreSQL: numbers, versions, snapshot, hash, milestone, audit, CLI."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from demo import samples
from notices.render import render_html
from tests.service_fixtures import load_demo
from workflow.clock import FixedClock
from workflow.commands import notice_data
from workflow.commands import notices as commands
from workflow.commands.elections import get_election
from workflow.errors import DomainError
from workflow.store.audit import verify
from workflow.store.models import AuditEntry
from workflow.store.notices import Notice

CLOCK = FixedClock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
DISTRICTS = samples.districts(2)
VOTERS = {d["code"]: samples.voters(25, seed=i) for i, d in enumerate(DISTRICTS)}
DATA = dict(
    notice_data.PROVIDERS, districts=lambda s, e, d: DISTRICTS, voters=lambda s, e, d: VOTERS.get(d, [])
)


@pytest.fixture
def county(db):
    elections = load_demo(db, CLOCK.now())  # what build_demo(clock=CLOCK) writes, built once
    return db, elections["county"]


def test_publish_numbers_versions_and_never_overwrites(county):
    db, election_id = county
    with db.transaction() as session:
        first = commands.publish_notice(
            session, election_id, "election_day", fmt="html", clock=CLOCK, actor="a"
        )
    with db.transaction() as session:
        again = commands.publish_notice(
            session, election_id, "election_day", fmt="html", clock=CLOCK, actor="b", date_style="chinese"
        )
    with db.transaction() as session:
        other = commands.publish_notice(
            session, election_id, "election_committee_formed", fmt="html", clock=CLOCK, actor="a"
        )
    with db.reading() as session:
        rows = session.execute(select(Notice).order_by(Notice.id)).scalars().all()
        assert [(n.template, n.version, n.number) for n in rows] == [
            ("election_day", 1, "京选公〔2026〕1号"),
            ("election_day", 2, "京选公〔2026〕1号"),
            ("election_committee_formed", 1, "京选公〔2026〕2号"),
        ]
        v1, v2 = rows[0], rows[1]
        assert v1.content != v2.content  # v1 kept as published (Arabic date), v2 has Chinese numerals
        assert "2026年11月26日" in v1.content.decode() and "二〇二六年十一月二十六日" in v2.content.decode()
        for n in rows:
            assert n.sha256 == hashlib.sha256(n.content).hexdigest() and n.size == len(n.content)
            assert n.template_version.startswith("1:") and n.published_at == CLOCK.now()
            # The snapshot re-renders to the very bytes that were published.
            assert hashlib.sha256(render_html(n.template, n.data).encode()).hexdigest() == n.sha256
        assert v1.published_by == "a" and v2.published_by == "b"
        audit = (
            session.execute(select(AuditEntry).where(AuditEntry.action == "notice.published")).scalars().all()
        )
        assert [a.after["version"] for a in audit] == [1, 2, 1]
        assert verify(session).ok
    assert first.notice.id != again.notice.id != other.notice.id


def test_numbers_restart_each_year_and_are_per_committee(county):
    db, election_id = county
    with db.transaction() as session:
        township = commands.publish_notice(
            session, election_id + 1, "election_day", fmt="html", clock=CLOCK, actor="a"
        )
        county_notice = commands.publish_notice(
            session, election_id, "election_day", fmt="html", clock=CLOCK, actor="a"
        )
        older = commands.publish_notice(
            session,
            election_id,
            "election_committee_formed",
            fmt="html",
            clock=CLOCK,
            actor="a",
            on=date(2025, 12, 31),
        )
    assert township.notice.number == "新选公〔2026〕1号"  # 新市镇's committee
    assert county_notice.notice.number == "京选公〔2026〕1号"
    assert older.notice.number == "京选公〔2025〕1号"


def test_publishing_the_bound_notice_completes_its_milestone(county):
    db, election_id = county
    with db.transaction() as session:
        result = commands.publish_notice(
            session, election_id, "districts_published", fmt="html", clock=CLOCK, actor="a", providers=DATA
        )
        assert result.milestone_completed == "districts_published"
    with db.reading() as session:
        milestone = get_election(session, election_id).milestone("districts_published")
        assert milestone.status == "done" and milestone.done_on == date(2026, 11, 26)


def test_voter_list_milestone_completes_with_the_last_district(county):
    db, election_id = county
    with db.transaction() as session:
        commands.publish_notice(
            session, election_id, "districts_published", fmt="html", clock=CLOCK, actor="a", providers=DATA
        )
        first = commands.publish_notice(
            session,
            election_id,
            "voter_list",
            district=DISTRICTS[0]["code"],
            fmt="html",
            clock=CLOCK,
            actor="a",
            providers=DATA,
        )
        assert first.milestone_completed is None and "还有 1 个选区未公布" in first.milestone_note
        last = commands.publish_notice(
            session,
            election_id,
            "voter_list",
            district=DISTRICTS[1]["code"],
            fmt="html",
            clock=CLOCK,
            actor="a",
            providers=DATA,
        )
        assert last.milestone_completed == "voter_list_published"
        assert first.notice.number != last.notice.number  # one number per district list
    with db.reading() as session:
        assert get_election(session, election_id).milestone("voter_list_published").status == "done"


def test_refused_milestone_leaves_nothing_written(county):
    db, election_id = county
    results = samples.results(DISTRICTS, samples.candidates(DISTRICTS))
    with db.reading() as session:
        before = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    with_results = {**notice_data.PROVIDERS, "results": lambda s, e, d: results}
    with pytest.raises(DomainError) as caught, db.transaction() as session:
        commands.publish_notice(
            session, election_id, "results", fmt="html", clock=CLOCK, actor="a", providers=with_results
        )
    assert caught.value.code == "E_BEFORE_EARLIEST"  # EL 45-46: results not before election day
    with db.reading() as session:
        assert session.execute(select(func.count()).select_from(Notice)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == before


def test_publish_refuses_future_dates_and_missing_data(county):
    db, election_id = county
    with db.transaction() as session:
        with pytest.raises(DomainError) as caught:
            commands.publish_notice(
                session, election_id, "election_day", on=date(2026, 11, 27), clock=CLOCK, actor="a"
            )
        assert caught.value.code == "E_DATE_IN_FUTURE"
        with pytest.raises(DomainError) as caught:
            commands.publish_notice(
                session, election_id, "voter_list", district="420821-001", clock=CLOCK, actor="a"
            )
        # The demo county's districts come from the District table: this one is not among them.
        assert caught.value.code == "E_UNKNOWN_DISTRICT"


def test_pdf_publication_is_stored(county):
    db, election_id = county
    with db.transaction() as session:
        published = commands.publish_notice(
            session, election_id, "election_committee_formed", clock=CLOCK, actor="a"
        )
    assert published.notice.format == "pdf" and published.notice.content.startswith(b"%PDF")


def test_cli_list_render_publish(county, tmp_path, monkeypatch):
    from service.cli import app
    from service.cli.common import CliState

    db, election_id = county
    monkeypatch.setattr(CliState, "database", lambda self: db)
    original = CliState.__init__

    def fixed(self, *args, **kwargs):  # the CLI's clock is the test's fixed clock
        original(self, *args, **kwargs)
        self.clock = CLOCK

    monkeypatch.setattr(CliState, "__init__", fixed)
    runner = CliRunner()
    out = tmp_path / "n.html"
    result = runner.invoke(
        app,
        [
            "notices",
            "render",
            str(election_id),
            "election_committee_formed",
            "--format",
            "html",
            "-o",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["number"] == "京选公〔2026〕1号"
    assert "京山县选举委员会公告" in out.read_text()
    result = runner.invoke(
        app, ["notices", "publish", str(election_id), "election_day", "--format", "html", "--json"]
    )
    assert result.exit_code == 0, result.output
    published = json.loads(result.stdout)
    assert published["version"] == 1 and published["number"] == "京选公〔2026〕1号"
    result = runner.invoke(app, ["notices", "list", str(election_id), "--json"])
    listing = {t["template"]: t for t in json.loads(result.stdout)["templates"]}
    assert listing["election_day"]["published"][0]["sha256"] == published["sha256"]
    # workflow.commands.notice_data provides the voter, candidate and result data.
    assert listing["voter_list"]["ready"] is True and listing["voter_list"]["missing_data"] == []
    result = runner.invoke(
        app,
        [
            "notices",
            "render",
            str(election_id),
            "voter_list",
            "--district",
            "420821-001",
            "--format",
            "pdf",
            "-o",
            str(tmp_path / "v.pdf"),
            "--json",
        ],
    )
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "E_UNKNOWN_DISTRICT"
    assert not (tmp_path / "v.pdf").exists()


@pytest.mark.parametrize("fmt", ["html", "docx", "pdf"])
def test_verify_rerenders_the_snapshot_to_the_same_bytes(county, fmt):
    db, election_id = county
    with db.transaction() as session:
        published = commands.publish_notice(
            session, election_id, "election_day", fmt=fmt, clock=CLOCK, actor="a"
        )
        notice_id = published.notice.id
    with db.reading() as session:
        report = commands.verify_notice(session, notice_id)
    assert report["ok"] and report["rerender_matches"] and report["template_unchanged"]
    with db.transaction() as session:  # tamper with the stored file
        notice = session.get(Notice, notice_id)
        notice.content = notice.content[:-1] + bytes([notice.content[-1] ^ 1])
    with db.reading() as session:
        report = commands.verify_notice(session, notice_id)
    assert not report["ok"] and not report["content_matches_hash"]
