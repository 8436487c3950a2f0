"""Benchmark: import N synthetic voters (valid ID numbers) from CSV, against a raw insert of the
same rows, on SQLite and PostgreSQL, side by side in one run.

    .venv/bin/python bench/voters.py [--scale 1.0] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

--scale 1.0 = 1,000,000 voters. Each phase runs in its own process, so its peak memory (max
RSS) is its own. Baselines: SQLite `executemany` of the prepared rows (parse excluded), and
PostgreSQL `COPY` of the same rows; both into the same migrated `voters` table and indexes.
Figures are printed as ratios against the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DISTRICTS = 200
NOW = datetime(2011, 8, 20, 2, 0, tzinfo=UTC)


def _codes() -> list[str]:
    return [f"{i:03d}" for i in range(1, DISTRICTS + 1)]


def generate(path: Path, count: int) -> None:
    from demo.voters import HEADER, synthetic_rows
    from tests.voters_support import ELECTION_DAY

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(synthetic_rows(count, election_day=ELECTION_DAY, districts=_codes(), seed=7))


def _setup(url: str) -> tuple:
    from demo.county import EXAMPLES
    from workflow.clock import FixedClock
    from workflow.commands import elections, voter_districts
    from workflow.plan import load_plan
    from workflow.store import Database

    database = Database(url)
    database.migrate()
    clock = FixedClock(NOW)
    with database.transaction() as session:
        election = elections.create_election(
            session, load_plan(EXAMPLES / "jingshan_2011.toml"), clock=clock, actor="bench"
        )
        for code in _codes():
            voter_districts.add_district(
                session, election.election.id, code=code, name=f"第{code}选区", clock=clock, actor="bench"
            )
        election_id = election.election.id
    return database, clock, election_id


def _prepared_rows(path: Path, database, election_id: int) -> list[tuple]:
    """The rows exactly as the import would write them, built before the clock starts."""
    from sqlalchemy import select

    from workflow.rules import ric
    from workflow.store.voters import District

    with database.reading() as session:
        lookup = dict(
            session.execute(
                select(District.code, District.id).where(District.election_id == election_id)
            ).all()
        )
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for number, cells in enumerate(reader, start=2):
            info = ric.parse(cells[3])
            rows.append(
                (
                    election_id,
                    lookup[cells[6]],
                    cells[1],
                    info.sex,
                    cells[3],
                    ric.id_hash(cells[3]),
                    info.birth_date,
                    cells[4],
                    cells[7],
                    cells[8],
                    cells[9],
                    None,
                    "active",
                    "registered",
                    None,
                    number,
                )
            )
    return rows


def phase_raw(url: str, path: Path) -> dict:
    from workflow.commands.voter_import import VOTER_COLUMNS

    database, _clock, election_id = _setup(url)
    rows = _prepared_rows(path, database, election_id)
    connection = database.engine.raw_connection()
    start = time.perf_counter()
    cursor = connection.cursor()
    if database.is_postgres:
        with cursor.copy(f"COPY voters ({', '.join(VOTER_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor.execute("BEGIN")
        placeholders = ", ".join("?" for _ in VOTER_COLUMNS)
        cursor.executemany(
            f"INSERT INTO voters ({', '.join(VOTER_COLUMNS)}) VALUES ({placeholders})",
            [(*r[:6], r[6].isoformat(), *r[7:]) for r in rows],
        )
    connection.commit()
    seconds = time.perf_counter() - start
    connection.close()
    database.dispose()
    return {"seconds": seconds, "rows": len(rows)}


def phase_import(url: str, path: Path) -> dict:
    from workflow.commands import voter_import
    from workflow.commands.voter_files import open_sheet

    database, clock, election_id = _setup(url)
    start = time.perf_counter()
    sheet = open_sheet(path)
    with database.transaction() as session:
        report = voter_import.import_voters(
            session, election_id, sheet.header, sheet.rows, file_name=path.name, clock=clock, actor="bench"
        )
    sheet.close()
    seconds = time.perf_counter() - start
    database.dispose()
    return {
        "seconds": seconds,
        "rows": report.accepted,
        "rejected": len(report.rejected),
        "duplicates": len(report.duplicates),
    }


def phase_validate(path: Path, sample: int) -> dict:
    """Per-row cost of each check, and stdnum's full validate for comparison."""
    from datetime import date

    from stdnum.cn import ric as stdnum_ric

    from workflow.rules import ric
    from workflow.rules.voter_rows import RowChecker, map_headers

    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [next(reader) for _ in range(sample)]
    numbers = [r[3] for r in rows]
    out = {}
    start = time.perf_counter()
    for number in numbers:
        ric.check_digit(number[:17])
    out["check_digit_us"] = (time.perf_counter() - start) / sample * 1e6
    start = time.perf_counter()
    for number in numbers:
        ric.parse(number)
    out["parse_us"] = (time.perf_counter() - start) / sample * 1e6
    start = time.perf_counter()
    for number in numbers:
        ric.id_hash(number)
    out["id_hash_us"] = (time.perf_counter() - start) / sample * 1e6
    ric.area_warning.cache_clear()
    start = time.perf_counter()
    for number in numbers:
        ric.area_warning(number[:6], int(number[6:10]))
    out["area_lookup_cached_us"] = (time.perf_counter() - start) / sample * 1e6
    headers = map_headers(header)
    day = date(2011, 10, 18)
    cutoff = ric.adult_cutoff(day)
    checker = RowChecker(headers, election_day=day, cutoff=cutoff)
    start = time.perf_counter()
    for cells in rows:
        checker(cells)
    out["check_row_us"] = (time.perf_counter() - start) / sample * 1e6
    small = numbers[: min(sample, 50_000)]
    start = time.perf_counter()
    for number in small:
        stdnum_ric.is_valid(number)
    out["stdnum_validate_us"] = (time.perf_counter() - start) / len(small) * 1e6
    return out


