"""Reminders are rows: what the sweep will fire for an election, written when its dates change.

`desired_reminders` is pure (an election's dates in, reminder specs out). `write_reminders` is
the schedule hook the engine calls after create, reschedule, complete and waive, inside the
command's transaction: it cancels pending rows that no longer apply and adds the missing ones,
never re-adding a reminder that was already handled (no message twice after a rewrite).

Exact times (CONTRACTS.md): countdown to the planned date, else the statutory bound, at the
kind's hour (09:00 local) 7, 3 and 1 days before and on the day ("due today"); "overdue" at 00:00
local the day after the bound (statutory, escalated to the parent committee N days later) and,
separately, "plan_overdue" the day after an earlier planned date (no escalation).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.kinds import KindSpec, get_kind
from workflow.machine import FINAL_STATES
from workflow.store.models import SETTLED, Election, Reminder, ReminderStatus
from workflow.timeutil import local_date, local_instant


class ReminderKind(StrEnum):
    LEAD = "lead"  # N days before the target date
    DUE_TODAY = "due_today"
    PLAN_OVERDUE = "plan_overdue"  # the committee's own earlier date has passed (no escalation)
    OVERDUE = "overdue"  # the statutory bound has passed
    ESCALATION = "escalation"  # N days after the statutory overdue, to the parent committee
    DEADLINE_PASSED = "deadline_passed"  # a computed milestone's date has passed: it is done
    PHASE_OPENS = "phase_opens"  # a phase window starts: advance if the guards pass
    ADVANCE_CHECK = "advance_check"  # an open window's guards may pass now: try again


# Coalescing after downtime keeps the most urgent message per milestone (higher = more urgent).
URGENCY = {
    ReminderKind.LEAD: 0,
    ReminderKind.DUE_TODAY: 1,
    ReminderKind.PLAN_OVERDUE: 2,
    ReminderKind.OVERDUE: 3,
    ReminderKind.ESCALATION: 4,
}

MIDNIGHT = time(0, 0)


@lru_cache(maxsize=65536)
def _at(day: date, at: time, tz: str) -> datetime:
    """`local_instant`, memoised: many elections share their dates (a province votes together)."""
    return local_instant(day, at, tz)


class ReminderSpec(NamedTuple):
    milestone_key: str | None
    kind: ReminderKind
    lead_days: int | None
    target_date: date
    fire_at: datetime
    phase: str | None = None  # the phase a PHASE_OPENS / ADVANCE_CHECK reminder is about

    @property
    def details(self) -> dict[str, Any]:
        return {"phase": self.phase} if self.phase else {}

    @property
    def identity(self) -> tuple:
        return (
            self.milestone_key,
            str(self.kind),
            self.lead_days,
            self.target_date,
            self.phase,
        )


def identity_of(row: Reminder) -> tuple:
    return (row.milestone_key, row.kind, row.lead_days, row.target_date, (row.details or {}).get("phase"))


@dataclass(frozen=True)
class MilestoneDates:
    """What the reminder calculus needs of one milestone (pure values, no ORM)."""

    key: str
    planned: date | None
    latest: date | None
    settled: bool


def milestone_reminders(kind: KindSpec, milestone: MilestoneDates, tz: str) -> Iterator[ReminderSpec]:
    """The countdown, overdue and escalation reminders of one unsettled milestone."""
    if milestone.settled:
        return
    spec = kind.milestones[milestone.key]
    settings = kind.reminders
    if spec.computed:
        # A computed date (e.g. court_suit_deadline, EL 29) is not the committee's task: no
        # countdown; the milestone is done once its day is over.
        if milestone.latest is not None:
            yield ReminderSpec(
                milestone.key,
                ReminderKind.DEADLINE_PASSED,
                None,
                milestone.latest,
                _at(milestone.latest + timedelta(days=1), MIDNIGHT, tz),
            )
        return
    target = milestone.planned or milestone.latest
    if target is None:
        return
    at_hour = time(settings.hour, 0)
    for days in settings.lead_days:
        yield ReminderSpec(
            milestone.key,
            ReminderKind.LEAD,
            days,
            target,
            _at(target - timedelta(days=days), at_hour, tz),
        )
    yield ReminderSpec(milestone.key, ReminderKind.DUE_TODAY, None, target, _at(target, at_hour, tz))
    if milestone.planned is not None and (milestone.latest is None or milestone.planned < milestone.latest):
        yield ReminderSpec(
            milestone.key,
            ReminderKind.PLAN_OVERDUE,
            None,
            milestone.planned,
            _at(milestone.planned + timedelta(days=1), MIDNIGHT, tz),
        )
    if milestone.latest is not None:
        overdue_day = milestone.latest + timedelta(days=1)
        yield ReminderSpec(
            milestone.key,
            ReminderKind.OVERDUE,
            None,
            milestone.latest,
            _at(overdue_day, MIDNIGHT, tz),
        )
        after = settings.escalate_after_days
        yield ReminderSpec(
            milestone.key,
            ReminderKind.ESCALATION,
            after,
            milestone.latest,
            _at(overdue_day + timedelta(days=after), MIDNIGHT, tz),
        )


def desired_reminders(
    kind: KindSpec,
    state: str,
    milestones: Iterable[MilestoneDates],
    phase_windows: dict[str, Any],
    tz: str,
    today: date,
) -> list[ReminderSpec]:
    """Every reminder an election in `state` should have pending or already handled."""
    if state in FINAL_STATES:
        return []
    result: list[ReminderSpec] = []
    for milestone in milestones:
        result.extend(milestone_reminders(kind, milestone, tz))
    phases = kind.phase_keys
    current = phases.index(state) if state in phases else None
    for index, phase in enumerate(phases):
        window = (phase_windows or {}).get(phase) or [None, None]
        if index == 0 or not window[0]:
            continue
        start = date.fromisoformat(window[0])
        result.append(
            ReminderSpec(None, ReminderKind.PHASE_OPENS, None, start, _at(start, MIDNIGHT, tz), phase)
        )
        if current is not None and index == current + 1 and start <= today:
            # The window is open but the election is still in the phase before it (it was
            # blocked, or a date just changed): check the guards again at the next sweep.
            result.append(
                ReminderSpec(None, ReminderKind.ADVANCE_CHECK, None, start, _at(today, MIDNIGHT, tz), phase)
            )
    return result


@lru_cache(maxsize=4096)
def desired_cached(
    kind_key: str,
    state: str,
    milestones: tuple[MilestoneDates, ...],
    phase_windows: tuple[tuple[str, tuple], ...],
    tz: str,
    today: date,
) -> tuple[ReminderSpec, ...]:
    """`desired_reminders`, memoised on hashable arguments: elections of one provincial round
    share their timetable, so their reminders are computed once (a pure function)."""
    windows = {key: list(window) for key, window in phase_windows}
    return tuple(desired_reminders(get_kind(kind_key), state, milestones, windows, tz, today))


def windows_key(phase_windows: dict[str, Any]) -> tuple[tuple[str, tuple], ...]:
    return tuple(sorted((key, tuple(window or ())) for key, window in (phase_windows or {}).items()))


def milestone_dates(election: Election) -> tuple[MilestoneDates, ...]:
    return tuple(
        MilestoneDates(m.key, m.planned_date, m.latest, m.status in SETTLED) for m in election.milestones
    )


def election_desired(election: Election, today: date) -> list[ReminderSpec]:
    kind = get_kind(election.kind)
    return desired_reminders(
        kind,
        election.state,
        milestone_dates(election),
        election.phase_windows or {},
        election.jurisdiction.timezone,
        today,
    )


def write_reminders(session: Session, election: Election, clock: Clock) -> None:
    """Bring an election's reminder rows in line with its dates (the schedule hook).

    Pending rows that no longer apply are cancelled; missing ones are added. A reminder that
    was already handled (done or superseded) is never written again, so a rewrite after a
    completion does not repeat yesterday's warning. ADVANCE_CHECK is the exception: it is a
    retry, so only a pending one counts.
    """
    now = clock.now()
    today = local_date(now, election.jurisdiction.timezone)
    desired = {spec.identity: spec for spec in election_desired(election, today)}
    rows = session.execute(select(Reminder).where(Reminder.election_id == election.id)).scalars().all()
    kept: set[tuple] = set()
    for row in rows:
        ident = identity_of(row)
        if row.status == ReminderStatus.PENDING:
            if ident in desired:
                kept.add(ident)
            else:
                row.status = ReminderStatus.CANCELLED
                row.handled_at = now
        elif (
            row.status in (ReminderStatus.DONE, ReminderStatus.SUPERSEDED)
            and row.kind != ReminderKind.ADVANCE_CHECK
        ):
            kept.add(ident)
    new = tuple(spec for ident, spec in desired.items() if ident not in kept)
    if new:
        session.flush()
        insert_bulk(session, [(election.id, new)], now)


def write_round_reminders(session: Session, elections: Sequence[Election], clock: Clock) -> None:
    """The reminders of elections a round has just created, written together (the round hook).

    They have no rows yet, so nothing is diffed: each election's specs come from the memoised
    calculus — elections with the same dates, state and time zone get the very same tuple — and
    one `insert_bulk` lets the database fan the shared timetable out."""
    now = clock.now()
    items = []
    for election in elections:
        tz = election.jurisdiction.timezone
        specs = desired_cached(
            election.kind,
            election.state,
            milestone_dates(election),
            windows_key(election.phase_windows),
            tz,
            local_date(now, tz),
        )
        items.append((election.id, specs))
    insert_bulk(session, items, now)


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


def register() -> None:
    """Put the writers into the engine's schedule hooks (idempotent)."""
    from workflow.commands.elections import ROUND_HOOKS, SCHEDULE_HOOKS

    if write_reminders not in SCHEDULE_HOOKS:
        SCHEDULE_HOOKS.append(write_reminders)
    if write_round_reminders not in ROUND_HOOKS:
        ROUND_HOOKS.append(write_round_reminders)


register()
