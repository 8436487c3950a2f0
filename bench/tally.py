"""Benchmark: count a county's districts from ballot-level input.

300 districts × 3 seats × 6 candidates, ≈ 1 M ballots (3,334 per district), counted with
`count_ballots` + `count_round` (void checks, for/against/abstain, write-ins, thresholds,
runoff lists) and, side by side over the same ballots, with a plain `collections.Counter` of
the for-votes and write-ins (no void check, no rules). Times are CPU time of this process, so
other load on a shared machine does not skew the ratio. Prints both rates and their ratio.

    .venv/bin/python bench/tally.py            # full size
    .venv/bin/python bench/tally.py --scale 0.1
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from itertools import chain
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workflow.kinds import counting_params
from workflow.rules.tally import Ballot, TallyInput, count_ballots, count_round

SEATS = 3
CANDIDATES = 6
BALLOTS_PER_DISTRICT = 3334


def district_ballots(rng: random.Random, candidates: tuple[str, ...], n: int) -> list[Ballot]:
    """Voters who like some candidates more than others; ~1% over-mark, ~0.5% write in."""
    appeal = [rng.uniform(0.2, 0.8) for _ in candidates]
    ballots = []
    for _ in range(n):
        marks = tuple(
            "for" if r < a else ("against" if r < a + 0.1 else None)
            for a, r in zip(appeal, (rng.random() for _ in candidates), strict=True)
        )
        if marks.count("for") > SEATS and rng.random() > 0.01:  # most voters respect the limit
            kept = 0
            marks = tuple(m if m != "for" or (kept := kept + 1) <= SEATS else None for m in marks)
        write_ins = (f"另选{rng.randrange(5)}",) if rng.random() < 0.005 else ()
        ballots.append(Ballot(marks, write_ins))
    return ballots


def plain_counter(ballots: list[Ballot], candidates: tuple[str, ...]) -> Counter:
    return Counter(
        chain(
            (name for b in ballots for name, m in zip(candidates, b.marks, strict=True) if m == "for"),
            (w for b in ballots for w in b.write_ins),
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 300 districts")
    parser.add_argument("--seed", type=int, default=2011)
    args = parser.parse_args()
    districts = max(1, round(300 * args.scale))
    rng = random.Random(args.seed)
    candidates = tuple(f"候选人{i}" for i in range(CANDIDATES))

    params = counting_params("people_congress")  # kind files load once, outside the timing
    total = 0
    ours = baseline = 0.0
    outcomes = Counter()
    for _ in range(districts):
        ballots = district_ballots(rng, candidates, BALLOTS_PER_DISTRICT)
        total += len(ballots)

        start = time.process_time()
        plain = plain_counter(ballots, candidates)
        baseline += time.process_time() - start

        start = time.process_time()
        count = count_ballots(ballots, SEATS, candidates)
        tally = TallyInput.from_ballot_count(
            count,
            kind="people_congress",
            seats=SEATS,
            ballots_issued=len(ballots),
            registered_voters=len(ballots) + len(ballots) // 4,
        )
        result = count_round(params, tally)
        ours += time.process_time() - start

        # Same ballots, same reading: only void ballots make the plain count larger.
        assert all(count.votes[n] <= plain[n] for n in count.votes)
        outcomes["runoff" if result.runoff else "tie" if result.tie_break else "filled"] += 1

    print(f"districts {districts}, ballots {total:,}, {SEATS} seats × {CANDIDATES} candidates")
    print(f"plain Counter      {baseline:8.3f} s  {total / baseline:12,.0f} ballots/s  (baseline)")
    print(f"count_ballots+round{ours:8.3f} s  {total / ours:12,.0f} ballots/s")
    print(f"ratio (ours / Counter time): {ours / baseline:.2f}×")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))


if __name__ == "__main__":
    main()
