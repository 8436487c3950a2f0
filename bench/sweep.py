"""Benchmark: deadlines as rows swept by one periodic job, against one APScheduler job per deadline.

    python bench/sweep.py                       # 100,000 elections on SQLite and PostgreSQL
    python bench/sweep.py --scale 0.05          # a quick run (5,000 elections)
    python bench/sweep.py --realistic --scale 0.02 --sweep-limit 20000
                                                # province shape: a committee per election
    python bench/sweep.py --backend sqlite --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test

For each backend, in the same run:
- scheduling: the reminder rows of N people's congress elections (the seed's plan, election days
  spread over a year), computed per election and written by `insert_bulk` (the writer every
  command uses), 10,000 elections per transaction — against the naive design, one APScheduler 3
  job per deadline added to a SQLAlchemyJobStore in the same database (at `--naive-jobs`, default
  20,000). The two are interleaved, a transaction of ours then a slice of naive jobs, so that a
  change in the machine's load during the run weighs on both alike;
- a sweep that finds nothing due, at full size (target < 10 ms), next to the naive store's
  `get_due_jobs` at its size;
- sweep throughput (reminders handled per second) on a 30-day backlog, capped at `--sweep-limit`,
  next to the naive design's per-job cost of firing (fetch due jobs, remove each one).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, func, insert, select, text
from sqlalchemy.engine import make_url

from schedules.sweep import sweep
from workflow.calendar import check_plan
from workflow.clock import FixedClock
from workflow.kinds import get_kind
from workflow.plan import load_plan
from workflow.store import Database
from workflow.store.models import Election, Jurisdiction, Milestone, Notification, Reminder
from workflow.store.reminders import insert_bulk
from workflow.timetable import MilestoneDates, desired_cached, windows_key

ROOT = Path(__file__).resolve().parent.parent
TZ = "Asia/Shanghai"
FIRST_DAY = date(2027, 3, 7)


def fire(election_id: int, key: str) -> None:
    """The naive design's job function (never called: the jobs are only stored and fetched)."""


# -- set-up (not timed) ---------------------------------------------------------------------
def make_database(backend: str, pg_url: str | None, workdir: Path) -> tuple[Database, str, callable]:
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        db = Database(url)
        db.migrate()
        return db, url, lambda: db.dispose()
    admin_url = make_url(pg_url)
    name = f"huanjie_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    db.migrate()

    def drop() -> None:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return db, url, drop


TOWNSHIPS_PER_COUNTY = 12  # a province's shape: 102 counties, 1,224 townships


