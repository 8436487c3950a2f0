"""Nomination throughput: every nomination checked (EL 30 limits, GB 11643 supporters, audit)
against a baseline of plain ORM inserts of the same rows, in the same run.

    python bench/candidates.py [--districts 300] [--db sqlite:////tmp/bench_candidates.db]

Each district has 3 seats and 6 candidates: 3 nominated by parties, 3 by ten voters each.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from stdnum.cn import ric

from demo.county import progress
from workflow.clock import FixedClock
from workflow.commands import candidate_nominations, elections
from workflow.plan import load_plan
from workflow.rules.candidates import id_hash, mask_id
from workflow.store import Database
from workflow.store.candidates import Candidate, DistrictList, Supporter

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def make_id(seq: int) -> str:
    body = f"420821{19500101 + (seq // 900) * 10000:08d}{seq % 900 + 100:03d}"
    return body + ric.calc_check_digit(body + "0")


def election(db: Database, clock: FixedClock) -> int:
    with db.transaction() as s:
        eid = elections.create_election(
            s, load_plan(EXAMPLES / "jingshan_2011.toml"), clock=clock, actor="bench"
        ).election.id
        progress(s, eid, today=date(2011, 9, 25), clock=clock, actor="bench")
    return eid


def checked(db: Database, clock: FixedClock, eid: int, districts: int) -> None:
    for d in range(districts):
        code = f"D{d:04d}"
        with db.transaction() as s:
            candidate_nominations.open_district(s, eid, code, seats=3, clock=clock, actor="bench")
            for c in range(6):
                kw = {
                    "name": f"候选人{c}",
                    "sex": "male",
                    "occupation": "farmer",
                    "clock": clock,
                    "actor": "bench",
                }
                if c < 3:
                    candidate_nominations.nominate(
                        s, eid, code, nominated_by="party", nominators=[f"团体{c}"], **kw
                    )
                else:
                    ids = [make_id(d * 40 + c * 10 + k) for k in range(10)]
                    candidate_nominations.nominate(s, eid, code, nominated_by="voters", supporters=ids, **kw)


def plain(db: Database, clock: FixedClock, eid: int, districts: int) -> None:
    now = clock.now()
    for d in range(districts):
        code = f"D{d:04d}"
        with db.transaction() as s:
            s.add(DistrictList(election_id=eid, district=code, seats=3, created_at=now))
            for c in range(6):
                cand = Candidate(
                    election_id=eid,
                    district=code,
                    name=f"候选人{c}",
                    sex="male",
                    occupation="farmer",
                    nominated_by="party" if c < 3 else "voters",
                    nominators=[f"团体{c}"] if c < 3 else [],
                    created_at=now,
                )
                if c >= 3:
                    for k in range(10):
                        n = make_id(d * 40 + c * 10 + k)
                        cand.supporters.append(
                            Supporter(
                                election_id=eid, district=code, id_hash=id_hash(n), id_masked=mask_id(n)
                            )
                        )
                s.add(cand)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--districts", type=int, default=300)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    clock = FixedClock(datetime(2011, 9, 25, 4, tzinfo=UTC))
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, fn in (("plain inserts (baseline)", plain), ("checked nominations", checked)):
            url = args.db or f"sqlite:///{tmp}/{label[:5]}.db"
            db = Database(url)
            db.migrate()
            eid = election(db, clock)
            start = time.perf_counter()
            fn(db, clock, eid, args.districts)
            figures[label] = time.perf_counter() - start
            db.dispose()
    base = figures["plain inserts (baseline)"]
    n = args.districts * 6
    for label, seconds in figures.items():
        print(f"{label:28s} {seconds:8.2f} s  {n / seconds:8.0f} nominations/s  ratio {seconds / base:5.2f}×")


if __name__ == "__main__":
    main()
