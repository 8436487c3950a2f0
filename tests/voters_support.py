"""Helpers for the voter tests: an election (the seed's 2011 Jingshan plan, E = 2011-10-18),
districts, spreadsheet files and valid identity numbers."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

from demo.county import EXAMPLES
from demo.voters import HEADER, synthetic_rows
from workflow.commands import elections, voter_districts, voter_import
from workflow.plan import load_plan
from workflow.rules import ric

ELECTION_DAY = date(2011, 10, 18)
LIST_DAY = date(2011, 9, 20)


def noon(day: date) -> datetime:
    """12:00 Beijing time on `day`, as an aware UTC instant."""
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)


def make_election(db, clock, districts=("01", "02")) -> int:
    with db.transaction() as session:
        created = elections.create_election(
            session, load_plan(EXAMPLES / "jingshan_2011.toml"), clock=clock, actor="t"
        )
        for code in districts:
            voter_districts.add_district(
                session, created.election.id, code=code, name=f"第{code}选区", clock=clock, actor="t"
            )
        return created.election.id


def number(born: date, seq: int = 0, sex: str = "M", area: str = "420821") -> str:
    return ric.make_number(area, born, seq, sex)


def write_csv(path: Path, header: list[str], rows: list[list[object]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def synthetic_csv(path: Path, count: int, districts=("01", "02"), seed: int = 1) -> Path:
    rows = synthetic_rows(count, election_day=ELECTION_DAY, districts=list(districts), seed=seed)
    return write_csv(path, HEADER, list(rows))


def import_file(db, clock, election_id: int, path: Path, **options):
    """Import in one transaction like the CLI; returns the report (committed or not)."""
    from workflow.commands.voter_files import open_sheet

    sheet = open_sheet(path, sheet=options.pop("sheet", None))
    try:
        with db.transaction() as session:
            return voter_import.import_voters(
                session,
                election_id,
                sheet.header,
                sheet.rows,
                file_name=path.name,
                clock=clock,
                actor="t",
                **options,
            )
    except voter_import.ImportRejected as rejected:
        return rejected.report
    finally:
        sheet.close()
