"""The voters CLI: JSON documents and exit codes of CONTRACTS.md (0 committed, 1 rejected rows
and nothing committed, 2 bad input), masking, and the registrar-only full IDs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from service.cli import app
from tests.voters_support import make_election, number, synthetic_csv, write_csv
from workflow.clock import FixedClock
from workflow.store import Database

runner = CliRunner()


@pytest.fixture
def setup(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    database = Database(url)
    database.migrate()
    election_id = make_election(database, FixedClock(datetime(2011, 8, 20, 2, tzinfo=UTC)))
    database.dispose()
    return url, election_id


def run(url, *args):
    result = runner.invoke(app, ["--db", url, "--actor", "registrar-1", *args])
    return result.exit_code, result.stdout, result.stderr


def test_import_json_and_exit_codes(setup, tmp_path):
    url, election_id = setup
    good = synthetic_csv(tmp_path / "good.csv", 30)
    code, out, _ = run(url, "voters", "import", str(good), "--election", str(election_id), "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= {"accepted", "warnings", "rejected", "duplicates"} and doc["accepted"] == 30
    code, out, _ = run(url, "voters", "import", str(good), "--election", str(election_id), "--json")
    assert code == 0 and json.loads(out)["accepted"] == 0

    header = ["姓名", "身份证号", "选区"]
    bad = write_csv(
        tmp_path / "bad.csv",
        header,
        [
            ["甲", number(date(1970, 1, 1), 50), "01"],
            ["乙", "420821700101001", "01"],
            ["甲二", number(date(1970, 1, 1), 50), "02"],
        ],
    )
    code, out, _ = run(url, "voters", "import", str(bad), "--election", str(election_id), "--json")
    doc = json.loads(out)
    assert code == 1 and doc["accepted"] == 1 and doc["committed"] is False
    assert doc["rejected"] == [{"row": 3, "column": "身份证号", "reason": doc["rejected"][0]["reason"]}]
    assert doc["duplicates"] == [{"id_masked": doc["duplicates"][0]["id_masked"], "rows": [2, 4]}]
    code, out, _ = run(url, "districts", "list", str(election_id), "--json")
    assert sum(d["voters"] for d in json.loads(out)["districts"]) == 30  # nothing committed
    code, out, _ = run(
        url, "voters", "import", str(bad), "--election", str(election_id), "--json", "--accept-valid"
    )
    assert code == 0 and json.loads(out)["accepted"] == 1

    code, out, _ = run(
        url, "voters", "import", str(tmp_path / "none.csv"), "--election", str(election_id), "--json"
    )
    assert code == 2 and json.loads(out)["error"]["code"] == "E_FILE_NOT_FOUND"
    code, out, _ = run(url, "voters", "import", str(good), "--election", "999", "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "E_NOT_FOUND"


def test_full_ids_only_for_registrars(setup, tmp_path):
    url, election_id = setup
    run(url, "voters", "import", str(synthetic_csv(tmp_path / "v.csv", 5)), "--election", str(election_id))
    out_file = tmp_path / "reg.xlsx"
    code, out, _ = run(
        url, "voters", "export", "--election", str(election_id), "-o", str(out_file), "--full-ids", "--json"
    )
    assert code == 2 and json.loads(out)["error"]["code"] == "E_FORBIDDEN"
    code, out, _ = run(url, "voters", "export", "--election", str(election_id), "-o", str(out_file), "--json")
    assert code == 0 and json.loads(out)["rows"] == 5
    rows = list(load_workbook(out_file).active.iter_rows(values_only=True))
    assert all("*" in r[8] for r in rows[2:])
    code, out, _ = run(
        url,
        "voters",
        "export",
        "--election",
        str(election_id),
        "-o",
        str(out_file),
        "--full-ids",
        "--role",
        "registrar",
    )
    assert code == 0
    rows = list(load_workbook(out_file).active.iter_rows(values_only=True))
    assert all("*" not in r[8] and len(r[8]) == 18 for r in rows[2:])
    database = Database(url)
    with database.reading() as session:
        from sqlalchemy import select

        from workflow.store.models import AuditEntry

        actions = session.execute(select(AuditEntry.action, AuditEntry.actor)).all()
    database.dispose()
    assert ("voters.full_ids_shown", "registrar-1") in actions


def test_districts_add_and_bad_seats(setup):
    url, election_id = setup
    code, out, _ = run(url, "districts", "add", str(election_id), "03", "第三选区", "--seats", "2", "--json")
    assert code == 0 and json.loads(out) == {
        "code": "03",
        "name": "第三选区",
        "seats": 2,
        "population": None,
        "area": None,
    }
    code, out, _ = run(url, "districts", "add", str(election_id), "04", "第四选区", "--seats", "4", "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "E_DISTRICT_SEATS"
    code, out, _ = run(url, "districts", "add", str(election_id), "03", "重复", "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "E_DUPLICATE"


def test_districts_add_with_area_and_too_long_area(setup):
    url, election_id = setup
    scope = "新市镇城关社区、五里铺村"
    code, out, _ = run(url, "districts", "add", str(election_id), "03", "第三选区", "--area", f"  {scope} ", "--json")
    assert code == 0 and json.loads(out)["area"] == scope  # stripped
    code, out, _ = run(url, "districts", "add", str(election_id), "04", "第四选区", "--area", "  ", "--json")
    assert code == 0 and json.loads(out)["area"] is None  # blank: no scope
    code, out, _ = run(url, "districts", "add", str(election_id), "05", "第五选区", "--area", "村" * 2001, "--json")
    error = json.loads(out)["error"]
    assert code == 2 and (error["code"], error["field"]) == ("E_DISTRICT_INVALID", "area")
    assert "选区范围" in error["message"] and "2000" in error["message"]
    code, out, _ = run(url, "districts", "list", str(election_id), "--json")
    listed = {d["code"]: d["area"] for d in json.loads(out)["districts"]}
    assert listed == {"01": None, "02": None, "03": scope, "04": None}  # nothing written for 05
    code, _, err = run(url, "districts", "list", str(election_id))
    assert code == 0 and f"范围 {scope}" in err
    database = Database(url)
    with database.reading() as session:
        from sqlalchemy import select

        from workflow.store.models import AuditEntry

        added = session.execute(
            select(AuditEntry.entity_id, AuditEntry.after).where(AuditEntry.action == "district.added")
        ).all()
    database.dispose()
    assert {entity: after["area"] for entity, after in added} == {
        f"{election_id}/01": None,
        f"{election_id}/02": None,
        f"{election_id}/03": scope,
        f"{election_id}/04": None,
    }


def test_demo_has_districts_and_voters(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    code, out, _ = run(url, "demo", "--now", "2026-11-26T10:00:00", "--json")
    assert code == 0
    county = json.loads(out)["elections"]["county"]
    code, out, _ = run(url, "districts", "list", str(county), "--json")
    districts = json.loads(out)["districts"]
    assert len(districts) == 8 and all(1 <= d["seats"] <= 3 for d in districts)
    # Each demo district's scope lies in its own township (新市镇第一选区 → 新市镇城关社区、…).
    assert all(d["area"].startswith(d["name"][:3]) for d in districts)
    assert sum(d["voters"] for d in districts) == 2400
    code, out, _ = run(
        url, "voters", "export", "--election", str(county), "--format", "csv", "-o", str(tmp_path / "r.csv")
    )
    assert code == 0
    lines = (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2401 and ",420821****" in lines[1]


def test_appeals_cli_before_and_after_publication(setup, tmp_path):
    url, election_id = setup
    run(url, "voters", "import", str(synthetic_csv(tmp_path / "v.csv", 4)), "--election", str(election_id))
    args = [
        "appeals",
        "file",
        "--election",
        str(election_id),
        "--filer",
        "甲",
        "--request",
        "add",
        "--subject-name",
        "乙",
        "--subject-id",
        number(date(1970, 1, 1), 60),
        "--district",
        "01",
        "--reason",
        "漏登",
        "--json",
    ]
    code, out, _ = run(url, *args)
    assert code == 2 and json.loads(out)["error"]["code"] == "E_LIST_NOT_PUBLISHED"
    code, out, _ = run(url, "appeals", "list", "--election", str(election_id), "--json")
    assert code == 2
    # The seed plan's election day (2011) is past: the records are entered with their own dates,
    # inside the election's schedule (a list published after election day is refused).
    code, out, _ = run(url, "voters", "publish", "--election", str(election_id), "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "E_DATE_OUT_OF_RANGE"
    code, out, _ = run(url, "voters", "publish", "--election", str(election_id), "--on", "2011-09-20", "--json")
    assert code == 0 and json.loads(out)["voters"] == 4
    code, out, _ = run(url, *args[:-1], "--on", "2011-09-22", "--json")
    assert code == 0
    appeal = json.loads(out)
    assert appeal["status"] == "pending" and appeal["court_suit_deadline"] == "2011-10-13"
    assert date.fromisoformat(appeal["decide_by"]) - date.fromisoformat(appeal["filed_on"]) == timedelta(
        days=3
    )
    code, out, _ = run(url, "appeals", "decide", str(appeal["id"]), "--rejected", "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "E_REASON_REQUIRED"
    code, out, _ = run(url, "appeals", "decide", str(appeal["id"]), "--upheld", "--on", "2011-09-24", "--json")
    assert code == 0 and json.loads(out)["status"] == "upheld"
    code, out, _ = run(
        url,
        "voters",
        "export",
        "--election",
        str(election_id),
        "--list",
        "supplementary",
        "--format",
        "csv",
        "-o",
        str(tmp_path / "s.csv"),
        "--json",
    )
    assert code == 0 and json.loads(out)["rows"] == 1
    assert "增补" in (tmp_path / "s.csv").read_text(encoding="utf-8-sig")
