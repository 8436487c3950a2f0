"""Importing the register from a committee's spreadsheet.

The rows are sorted by workflow/rules/voter_import.py; this module reads what the register
holds, writes the accepted rows in chunks (COPY on PostgreSQL) and records the import.

Two ways in: `import_voters` runs in the caller's one transaction (demo, benchmarks, tests);
`import_staged` (the API, the dashboard and the CLI) never holds the database for other users
longer than one batch (issue 16 item 3): the register is read in a short transaction, the file
is parsed and checked with no transaction open, accepted rows are staged batch by batch
(`voter_import_staging`, each batch its own short transaction), and one short transaction then
moves them into `voters` with a single INSERT … SELECT and records the import. Still one
command for whoever reads the register: an import that is rejected, fails or is abandoned
leaves no voters, and its staged rows are deleted.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import timedelta

from sqlalchemy import delete, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands import elections
from workflow.commands.voter_changes import exclusion_notes
from workflow.commands.voter_districts import district_codes, district_lookup
from workflow.commands.voter_list import is_published, supplement_import, today_for
from workflow.errors import Conflict
from workflow.events import VotersImported
from workflow.rules import ric
from workflow.rules.voter_import import ImportReport, ImportSorter, Register, RejectSink, default_district
from workflow.rules.voter_rows import check_late_registration, map_headers
from workflow.store.audit import record
from workflow.store.models import Election
from workflow.store.voters import AddedReason, StagedVoter, Voter, VoterImport, VoterStatus

CHUNK = 5000
STAGE_BATCH = 2000  # rows staged per transaction: ~40 ms of the database on SQLite
STAGE_KEPT_HOURS = 24  # staged rows of an import that died (kill -9) are deleted after this
VOTER_COLUMNS = (
    "election_id",
    "district_id",
    "name",
    "sex",
    "id_number",
    "id_hash",
    "birth_date",
    "ethnicity",
    "voter_group",
    "address",
    "hukou",
    "note",
    "status",
    "added_reason",
    "import_id",
    "source_row",
)
# The staging table's columns: the stage key and time, then a voter's columns but the import's id
# (given when the rows are moved; `_voter_row` puts it at IMPORT_AT).
IMPORT_AT = VOTER_COLUMNS.index("import_id")
MOVED_COLUMNS = tuple(c for c in VOTER_COLUMNS if c != "import_id")
STAGED_COLUMNS = ("stage", "staged_at", *MOVED_COLUMNS)
Transaction = Callable[[], AbstractContextManager[Session]]


class ImportConflict(Conflict):
    """Another import registered some of the same people meanwhile (PostgreSQL: both read the
    register before either committed). The caller may run the import again: it then finds them
    registered (不重登) and adds the rest."""

    def __init__(self) -> None:
        super().__init__(
            "E_IMPORT_CONFLICT", "同一批人员正由另一次导入同时登记，请稍后重新上传（不会重复登记）", "file"
        )


UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE for a unique key


class ImportRejected(Exception):
    """Rows were rejected and --accept-valid was not given: the caller rolls back (exit 1)."""

    def __init__(self, report: ImportReport):
        super().__init__("import rejected")
        self.report = report


def _bulk_insert(
    session: Session, rows: list[tuple], table: str = "voters", columns: tuple[str, ...] = VOTER_COLUMNS
) -> None:
    """Core executemany on SQLite; COPY on PostgreSQL (the same transaction)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        try:
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        except Exception as error:  # psycopg's own errors: COPY runs below SQLAlchemy
            if getattr(error, "sqlstate", None) == UNIQUE_VIOLATION:
                raise ImportConflict() from None
            raise
        return
    placeholders = ", ".join("?" for _ in columns)
    birth = columns.index("birth_date")
    try:
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
            [(*row[:birth], row[birth].isoformat(), *row[birth + 1 :]) for row in rows],
        )
    except IntegrityError:
        raise ImportConflict() from None


def _register(session: Session, election: Election) -> Register:
    voters: dict[str, int] = dict(
        session.execute(
            select(Voter.id_number, Voter.district_id).where(Voter.election_id == election.id)
        ).all()
    )
    removed = set(
        session.execute(
            select(Voter.id_number).where(
                Voter.election_id == election.id, Voter.status == VoterStatus.REMOVED
            )
        ).scalars()
    )
    return Register(
        districts=district_lookup(session, election.id),
        voters=voters,
        removed=removed,
        deprived=exclusion_notes(session, election),
    )


