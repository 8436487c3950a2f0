"""The one writer of new reminder rows: bulk inserts that let the database fan a shared
timetable out (staged temporary tables, `COPY` on PostgreSQL, `executemany` on SQLite)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from workflow.timetable import ReminderSpec


def insert_bulk(session: Session, items: Iterable[tuple[int, Sequence[ReminderSpec]]], now: datetime) -> int:
    """Insert the reminders of many elections at once; the one writer of new reminder rows.

    `items` pairs an election id with its specs. A provincial round gives thousands of elections
    one timetable: the distinct timetables are staged once in temporary tables and the database
    fans them out in a single `INSERT … SELECT`, so per row nothing crosses from Python but the
    row itself inside the engine. Without such sharing, rows go directly (`COPY` on PostgreSQL,
    one prepared `executemany` on SQLite). Values are stored exactly as the ORM stores them (UTC
    instants without offset, ISO dates, JSON text).
    """
    timetables: dict[int, tuple[int, tuple[ReminderSpec, ...]]] = {}  # id(specs) → (number, specs)
    pairs: list[tuple[int, int]] = []
    rows = 0
    for election_id, specs in items:
        shared = specs if isinstance(specs, tuple) else tuple(specs)
        # Keyed by identity: memoised timetables (`desired_cached`) are the same object; the
        # dict keeps each one alive, so an id is never reused within this call.
        entry = timetables.get(id(shared))
        if entry is None:
            entry = timetables[id(shared)] = (len(timetables), shared)
        pairs.append((election_id, entry[0]))
        rows += len(shared)
    if not rows:
        return 0
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    staged_rows = sum(len(specs) for _number, specs in timetables.values())
    if rows < STAGE_MIN_ROWS[connection.dialect.name] or staged_rows * 2 > rows:
        # Little sharing: staging would write nearly every row twice.
        (_copy_direct if postgres else _executemany_direct)(connection, pairs, timetables, now)
    else:
        (_stage_postgres if postgres else _stage_sqlite)(connection, pairs, timetables, now)
    return rows


# From how many rows staging pays, measured with elections sharing the seed's 65-row timetable:
# on SQLite from about 500 (5,000 rows: 11.6 vs 26.4 ms); on PostgreSQL only from about 20,000,
# since creating its temporary tables costs some 5 ms (26,000 rows: 113 vs 121 ms).
STAGE_MIN_ROWS = {"sqlite": 500, "postgresql": 20_000}

_COLUMNS = (
    "election_id",
    "milestone_key",
    "kind",
    "lead_days",
    "target_date",
    "fire_at",
    "status",
    "created_at",
    "handled_at",
    "details",
)
_NAMES = ", ".join(_COLUMNS)
_STAGED = "t.milestone_key, t.kind, t.lead_days, t.target_date, t.fire_at"


def _by_number(timetables: dict) -> list[tuple[ReminderSpec, ...]]:
    return [specs for _number, specs in timetables.values()]  # numbered in insertion order


def _executemany_direct(connection, pairs, timetables, now: datetime) -> None:
    created = _sqlite_instant(now)
    tails = [_tails(specs, created) for specs in _by_number(timetables)]
    rows = [(election_id, *tail) for election_id, number in pairs for tail in tails[number]]
    marks = ", ".join("?" for _ in _COLUMNS)
    connection.exec_driver_sql(f"INSERT INTO reminders ({_NAMES}) VALUES ({marks})", rows)


def _stage_sqlite(connection, pairs, timetables, now: datetime) -> None:
    # A bigger page cache while the indexes take the new rows (the due index gets them in
    # fire_at order, i.e. all over the tree): about 15 % faster at 2.6 M rows. Put back after.
    (cache_size,) = connection.exec_driver_sql("PRAGMA cache_size").one()
    connection.exec_driver_sql(f"PRAGMA cache_size={min(cache_size, -BULK_CACHE_KIB)}")
    try:
        _fan_out_sqlite(connection, pairs, timetables, now)
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(cache_size)}")


BULK_CACHE_KIB = 256 * 1024


def _fan_out_sqlite(connection, pairs, timetables, now: datetime) -> None:
    connection.exec_driver_sql(
        "CREATE TEMP TABLE reminder_stage_timetables (timetable INTEGER NOT NULL, seq INTEGER NOT NULL,"
        " milestone_key TEXT, kind TEXT NOT NULL, lead_days INTEGER, target_date TEXT,"
        " fire_at TEXT NOT NULL, details TEXT NOT NULL, PRIMARY KEY (timetable, seq))"
    )
    connection.exec_driver_sql(
        "CREATE TEMP TABLE reminder_stage_elections (election_id INTEGER NOT NULL, timetable INTEGER NOT NULL)"
    )
    connection.exec_driver_sql(
        "INSERT INTO temp.reminder_stage_timetables VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (number, seq, tail[0], tail[1], tail[2], tail[3], tail[4], tail[8])
            for number, specs in enumerate(_by_number(timetables))
            for seq, tail in enumerate(_tails(specs, ""))
        ],
    )
    connection.exec_driver_sql("INSERT INTO temp.reminder_stage_elections VALUES (?, ?)", pairs)
    # Scanned in staging order, each election's rows together: the reminders' rowids and their
    # election_id index grow at the end, as they would one election at a time.
    connection.exec_driver_sql(
        f"INSERT INTO reminders ({_NAMES}) SELECT e.election_id, {_STAGED}, 'pending', ?, NULL, t.details"
        " FROM temp.reminder_stage_elections AS e JOIN temp.reminder_stage_timetables AS t"
        " ON t.timetable = e.timetable ORDER BY e.rowid, t.seq",
        (_sqlite_instant(now),),
    )
    connection.exec_driver_sql("DROP TABLE temp.reminder_stage_elections")
    connection.exec_driver_sql("DROP TABLE temp.reminder_stage_timetables")


def _copy(connection, statement: str, lines: Iterable[str]) -> None:
    raw = connection.connection.driver_connection
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) >= 10000:
                    copy.write("".join(chunk))
                    chunk = []
            if chunk:
                copy.write("".join(chunk))
    except driver_error as error:
        # The driver's own error, wrapped as SQLAlchemy wraps it elsewhere (IntegrityError …).
        raise DBAPIError.instance(statement, None, error, driver_error) from error


def _copy_direct(connection, pairs, timetables, now: datetime) -> None:
    created = _naive_utc(now).isoformat(sep=" ")
    lines = [_copy_lines(specs, created) for specs in _by_number(timetables)]
    _copy(
        connection,
        f"COPY reminders ({_NAMES}) FROM STDIN",
        (f"{election_id}\t{line}" for election_id, number in pairs for line in lines[number]),
    )


def _stage_postgres(connection, pairs, timetables, now: datetime) -> None:
    # ON COMMIT DROP also removes them if the transaction fails half-way.
    connection.exec_driver_sql(
        "CREATE TEMP TABLE reminder_stage_timetables (timetable integer NOT NULL, seq integer NOT NULL,"
        " milestone_key varchar(60), kind varchar(30) NOT NULL, lead_days integer, target_date date,"
        " fire_at timestamp NOT NULL, status varchar(12), created_at timestamp, handled_at timestamp,"
        " details json NOT NULL, PRIMARY KEY (timetable, seq)) ON COMMIT DROP"
    )
    connection.exec_driver_sql(
        "CREATE TEMP TABLE reminder_stage_elections (ord serial, election_id integer NOT NULL,"
        " timetable integer NOT NULL) ON COMMIT DROP"
    )
    _copy(
        connection,
        "COPY reminder_stage_timetables FROM STDIN",
        (
            f"{number}\t{seq}\t{line}"
            for number, specs in enumerate(_by_number(timetables))
            for seq, line in enumerate(_copy_lines(specs, "2000-01-01 00:00:00"))
        ),
    )
    _copy(
        connection,
        "COPY reminder_stage_elections (election_id, timetable) FROM STDIN",
        (f"{election_id}\t{number}\n" for election_id, number in pairs),
    )
    connection.exec_driver_sql("ANALYZE reminder_stage_elections")
    connection.exec_driver_sql(
        f"INSERT INTO reminders ({_NAMES}) SELECT e.election_id, {_STAGED}, 'pending', %s, NULL, t.details"
        " FROM reminder_stage_elections AS e JOIN reminder_stage_timetables AS t"
        " ON t.timetable = e.timetable ORDER BY e.ord, t.seq",
        (_naive_utc(now),),
    )
    connection.exec_driver_sql("DROP TABLE reminder_stage_elections")
    connection.exec_driver_sql("DROP TABLE reminder_stage_timetables")


@lru_cache(maxsize=4096)
def _tails(specs: tuple[ReminderSpec, ...], created: str) -> tuple[tuple, ...]:
    """SQLite values of a spec list after the election id (shared by equal timetables)."""
    return tuple(
        (
            spec.milestone_key,
            str(spec.kind),
            spec.lead_days,
            spec.target_date.isoformat(),
            _sqlite_instant(spec.fire_at),
            "pending",
            created,
            None,
            _json(tuple(spec.details.items())),
        )
        for spec in specs
    )


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


@lru_cache(maxsize=4096)
def _copy_lines(specs: tuple[ReminderSpec, ...], created: str) -> tuple[str, ...]:
    """PostgreSQL COPY text lines of a spec list after the election id."""
    return tuple(
        "\t".join(
            _copy_text(value)
            for value in (
                spec.milestone_key,
                str(spec.kind),
                spec.lead_days,
                spec.target_date.isoformat(),
                _naive_utc(spec.fire_at).isoformat(sep=" "),
                "pending",
                created,
                None,
                _json(tuple(spec.details.items())),
            )
        )
        + "\n"
        for spec in specs
    )


@lru_cache(maxsize=65536)
def _naive_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


@lru_cache(maxsize=65536)
def _sqlite_instant(value: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DateTime storage format, so that string comparisons in queries hold.
    return None if value is None else _naive_utc(value).isoformat(sep=" ", timespec="microseconds")


@lru_cache(maxsize=1024)
def _json(items: tuple) -> str:
    return json.dumps(dict(items), ensure_ascii=False)


def maintain(engine) -> None:
    """VACUUM and ANALYZE the reminders table after a large sweep: handled rows leave dead
    index entries behind (PostgreSQL) and skew the planner's picture of what is pending, and the
    empty sweep grew from 3.0 to 8.8 ms as they piled up (2.8 ms after VACUUM). PostgreSQL's
    VACUUM cannot run inside a transaction: it gets an autocommit connection of its own. SQLite
    only needs ANALYZE (its space is reused; VACUUM would rewrite the whole file)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE) reminders")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE reminders")
