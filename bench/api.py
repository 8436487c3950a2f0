"""Benchmark: election-status requests to `huanjie serve` on loopback, with wrk.

Three servers are started the same way in one run (one uvicorn process each unless said, JSON
logs off, no scheduler): `huanjie serve` on the demo county with SQLite, the same with
PostgreSQL (`--workers` processes), and a bare FastAPI app whose one endpoint returns a
constant. The same load goes to each: 1 client (the latency of one request: the server time)
and N clients (throughput, p50, p99). Ratios are against the bare endpoint of the same run.

wrk (Debian's `wrk`, installed by `make bench`) is the only load client: an in-process Python
client on these 2 cores caps even the bare endpoint (54 req/s once) and its ratios mean nothing.
The client's own CPU is measured; when it takes more than a quarter of the machine, the client
is part of what is measured and the ratio is not printed. So is the server's CPU per request
(its processes from /proc, and for PostgreSQL its database's backends): on a machine shared with
other work, throughput follows the CPU share each process happens to get, the CPU a request
costs hardly moves, and the ratio of those costs is printed beside the throughput ratio.

    python bench/api.py                 # 100 clients, 10 s per target
    python bench/api.py --seconds 3     # quick run
    python bench/api.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BARE = """
from fastapi import FastAPI
import uvicorn, sys
app = FastAPI()
@app.get("/constant")
def constant():
    return {"status": "ok"}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server at {url} did not come up")


def huanjie(db_url: str, *args: str) -> str:
    command = [str(BIN / "huanjie"), "--db", db_url, "--actor", "bench", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout


def run_wrk(url: str, clients: int, seconds: float, headers: dict[str, str]) -> dict:
    command = ["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{max(1, int(seconds))}s", "--latency", "--timeout", "10s"]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    out = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": ms("50%"),
        "p99_ms": ms("99%"),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
        "tool": "wrk",
    }


CLIENT_SHARE_LIMIT = 0.25  # of the machine's CPU: above it the client is measured too


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine, from /proc/stat."""
    fields = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def load(url: str, clients: int, seconds: float, headers: dict[str, str], servers=lambda: []) -> dict:
    """One wrk run, with the client's CPU share of the machine and the machine's busy share, and
    the server's CPU per request (its processes and, for PostgreSQL, its database's backends):
    unlike the throughput, that figure hardly moves with what else the machine runs."""
    pids = servers()
    server_before = cpu_seconds(pids)
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, total0 = machine_busy()
    started = time.perf_counter()
    figures = run_wrk(url, clients, seconds, headers)
    wall = time.perf_counter() - started
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1, total1 = machine_busy()
    client_cpu = (after_children.ru_utime - before_children.ru_utime) + (
        after_children.ru_stime - before_children.ru_stime
    )
    cores = os.cpu_count() or 1
    figures["client_share"] = client_cpu / (wall * cores)
    figures["machine_busy"] = (busy1 - busy0) / max(1.0, total1 - total0)
    if pids:
        spent = cpu_seconds(pids) - server_before
        figures["server_cpu_us"] = round(spent / max(1, figures["requests"]) * 1e6)
    return figures


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of these processes and all their descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo, seen = 0.0, list(pids), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
        except (OSError, IndexError, ValueError):
            pass
        todo += children.get(pid, [])
    return total


def make_pg_database(server_url: str):
    """A fresh database on the given server for this run, and the function that drops it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(server_url)
    name = f"huanjie_bench_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    def backends() -> list[int]:
        """The server processes of this database's connections (on this machine)."""
        with admin.connect() as conn:
            return list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :n"), {"n": name}).scalars())

    drop.backends = backends
    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def prepare(db_url: str) -> tuple[str, int]:
    """The demo county, a county user and its token: (token, the county election's id)."""
    elections = json.loads(huanjie(db_url, "demo", "--json"))["elections"]
    huanjie(db_url, "users", "add", "bench", "--role", "county_admin", "--jurisdiction", "420821", "--json")
    token = json.loads(huanjie(db_url, "tokens", "create", "bench", "--json"))["token"]
    return token, elections["county"]


