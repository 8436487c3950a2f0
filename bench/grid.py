"""Benchmark: the command centre's grid on a simulated province.

100 counties × 12 townships = 1,200 township people's congress elections plus 100 county
elections (1,300 in all), built once through the same commands staff use (demo/province.py, `build_province`) on
SQLite, then copied row for row into a fresh PostgreSQL database. On each backend, 50 requests
each (in-process ASGI, the whole stack: auth, one transaction, the view, the response):

- the province grid as JSON (GET /api/v1/grid, a province administrator),
- the province grid page (GET /grid, HTML, the 200 most urgent rows shown per kind),
- one county's grid as JSON and as a page (a county administrator),
- the baseline: GET /healthz (the same stack and a bare `SELECT 1`).

Printed: p50 and p99 server time per target, the ratio to the baseline's p50, and the number of
SQL statements per request (it must not grow with the number of rows: county = province).
Targets (issue 12): province grid < 500 ms, county grid < 100 ms. The grid is cached per (scope,
filters, date, data version): p50/p99 are repeated looks at unchanged data (one statement for the
version, then the cached grid rendered); "uncached" is the median of 5 requests with the cache
emptied first (the first look after a change: issue 15's target, < 500 ms), in wall and CPU time.

    python bench/grid.py                              # SQLite, and PostgreSQL if HUANJIE_TEST_PG_URL is set
    python bench/grid.py --counties 20 --requests 20  # quick run
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from config.settings import Settings
from demo.province import PROVINCE, build_province
from service.app import create_app
from service.web.grid import GRID_CACHE
from workflow.clock import FixedClock
from workflow.commands import auth
from workflow.store import Database
from workflow.store.models import Base

BUILT = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
MORNING = datetime(2026, 9, 20, 1, 0, tzinfo=UTC)  # election day 09-26: lists overdue, more due
PASSWORD = "bench-grid-2026"


def build(path: Path, counties: int, townships: int) -> tuple[dict[str, list[dict]], float]:
    started = time.perf_counter()
    db = Database(f"sqlite:///{path}")
    db.migrate()
    clock = FixedClock(BUILT)
    with db.transaction() as session:
        province = build_province(session, clock=clock, counties=counties, townships=townships)
        for username, code in (("province", PROVINCE), ("county", province.counties[0])):
            auth.add_user(
                session, username=username, role="county_admin", jurisdiction_code=code,
                password=PASSWORD, clock=clock, actor="bench",
            )
    with db.engine.connect() as conn:
        rows = {t.name: [dict(r._mapping) for r in conn.execute(t.select())] for t in Base.metadata.sorted_tables}
    db.dispose()
    return rows, time.perf_counter() - started


def postgres_copy(pg_url: str, rows: dict[str, list[dict]]) -> tuple[Database, callable]:
    admin_url = make_url(pg_url)
    name = f"huanjie_bench_grid_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(admin_url.set(database=name).render_as_string(hide_password=False))
    db.migrate()
    with db.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if rows[table.name]:
                conn.execute(table.insert(), rows[table.name])
        for table in Base.metadata.sorted_tables:
            if "id" in table.c and rows[table.name]:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"))
        conn.execute(text("ANALYZE"))

    def drop() -> None:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return db, drop


def login(app, username: str) -> TestClient:
    client = TestClient(app)
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf": csrf, "next": "/grid"})
    return client


def measure(db: Database, requests: int) -> list[tuple[str, float, float, float, int, int]]:
    clock = FixedClock(MORNING)
    app = create_app(Settings(db=db.url, migrate_on_start=False, cookie_secure=False), db, clock)  # plain http
    statements = [0]

    def count(*_args):
        statements[0] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    clients = {name: login(app, name) for name in ("province", "county")}
    targets = [
        ("baseline: /healthz (SELECT 1)", "county", "/healthz"),
        ("province grid JSON", "province", "/api/v1/grid"),
        ("province grid page", "province", "/grid"),
        ("county grid JSON", "county", "/api/v1/grid"),
        ("county grid page", "county", "/grid"),
    ]
    results = []
    for label, who, url in targets:
        client = clients[who]
        first = client.get(url)  # warm-up (kind files, templates)
        assert first.status_code == 200, (url, first.status_code, first.text[:300])
        rows = first.json()["rows_total"] if url.startswith("/api") else 0
        timings, cpu = [], []
        before = statements[0]
        for _ in range(requests):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)  # this process's CPU: the server's work
            assert response.status_code == 200
        per_request = (statements[0] - before) / requests
        cold, cold_cpu = [], []  # the grid built afresh (a change since the last look): the cache emptied first
        for _ in range(5):
            GRID_CACHE.clear()
            started, started_cpu = time.perf_counter(), time.process_time()
            assert client.get(url).status_code == 200
            cold.append((time.perf_counter() - started) * 1000)
            cold_cpu.append((time.process_time() - started_cpu) * 1000)
        timings.sort()
        p50 = statistics.median(timings)
        p99 = timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))]
        results.append((
            label, p50, p99, statistics.median(cpu), round(per_request), rows, statistics.median(cold),
            statistics.median(cold_cpu),
        ))
    event.remove(db.engine, "before_cursor_execute", count)
    base = results[0][1]
    return [
        (label, p50, p99, p50 / base, cpu, n, rows, cold, cold_cpu)
        for label, p50, p99, cpu, n, rows, cold, cold_cpu in results
    ]


def report(backend: str, results) -> None:
    print(f"\n{backend} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: wall times include waiting for a core)")
    print(
        f"  {'target':34} {'rows':>6} {'p50 ms':>9} {'p99 ms':>9} {'× baseline':>11} {'CPU p50 ms':>11}"
        f" {'SQL/request':>12} {'uncached p50':>13} {'uncached CPU':>13}"
    )
    for label, p50, p99, ratio, cpu, n, rows, cold, cold_cpu in results:
        print(
            f"  {label:34} {rows or '':>6} {p50:9.1f} {p99:9.1f} {ratio:11.1f} {cpu:11.1f} {n:12d}"
            f" {cold:13.1f} {cold_cpu:13.1f}"
        )
    by = {label: (p50, n, cold) for label, p50, _p99, _r, _cpu, n, _rows, cold, _cc in results}
    print(
        f"  statements: province JSON {by['province grid JSON'][1]} = county JSON {by['county grid JSON'][1]}"
        f" → {'constant' if by['province grid JSON'][1] == by['county grid JSON'][1] else 'GROWS'};"
        f" targets: province < 500 ms {'met' if by['province grid JSON'][0] < 500 else 'MISSED'},"
        f" county < 100 ms {'met' if by['county grid JSON'][0] < 100 else 'MISSED'};"
        f" uncached (issue 15): province JSON < 500 ms {'met' if by['province grid JSON'][2] < 500 else 'MISSED'},"
        f" page {'met' if by['province grid page'][2] < 500 else 'MISSED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counties", type=int, default=100)
    parser.add_argument("--townships", type=int, default=12)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--pg", default=os.environ.get("HUANJIE_TEST_PG_URL"), help="PostgreSQL admin URL")
    parser.add_argument("--keep", type=Path, help="keep the built SQLite province here and reuse it next time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / "province.sqlite3"
        if args.keep and path.exists():
            db = Database(f"sqlite:///{path}")
            with db.engine.connect() as conn:
                rows = {t.name: [dict(r._mapping) for r in conn.execute(t.select())] for t in Base.metadata.sorted_tables}
            db.dispose()
            seconds = 0.0
        else:
            rows, seconds = build(path, args.counties, args.townships)
        elections = len(rows["elections"])
        print(f"province: {elections} elections, {len(rows['milestones'])} milestones"
              f" (built in {seconds:.0f} s through the commands; 0 = reused {path})")
        db = Database(f"sqlite:///{path}")
        report("SQLite", measure(db, args.requests))
        db.dispose()
        if args.pg:
            pg, drop = postgres_copy(args.pg, rows)
            try:
                report("PostgreSQL", measure(pg, args.requests))
            finally:
                drop()


if __name__ == "__main__":
    main()
