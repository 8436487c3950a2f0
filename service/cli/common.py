"""Shared plumbing for the `huanjie` CLI: database, clock, JSON output and exit codes.

Exit codes (CONTRACTS.md): 0 done; 1 done but the answer is "no"; 2 bad input or refused.
With --json exactly one JSON document goes to stdout; human text goes to stderr.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from workflow.clock import Clock, FixedClock, SystemClock
from workflow.errors import DomainError
from workflow.events import jsonable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from workflow.store import Database

JSON = typer.Option(False, "--json", help="以 JSON 输出到标准输出")


def operating_user() -> str:
    """Who runs the command, as the audit log records it: HUANJIE_ACTOR if set, else `cli:` and
    the operating system's user (so two clerks on one machine are told apart)."""
    if os.environ.get("HUANJIE_ACTOR"):
        return os.environ["HUANJIE_ACTOR"]
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        name = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"cli:{name}"


@dataclass
class CliState:
    db_url: str | None = None
    actor: str = field(default_factory=operating_user)
    clock: Clock = field(default_factory=SystemClock)
    reading: bool = False  # set by `run` for read-only commands
    _db: Database | None = None

    def url(self) -> str:
        """--db, else HUANJIE_DB, else the SQLite file in the user's data folder."""
        # Deferred (tests/test_layers.py DEFERRED): SQLAlchemy loads only for commands that use
        # the database, so `plan check`, `quota` and `--help` start quickly.
        from workflow.store.db import default_url

        return self.db_url or os.environ.get("HUANJIE_DB") or default_url()

    def database(self) -> Database:
        """The database; migrated to the newest schema on first use in this process, unless the
        command only reads (`reading`: it neither needs nor may change the schema, and Alembic's
        check costs ~0.1 s of start-up)."""
        if self._db is None:
            from workflow.store import Database  # deferred, as in url()

            self._db = Database(self.url())
            if not self.reading:
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
    """The command's state, built once from the root options (`--db`, `--actor`)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        given = root.obj if isinstance(root.obj, dict) else {}
        cli = CliState(db_url=given.get("db"))
        if given.get("actor"):
            cli.actor = given["actor"]
        root.obj = cli
    return root.obj


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
    """Turn domain errors — and the failures staff can act on: an unreachable or uninitialised
    database, a date beyond what can be computed — into exit 2 with the error document; nothing
    was committed."""
    try:
        yield
    except DomainError as error:
        fail(error, as_json, document)
    except OverflowError:
        fail(
            DomainError(
                "E_DATE_RANGE",
                "日期超出可计算的范围：年份须在 1 至 9999 之间，且由它推算出的各项期限也不能越界，请检查日期",
                None,
            ),
            as_json,
            document,
        )
    except (FileNotFoundError, IsADirectoryError, PermissionError) as error:
        where = error.filename or ""
        fail(
            DomainError("E_FILE", f"无法读写文件 {where}（{_os_reason(error)}）", None),
            as_json,
            document,
        )
    except UnicodeError:
        fail(
            DomainError("E_ENCODING", "输入中有无法处理的字符（编码有误；文件请用 UTF-8）", None),
            as_json,
            document,
        )
    except Exception as error:
        translated = database_error(error)
        if translated is None:
            raise
        fail(translated, as_json, document)


def _os_reason(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "不存在"
    if isinstance(error, IsADirectoryError):
        return "是目录，不是文件"
    return "没有权限"


def database_error(error: Exception) -> DomainError | None:
    """A database failure as a Chinese error naming what to check; None for other errors.
    SQLAlchemy is looked up in sys.modules: if it was never loaded, the error is not its."""
    exc = sys.modules.get("sqlalchemy.exc")
    if exc is None or not isinstance(error, exc.SQLAlchemyError):
        return None
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    reason = reason[0] if reason else type(error).__name__
    if isinstance(error, exc.ArgumentError | exc.NoSuchModuleError):
        return DomainError(
            "E_BAD_DATABASE_URL",
            f"数据库地址无效（{reason}）：应形如 sqlite:///文件路径 或 postgresql+psycopg://用户@主机/库名",
            "db",
        )
    if schema_missing(error):
        return DomainError(
            "E_DATABASE_NOT_READY",
            f"数据库尚未建立或版本落后（{reason}）：请先运行一次写入命令（如 huanjie demo）或 alembic upgrade",
            "db",
        )
    if isinstance(error, exc.OperationalError | exc.InterfaceError):
        return DomainError(
            "E_DATABASE_UNAVAILABLE",
            f"无法连接数据库（{reason}）：请检查 --db 或 HUANJIE_DB 的地址、数据库是否已启动、账号与权限",
            "db",
        )
    return DomainError("E_DATABASE", f"数据库操作失败，本次未作任何改动（{reason}）", "db")


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
    with --json). A read-only command does not check the schema's migrations (it changes nothing;
    an uninitialised database is reported as such)."""
    cli = state(ctx)
    with handled(as_json, document):
        cli.reading = reading
        database = cli.database()
        try:
            answer = _unit(database, cli, work, reading)
        except Exception as error:
            if not (reading and schema_missing(error)):
                raise
            database.migrate()  # a database never used before: create its schema, then read
            answer = _unit(database, cli, work, reading)
    reply(answer, as_json)


def _unit(
    database: Database, cli: CliState, work: Callable[[Session, CliState], Reply], reading: bool
) -> Reply:
    with database.reading() if reading else database.transaction() as session:
        return work(session, cli)


def schema_missing(error: Exception) -> bool:
    """True when a query failed because the schema's tables do not exist (yet)."""
    exc = sys.modules.get("sqlalchemy.exc")
    if exc is None or not isinstance(error, exc.OperationalError | exc.ProgrammingError):
        return False
    reason = str(getattr(error, "orig", None) or error)
    return "no such table" in reason or ("relation" in reason and "does not exist" in reason)
