"""Engine, sessions and migrations. One transaction per command: `with db.transaction() as s`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.settings import get_settings
from workflow.store.audit import KEY_INFO, resolve_key, seal

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


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
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
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
        self.engine.dispose()
