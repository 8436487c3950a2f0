"""Benchmark: start-up of the `huanjie` CLI — `--help`, `plan check` (no database) and
`elections list` (the demo county's database, read-only) — each the median wall time of N fresh
processes, beside a bare `python -c pass` measured in the same run, interleaved so that load on a
shared machine falls on all of them alike. Targets (issue 15): `--help` < 0.3 s, `plan check` < 1 s.

    .venv/bin/python bench/cli.py            # 15 runs each
    .venv/bin/python bench/cli.py --runs 5
    .venv/bin/python bench/cli.py --source /tmp/main   # another checkout (git archive main), a baseline
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HUANJIE = Path(sys.executable).parent / "huanjie"  # the installed console script
TARGETS = {"--help": 0.3, "plan check": 1.0}


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed with exit {done.returncode}")
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--source", help="measure the CLI of another checkout (its folder), e.g. main's, for a baseline"
    )
    args = parser.parse_args()
    huanjie = [str(HUANJIE)]
    if args.source:
        boot = f"import sys; sys.path.insert(0, {str(Path(args.source).resolve())!r}); from service.cli import main; main()"
        huanjie = [sys.executable, "-c", boot]
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "HUANJIE_DB": f"sqlite:///{Path(folder) / 'bench.sqlite3'}"}
        subprocess.run(
            [*huanjie, "demo", "--now", "2026-11-30T09:00:00+08:00"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "--help": [*huanjie, "--help"],
            "plan check": [*huanjie, "plan", "check", str(ROOT / "examples" / "jingshan_2011.toml")],
            "elections list": [*huanjie, "elections", "list"],
        }
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, argv in commands.items():
                took, cpu = measure(argv, env)
                walls[name].append(took)
                cpus[name].append(cpu)
    base, base_cpu = statistics.median(walls["python -c pass"]), statistics.median(cpus["python -c pass"])
    print(f"start-up, median of {args.runs} runs (load {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)")
    print(f"  {'':<16} {'wall':>9}  {'ratio':>6}  {'CPU':>9}  {'ratio':>6}")
    for name in commands:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        target = ""
        if name in TARGETS:
            target = f"  target < {TARGETS[name]} s: {'ok' if wall < TARGETS[name] else 'MISSED'}"
        print(
            f"  {name:<16} {wall * 1000:6.0f} ms  {wall / base:5.1f}×  {cpu * 1000:6.0f} ms  "
            f"{cpu / base_cpu:5.1f}×{target}"
        )
    print("  (ratios to `python -c pass` in the same run; CPU time is less sensitive to other load)")


if __name__ == "__main__":
    main()
