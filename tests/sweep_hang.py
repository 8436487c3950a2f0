"""A worker that hangs before one batch's commit, for the crash test (tests/test_scheduler_processes.py).

`python -m tests.sweep_hang --db URL --hang-at-batch K [--sweep-every S] [--batch B] [--digest-hour H]`
runs the same jobs as `huanjie worker` (schedules.runner.run_worker on the system clock),
except that the K-th batch of a sweep writes "FAULT: batch K hangs before commit" on stderr
and then waits for ever inside its transaction, so the test can kill -9 the process there.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading

from config.settings import Settings
from schedules.runner import run_worker
from workflow.clock import SystemClock
from workflow.store import Database


def hang_at(batch: int):
    def before_commit(batch_no: int) -> None:
        if batch_no == batch:
            sys.stderr.write(f"FAULT: batch {batch_no} hangs before commit\n")
            sys.stderr.flush()
            threading.Event().wait()

    return before_commit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--hang-at-batch", type=int, required=True)
    parser.add_argument("--sweep-every", type=float, default=60.0)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--digest-hour", type=int, default=8)
    args = parser.parse_args(argv)
    # The same log lines as `huanjie worker`: the test reads them.
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
    db = Database(args.db)
    db.migrate()
    settings = Settings(sweep_seconds=args.sweep_every, sweep_batch=args.batch, digest_hour=args.digest_hour)
    return run_worker(db, settings, SystemClock(), before_commit=hang_at(args.hang_at_batch))


if __name__ == "__main__":
    sys.exit(main())
