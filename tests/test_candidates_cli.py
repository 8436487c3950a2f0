"""`huanjie candidates …`, `huanjie tallies …`, `huanjie results …` end to end on a SQLite file:
exit codes, one JSON document on stdout, errors as {"error": {…}}."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from stdnum.cn import ric
from typer.testing import CliRunner

from demo.county import progress
from service.cli import app
from workflow.clock import FixedClock
from workflow.commands import elections
from workflow.plan import load_plan
from workflow.store import Database

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def make_id(seq: int) -> str:
    body = f"42082119800101{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture
def setup(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    db = Database(url)
    db.migrate()
    clock = FixedClock(datetime(2011, 9, 25, 4, tzinfo=UTC))
    with db.transaction() as s:
        eid = elections.create_election(
            s, load_plan(EXAMPLES / "jingshan_2011.toml"), clock=clock, actor="t"
        ).election.id
        progress(s, eid, today=date(2011, 9, 25), clock=clock, actor="t")
    db.dispose()
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(app, ["--db", url, "--actor", "cli-test", *args])
        return result.exit_code, result.stdout

    return eid, run, tmp_path


def test_candidates_flow_on_the_command_line(setup):
    eid, run, tmp = setup
    e = str(eid)
    code, out = run("candidates", "district", e, "--district", "01", "--seats", "1", "--json")
    assert code == 0 and json.loads(out)["seats"] == 1
    supporters = tmp / "ids.txt"
    supporters.write_text("\n".join(make_id(i) for i in range(1, 11)) + "\n", encoding="utf-8")
    code, out = run(
        "candidates",
        "nominate",
        e,
        "--district",
        "01",
        "--name",
        "张三",
        "--sex",
        "female",
        "--occupation",
        "farmer",
        "--by",
        "voters",
        "--supporters-file",
        str(supporters),
        "--json",
    )
    assert code == 0 and json.loads(out)["supporters"] == 10
    for name, org in (("李四", "中国共产党"), ("王五", "共青团")):
        code, _ = run(
            "candidates",
            "nominate",
            e,
            "--district",
            "01",
            "--name",
            name,
            "--sex",
            "male",
            "--occupation",
            "cadre",
            "--by",
            "party",
            "--nominator",
            org,
            "--party",
            "中国共产党",
        )
        assert code == 0
    code, out = run(
        "candidates",
        "nominate",
        e,
        "--district",
        "01",
        "--name",
        "赵六",
        "--sex",
        "x",
        "--occupation",
        "farmer",
        "--by",
        "party",
        "--nominator",
        "民盟",
        "--json",
    )
    assert code == 2 and json.loads(out)["error"]["field"] == "sex"
    code, out = run("candidates", "publish-preliminary", e, "--on", "2011-09-30", "--json")
    assert code == 0 and json.loads(out)["districts"][0]["next"] == "consultation_or_primary"
    code, out = run("candidates", "publish-official", e, "--on", "2011-10-10", "--json")
    error = json.loads(out)["error"]
    assert code == 2 and error["code"] == "E_RATIO_OUT_OF_BOUNDS" and "选区 01" in error["message"]
    code, out = run(
        "candidates",
        "primary",
        e,
        "--district",
        "01",
        "--votes",
        "张三=50",
        "--votes",
        "李四=40",
        "--votes",
        "王五=10",
        "--json",
    )
    assert code == 0 and json.loads(out)["kept"] == ["张三", "李四"]
    code, out = run("candidates", "publish-official", e, "--on", "2011-10-10", "--json")
    report = json.loads(out)
    assert code == 0 and report["milestone"] == "official_candidates_published"
    code, out = run("candidates", "published", e, "--stage", "official", "--json")
    assert code == 0 and [c["name"] for c in json.loads(out)["districts"][0]["candidates"]] == [
        "张三",
        "李四",
    ]
    code, out = run("candidates", "structure", e, "--json")
    assert code == 0 and json.loads(out)["total"] == 2
    code, out = run("candidates", "conflicts", e, "--json")
    assert code == 0 and json.loads(out)["conflicts"] == []
    code, _ = run("candidates", "committee", "add", e, "--name", "李四", "--role", "委员")
    assert code == 0
    code, out = run("candidates", "conflicts", e, "--json")
    assert code == 1 and json.loads(out)["conflicts"][0]["candidate"] == "李四"
    code, out = run(
        "candidates",
        "proxies",
        "add",
        e,
        "--district",
        "01",
        "--grantor",
        "甲",
        "--grantor-id",
        make_id(1),
        "--holder",
        "乙",
        "--holder-id",
        make_id(2),
        "--consent",
        "WT-1",
        "--json",
    )
    assert code == 2 and json.loads(out)["error"]["code"] == "E_PROXY_NOT_APPROVED"
    code, out = run(
        "candidates",
        "mobile-boxes",
        "add",
        e,
        "--district",
        "01",
        "--label",
        "1号",
        "--reason",
        "病残",
        "--scrutineer",
        "丙",
        "--scrutineer",
        "丁",
        "--staff",  # Hubei (the seed): at least 3 people including 2 scrutineers
        "戊",
        "--json",
    )
    assert code == 0 and json.loads(out)["scrutineers"] == ["丙", "丁"]
    code, out = run(  # EL 43 ¶2: a candidate's close relative may not scrutinise
        "candidates", "mobile-boxes", "add", e, "--district", "01", "--label", "2号", "--reason", "病残",
        "--scrutineer", "庚", "--scrutineer", "辛", "--staff", "壬", "--relative", "辛:李四:女儿", "--json",
    )
    assert code == 2 and json.loads(out)["error"]["code"] == "E_SCRUTINEER_IS_RELATIVE"
    code, out = run("results", "show", e, "--json")
    assert code == 0 and json.loads(out)["districts"][0]["status"] == "awaiting"
    code, out = run("results", "publish", e, "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "E_RESULTS_PENDING"


def test_tallies_record_counts_with_the_tally_rules(setup):
    eid, run, tmp = setup
    e = str(eid)
    run("candidates", "district", e, "--district", "01", "--seats", "1")
    for name, org in (("张三", "中国共产党"), ("李四", "共青团")):
        run(
            "candidates",
            "nominate",
            e,
            "--district",
            "01",
            "--name",
            name,
            "--sex",
            "male",
            "--occupation",
            "worker",
            "--by",
            "party",
            "--nominator",
            org,
        )
    run("candidates", "publish-preliminary", e, "--on", "2011-09-30")
    run("candidates", "publish-official", e, "--on", "2011-10-10")
    run("milestones", "complete", e, "voter_appeals_closed", "--on", "2011-09-28")
    code, _ = run("elections", "advance", e)
    assert code == 0
    tally = {
        "kind": "people_congress",
        "seats": 1,
        "registered_voters": 1000,
        "ballots_issued": 800,
        "ballots_returned": 800,
        "invalid_ballots": 10,
        "votes": {"张三": 500, "李四": 290},
        "round": 1,
    }
    path = tmp / "tally.json"
    path.write_text(json.dumps(tally, ensure_ascii=False), encoding="utf-8")
    code, out = run("tallies", "record", e, str(path), "--district", "01", "--json")
    payload = json.loads(out)
    assert code == 0 and payload["result"]["elected"] == ["张三"] and payload["next"] is None
    code, out = run("results", "publish", e, "--on", "2011-10-18", "--json")
    assert code == 0 and json.loads(out)["milestone"] == "results_published"
