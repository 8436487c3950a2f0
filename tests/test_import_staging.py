"""The staged import (issue 16 item 3): rows are parsed with no transaction open, staged batch by
batch in short transactions and moved into the register in one INSERT … SELECT. Still one
command: the same outcome as the one-transaction import, and a rejected, failed or abandoned
import leaves no voters and no staged rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from demo.voters import HEADER, synthetic_rows
from tests.voters_support import ELECTION_DAY, import_file, make_election, write_csv
from workflow.commands import voter_import
from workflow.commands.voter_files import open_sheet
from workflow.errors import DomainError
from workflow.store.models import AuditEntry
from workflow.store.voters import District, StagedVoter, Voter, VoterImport


def _count(db, model, **where) -> int:
    with db.reading() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.execute(query).scalar_one()


def _staged_import(db, clock, election_id, header, rows, **options):
    try:
        return voter_import.import_staged(
            db.transaction, election_id, header, rows, file_name="v.csv", clock=clock, actor="t", **options
        )
    except voter_import.ImportRejected as rejected:
        return rejected.report


def _register(db, election_id) -> list[tuple]:
    with db.reading() as session:
        return sorted(
            session.execute(
                select(Voter.name, Voter.id_number, District.code, Voter.source_row, Voter.status)
                .join(District, District.id == Voter.district_id)
                .where(Voter.election_id == election_id)
            ).all()
        )


def _rows(count: int, seed: int = 3) -> list[list[object]]:
    return list(synthetic_rows(count, election_day=ELECTION_DAY, districts=["01", "02"], seed=seed))


def test_the_staged_import_registers_what_the_one_transaction_import_does(db, clock, tmp_path):
    """Same file, both ways (over STAGE_BATCH rows: several staged batches), with rejected rows
    imported past (accept_valid): the same register, report and audit entry."""
    rows = _rows(voter_import.STAGE_BATCH + 700)
    rows[10][3] = "420821199913320000"  # an impossible ID number
    rows[2500][5] = "不是日期"
    path = write_csv(tmp_path / "v.csv", HEADER, rows)
    one, staged = make_election(db, clock), make_election(db, clock)
    expected = import_file(db, clock, one, path, accept_valid=True)
    sheet = open_sheet(path)
    try:
        report = _staged_import(db, clock, staged, sheet.header, sheet.rows, accept_valid=True)
    finally:
        sheet.close()
    assert report.committed and report.import_id is not None
    assert (report.accepted, report.rejected_total, len(report.duplicates)) == (
        expected.accepted,
        expected.rejected_total,
        len(expected.duplicates),
    )
    assert report.accepted == len(rows) - 2 and report.rejected_total == 2
    assert _register(db, staged) == _register(db, one)
    assert _count(db, StagedVoter) == 0
    with db.reading() as session:
        imported = session.get(VoterImport, report.import_id)
        assert (imported.accepted, imported.rejected) == (report.accepted, 2)
        entry = session.execute(
            select(AuditEntry).where(
                AuditEntry.entity_id == str(report.import_id), AuditEntry.action == "voters.imported"
            )
        ).scalar_one()
        assert entry.after["accepted"] == report.accepted


def test_rejected_rows_without_accept_valid_leave_nothing(db, clock, tmp_path):
    election_id = make_election(db, clock)
    rows = _rows(voter_import.STAGE_BATCH + 10)
    rows[-1][3] = "420821199913320000"  # the last row: every batch before it was staged already
    rejected = []
    report = _staged_import(
        db, clock, election_id, HEADER, enumerate(rows, 2), on_reject=lambda *a: rejected.append(a)
    )
    assert not report.committed and report.rejected_total == 1 and len(rejected) == 1
    assert (_count(db, Voter), _count(db, VoterImport), _count(db, StagedVoter)) == (0, 0, 0)


def test_an_import_that_fails_midway_leaves_no_voters_and_no_staged_rows(db, clock):
    """Two batches are staged (their own transactions) when the file turns out broken."""
    election_id = make_election(db, clock)
    rows = _rows(2 * voter_import.STAGE_BATCH + 100)

    def broken() -> Iterator[tuple[int, list[object]]]:
        yield from enumerate(rows, 2)
        raise DomainError("E_FILE_FORMAT", "CSV 格式有误", "file")

    staged_midway = []

    def watching() -> Iterator[tuple[int, list[object]]]:
        for number, cells in broken():
            if number == len(rows):  # the last row: two batches are in the staging table
                staged_midway.append(_count(db, StagedVoter))
            yield number, cells

    with pytest.raises(DomainError):
        _staged_import(db, clock, election_id, HEADER, watching())
    assert staged_midway == [2 * voter_import.STAGE_BATCH]
    assert (_count(db, Voter), _count(db, VoterImport), _count(db, StagedVoter)) == (0, 0, 0)


def test_rows_left_by_a_killed_import_are_deleted_by_the_next_one(db, clock, tmp_path):
    """kill -9 between batches leaves staged rows no voter list reads; the next import deletes
    them once they are older than STAGE_KEPT_HOURS (a live import's are younger)."""
    election_id = make_election(db, clock)
    row = {
        "election_id": election_id,
        "district_id": 1,
        "name": "某",
        "sex": "M",
        "id_number": "0" * 18,
        "id_hash": "x",
        "birth_date": ELECTION_DAY - timedelta(days=30 * 365),
        "status": "active",
        "added_reason": "registered",
    }
    old = clock.now() - timedelta(hours=voter_import.STAGE_KEPT_HOURS + 1)
    with db.transaction() as session:
        session.execute(insert(StagedVoter), [row | {"stage": "dead", "staged_at": old}])
        session.execute(insert(StagedVoter), [row | {"stage": "live", "staged_at": clock.now()}])
    report = _staged_import(db, clock, election_id, HEADER, enumerate(_rows(20), 2))
    assert report.committed and report.accepted == 20
    with db.reading() as session:
        assert session.execute(select(StagedVoter.stage)).scalars().all() == ["live"]


def test_someone_registered_meanwhile_is_a_conflict_and_nothing_is_written(db, clock, tmp_path):
    """The register is read before the file, with no lock held: a concurrent import of one of
    the same people commits first, and the move finds it (the caller runs the import again)."""
    election_id = make_election(db, clock)
    rows = _rows(50)
    path = write_csv(tmp_path / "one.csv", HEADER, [rows[30]])

    def with_a_rival() -> Iterator[tuple[int, list[object]]]:
        for number, cells in enumerate(rows, 2):
            if number == 10:
                assert import_file(db, clock, election_id, path).accepted == 1
            yield number, cells

    with pytest.raises(voter_import.ImportConflict):
        _staged_import(db, clock, election_id, HEADER, with_a_rival())
    assert (_count(db, Voter), _count(db, VoterImport), _count(db, StagedVoter)) == (1, 1, 0)
    again = _staged_import(db, clock, election_id, HEADER, enumerate(rows, 2))
    assert (again.accepted, again.unchanged, _count(db, Voter)) == (49, 1, 50)
