"""Benchmark: election-status requests to `huanjie serve` on loopback with N concurrent clients.

Two servers are started the same way (one uvicorn process each, JSON logs off, no scheduler):
`huanjie serve` on the demo county, and a bare FastAPI app whose one endpoint returns a
constant. The same load is sent to both in the same run; the figures are requests/s, p50 and
p99 latency, and the ratio of the service to the bare endpoint (the cost of auth, scope checks,
one database transaction and the election's view). Uses wrk when installed, else httpx.

    python bench/api.py                 # 100 clients, 10 s per target
    python bench/api.py --seconds 3     # quick run
    python bench/api.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
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
    command = ["wrk", "-t2", f"-c{clients}", f"-d{max(1, int(seconds))}s", "--latency", "--timeout", "10s"]
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


async def run_httpx(url: str, clients: int, seconds: float, headers: dict[str, str]) -> dict:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                started = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code >= 300

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "requests": len(latencies),
        "errors": errors,
        "tool": "httpx",
    }


def load(url: str, clients: int, seconds: float, headers: dict[str, str], tool: str) -> dict:
    if tool == "wrk":
        return run_wrk(url, clients, seconds, headers)
    return asyncio.run(run_httpx(url, clients, seconds, headers))


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

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0, help="load time per target")
    parser.add_argument("--tool", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--pg",
        metavar="URL",
        help="PostgreSQL server URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test): the bench "
        "creates its own database there and drops it afterwards; default: a scratch SQLite file",
    )
    parser.add_argument("--workers", type=int, default=1, help="API processes of huanjie serve (PostgreSQL)")
    args = parser.parse_args()
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "httpx")

    scratch = tempfile.mkdtemp(prefix="huanjie-bench-")
    db_url, drop = f"sqlite:///{scratch}/bench.sqlite3", None
    if args.pg:
        db_url, drop = make_pg_database(args.pg)
    env = {**os.environ, "HUANJIE_DB": db_url}
    elections = json.loads(huanjie(db_url, "demo", "--json"))["elections"]
    huanjie(db_url, "users", "add", "bench", "--role", "county_admin", "--jurisdiction", "420821", "--json")
    token = json.loads(huanjie(db_url, "tokens", "create", "bench", "--json"))["token"]
    election_id = elections["county"]

    service_port, bare_port = free_port(), free_port()
    service = subprocess.Popen(
        [
            str(BIN / "huanjie"),
            "serve",
            "--port",
            str(service_port),
            "--no-scheduler",
            "--plain-logs",
            "--workers",
            str(args.workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port)], stdout=subprocess.DEVNULL)
    try:
        status_url = f"http://127.0.0.1:{service_port}/api/v1/elections/{election_id}"
        bare_url = f"http://127.0.0.1:{bare_port}/constant"
        wait_up(f"http://127.0.0.1:{service_port}/healthz")
        wait_up(bare_url)
        auth = {"Authorization": f"Bearer {token}"}
        warm = min(2.0, args.seconds / 3)
        load(status_url, 10, warm, auth, tool)  # warm both (imports, caches, connections)
        load(bare_url, 10, warm, {}, tool)
        service_figures = load(status_url, args.clients, args.seconds, auth, tool)
        bare_figures = load(bare_url, args.clients, args.seconds, {}, tool)
    finally:
        for process in (service, bare):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(scratch, ignore_errors=True)
        if drop:
            drop()

    ratio = service_figures["rps"] / bare_figures["rps"]
    result = {
        "clients": args.clients,
        "seconds": args.seconds,
        "tool": tool,
        "backend": "postgresql" if args.pg else "sqlite",
        "workers": args.workers,
        "election_status": service_figures,
        "bare_constant": bare_figures,
        "rps_ratio_vs_bare": round(ratio, 3),
        "p99_ratio_vs_bare": round(service_figures["p99_ms"] / bare_figures["p99_ms"], 2),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    backend = "PostgreSQL" if args.pg else "SQLite"
    print(
        f"{args.clients} clients, {args.seconds:g} s each, load by {tool}, {backend}, "
        f"huanjie serve with {args.workers} process(es), bare app with 1"
    )
    for name, f in (
        ("election status (huanjie serve)", service_figures),
        ("bare FastAPI constant", bare_figures),
    ):
        print(
            f"  {name:<34} {f['rps']:9.1f} req/s   p50 {f['p50_ms']:8.1f} ms   p99 {f['p99_ms']:8.1f} ms"
            f"   ({f['requests']} requests, {f['errors']} non-2xx)"
        )
    print(f"  ratio: {ratio:.3f} of the bare endpoint's throughput; p99 × {result['p99_ratio_vs_bare']}")


if __name__ == "__main__":
    main()
