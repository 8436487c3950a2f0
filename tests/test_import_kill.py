"""kill -9 in the middle of a staged import (issue 16, the held list: "kill -9 mid-import"), on
SQLite and PostgreSQL: the real CLI in its own process, killed while its batches are being
staged. Nothing reaches the register, and the same file imported again is exact."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.voters_support import make_election, synthetic_csv
from workflow.commands import voter_import
from workflow.store.models import AuditEntry
from workflow.store.voters import StagedVoter, Voter, VoterImport

HUANJIE = str(Path(sys.executable).parent / "huanjie")
ROWS = 60_000


def _count(db, model) -> int:
    with db.reading() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def _import(url: str, path: Path, election_id: int) -> subprocess.Popen:
    return subprocess.Popen(
        [HUANJIE, "--db", url, "--actor", "t", "voters", "import", str(path), "--election", str(election_id)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
@pytest.mark.parametrize("batches", [1, 3])
def test_kill_9_while_staging_leaves_no_voters_and_the_rerun_is_exact(db, clock, tmp_path, batches):
    election_id = make_election(db, clock)
    path = synthetic_csv(tmp_path / "big.csv", ROWS)
    process = _import(db.url, path, election_id)
    deadline = time.monotonic() + 120
    while _count(db, StagedVoter) < batches * voter_import.STAGE_BATCH:
        assert process.poll() is None, process.stderr.read().decode()[-500:]  # killed too late
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL
    left = _count(db, StagedVoter)
    assert left >= batches * voter_import.STAGE_BATCH and left < ROWS
    assert (_count(db, Voter), _count(db, VoterImport)) == (0, 0)
    with db.reading() as session:
        assert not session.execute(select(AuditEntry).where(AuditEntry.action == "voters.imported")).first()

    again = _import(db.url, path, election_id)
    assert again.wait(300) == 0, again.stderr.read().decode()[-500:]
    assert (_count(db, Voter), _count(db, VoterImport)) == (ROWS, 1)
    with db.reading() as session:  # the dead import's rows: untouched, unread, one stage
        stages = session.execute(select(func.count(func.distinct(StagedVoter.stage)))).scalar_one()
    assert (_count(db, StagedVoter), stages) == (left, 1)
