"""Every CLI failure exits 2 with a Chinese message, never a traceback (issue 16): unreachable or
invalid databases, plans dated in year 9999 or 0001, bad files — through the real entry point."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from service import cli
from workflow.store import Database

ROOT = Path(__file__).resolve().parent.parent
JINGSHAN = ROOT / "examples" / "jingshan_2011.toml"
UNREACHABLE = "postgresql+psycopg://clerk:s3cret-pw@127.0.0.1:1/huanjie"  # nothing listens on port 1
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def process(*args: str) -> subprocess.CompletedProcess:
    """The installed entry point (service.cli:main) in a fresh process."""
    return subprocess.run(
        [sys.executable, "-c", "from service.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def huanjie(*args: str) -> subprocess.CompletedProcess:
    """The same entry (the root group's `main`) in this process: quicker for the many cases."""
    result = CliRunner().invoke(cli.app, list(args))
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += f"\nTraceback (an exception the CLI let through): {result.exception!r}"
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, stderr)


def refused(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("错误：") and CHINESE.search(message[3:]), message
    return message


def refused_json(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    return json.loads(done.stdout)["error"]


def plan_dated(tmp_path: Path, year: str) -> Path:
    """The seed's plan with every date moved to the first or last day the calendar has."""
    day = "9999-12-31" if year == "9999" else "0001-01-01"
    plan = tmp_path / f"plan_{year}.toml"
    plan.write_text(re.sub(r"2011-\d\d-\d\d", day, JINGSHAN.read_text(encoding="utf-8")), encoding="utf-8")
    return plan


@pytest.mark.parametrize("command", [("elections", "list"), ("milestones", "complete", "1", "x")])
def test_an_unreachable_database(command):
    message = refused(process("--db", UNREACHABLE, *command))
    assert "无法连接数据库" in message and "s3cret-pw" not in message
    error = refused_json(huanjie("--db", UNREACHABLE, *command, "--json"))
    assert (error["code"], error["field"]) == ("E_DATABASE_UNAVAILABLE", "db")


def test_a_database_that_cannot_be_opened_or_named(tmp_path):
    message = refused(huanjie("--db", f"sqlite:///{tmp_path}/missing/dir/x.sqlite3", "elections", "list"))
    assert "无法连接数据库" in message
    message = refused(huanjie("--db", "nonsense://somewhere", "elections", "list"))
    assert "数据库地址无效" in message


@pytest.mark.parametrize("year", ["9999", "0001"])
def test_plans_at_the_ends_of_the_calendar(tmp_path, year):
    plan = plan_dated(tmp_path, year)
    message = refused(process("plan", "check", str(plan)))
    assert "日期超出可计算的范围" in message
    error = refused_json(huanjie("plan", "check", str(plan), "--json"))
    assert error["code"] == "E_DATE_RANGE"
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    refused(huanjie("--db", url, "elections", "create", "--plan", str(plan), "--accept-violations", "测试"))
    with Database(url).reading() as session:  # nothing was written
        assert session.execute(text("select count(*) from elections")).scalar() == 0


def test_bad_files(tmp_path):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(bytes(range(256)) * 4)
    not_toml = tmp_path / "passwd.toml"
    not_toml.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    for path in (tmp_path / "missing.toml", tmp_path, binary, not_toml):
        refused(huanjie("plan", "check", str(path)))
    url = f"sqlite:///{tmp_path / 'v.sqlite3'}"
    garbage = tmp_path / "register.xlsx"
    garbage.write_bytes(b"PK\x03\x04" + bytes(range(200)))
    refused(huanjie("--db", url, "voters", "import", str(garbage), "--election", "1"))
    refused(huanjie("--db", url, "voters", "import", str(tmp_path / "none.csv"), "--election", "1"))


def test_usage_errors_are_chinese_and_exit_2():
    message = refused(huanjie("elections", "create"))
    assert "缺少选项 '--plan'" in message
    message = refused(huanjie("quota", "--level", "county", "--population", "许多"))
    assert "'--population' 的取值有误" in message
    refused(huanjie("no-such-command"))


def test_an_unanticipated_failure_is_a_sentence_not_a_traceback(monkeypatch):
    from service.cli import plan as plan_cli

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(plan_cli, "total_seats", broken)
    result = CliRunner().invoke(cli.app, ["quota", "--level", "county", "--population", "100000"])
    assert result.exit_code == 2
    assert "内部错误（RuntimeError）" in result.stderr and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    monkeypatch.setenv("HUANJIE_DEBUG", "1")  # developers see the exception itself
    result = CliRunner().invoke(cli.app, ["quota", "--level", "county", "--population", "100000"])
    assert isinstance(result.exception, RuntimeError)
