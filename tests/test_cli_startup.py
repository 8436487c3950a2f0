"""A quick CLI: which modules each command loads (counts of modules, not timings, so the test is
stable on a busy machine; bench/cli.py measures the seconds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from service import cli
from workflow.store import Database

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "weasyprint",
    "apscheduler",
    "openpyxl",
    "docx",
    "docxtpl",
    "rich",
)
DATABASE = ("sqlalchemy", "alembic", "psycopg")

# Runs the real entry point (service.cli:main) and reports the top-level packages it loaded.
PROBE = """
import json, sys
from service.cli import main
sys.argv = ["huanjie", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
print("\\n" + json.dumps({"code": code, "modules": sorted({m.split('.')[0] for m in sys.modules})}))
"""


def loaded(*args: str) -> tuple[int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def test_help_loads_no_command_module_and_nothing_heavy():
    code, modules = loaded("--help")
    assert code == 0
    assert not modules & {*HEAVY, *DATABASE}, modules & {*HEAVY, *DATABASE}
    assert not modules & {"workflow", "schedules", "notices", "demo", "pydantic", "pendulum"}


def test_plan_check_loads_no_database_and_nothing_heavy():
    code, modules = loaded("plan", "check", str(EXAMPLES / "jingshan_2011.toml"))
    assert code == 0
    assert not modules & {*HEAVY, *DATABASE}, modules & {*HEAVY, *DATABASE}


def test_a_read_only_command_skips_the_migration_check(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    Database(url).migrate()
    code, modules = loaded("--db", url, "elections", "list")
    assert code == 0
    assert "sqlalchemy" in modules and "alembic" not in modules
    assert not modules & set(HEAVY), modules & set(HEAVY)
    # A write command does check (and applies) the migrations.
    code, modules = loaded("--db", url, "jurisdictions", "add", "1", "某县", "--level", "county")
    assert code == 0 and "alembic" in modules


def test_a_read_only_command_on_a_new_database_creates_the_schema_first(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    code, _ = loaded("--db", url, "elections", "list", "--json")
    assert code == 0


@pytest.mark.parametrize("entry", cli.COMMANDS, ids=lambda e: e.name)
def test_every_registry_entry_loads_and_its_help_matches_the_module(entry):
    command = entry.load()
    assert command.name == entry.name
    assert command.get_short_help_str(200) == entry.help


def test_the_listing_is_the_registry():
    from typer.testing import CliRunner

    result = CliRunner().invoke(cli.app, ["--help"])
    assert result.exit_code == 0
    lines = result.stdout.split("命令：")[1].strip("\n").splitlines()
    listed = [line.split()[0] for line in lines if not line.startswith("   ")]  # not a wrapped help line
    assert listed == [entry.name for entry in cli.COMMANDS]
