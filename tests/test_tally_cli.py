"""`huanjie tally TALLY.json [--json]`: pure, exit 0 when counted, 2 on bad input."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from service.cli import app

SEED = {
    "kind": "party_branch",
    "seats": 5,
    "entitled": 30,
    "present": 28,
    "ballots_issued": 28,
    "ballots_returned": 28,
    "invalid_ballots": 0,
    "votes": {"张明": 28, "李华": 28, "王芳": 28, "赵强": 28, "陈静": 28, "刘洋": 0},
    "round": 1,
}


def run(tmp_path, document, *args):
    path = tmp_path / "TALLY.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    result = CliRunner().invoke(app, ["tally", str(path), *args])
    return result


def test_seed_counted_as_json(tmp_path):
    result = run(tmp_path, SEED, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert list(payload)[:6] == ["valid", "reasons", "elected", "unfilled", "runoff", "tie_break"]
    assert payload["valid"] is True and payload["reasons"] == []
    assert payload["elected"] == sorted(n for n in SEED["votes"] if n != "刘洋")
    assert payload["unfilled"] == 0 and payload["runoff"] is None and payload["tie_break"] is None
    assert all({"reason", "rule"} <= set(d) for d in payload["decisions"])


def test_invalid_round_is_still_exit_zero(tmp_path):
    result = run(
        tmp_path,
        SEED | {"present": 24, "ballots_issued": 24, "ballots_returned": 24, "votes": {"张明": 24}},
        "--json",
    )
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["valid"] is False and "法定人数" in payload["reasons"][0]


def test_runoff_output_shape(tmp_path):
    document = {
        "kind": "people_congress",
        "seats": 3,
        "registered_voters": 100,
        "ballots_issued": 60,
        "ballots_returned": 60,
        "invalid_ballots": 0,
        "votes": {"甲": 31, "乙": 29, "丙": 28, "丁": 27, "戊": 20, "己": 15},
    }
    payload = json.loads(run(tmp_path, document, "--json").stdout)
    assert payload["elected"] == ["甲"] and payload["unfilled"] == 2
    assert payload["runoff"] == {
        "seats": 2,
        "candidates": ["乙", "丙", "丁", "戊"],
        "min_candidates": 3,
        "max_candidates": 4,
    }


def test_human_output_goes_to_stderr(tmp_path):
    result = run(tmp_path, SEED)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "当选" in result.stderr


def test_bad_input_exit_two_names_the_field(tmp_path):
    missing = {k: v for k, v in SEED.items() if k != "present"}
    result = run(tmp_path, missing, "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["field"] == "present" and error["code"] == "E_BAD_TALLY" and error["message"]

    over = SEED | {"votes": {"张明": 29}}
    assert json.loads(run(tmp_path, over, "--json").stdout)["error"]["field"] == "votes.张明"

    runoff = SEED | {"round": 2}
    assert json.loads(run(tmp_path, runoff, "--json").stdout)["error"]["field"] == "runoff_candidates"

    unknown = SEED | {"kind": "senate"}
    assert json.loads(run(tmp_path, unknown, "--json").stdout)["error"]["field"] == "kind"


def test_unreadable_files_exit_two(tmp_path):
    result = run(tmp_path, "{not json", "--json")
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["code"] == "E_TALLY_SYNTAX"
    result = CliRunner().invoke(app, ["tally", str(tmp_path / "missing.json"), "--json"])
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["code"] == "E_FILE_NOT_FOUND"
    result = run(tmp_path, "[1, 2]", "--json")
    assert result.exit_code == 2


def test_example_sheets_count(tmp_path):
    from pathlib import Path

    examples = Path(__file__).resolve().parent.parent / "examples"
    result = CliRunner().invoke(app, ["tally", str(examples / "tally_people_congress.json"), "--json"])
    payload = json.loads(result.stdout)
    assert result.exit_code == 0 and payload["elected"] == ["周建国"]
    assert payload["runoff"]["candidates"] == ["吴秀兰", "郑海", "孙丽", "钱卫东"]
