"""Outbox delivery throughput, as ratios against a baseline measured in the same run.

Baseline: one row per claim (batch=1), i.e. a claim transaction per row. Measured: the worker's
default batch (100), with the log channel (no I/O: the cost of the bookkeeping alone) and with the
signed webhook over loopback to a local receiver. SQLite always; PostgreSQL when --pg-url is given
(a scratch database is created on that server and dropped afterwards).

    .venv/bin/python bench/delivery.py [--rows 2000] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, delete, insert, text
from sqlalchemy.engine import make_url

from config.settings import Settings
from schedules.delivery import deliver_all
from tests.delivery_servers import RobotServer
from workflow.clock import FixedClock
from workflow.store import Database
from workflow.store.models import Notification

NOW = datetime(2026, 9, 1, tzinfo=UTC)


def fill(db: Database, rows: int, channel: str, recipient: dict) -> None:
    with db.transaction() as session:
        session.execute(delete(Notification))
        session.execute(
            insert(Notification),
            [
                {
                    "idempotency_key": f"bench:{number}", "channel": channel, "recipient": recipient,
                    "category": "warning", "subject": "距截止还有 3 天", "body": "正文" * 40, "payload": {},
                    "status": "pending", "attempts": 0, "next_attempt_at": NOW, "created_at": NOW,
                }
                for number in range(rows)
            ],
        )


def rate(db: Database, rows: int, batch: int, channel: str, recipient: dict) -> float:
    fill(db, rows, channel, recipient)
    settings = Settings(delivery_http_timeout_seconds=5)
    started = time.perf_counter()
    report = deliver_all(db, FixedClock(NOW), batch=batch, settings=settings, max_batches=10**7)
    elapsed = time.perf_counter() - started
    assert report.sent == rows, report.as_dict()
    return rows / elapsed


def run(name: str, db: Database, rows: int, server: RobotServer) -> None:
    hook = {"url": server.url, "secret": server.secret}
    baseline = rate(db, rows, 1, "log", {})
    batched = rate(db, rows, 100, "log", {})
    webhook = rate(db, max(rows // 4, 1), 100, "webhook", hook)
    print(f"{name:<11} baseline batch=1, log      {baseline:9.0f} rows/s   1.00×")
    print(f"{name:<11} batch=100, log             {batched:9.0f} rows/s   {batched / baseline:4.2f}×")
    print(f"{name:<11} batch=100, signed webhook  {webhook:9.0f} rows/s   {webhook / baseline:4.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--pg-url", default=os.environ.get("HUANJIE_BENCH_PG_URL"))
    args = parser.parse_args()
    logging.getLogger("huanjie.delivery").setLevel(logging.WARNING)
    server = RobotServer("webhook")
    try:
        with tempfile.TemporaryDirectory() as directory:
            db = Database(f"sqlite:///{directory}/bench.sqlite3")
            db.migrate()
            run("SQLite", db, args.rows, server)
            db.dispose()
        if args.pg_url:
            admin_url = make_url(args.pg_url)
            name = f"huanjie_bench_delivery_{uuid.uuid4().hex[:8]}"
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                db = Database(admin_url.set(database=name).render_as_string(hide_password=False))
                db.migrate()
                run("PostgreSQL", db, args.rows, server)
                db.dispose()
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    finally:
        server.close()


if __name__ == "__main__":
    main()