def jurisdiction_rows(count: int, realistic: bool, contacts: list[dict]) -> tuple[list[dict], callable]:
    """The jurisdictions, and which one the i-th election belongs to. Default: 100 counties
    shared by all elections. Realistic: one township (with its own committee) per election,
    under a county per 12 townships (its committee takes the escalations), as in a province."""

    def row(j: int, code: str, name: str, level: str, parent: int | None) -> dict:
        return {
            "id": j,
            "code": code,
            "name": name,
            "level": level,
            "parent_id": parent,
            "timezone": TZ,
            "committee_name": f"{name}选举委员会",
            "contacts": contacts,
        }

    if not realistic:
        return [row(j, f"J{j:04d}", f"县{j}", "county", None) for j in range(1, 101)], lambda i: 1 + i % 100
    counties = -(-count // TOWNSHIPS_PER_COUNTY)
    rows = [row(c, f"C{c:05d}", f"县{c}", "county", None) for c in range(1, counties + 1)]
    rows += [
        row(counties + 1 + i, f"T{i:07d}", f"乡镇{i}", "township", 1 + i // TOWNSHIPS_PER_COUNTY)
        for i in range(count)
    ]
    return rows, lambda i: counties + 1 + i


def load_elections(db: Database, count: int, realistic: bool = False) -> list[dict]:
    """`count` elections of the seed's plan, election days spread over a year (bulk, untimed)."""
    seed = load_plan(ROOT / "examples" / "jingshan_2011.toml")
    kind = get_kind("people_congress")
    now = datetime(2027, 1, 1, tzinfo=UTC)
    contacts = [
        {
            "name": "办公室",
            "role": "office",
            "email": "x@example.gov.cn",
            "channels": {"log": True, "email": True},
        }
    ]
    templates = []
    for offset in range(365):
        anchor = FIRST_DAY + timedelta(days=60 + offset)
        delta = anchor - seed.anchor
        planned = {k: v + delta for k, v in seed.milestones.items()}
        report = check_plan(kind, anchor, planned)
        windows = {
            k: [(w.start + delta).isoformat(), (w.end + delta).isoformat()] for k, w in seed.phases.items()
        }
        templates.append((anchor, report, windows))
    elections: list[dict] = []
    jurisdictions, jurisdiction_of = jurisdiction_rows(count, realistic, contacts)
    with db.transaction() as session:
        for first in range(0, len(jurisdictions), 5000):
            session.execute(insert(Jurisdiction.__table__), jurisdictions[first : first + 5000])
    chunk = 5000
    for start in range(0, count, chunk):
        rows, milestone_rows = [], []
        for i in range(start, min(count, start + chunk)):
            anchor, report, windows = templates[i % 365]
            eid = i + 1
            rows.append(
                {
                    "id": eid,
                    "kind": kind.key,
                    "kind_version": kind.version,
                    "title": f"选举{eid}",
                    "jurisdiction_id": jurisdiction_of(i),
                    "anchor_date": anchor,
                    "statute": "2020",
                    "state": "preparation",
                    "suspended_from": None,
                    "phase_windows": windows,
                    "phase_entered_on": {},
                    "parent_election_id": None,
                    "blocked_reasons": [],
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
            for m in report.milestones:
                milestone_rows.append(
                    {
                        "election_id": eid,
                        "key": m.key,
                        "phase": m.phase,
                        "planned_date": m.planned,
                        "earliest": m.earliest,
                        "latest": m.latest,
                        "status": "pending",
                        "late": False,
                    }
                )
            elections.append(
                {
                    "id": eid,
                    "windows": windows_key(windows),
                    "milestones": tuple(
                        MilestoneDates(m.key, m.planned, m.latest, False) for m in report.milestones
                    ),
                }
            )
        with db.transaction() as session:
            session.execute(insert(Election.__table__), rows)
            session.execute(insert(Milestone.__table__), milestone_rows)
    if db.is_postgres:
        with db.engine.begin() as conn:
            conn.execute(text("SELECT setval('elections_id_seq', (SELECT max(id) FROM elections))"))
            conn.execute(text("SELECT setval('jurisdictions_id_seq', (SELECT max(id) FROM jurisdictions))"))
    return elections


# -- our design -----------------------------------------------------------------------------
ELECTIONS_PER_TRANSACTION = 10_000


def chunks(elections: list[dict]) -> list[list[dict]]:
    step = ELECTIONS_PER_TRANSACTION
    return [elections[start : start + step] for start in range(0, len(elections), step)]


def specs_of(election: dict) -> tuple:
    return desired_cached(
        "people_congress", "preparation", election["milestones"], election["windows"], TZ, date(2027, 1, 1)
    )


def schedule_chunk(db: Database, chunk: list[dict]) -> int:
    """Compute each election's reminders (the pure calculus, memoised for elections sharing a
    timetable) and write them with the one writer every command uses, in one transaction."""
    now = datetime(2027, 1, 1, tzinfo=UTC)
    with db.transaction() as session:
        return insert_bulk(session, [(election["id"], specs_of(election)) for election in chunk], now)


def median_ms(action, runs: int = 30) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


# -- the naive design -----------------------------------------------------------------------
class Naive:
    """One APScheduler 3 job per deadline, in a SQLAlchemyJobStore in the same database."""

    def __init__(self, url: str, deadlines: list[tuple[int, int, str, datetime]]):
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        self.url = url
        self.deadlines = deadlines
        self.store = SQLAlchemyJobStore(url=url, tablename=f"naive_jobs_{uuid.uuid4().hex[:6]}")
        self.scheduler = BackgroundScheduler(jobstores={"default": self.store}, timezone=TZ)
        self.scheduler.start(paused=True)  # jobs go straight to the store; nothing runs
        self.added = 0
        self.add_seconds = 0.0

    def add(self, count: int) -> None:
        started = time.perf_counter()
        for job_id, election_id, key, when in self.deadlines[self.added : self.added + count]:
            self.scheduler.add_job(
                "bench.sweep:fire",
                "date",
                run_date=when,
                args=[election_id, key],
                id=f"{job_id}",
                misfire_grace_time=None,
                coalesce=True,
            )
        self.add_seconds += time.perf_counter() - started
        self.added = min(len(self.deadlines), self.added + count)

    def finish(self) -> dict:
        store = self.store
        earliest = min(when for _r, _e, _k, when in self.deadlines)
        nothing_ms = median_ms(lambda: store.get_due_jobs(earliest - timedelta(hours=1)))
        # Firing: what the scheduler does per due job in the naive design (fetch, then remove
        # the one-shot job), over a 30-day backlog.
        due_at = earliest + timedelta(days=30)
        started = time.perf_counter()
        due = store.get_due_jobs(due_at)
        for job in due:
            store.remove_job(job.id)
        fire_seconds = time.perf_counter() - started
        self.scheduler.shutdown(wait=False)
        store.shutdown()
        with create_engine(self.url).begin() as conn:
            conn.execute(text(f"DROP TABLE {store.jobs_t.name}"))
        return {
            "jobs": self.added,
            "add_per_job_us": self.add_seconds / self.added * 1e6,
            "nothing_due_ms": nothing_ms,
            "fire_per_s": len(due) / fire_seconds if fire_seconds and due else float("nan"),
            "fired": len(due),
        }


def naive_deadlines(elections: list[dict], count: int) -> list[tuple[int, int, str, datetime]]:
    """The same deadlines as our rows, for the first elections, one job each."""
    deadlines: list[tuple[int, int, str, datetime]] = []
    for election in elections:
        for spec in specs_of(election):
            deadlines.append((len(deadlines) + 1, election["id"], str(spec.kind), spec.fire_at))
            if len(deadlines) == count:
                return deadlines
    return deadlines


def run(backend: str, args) -> None:
    count = max(1, int(100_000 * args.scale))
    naive_jobs = max(100, int(args.naive_jobs * min(1.0, args.scale * 4)))
    with tempfile.TemporaryDirectory() as tmp:
        db, url, cleanup = make_database(backend, args.pg_url, Path(tmp))
        try:
            t0 = time.perf_counter()
            elections = load_elections(db, count)
            print(f"[{backend}] set-up: {count:,} elections in {time.perf_counter() - t0:.1f} s", flush=True)

            # Scheduling, interleaved: a transaction of ours, then a slice of the naive jobs, so
            # that both designs see the same machine (its load drifts during a long run).
            baseline = Naive(url, naive_deadlines(elections, naive_jobs))
            parts = chunks(elections)
            rows, seconds = 0, 0.0
            for number, chunk in enumerate(parts):
                started = time.perf_counter()
                rows += schedule_chunk(db, chunk)
                seconds += time.perf_counter() - started
                baseline.add(-(-naive_jobs // len(parts)))
                print(f"[{backend}] scheduled {number + 1}/{len(parts)}: {rows:,} rows", flush=True)
            ours_us = seconds / rows * 1e6
            print(
                f"[{backend}] scheduled {rows:,} reminder rows in {seconds:.1f} s ({ours_us:.1f} µs per deadline)",
                flush=True,
            )

            with db.reading() as session:
                first = session.execute(select(func.min(Reminder.fire_at))).scalar_one()
            quiet = FixedClock(first - timedelta(hours=1))
            nothing_ms = median_ms(lambda: sweep(db, quiet))
            baseline = baseline.finish()

            backlog_clock = FixedClock(first + timedelta(days=30))
            started = time.perf_counter()
            result = sweep(db, backlog_clock, batch=500, limit=args.sweep_limit)
            sweep_seconds = time.perf_counter() - started
            processed = result.handled + result.superseded + result.cancelled
            per_s = processed / sweep_seconds

            print(
                f"[{backend}] --- figures ({rows:,} reminder rows; naive: {baseline['jobs']:,} APScheduler jobs) ---"
            )
            print(
                f"[{backend}] scheduling per deadline: rows {ours_us:.1f} µs vs naive {baseline['add_per_job_us']:.0f} µs "
                f"→ {baseline['add_per_job_us'] / ours_us:.0f}× faster (target ≥ 100×)"
            )
            print(
                f"[{backend}] sweep with nothing due at {rows:,} rows: {nothing_ms:.2f} ms (target < 10 ms); "
                f"naive get_due_jobs at {baseline['jobs']:,} jobs: {baseline['nothing_due_ms']:.2f} ms"
            )
            print(
                f"[{backend}] sweep throughput on a 30-day backlog of {result.backlog:,}: {processed:,} reminders in "
                f"{sweep_seconds:.1f} s = {per_s:,.0f}/s ({result.handled:,} sent, {result.superseded:,} coalesced, "
                f"{len(result.advanced):,} advanced, {len(result.blocked):,} blocked, {result.notifications:,} notifications); "
                f"naive fire {baseline['fire_per_s']:,.0f} jobs/s → {per_s / baseline['fire_per_s']:.1f}×"
                + (" (target ≥ 5,000/s on SQLite)" if backend == "sqlite" else ""),
                flush=True,
            )
        finally:
            cleanup()


# -- realistic mode: the province's shape, and several sweepers ------------------------------
def _worker(url: str, at: datetime, limit: int, batch: int, start_at: float, out) -> None:
    """One sweeper process: its own engine, started with the others at `start_at`."""
    db = Database(url)
    try:
        while time.time() < start_at:
            time.sleep(0.001)
        started = time.time()
        result = sweep(db, FixedClock(at), batch=batch, limit=limit)
        out.put(
            (
                started,
                time.time(),
                result.handled + result.superseded + result.cancelled,
                result.notifications,
            )
        )
    finally:
        db.dispose()


def sweepers(url: str, at: datetime, workers: int, limit: int, batch: int) -> tuple[int, int, float]:
    """`workers` processes sweep at once, about `limit` reminders in all; (processed,
    notifications, wall seconds)."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    start_at = time.time() + 3.0  # past the children's imports
    procs = [
        context.Process(target=_worker, args=(url, at, -(-limit // workers), batch, start_at, out))
        for _ in range(workers)
    ]
    for proc in procs:
        proc.start()
    results = [out.get() for _ in procs]
    for proc in procs:
        proc.join()
    wall = max(r[1] for r in results) - min(r[0] for r in results)
    return sum(r[2] for r in results), sum(r[3] for r in results), wall


def run_realistic(backend: str, args) -> None:
    count = max(1, int(100_000 * args.scale))
    with tempfile.TemporaryDirectory() as tmp:
        db, url, cleanup = make_database(backend, args.pg_url, Path(tmp))
        try:
            t0 = time.perf_counter()
            elections = load_elections(db, count, realistic=True)
            print(
                f"[{backend}] realistic set-up: {count:,} elections, each with its own township and "
                f"committee under {-(-count // TOWNSHIPS_PER_COUNTY):,} counties, in {time.perf_counter() - t0:.1f} s",
                flush=True,
            )
            rows, seconds = 0, 0.0
            for chunk in chunks(elections):
                started = time.perf_counter()
                rows += schedule_chunk(db, chunk)
                seconds += time.perf_counter() - started
            print(f"[{backend}] scheduled {rows:,} reminder rows in {seconds:.1f} s", flush=True)
            with db.reading() as session:
                first = session.execute(select(func.min(Reminder.fire_at))).scalar_one()
            nothing_ms = median_ms(lambda: sweep(db, FixedClock(first - timedelta(hours=1))))
            print(f"[{backend}] sweep with nothing due: {nothing_ms:.2f} ms (target < 5 ms)", flush=True)
            # The instant by which enough is due for every run below (one worker, then several).
            want = args.sweep_limit * 4  # batches overshoot the limit: leave room for the second run
            with db.reading() as session:
                at = session.execute(
                    select(Reminder.fire_at).order_by(Reminder.fire_at).offset(min(want, rows - 1)).limit(1)
                ).scalar_one()
                backlog = session.execute(
                    select(func.count()).select_from(Reminder).where(Reminder.fire_at <= at)
                ).scalar_one()
            limit = min(args.sweep_limit, backlog // 2)
            print(f"[{backend}] backlog at {at.isoformat()}: {backlog:,} reminders due", flush=True)
            statements: list[str] = []
            counter = lambda _c, _k, sql, *a: statements.append(sql.split(" (")[0][:60])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", counter)
            started, cpu_started = time.perf_counter(), time.process_time()
            one = sweep(db, FixedClock(at), batch=args.batch, limit=limit)
            one_seconds = time.perf_counter() - started
            one_cpu = time.process_time() - cpu_started
            event.remove(db.engine, "before_cursor_execute", counter)
            one_done = one.handled + one.superseded + one.cancelled
            one_rate = one_done / one_seconds
            print(
                f"[{backend}] realistic sweep, 1 worker: {one_done:,} reminders in {one_seconds:.2f} s = "
                f"{one_rate:,.0f}/s, {len(statements):,} statements in {one.batches} batches "
                f"({one.notifications:,} notifications); this process's CPU {one_cpu:.2f} s = "
                f"{one_done / max(one_cpu, 1e-9):,.0f}/CPU-s"
                + (" (SQLite: all of it)" if backend == "sqlite" else " (the server's apart)")
                + f", load {os.getloadavg()[0]:.1f}"
                + (" (target ≥ 5,000/s on SQLite)" if backend == "sqlite" else ""),
                flush=True,
            )
            if args.verbose:
                for sql, n in Counter(statements).most_common(8):
                    print(f"    {n:6,} × {sql}")
            processed, notifications = one_done, one.notifications
            if backend == "postgresql" and args.workers > 1:
                done, sent, wall = sweepers(url, at, args.workers, limit, args.batch)
                rate = done / wall
                processed += done
                notifications += sent
                print(
                    f"[{backend}] realistic sweep, {args.workers} worker processes: {done:,} reminders in "
                    f"{wall:.2f} s = {rate:,.0f}/s → {rate / one_rate:.2f}× one worker (target ≥ 1.6× with 2)",
                    flush=True,
                )
            with db.reading() as session:
                handled_rows = session.execute(
                    select(func.count()).select_from(Reminder).where(Reminder.handled_at == at)
                ).scalar_one()
                outbox_rows = session.execute(select(func.count()).select_from(Notification)).scalar_one()
            once = handled_rows == processed and outbox_rows == notifications
            print(
                f"[{backend}] exactly once: {processed:,} reminders reported handled, {handled_rows:,} rows "
                f"marked at the sweep's instant; {notifications:,} notifications reported, {outbox_rows:,} in "
                f"the outbox → {'OK' if once else 'MISMATCH'}",
                flush=True,
            )
        finally:
            cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100,000 elections")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("HUANJIE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument(
        "--naive-jobs", type=int, default=20_000, help="size of the naive job store at scale ≥ 0.25"
    )
    parser.add_argument(
        "--sweep-limit", type=int, default=100_000, help="reminders handled in the throughput run"
    )
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="province shape: one jurisdiction and committee per election; no naive baseline",
    )
    parser.add_argument("--batch", type=int, default=500, help="elections per sweep transaction (--realistic)")
    parser.add_argument("--verbose", action="store_true", help="the realistic sweep's commonest statements")
    parser.add_argument("--workers", type=int, default=2, help="sweeper processes (PostgreSQL, --realistic)")
    args = parser.parse_args()
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        (run_realistic if args.realistic else run)(backend, args)


if __name__ == "__main__":
    main()
