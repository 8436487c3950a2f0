"""The console as a clerk meets it: the CLI's help, usage and errors in Chinese (Typer's own texts
included), milestones by their Chinese names and listed with their names beside the keys, the
operating user as the actor of CLI writes, and log lines a person can read on a terminal."""

from __future__ import annotations

import ast
import getpass
import io
import json
import logging
import re
import tomllib
from pathlib import Path

import pytest
import typer.core
from sqlalchemy import select
from typer.testing import CliRunner

from service import cli, logs
from service.cli import i18n
from service.cli.reminders import KIND_NAMES, STATUS_NAMES
from workflow.store import Database
from workflow.store.models import AuditEntry
from workflow.timetable import ReminderKind

ROOT = Path(__file__).resolve().parent.parent
JINGSHAN = ROOT / "examples" / "jingshan_2011.toml"
ENGLISH = re.compile(
    r"Usage:|Options|Arguments|Commands|Show this message|\[required\]|default:|Error:|Missing|Try '|"
    r"No such|Invalid value|Got unexpected|Aborted|completion|<str>|<int>|<path>"
)
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(cli.app, list(args))


def every_command_path() -> list[list[str]]:
    """[group], [group, sub], [group, sub, subsub] … for every command of the registry."""
    paths: list[list[str]] = []

    def walk(command, path):
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    for entry in cli.COMMANDS:
        walk(entry.load(), [entry.name])
    return paths


def test_every_help_page_is_chinese():
    pages = [[], *every_command_path()]
    assert len(pages) > 60
    for path in pages:
        result = invoke(*path, "--help")
        assert result.exit_code == 0, (path, result.output)
        assert result.stdout.startswith("用法：huanjie"), (path, result.stdout[:80])
        assert "显示本帮助并退出。" in result.stdout
        left = ENGLISH.findall(result.stdout)
        assert not left, (path, left)
        # Laid out in terminal columns (a Chinese character is two): fits 80.
        wide = [line for line in result.stdout.splitlines() if i18n.width(line) > 80]
        assert not wide, (path, wide)


def test_wrapping_counts_terminal_columns_and_keeps_punctuation_off_line_starts():
    lines = i18n.wrap("按人口数把代表名额分配到各选区（每区一至三名，选举法第二十五、二十六条）。", 40)
    assert all(i18n.width(line) <= 40 for line in lines) and len(lines) == 2
    assert not any(line[0] in i18n.CLOSING for line in lines)
    assert i18n.wrap("http://127.0.0.1:8000/ 地址", 10)[0] == "http://127.0.0.1:8000/"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["elections", "create"], "错误：缺少选项 '--plan'。"),
        (["elections", "show"], "错误：缺少参数 'election_id'。"),
        (
            ["quota", "--level", "county", "--population", "很多"],
            "错误：'--population' 的取值有误：应为整数。",
        ),
        (["quota", "--lvl", "county"], "错误：没有选项 --lvl。"),
        (["plan", "check", "a.toml", "b.toml"], "错误：多余的参数：b.toml"),
        (["elections", "crate"], "错误：没有命令 'crate'。"),
        (["electons"], "错误：没有命令 'electons'。是否要用：elections"),
    ],
)
def test_usage_errors_are_chinese(args, expected):
    result = invoke(*args)
    assert result.exit_code == 2
    assert expected in result.stderr, result.stderr
    assert "用法：huanjie" in result.stderr and "查看帮助。" in result.stderr
    assert not ENGLISH.findall(result.stderr), result.stderr


def test_every_gettext_text_of_typer_is_translated():
    tree = ast.parse(Path(typer.core.__file__).read_text(encoding="utf-8"))
    texts = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    assert texts and texts <= set(i18n.TEXTS), texts - set(i18n.TEXTS)
    assert typer.core._ is i18n.gettext


@pytest.fixture
def election(tmp_path, monkeypatch):
    monkeypatch.delenv("HUANJIE_ACTOR", raising=False)
    url = f"sqlite:///{tmp_path / 'zh.sqlite3'}"
    result = invoke("--db", url, "elections", "create", "--plan", str(JINGSHAN), "--json")
    assert result.exit_code == 0, result.output
    return url, str(json.loads(result.stdout)["id"])