def _check_open(election: Election, clock: Clock) -> None:
    """After publication an import is a supplementary registration: closed after the kind's
    registration cutoff (workflow/rules/voter_rows.check_late_registration)."""
    if is_published(election):
        check_late_registration(
            elections.kind_of(election), election_day=election.anchor_date, on=today_for(election, clock)
        )


def import_voters(
    session: Session,
    election_id: int,
    header: list[object],
    rows: Iterable[tuple[int, list[object]]],
    *,
    file_name: str,
    clock: Clock,
    actor: str,
    file_sha256: str | None = None,
    district: str | None = None,
    accept_valid: bool = False,
    reason: AddedReason = AddedReason.REGISTERED,
    on_reject: RejectSink | None = None,
) -> ImportReport:
    """Validate, deduplicate and insert rows in the caller's transaction.

    Raises ImportRejected (the caller rolls back) when rows were rejected and `accept_valid` is
    false. Duplicates are not rejections: the first registration stands (不重登, EL 27).
    `on_reject(row, cells, reasons)` receives every rejected row (the report keeps the first
    REPORT_CAP details and counts them all)."""
    election = elections.get_election(session, election_id)
    _check_open(election, clock)
    headers = map_headers(header)
    register = _register(session, election)
    sorter = ImportSorter(
        headers,
        register,
        election_day=election.anchor_date,
        default_district_id=default_district(headers, district, register.districts),
        on_reject=on_reject,
    )
    report = sorter.report
    pending: list[tuple] = []
    import_row: VoterImport | None = None
    for accepted in sorter.sort(rows):
        if import_row is None:
            import_row = VoterImport(
                election_id=election_id,
                file_name=file_name[:300],
                file_sha256=file_sha256,
                at=clock.now(),
                actor=actor,
            )
            session.add(import_row)
            session.flush()
        pending.append(
            _voter_row(
                election_id, accepted.district_id, accepted.record, reason, import_row.id, accepted.row
            )
        )
        if len(pending) >= CHUNK:
            _write(session, pending, report, accept_valid)
    _write(session, pending, report, accept_valid)
    report.duplicates = sorter.duplicates(district_codes(session, election_id))
    if report.rejected_total and not accept_valid:
        raise ImportRejected(report)
    if import_row is not None:
        _finish(session, election, import_row, report, file_name=file_name, clock=clock, actor=actor)
    report.committed = True
    return report


def _voter_row(
    election_id: int, district_id: int, data: dict, reason: AddedReason, import_id: int, row: int
) -> tuple:
    """A row of VOTER_COLUMNS."""
    number = data["id_number"]
    return (
        election_id,
        district_id,
        data["name"],
        data["sex"],
        number,
        ric.id_hash(number),
        data["birth_date"],
        data["ethnicity"],
        data["voter_group"],
        data["address"],
        data["hukou"],
        data["note"],
        VoterStatus.ACTIVE.value,
        reason.value,
        import_id,
        row,
    )


def _write(session: Session, pending: list[tuple], report: ImportReport, accept_valid: bool) -> None:
    """Insert a chunk, unless a rejection already dooms the import (it will be rolled back)."""
    if pending and (accept_valid or not report.rejected_total):
        _bulk_insert(session, pending)
    pending.clear()


def _finish(
    session: Session,
    election: Election,
    import_row: VoterImport,
    report: ImportReport,
    *,
    file_name: str,
    clock: Clock,
    actor: str,
) -> None:
    import_row.accepted = report.accepted
    import_row.rejected = report.rejected_total
    import_row.duplicates = len(report.duplicates)
    import_row.warnings = report.warnings_total
    report.import_id = import_row.id
    if is_published(election):
        # After publication every addition goes to the supplementary list (补正名单).
        supplement_import(session, import_row.id, today_for(election, clock))
    record(
        session,
        VotersImported(
            entity_id=str(import_row.id),
            after={
                "election_id": election.id,
                "file": file_name,
                "sha256": import_row.file_sha256,
                "accepted": report.accepted,
                "rejected": report.rejected_total,
                "duplicates": len(report.duplicates),
                "warnings": report.warnings_total,
            },
        ),
        actor=actor,
        clock=clock,
    )