def start_service(db_url: str, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(BIN / "huanjie"),
            "serve",
            "--port",
            str(port),
            "--no-scheduler",
            "--plain-logs",
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env={**os.environ, "HUANJIE_DB": db_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per target")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--pg",
        metavar="URL",
        default=os.environ.get("HUANJIE_TEST_PG_URL"),
        help="PostgreSQL server URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test): the bench "
        "creates its own database there and drops it afterwards (default: $HUANJIE_TEST_PG_URL; "
        "without one, SQLite only)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API processes of huanjie serve on PostgreSQL (default 1, like the bare endpoint: on 2 cores, two "
        "processes, the database and wrk saturate the machine and p99 measures the machine)",
    )
    parser.add_argument(
        "--floor", action="store_true", help="also load /healthz (middleware, gate, one SELECT 1): the app's floor"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk, or `make bench`): no figures without it")

    scratch = tempfile.mkdtemp(prefix="huanjie-bench-")
    targets: dict[str, dict] = {}
    processes: list[subprocess.Popen] = []
    drop = None
    try:
        sqlite_url = f"sqlite:///{scratch}/bench.sqlite3"
        token, election_id = prepare(sqlite_url)
        process, port = start_service(sqlite_url, 1)
        processes.append(process)
        sqlite_pid = process.pid
        targets["status, SQLite (1 process)"] = {
            "url": f"http://127.0.0.1:{port}/api/v1/elections/{election_id}",
            "health": f"http://127.0.0.1:{port}/healthz",
            "headers": {"Authorization": f"Bearer {token}"},
            "servers": lambda: [sqlite_pid],
        }
        if args.floor:
            targets["healthz, SQLite (the app's floor)"] = {
                "url": f"http://127.0.0.1:{port}/healthz",
                "health": f"http://127.0.0.1:{port}/healthz",
                "headers": {},
                "servers": lambda: [sqlite_pid],
            }
        if args.pg:
            pg_url, drop = make_pg_database(args.pg)
            token, election_id = prepare(pg_url)
            process, port = start_service(pg_url, args.workers)
            processes.append(process)
            pg_pid, backends = process.pid, drop.backends
            targets[f"status, PostgreSQL ({args.workers} processes)"] = {
                "url": f"http://127.0.0.1:{port}/api/v1/elections/{election_id}",
                "health": f"http://127.0.0.1:{port}/healthz",
                "headers": {"Authorization": f"Bearer {token}"},
                "servers": lambda: [pg_pid, *backends()],
            }
        bare_port = free_port()
        bare_process = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port)], stdout=subprocess.DEVNULL)
        processes.append(bare_process)
        bare_url = f"http://127.0.0.1:{bare_port}/constant"
        targets["bare FastAPI constant"] = {
            "url": bare_url,
            "health": bare_url,
            "headers": {},
            "servers": lambda: [bare_process.pid],
        }
        for target in targets.values():
            wait_up(target["health"])
        warm = min(2.0, args.seconds / 3)
        for target in targets.values():
            load(target["url"], 10, warm, target["headers"])  # imports, caches, connections
        for target in targets.values():
            target["one"] = load(target["url"], 1, max(2.0, args.seconds / 3), target["headers"], target["servers"])
        for target in targets.values():
            target["many"] = load(target["url"], args.clients, args.seconds, target["headers"], target["servers"])
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(scratch, ignore_errors=True)
        if drop:
            drop()

    bare = targets["bare FastAPI constant"]
    result = {"clients": args.clients, "seconds": args.seconds, "load": os.getloadavg()[0], "targets": {}}
    for name, target in targets.items():
        one, many = target["one"], target["many"]
        entry = {"one_client": one, "clients": many}
        if target is not bare:
            saturated = max(many["client_share"], bare["many"]["client_share"]) > CLIENT_SHARE_LIMIT
            entry["rps_ratio_vs_bare"] = None if saturated else round(many["rps"] / bare["many"]["rps"], 3)
            entry["p99_ratio_vs_bare"] = round(many["p99_ms"] / bare["many"]["p99_ms"], 2)
            # One request's server time: its latency at one client beyond the bare endpoint's
            # (which is the loopback and HTTP round trip).
            entry["server_ms_one_client"] = round(one["p50_ms"] - bare["one"]["p50_ms"], 2)
            entry["cpu_ratio_vs_bare"] = round(bare["many"]["server_cpu_us"] / many["server_cpu_us"], 3)
        result["targets"][name] = entry
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.clients} clients, {args.seconds:g} s each, wrk; load average {result['load']:.2f} at the end")
    for name, entry in result["targets"].items():
        one, many = entry["one_client"], entry["clients"]
        print(
            f"  {name:<34} {many['rps']:9.1f} req/s   p50 {many['p50_ms']:8.1f} ms   p99 {many['p99_ms']:8.1f} ms"
            f"   ({many['requests']} requests, {many['errors']} non-2xx; client {many['client_share']:.0%} of the "
            f"machine, machine {many['machine_busy']:.0%} busy)   1 client: p50 {one['p50_ms']:.2f} ms   "
            f"server CPU {many['server_cpu_us']} µs a request"
        )
    for name, entry in result["targets"].items():
        if "rps_ratio_vs_bare" not in entry:
            continue
        if entry["rps_ratio_vs_bare"] is None:
            print(
                f"  {name}: NO RATIO — the load client took more than {CLIENT_SHARE_LIMIT:.0%} of the machine, "
                "so it is part of what was measured"
            )
        else:
            print(
                f"  {name}: {entry['rps_ratio_vs_bare']:.3f}× the bare endpoint's throughput (target ≥ 0.4); "
                f"p99 × {entry['p99_ratio_vs_bare']} (target ≤ 2); server time at 1 client "
                f"{entry['server_ms_one_client']:.2f} ms (target ≤ 3 ms); by server CPU a request "
                f"{entry['cpu_ratio_vs_bare']:.2f}× the bare endpoint's throughput"
            )


if __name__ == "__main__":
    main()
