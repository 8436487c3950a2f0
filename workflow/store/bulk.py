"""Many rows in one statement, from plain tuples: the sweep's outbox rows and audit entries.

SQLAlchemy's `executemany` costs per row on PostgreSQL: psycopg's pipeline binds and executes
every row as a statement of its own, and both ends pay for it (a busy sweep wrote 5,304 outbox
rows as 5,304 executions). Here PostgreSQL gets one array per column and inserts them with one
`INSERT … SELECT … FROM unnest(…)`; SQLite gets one prepared `executemany` of the driver (its
per-row cost is in C). Values are converted as the ORM's types would store them: instants
(aware, any zone) as UTC without offset (SQLAlchemy's SQLite text form there), dates as dates
(ISO text on SQLite). JSON columns take text already encoded by the caller (`json_text`), so a
value shared by many rows (a committee's recipient, a message's payload) is encoded once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session


def json_text(value: Any, *, ascii_only: bool = True) -> str:
    """A JSON column's value as SQLAlchemy's JSON type stores it (None as JSON null).
    `ascii_only=False`: Chinese as UTF-8 rather than \\u escapes, half the bytes to write and
    parse (the outbox's messages); the value read back is the same."""
    return json.dumps(value, ensure_ascii=ascii_only)


def _kind(column) -> str:
    """How a column's Python values become driver values: "instant", "date", "json" or "plain"."""
    column_type = column.type
    impl = getattr(column_type, "impl", column_type)  # a TypeDecorator stores as its impl
    if isinstance(impl, JSON):
        return "json"
    if isinstance(impl, DateTime):
        return "instant"
    if isinstance(impl, Date):
        return "date"
    return "plain"


def _instants(values: Sequence[datetime | None], sqlite: bool) -> list:
    memo: dict[datetime, Any] = {}  # a batch's rows share a handful of instants
    out = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        converted = memo.get(value)
        if converted is None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            naive = value.astimezone(UTC).replace(tzinfo=None)
            # SQLAlchemy's SQLite DateTime text, so that comparisons in queries hold.
            converted = naive.isoformat(sep=" ", timespec="microseconds") if sqlite else naive
            memo[value] = converted
        out.append(converted)
    return out


def insert_rows(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple],
    *,
    skip_conflicts_on: str | None = None,
) -> int:
    """Insert `rows` (tuples in the order of `columns`) in one statement; return the number of
    rows inserted. `skip_conflicts_on`: a unique column whose duplicates are skipped
    (`ON CONFLICT (…) DO NOTHING`: the outbox's idempotency key)."""
    if not rows:
        return 0
    sqlite = connection.dialect.name == "sqlite"
    quote = connection.dialect.identifier_preparer.quote
    kinds = [_kind(table.c[name]) for name in columns]
    names = ", ".join(quote(name) for name in columns)
    conflict = f" ON CONFLICT ({quote(skip_conflicts_on)}) DO NOTHING" if skip_conflicts_on else ""
    by_column = _driver_values(rows, kinds, sqlite)
    if sqlite:
        marks = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks}){conflict}"
        result = connection.exec_driver_sql(statement, list(zip(*by_column, strict=True)))
    else:
        # A column with one value for every row (the batch's instant, a status) is one scalar
        # parameter, not an array: the driver builds the arrays element by element.
        scalars, arrays, selected, unnested = [], [], [], []
        for index, (name, kind, values) in enumerate(zip(columns, kinds, by_column, strict=True)):
            sql_type = "text" if kind == "json" else table.c[name].type.compile(dialect=connection.dialect)
            as_json = "::json" if kind == "json" else ""
            if index and _constant(values):
                scalars.append(values[0])
                selected.append(f"%b::{sql_type}{as_json}")
            else:
                arrays.append(values)
                unnested.append((quote(name), f"%b::{sql_type}[]"))
                selected.append(f"t.{quote(name)}{as_json}")
        statement = (
            f"INSERT INTO {quote(table.name)} ({names}) SELECT {', '.join(selected)}"
            f" FROM unnest({', '.join(a for _n, a in unnested)}) AS t({', '.join(n for n, _a in unnested)})"
            f"{conflict}"
        )
        result = connection.exec_driver_sql(statement, (*scalars, *arrays))
    count = result.rowcount
    return count if count is not None and count >= 0 else len(rows)


def _driver_values(rows: Sequence[tuple], kinds: list[str], sqlite: bool) -> list[list]:
    """The rows' values by column, converted for the driver (instants, and dates on SQLite)."""
    by_column = [list(values) for values in zip(*rows, strict=True)]
    for index, kind in enumerate(kinds):
        if kind == "instant":
            by_column[index] = _instants(by_column[index], sqlite)
        elif kind == "date" and sqlite:
            by_column[index] = [None if v is None else v.isoformat() for v in by_column[index]]
    return by_column


def _constant(values: list) -> bool:
    first = values[0]
    try:
        return values.count(first) == len(values)
    except TypeError:
        return False


def update_rows(
    connection: Connection,
    table: Table,
    key: str,
    columns: Sequence[str],
    rows: Sequence[tuple],
    *,
    increment: str | None = None,
) -> None:
    """Update many rows by `key` in one statement: each tuple is the key's value, then the
    values of `columns` (converted as in `insert_rows`); `increment`, a column every updated
    row adds one to (the elections' version). PostgreSQL: `UPDATE … FROM unnest(…)`; SQLite:
    one prepared `executemany`."""
    if not rows:
        return
    sqlite = connection.dialect.name == "sqlite"
    quote = connection.dialect.identifier_preparer.quote
    names = [key, *columns]
    kinds = [_kind(table.c[name]) for name in names]
    by_column = _driver_values(rows, kinds, sqlite)
    target = quote(table.name)
    bump = [f"{quote(increment)} = {target}.{quote(increment)} + 1"] if increment else []
    if sqlite:
        sets = ", ".join([*(f"{quote(name)} = ?" for name in columns), *bump])
        statement = f"UPDATE {target} SET {sets} WHERE {quote(key)} = ?"
        values = list(zip(*by_column[1:], by_column[0], strict=True))
        connection.exec_driver_sql(statement, values)
        return
    arrays, sets = [], []
    for name, kind in zip(names, kinds, strict=True):
        array_type = "text" if kind == "json" else table.c[name].type.compile(dialect=connection.dialect)
        arrays.append(f"%b::{array_type}[]")
    for name, kind in zip(columns, kinds[1:], strict=True):
        sets.append(f"{quote(name)} = t.{quote(name)}" + ("::json" if kind == "json" else ""))
    statement = (
        f"UPDATE {target} SET {', '.join([*sets, *bump])}"
        f" FROM unnest({', '.join(arrays)}) AS t({', '.join(quote(n) for n in names)})"
        f" WHERE {target}.{quote(key)} = t.{quote(key)}"
    )
    connection.exec_driver_sql(statement, tuple(by_column))


def among(session_or_connection, column, values: Iterable[Any]):
    """`column IN (values)` for a batch's long lists of ids. On PostgreSQL one array parameter
    (`= ANY(…)`): an expanded IN renders a placeholder per value, so the statement's text
    grows with the batch and the driver parses 2,652 placeholders per statement. Elsewhere
    the usual expanding IN."""
    values = list(values)
    if _dialect(session_or_connection) != "postgresql":
        return column.in_(values)
    return column == any_(bindparam(None, values, type_=ARRAY(column.type)))


def _dialect(session_or_connection) -> str:
    if isinstance(session_or_connection, Session):
        return session_or_connection.get_bind().dialect.name
    return session_or_connection.dialect.name
