"""A render worker that hangs in its render, for the dead-worker test (tests/test_render_worker.py).

`python -m tests.render_hang --db URL` claims the oldest queued render job as
`huanjie render-worker` does (RenderWorker on the system clock, heartbeat every 0.2 s), writes
"FAULT: job <its heading> hangs in its render" on stderr and then waits for ever with the job running and
its heartbeat beating, so the test can kill -9 the process there.
"""

from __future__ import annotations

import argparse
import sys
import threading
from datetime import timedelta

from workflow.clock import SystemClock
from workflow.commands.render_jobs import RenderWorker
from workflow.store import Database


def hang(template: str, context: dict, fmt: str) -> bytes:
    sys.stderr.write(f"FAULT: job {context['doc']['heading']} hangs in its render\n")
    sys.stderr.flush()
    threading.Event().wait()
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    args = parser.parse_args(argv)
    worker = RenderWorker(Database(args.db), SystemClock(), render=hang, heartbeat=timedelta(seconds=0.2))
    worker.run_once()
    return 0


if __name__ == "__main__":
    sys.exit(main())
