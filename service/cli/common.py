"""Shared plumbing for the `huanjie` CLI: database, clock, JSON output and exit codes.

Exit codes (CONTRACTS.md): 0 done; 1 done but the answer is "no"; 2 bad input or refused.
With --json exactly one JSON document goes to stdout; human text goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NoReturn

import typer
from sqlalchemy.orm import Session

from workflow.clock import Clock, FixedClock, SystemClock
from workflow.errors import DomainError
from workflow.events import jsonable
from workflow.store import Database
from workflow.store.db import default_url

JSON = typer.Option(False, "--json", help="以 JSON 输出到标准输出")


@dataclass
class CliState:
    db_url: str | None = None
    actor: str = field(
        default_factory=lambda: os.environ.get("HUANJIE_ACTOR") or os.environ.get("USER") or "cli"
    )
    clock: Clock = field(default_factory=SystemClock)
    _db: Database | None = None

    def url(self) -> str:
        """--db, else HUANJIE_DB, else the SQLite file in the user's data folder."""
        return self.db_url or os.environ.get("HUANJIE_DB") or default_url()

    def database(self) -> Database:
        """The database, migrated to the newest schema on first use in this process."""
        if self._db is None:
            self._db = Database(self.url())
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


ErrorDocument = Callable[[DomainError], dict[str, Any]]


def error_document(error: DomainError) -> dict[str, Any]:
    """The JSON document of a refused command (CONTRACTS.md)."""
    return {"error": error.as_dict()}


def fail(error: DomainError, as_json: bool, document: ErrorDocument = error_document) -> NoReturn:
    if as_json:
        print_json(document(error))
    else:
        where = f"（字段：{error.field}）" if error.field else ""
        say(f"错误：{error.message}{where} [{error.code}]")
    raise typer.Exit(2)


@contextmanager
def handled(as_json: bool, document: ErrorDocument = error_document) -> Iterator[None]:
    """Turn domain errors into exit 2 with the error document; nothing was committed."""
    try:
        yield
    except DomainError as error:
        fail(error, as_json, document)


@dataclass(frozen=True)
class Reply:
    """What a command answers: `payload` is its JSON document; `text` is what staff read instead,
    either one message for stderr or a function that prints several lines (to stdout where the
    text is the data itself, as in listings); `code` is the exit code (0 done, 1 "no")."""

    payload: Any
    text: str | Callable[[], None]
    code: int = 0


def reply(answer: Reply, as_json: bool) -> NoReturn:
    """Print the answer as JSON or as text, and exit with its code."""
    if as_json:
        print_json(answer.payload)
    elif callable(answer.text):
        answer.text()
    else:
        say(answer.text)
    finish(answer.code)


def offline(as_json: bool, work: Callable[[], Reply]) -> NoReturn:
    """Run a command that needs no database; a domain error exits 2."""
    with handled(as_json):
        answer = work()
    reply(answer, as_json)


def run(
    ctx: typer.Context,
    as_json: bool,
    work: Callable[[Session, CliState], Reply],
    *,
    reading: bool = False,
    document: ErrorDocument = error_document,
) -> NoReturn:
    """Run `work(session, cli)` in one transaction (a read-only one with `reading`) and print its
    reply. A domain error rolls everything back and exits 2 with the error (as `document(error)`
    with --json)."""
    cli = state(ctx)
    with handled(as_json, document):
        database = cli.database()
        with database.reading() if reading else database.transaction() as session:
            answer = work(session, cli)
    reply(answer, as_json)
