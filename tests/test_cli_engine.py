"""The huanjie CLI for the engine: exit codes and JSON documents of CONTRACTS.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
runner = CliRunner()


@pytest.fixture
def dburl(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cli.sqlite3'}"


def run(*args: str):
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def as_json(stdout: str):
    return json.loads(stdout)


def test_plan_check_clean(tmp_path):
    code, out, _ = run("plan", "check", str(EXAMPLES / "jingshan_2011.toml"), "--json")
    assert code == 0
    doc = as_json(out)
    assert doc["ok"] is True and doc["kind"] == "people_congress" and doc["election_day"] == "2011-10-18"
    assert doc["violations"] == []
    assert {m["key"] for m in doc["milestones"]} >= {"court_suit_deadline", "congress_convened"}
    suit = next(m for m in doc["milestones"] if m["key"] == "court_suit_deadline")
    assert suit == {
        "key": "court_suit_deadline",
        "planned": None,
        "latest": "2011-10-13",
        "earliest": None,
        "ok": True,
        "rule": suit["rule"],
    }


def test_plan_check_violation_exit_1(tmp_path):
    plan = tmp_path / "late.toml"
    plan.write_text(
        (EXAMPLES / "jingshan_2011.toml")
        .read_text(encoding="utf-8")
        .replace("official_candidates_published = 2011-10-10", "official_candidates_published = 2011-10-12"),
        encoding="utf-8",
    )
    code, out, _ = run("plan", "check", str(plan), "--json")
    assert code == 1
    doc = as_json(out)
    assert doc["ok"] is False
    assert [v["key"] for v in doc["violations"]] == ["official_candidates_published"]
    assert doc["violations"][0]["latest"] == "2011-10-11"
    assert "选举法第三十一条" in doc["violations"][0]["rule"]  # 2011: the 2010 text's numbering


@pytest.mark.parametrize(
    ("edit", "code", "field"),
    [
        (lambda t: t.replace('kind = "people_congress"', 'kind = "senate"'), "E_UNKNOWN_KIND", "kind"),
        (
            lambda t: t.replace("quotas_allocated =", "quota_allocated ="),
            "E_UNKNOWN_MILESTONE",
            "milestones.quota_allocated",
        ),
        (
            lambda t: t.replace("voter_list_published = 2011-09-20", 'voter_list_published = "2011-9-20x"'),
            "E_BAD_DATE",
            "milestones.voter_list_published",
        ),
        (lambda t: t.replace("election_day = 2011-10-18\n", "", 1), "E_MISSING_ANCHOR", "election_day"),
    ],
)
def test_bad_input_exit_2_and_nothing_written(tmp_path, dburl, edit, code, field):
    plan = tmp_path / "bad.toml"
    plan.write_text(edit((EXAMPLES / "jingshan_2011.toml").read_text(encoding="utf-8")), encoding="utf-8")
    exit_code, out, _ = run("plan", "check", str(plan), "--json")
    assert exit_code == 2
    assert as_json(out) == {
        "error": {"code": code, "message": as_json(out)["error"]["message"], "field": field}
    }
    exit_code, out, _ = run("--db", dburl, "elections", "create", "--plan", str(plan), "--json")
    assert exit_code == 2 and as_json(out)["error"]["code"] == code
    exit_code, out, _ = run("--db", dburl, "elections", "list", "--json")
    assert exit_code == 0 and as_json(out) == []
    exit_code, out, _ = run("--db", dburl, "audit", "verify", "--json")
    assert as_json(out)["entries"] == 0


def test_missing_plan_file_exit_2(tmp_path):
    code, _, err = run("plan", "check", str(tmp_path / "nope.toml"))
    assert code == 2 and "找不到计划文件" in err


def test_quota_json():
    code, out, _ = run("quota", "--level", "county", "--population", "650000", "--json")
    assert code == 0 and as_json(out)["seats"] == 270
    code, out, _ = run("quota", "--level", "county", "--population", "650000", "--statute", "2010", "--json")
    assert as_json(out)["seats"] == 250
    code, out, _ = run("quota", "--level", "township", "--population", "30000", "--json")
    assert as_json(out)["seats"] == 65 and "第十二条" in as_json(out)["rule"]
    code, out, _ = run("quota", "--level", "county", "--population", "40000", "--json")
    assert as_json(out)["may_be_fewer"] is True
    code, out, _ = run("quota", "--level", "province", "--population", "40000", "--json")
    assert code == 2 and as_json(out)["error"]["field"] == "level"


def test_create_advance_complete_show(tmp_path, dburl):
    plan = str(EXAMPLES / "jingshan_2011.toml")
    code, out, _ = run("--db", dburl, "elections", "create", "--plan", plan, "--json")
    assert code == 0
    election_id = as_json(out)["id"]
    code, out, _ = run("--db", dburl, "elections", "advance", str(election_id), "--json")
    assert code == 2
    doc = as_json(out)
    assert doc["error"]["code"] == "E_TRANSITION_REFUSED"
    assert [r["milestone"] for r in doc["refusals"]] == ["election_committee_formed", "quotas_allocated"]
    for key, day in (("election_committee_formed", "2011-08-26"), ("quotas_allocated", "2011-09-03")):
        code, out, _ = run(
            "--db", dburl, "milestones", "complete", str(election_id), key, "--on", day, "--json"
        )
        assert code == 0 and as_json(out)["done_on"] == day
    code, out, _ = run("--db", dburl, "elections", "advance", str(election_id), "--json")
    assert code == 0 and as_json(out) == {"id": election_id, "from": "preparation", "to": "registration"}
    code, out, _ = run("--db", dburl, "elections", "show", str(election_id), "--json")
    view = as_json(out)
    assert view["state"] == "registration" and view["next"]["allowed"] is False
    code, out, _ = run(
        "--db", dburl, "elections", "reschedule", str(election_id), "--election-day", "2011-10-25", "--json"
    )
    assert code == 0 and as_json(out)["ok"] is True
    code, out, _ = run("--db", dburl, "audit", "verify", "--json")
    assert code == 0 and as_json(out)["ok"] is True and as_json(out)["entries"] == 6


def test_create_refuses_violations_unless_accepted(tmp_path, dburl):
    plan = tmp_path / "late.toml"
    plan.write_text(
        (EXAMPLES / "jingshan_2011.toml")
        .read_text(encoding="utf-8")
        .replace("official_candidates_published = 2011-10-10", "official_candidates_published = 2011-10-12"),
        encoding="utf-8",
    )
    code, out, _ = run("--db", dburl, "elections", "create", "--plan", str(plan), "--json")
    assert code == 2 and as_json(out)["error"]["code"] == "E_PLAN_VIOLATIONS"
    code, out, _ = run(
        "--db",
        dburl,
        "elections",
        "create",
        "--plan",
        str(plan),
        "--json",
        "--accept-violations",
        "上级批准推迟",
    )
    assert code == 0 and as_json(out)["accepted_violations"] == ["official_candidates_published"]


def test_demo_loads_once(dburl):
    code, out, _ = run("--db", dburl, "demo", "--now", "2026-11-26T09:00", "--json")
    assert code == 0
    doc = as_json(out)
    assert doc["created"] is True and "jingshan_2011" in doc["elections"]
    code, out, _ = run("--db", dburl, "elections", "show", str(doc["elections"]["jingshan_2011"]), "--json")
    assert as_json(out)["state"] == "closed"
    code, out, _ = run("--db", dburl, "demo", "--json")
    assert code == 0 and as_json(out)["created"] is False
    code, out, _ = run("--db", dburl, "audit", "verify", "--json")
    assert as_json(out)["ok"] is True


def test_kinds_diagram():
    code, out, _ = run("kinds", "diagram", "people_congress")
    assert code == 0 and "stateDiagram-v2" in out and "voting --> congress" in out
