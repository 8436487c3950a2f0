"""Engine, sessions and migrations. One transaction per command: `with db.transaction() as s`."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Executable

from config.settings import get_settings
from workflow.store.audit import KEY_INFO, resolve_key, seal

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# A pooled PostgreSQL connection idle longer than this is pinged when checked out (a server
# restart or an idle timeout may have closed it); busier ones are not: a ping per checkout
# costs a round trip per request.
IDLE_PING_SECONDS = 30.0
log = logging.getLogger("huanjie.store")


def default_url() -> str:
    from platformdirs import user_data_dir

    directory = Path(user_data_dir("huanjie"))
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'huanjie.sqlite3'}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event below (the documented pysqlite
    # recipe), so that one command is one transaction with the write lock taken up front.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the one writer
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # Writers take the write lock up front, so two writers queue instead of one failing to
    # upgrade a read lock; readers (WAL) begin deferred and never wait for a writer.
    read_only = conn.get_execution_options().get("huanjie_read_only", False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _checked_in(_dbapi_connection, record) -> None:
    record.info["huanjie_idle_since"] = time.monotonic()


def _ping_if_idle(engine: Engine):
    """Pessimistic disconnect handling without a round trip per checkout: only a connection idle
    longer than IDLE_PING_SECONDS is pinged; a dead one makes the pool retry with a new one."""

    def checkout(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("huanjie_idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool invalidates it and connects again
            raise DisconnectionError() from error

    return checkout


def _text_param(value: object) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    return str(value).encode("utf-8")


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8")


def _int(value: bytes | None) -> int | None:
    return None if value is None else int(value)


def _bool(value: bytes | None) -> bool | None:
    return None if value is None else value == b"t"


# PostgreSQL type oids → how a value in text form is read (bool, int8, int2, int4; else text).
_TEXT_VALUE = {16: _bool, 20: _int, 21: _int, 23: _int}


class HotReadUnavailable(Exception):
    """The hot-read connection cannot answer now: take the ordinary path."""


class HotReads:
    """One dedicated autocommit connection, outside the pool, for tiny reads run very often on
    the request path (the status read's check: workflow/views/status.py): no pool checkout, no
    BEGIN/ROLLBACK, no ping, so it may run in the event loop. Each statement sees everything
    committed before it (autocommit; SQLite WAL readers never wait for the writer). One
    statement at a time; after an error the connection is dropped and callers get
    HotReadUnavailable (and take the ordinary path) for a second before it reconnects. An
    in-memory SQLite database has no second connection: always unavailable there."""

    RETRY_SECONDS = 1.0
    TIMEOUT_MS = 500  # SQLite busy wait / PostgreSQL statement timeout

    def __init__(self, engine: Engine):
        self.engine = engine
        self.statements = 0  # run so far (tests count them)
        self.prepared: dict[object, tuple] = {}  # statement → prepare(statement), for callers
        self._connection = None
        self._failed_at: float | None = None
        self._lock = threading.Lock()
        self._postgres = engine.dialect.name == "postgresql"
        self._prepared_names: dict[str, bytes] = {}  # SQL → its name on the connection
        database = engine.url.database or ""
        self._enabled = engine.dialect.name == "postgresql" or (
            engine.dialect.name == "sqlite"
            and database not in ("", ":memory:")
            and "mode=memory" not in database
        )

    def _connect(self):
        if self.engine.dialect.name == "sqlite":
            connection = sqlite3.connect(
                self.engine.url.database,
                check_same_thread=False,
                isolation_level=None,
                timeout=self.TIMEOUT_MS / 1000,
            )
            connection.execute("PRAGMA query_only=ON")
            return connection
        self._prepared_names = {}  # a new connection has none
        cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
        connection = self.engine.dialect.connect(*cargs, **{"connect_timeout": 2, **cparams})
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {self.TIMEOUT_MS}")
            cursor.execute("SET default_transaction_read_only = on")
        return connection

    def prepare(self, statement: Executable) -> tuple[str, tuple[str, ...] | None, dict]:
        """Compiled once for this dialect: (SQL, positional parameter names or None, defaults).
        On PostgreSQL with $n parameters: the statement is prepared on the server, once per
        connection, and run through libpq directly (psycopg's cursor costs several times the
        CPU of the statement's whole round trip)."""
        dialect = self.engine.dialect
        if dialect.name == "postgresql":
            dialect = type(dialect)(paramstyle="numeric_dollar")
        compiled = statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup) if dialect.positional else None
        return compiled.string, names, dict(compiled.params)

    def first(
        self, prepared: tuple[str, tuple[str, ...] | None, dict], params: Mapping[str, Any]
    ) -> tuple | None:
        """The statement's first row (a plain tuple), or None when it has none."""
        if not self._enabled:
            raise HotReadUnavailable()
        sql, names, defaults = prepared
        values = {**defaults, **params}
        arguments = tuple(values[name] for name in names) if names is not None else values
        with self._lock:
            if self._connection is None:
                if self._failed_at is not None and time.monotonic() - self._failed_at < self.RETRY_SECONDS:
                    raise HotReadUnavailable()
                try:
                    self._connection = self._connect()
                except Exception as error:
                    self._failed(error)
            try:
                if self._postgres:
                    row = self._run_prepared(sql, arguments)
                else:
                    cursor = self._connection.cursor()
                    try:
                        cursor.execute(sql, arguments)
                        row = cursor.fetchone()
                    finally:
                        cursor.close()
            except Exception as error:
                self._failed(error)
            self.statements += 1
            return None if row is None else tuple(row)

    def _run_prepared(self, sql: str, arguments: tuple) -> tuple | None:
        """PostgreSQL: the statement prepared on this connection (once) and run by libpq, its
        parameters and values in text form."""
        from psycopg import pq

        pgconn = self._connection.pgconn
        name = self._prepared_names.get(sql)
        if name is None:
            name = f"huanjie_hot_{len(self._prepared_names)}".encode()
            result = pgconn.prepare(name, sql.encode())
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise RuntimeError(result.get_error_message())
            self._prepared_names[sql] = name
        result = pgconn.exec_prepared(name, [_text_param(value) for value in arguments])
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise RuntimeError(result.get_error_message())
        if not result.ntuples:
            return None
        return tuple(
            _TEXT_VALUE.get(result.ftype(i), _text)(result.get_value(0, i)) for i in range(result.nfields)
        )

    def _failed(self, error: Exception):
        log.warning("hot read failed", extra={"error": type(error).__name__})
        self._failed_at = time.monotonic()
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:
                log.debug("hot read connection not closed cleanly", exc_info=True)
        raise HotReadUnavailable() from None

    def close(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


class Database:
    def __init__(self, url: str, echo: bool = False, audit_secret: str | None = None):
        """`audit_secret`: the audit chain's HMAC key (or `env:NAME`); default: settings."""
        self.url = url
        self.audit_key = resolve_key(
            audit_secret if audit_secret is not None else get_settings().audit_secret
        )
        # Statements' parameters never reach logs or exception texts (ID numbers, names):
        # SQLAlchemy prints "[SQL parameters hidden due to hide_parameters=True]" instead.
        kwargs: dict = {"echo": echo, "future": True, "hide_parameters": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
        self.engine: Engine = create_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            event.listen(self.engine.pool, "checkin", _checked_in)
            event.listen(self.engine.pool, "checkout", _ping_if_idle(self.engine))
        self.hot_reads = HotReads(self.engine)
        info = {KEY_INFO: self.audit_key}
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._read_sessions = sessionmaker(
            self.engine.execution_options(huanjie_read_only=True), expire_on_commit=False, info=info
        )

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back everything on any error."""
        session = self.sessions()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only unit of work (rolled back at the end; never blocks on a writer)."""
        session = self._read_sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def migrate(self) -> None:
        """Bring the schema to the newest revision (Alembic `upgrade heads`)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
        with self.transaction() as session:
            seal(session)  # a chain upgraded from the unkeyed form gets its keyed head

    def dispose(self) -> None:
        self.hot_reads.close()
        self.engine.dispose()