def test_a_milestone_by_its_chinese_name_and_the_operating_user_as_actor(election):
    url, election_id = election
    result = invoke(
        "--db", url, "milestones", "complete", election_id, "成立选举委员会", "--on", "2011-08-26"
    )
    assert result.exit_code == 0, result.output
    assert "已办结「成立选举委员会」（election_committee_formed，2011-08-26）" in result.stderr
    result = invoke(
        "--db", url, "milestones", "complete", election_id, "「分配代表名额」", "--on", "2011-09-03", "--json"
    )
    assert json.loads(result.stdout)["key"] == "quotas_allocated"
    result = invoke("--db", url, "milestones", "waive", election_id, "没有的节点", "--reason", "x", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert (
        error["code"] == "E_UNKNOWN_MILESTONE" and "voter_list_published（公布选民名单）" in error["message"]
    )
    with Database(url).reading() as session:
        actors = set(session.execute(select(AuditEntry.actor)).scalars())
    assert actors == {f"cli:{getpass.getuser()}"}


def test_reminders_are_listed_with_chinese_names_beside_the_keys(election):
    url, election_id = election
    result = invoke("--db", url, "reminders", "list", "--election", election_id, "--status", "all")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert any(
        "今日到期（due_today）\t成立选举委员会（election_committee_formed）\t待发出（pending）" in line
        for line in lines
    )
    assert any("提前 7 天提醒（lead）\t公布选民名单（voter_list_published）" in line for line in lines)
    rows = json.loads(invoke("--db", url, "reminders", "list", "--election", election_id, "--json").stdout)
    assert {(r["kind"], r["kind_name"]) for r in rows} >= {("lead", "提前提醒"), ("due_today", "今日到期")}
    assert all(r["milestone_name"] for r in rows if r["milestone_key"])


def test_every_reminder_kind_and_status_has_a_chinese_name():
    assert {k.value for k in ReminderKind} | {"appeal_due"} <= set(KIND_NAMES)
    assert set(STATUS_NAMES) == {"pending", "done", "cancelled", "superseded"}


def test_the_elections_view_lists_the_key_beside_the_name(election):
    url, election_id = election
    result = invoke("--db", url, "elections", "show", election_id)
    assert "公布选民名单（voter_list_published）" in result.stdout


# -- logs ----------------------------------------------------------------------------------------


def record(name: str, msg: str, *args, **extra) -> logging.LogRecord:
    made = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args or None, None)
    made.__dict__.update(extra)
    return made


def test_console_log_lines_are_chinese():
    console = logs.ConsoleFormatter()
    line = console.format(
        record("huanjie.service", "serving", url="http://127.0.0.1:8000/", database="sqlite")
    )
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d 信息 服务 服务已启动  地址=http://127.0.0.1:8000/  数据库=sqlite",
        line,
    ), line
    line = console.format(
        record(
            "huanjie.access",
            "request",
            method="GET",
            path="/e/1",
            route="/e/{id}",
            status=200,
            ms=3.1,
            user="张三",
        )
    )
    assert line.endswith("信息 访问 GET /e/1 → 200（3.1 毫秒）  用户=张三")
    line = console.format(
        record("huanjie.sweep", "sweep at %s: backlog of %d due reminders", "2026-11-30", 7)
    )
    assert line.endswith("提醒扫描 提醒扫描（2026-11-30）：到期提醒积压 7 条")
    line = console.format(
        record("uvicorn.error", "Uvicorn running on %s://%s:%d (Press CTRL+C to quit)", "http", "0.0.0.0", 80)
    )
    assert line.endswith("服务器 正在监听 http://0.0.0.0:80（按 Ctrl+C 停止）")


def test_every_log_message_of_the_service_has_its_chinese_line():
    messages = set()
    for package in ("service", "schedules", "workflow", "notices", "demo"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("debug", "info", "warning", "error", "exception", "critical")
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in ("log", "logger", "access")
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    messages.add(node.args[0].value)
    assert len(messages) > 10
    assert messages <= set(logs.MESSAGES) | {"request"}, messages - set(logs.MESSAGES)


@pytest.fixture
def restored_logging():
    """configure() rewires these loggers; put them back for the tests that follow (caplog)."""
    names = [name for name in logs.log_config("json")["loggers"]]
    saved = {
        n: (list(logging.getLogger(n).handlers), logging.getLogger(n).level, logging.getLogger(n).propagate)
        for n in names
    }
    yield
    for n, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(n)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def test_json_logs_off_a_terminal_without_escapes(monkeypatch, restored_logging):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert logs.choose("auto", Terminal()) == "text" and logs.choose("auto", io.StringIO()) == "json"
    assert logs.choose("json", Terminal()) == "json"
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    logs.configure("json")
    logging.getLogger("huanjie.service").info("serving", extra={"database": "京山县"})
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["database"] == "京山县" and "京山县" in stream.getvalue() and "\\u" not in stream.getvalue()


def test_a_bad_log_format_is_refused_in_chinese():
    result = invoke("serve", "--log-format", "xml")
    assert result.exit_code == 2 and "日志格式 'xml' 有误" in result.stderr


def test_packaging_uses_an_spdx_license():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "Apache-2.0"  # a string: no setuptools deprecation warning
    assert project["build-system"]["requires"] == ["setuptools>=77"]