# -- the staged import (issue 16 item 3) -----------------------------------------------------------
def import_staged(
    transaction: Transaction,
    election_id: int,
    header: list[object],
    rows: Iterable[tuple[int, list[object]]],
    *,
    file_name: str,
    clock: Clock,
    actor: str,
    file_sha256: str | None = None,
    district: str | None = None,
    accept_valid: bool = False,
    reason: AddedReason = AddedReason.REGISTERED,
    on_reject: RejectSink | None = None,
    before: Callable[[Session, Election], None] | None = None,
    after: Callable[[Session, Election, ImportReport], None] | None = None,
) -> ImportReport:
    """`import_voters`'s outcome without holding the database while the file is read: each
    `transaction()` is short (the register read, one batch staged, the final move). `before`
    runs in the first transaction (checks that refuse the import early), `after` in the last one
    whether or not the rows were imported (e.g. storing the rejected rows' file); both commit
    with it. Raises ImportRejected after that last transaction committed when rows were rejected
    and `accept_valid` is false (no voter was written), ImportConflict when a concurrent import
    registered some of the same people first (nothing written: the caller may run it again)."""
    headers = map_headers(header)
    with transaction() as session:
        election = elections.get_election(session, election_id)
        _check_open(election, clock)
        if before is not None:
            before(session, election)
        register = _register(session, election)
        election_day = election.anchor_date
    sorter = ImportSorter(
        headers,
        register,
        election_day=election_day,
        default_district_id=default_district(headers, district, register.districts),
        on_reject=on_reject,
    )
    report = sorter.report
    stage = secrets.token_hex(16)
    pending: list[tuple] = []
    staged = 0
    refused = False
    try:
        for accepted in sorter.sort(rows):
            if report.rejected_total and not accept_valid:
                continue  # nothing will be imported: the rest is only checked, for the report
            pending.append(
                _voter_row(election_id, accepted.district_id, accepted.record, reason, 0, accepted.row)
            )
            if len(pending) >= STAGE_BATCH:
                with transaction() as session:
                    staged += _stage(session, stage, pending, clock)
        with transaction() as session:
            election = elections.get_election(session, election_id)
            report.duplicates = sorter.duplicates(district_codes(session, election_id))
            if report.rejected_total and not accept_valid:
                refused = True
            else:
                staged += _stage(session, stage, pending, clock)
                if staged:
                    _move(session, election, stage, report, file_name, file_sha256, clock, actor)
                report.committed = True
            if after is not None:
                after(session, election, report)
    except BaseException:
        if staged:  # whatever reached the staging table goes (a kill -9 leaves it to the age limit)
            with transaction() as session:
                _unstage(session, stage, clock)
        raise
    if staged:  # a transaction of its own: the move above stays as short as it can be
        with transaction() as session:
            _unstage(session, stage, clock)
    if refused:
        raise ImportRejected(report)
    return report


def _stage(session: Session, stage: str, pending: list[tuple], clock: Clock) -> int:
    """Write a batch of accepted rows (tuples of VOTER_COLUMNS) to the staging table."""
    count = len(pending)
    if count:
        column = StagedVoter.__table__.c.staged_at
        bind = column.type.bind_processor(session.connection().dialect)
        now = clock.now()
        stamp = bind(now) if bind is not None else now
        _bulk_insert(
            session,
            [(stage, stamp, *row[:IMPORT_AT], *row[IMPORT_AT + 1 :]) for row in pending],
            table=StagedVoter.__tablename__,
            columns=STAGED_COLUMNS,
        )
        pending.clear()
    return count


def _unstage(session: Session, stage: str, clock: Clock) -> None:
    """This import's staged rows, and any left by imports that died long ago."""
    session.execute(
        delete(StagedVoter).where(
            (StagedVoter.stage == stage)
            | (StagedVoter.staged_at < clock.now() - timedelta(hours=STAGE_KEPT_HOURS))
        )
    )


def _move(
    session: Session,
    election: Election,
    stage: str,
    report: ImportReport,
    file_name: str,
    file_sha256: str | None,
    clock: Clock,
    actor: str,
) -> None:
    """The staged rows into `voters` in one statement, and the import recorded."""
    import_row = VoterImport(
        election_id=election.id,
        file_name=file_name[:300],
        file_sha256=file_sha256,
        at=clock.now(),
        actor=actor,
    )
    session.add(import_row)
    session.flush()
    staged = StagedVoter.__table__
    try:
        session.execute(
            insert(Voter.__table__).from_select(
                [*MOVED_COLUMNS, "import_id"],
                select(*(staged.c[name] for name in MOVED_COLUMNS), literal(import_row.id))
                .where(staged.c.stage == stage)
                .order_by(staged.c.id),
            )
        )
    except IntegrityError:
        raise ImportConflict() from None
    _finish(session, election, import_row, report, file_name=file_name, clock=clock, actor=actor)
