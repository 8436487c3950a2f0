"""Shared plumbing for the `huanjie` CLI: database, clock, JSON output and exit codes.

Exit codes (CONTRACTS.md): 0 done; 1 done but the answer is "no"; 2 bad input or refused.
With --json exactly one JSON document goes to stdout; human text goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NoReturn

import typer

from workflow.clock import Clock, FixedClock, SystemClock
from workflow.errors import DomainError
from workflow.events import jsonable


@dataclass
class CliState:
    db_url: str | None = None
    actor: str = field(
        default_factory=lambda: os.environ.get("HUANJIE_ACTOR") or os.environ.get("USER") or "cli"
    )
    clock: Clock = field(default_factory=SystemClock)
    _db: Any = None

    def database(self):
        """The database, migrated to the newest schema on first use in this process."""
        if self._db is None:
            from workflow.store import Database
            from workflow.store.db import default_url

            url = self.db_url or os.environ.get("HUANJIE_DB") or default_url()
            self._db = Database(url)
            self._db.migrate()
        return self._db


def parse_date(text: str | None, field: str) -> date | None:
    """An ISO date from the command line, or a DomainError naming the option."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError(
            "E_BAD_DATE", f"{field} 的日期格式有误：{text!r}（应为 YYYY-MM-DD）", field
        ) from None


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    if obj is None:
        obj = ctx.find_root().obj = CliState()
    return obj


def set_now(cli: CliState, instant) -> None:
    cli.clock = FixedClock(instant)


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(jsonable(payload), ensure_ascii=False, indent=2) + "\n")


def say(text: str) -> None:
    """Human-facing text for staff (Chinese), on stderr so stdout stays machine-readable."""
    typer.echo(text, err=True)


def finish(code: int = 0) -> NoReturn:
    raise typer.Exit(code)


def fail(error: DomainError, as_json: bool) -> NoReturn:
    if as_json:
        print_json({"error": error.as_dict()})
    else:
        where = f"（字段：{error.field}）" if error.field else ""
        say(f"错误：{error.message}{where} [{error.code}]")
    raise typer.Exit(2)


@contextmanager
def handled(as_json: bool) -> Iterator[None]:
    """Turn domain errors into exit 2 with the error document; nothing was committed."""
    try:
        yield
    except DomainError as error:
        fail(error, as_json)