def _child(args: list[str]) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _pg_database(admin_url: str, create: bool, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if create:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        else:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 voters")
    parser.add_argument(
        "--pg", default=os.environ.get("HUANJIE_TEST_PG_URL"), help="PostgreSQL admin URL (omit to skip)"
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        path = Path(args.csv)
        if args.phase == "raw":
            result = phase_raw(args.url, path)
        elif args.phase == "import":
            result = phase_import(args.url, path)
        else:
            result = phase_validate(path, int(args.url))
        result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    count = int(1_000_000 * args.scale)
    with tempfile.TemporaryDirectory(prefix="huanjie-bench-") as tmp:
        work = Path(tmp)
        path = work / "voters.csv"
        start = time.perf_counter()
        generate(path, count)
        print(
            f"generated {count:,} voters ({path.stat().st_size / 1e6:.0f} MB CSV) in {time.perf_counter() - start:.1f}s"
        )
        validate = _child(["--phase", "validate", "--csv", str(path), "--url", str(min(count, 200_000))])
        print(
            "per-row validation cost (µs):",
            ", ".join(f"{k[:-3]}={v:.2f}" for k, v in validate.items() if k.endswith("_us")),
        )
        print(
            f"  stdnum full validate / our check_row = {validate['stdnum_validate_us'] / validate['check_row_us']:.2f}"
        )
        results = {}
        raw = _child(["--phase", "raw", "--url", f"sqlite:///{work / 'raw.sqlite3'}", "--csv", str(path)])
        full = _child(
            ["--phase", "import", "--url", f"sqlite:///{work / 'import.sqlite3'}", "--csv", str(path)]
        )
        results["sqlite"] = (raw, full)
        if args.pg:
            names = [f"huanjie_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}_{p}" for p in ("raw", "import")]
            try:
                raw_url = _pg_database(args.pg, True, names[0])
                import_url = _pg_database(args.pg, True, names[1])
                results["postgresql"] = (
                    _child(["--phase", "raw", "--url", raw_url, "--csv", str(path)]),
                    _child(["--phase", "import", "--url", import_url, "--csv", str(path)]),
                )
            finally:
                for name in names:
                    _pg_database(args.pg, False, name)
        print(
            f"\n{'backend':<11} {'baseline':>22} {'import (validate+dedupe+insert)':>34} {'ratio':>7} {'peak RSS':>10}"
        )
        for backend, (raw, full) in results.items():
            baseline = "executemany" if backend == "sqlite" else "COPY"
            assert full["rows"] == raw["rows"] == count, (full, raw)
            label = f"{baseline} {raw['seconds']:.1f}s"
            print(
                f"{backend:<11} {label:>22} "
                f"{full['seconds']:>26.1f}s ({count / full['seconds']:,.0f}/s) {full['seconds'] / raw['seconds']:>6.2f}× "
                f"{full['max_rss_mb']:>8.0f} MB"
            )
        print("\ntarget (SQLite): ratio ≤ 4×, peak memory < 1 GB")


if __name__ == "__main__":
    main()
