"""Storefront catalog benchmark (issue 18): search, suggestions and sorted/filtered pages,
this code paired with a previous commit on the same data in the same run.

    .venv/bin/python bench/storefront.py --old-src /tmp/old/src [--products 200000]
        [--duration 10] [--port 18100]

1. One database on DATABASE_URL's server (else the embedded PostgreSQL), migrated by this
   code, loaded with bench/catalog.py's 200,000 products, plus attributes (brand: a name's
   first word; colour), VACUUM (ANALYZE). A second, small one holds the labelled relevance
   set (tests/catalog/relevance.json).
2. Two servers on each database, one worker each: this code, and the previous commit's
   source tree (`--old-src`, e.g. `git archive e1c58a2 src | tar -x -C /tmp/old`) run by
   the same interpreter with PYTHONPATH pointing at it. The previous code only reads, and
   reads columns both schemas have; it runs with --no-migrate (its /readyz says 503, the
   database being one revision ahead: the script waits on /healthz).
3. Closed loop (wrk, 32 connections, bench/lua/rotate.lua over 50 queries): saturation
   requests/s of search, and of the first catalog page, each new then old.
4. Open loop (hey): one hey process per URL, `-c C -q Q` each (hey paces each of its C
   workers at Q requests/s), so the offered rate is URLs x C x Q; latencies from `-o csv`.
   Search at 300/s (new, old), suggestions at 500/s, sorted and filtered pages at 500/s.
5. PostgreSQL time per search, one request at a time on a warm cache: each statement the
   endpoint's query function sends (this code's or the previous commit's, called as its
   router calls it) is run again under EXPLAIN (ANALYZE, TIMING OFF); its execution time
   (planning apart) is the server's CPU for it, the data being in memory. Also, under load,
   the CPU of PostgreSQL's process tree (/proc) per request served; that figure counts
   whatever else the shared server ran meanwhile.
6. Relevance: precision at 5 and MRR of the labelled queries, old and new search.

Load generators are pinned to core 1 (taskset -c 1); server and PostgreSQL are not.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote, urlencode

import asyncpg
import httpx
import platformdirs

from catalog import SEARCH_QUERIES, load_products, misspelled_brands
from comptoir.db import migrate
from harness import (
    LOADGEN_CPU,
    CpuShare,
    Server,
    bench_database,
    cpu_meter,
    execute,
    local_postmaster,
    parse_wrk,
    percentile,
    run,
    say,
    server_url,
    stop,
)

LUA = Path(__file__).resolve().parent / "lua"
RELEVANCE = Path(__file__).resolve().parent.parent / "tests" / "catalog" / "relevance.json"
TARGETS = {
    "pg_us_per_search": 1000.0,
    "search_p99_ms": 25.0,
    "suggest_p99_ms": 10.0,
    "pages_p99_ms": 25.0,
    "saturation_ratio": 3.0,
}
PREFIXES = ["cha", "chau", "lamp", "tass", "veste", "bouj", "theie", "cafet", "fauteu", "sac"]


def parse_args() -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old-src", type=Path, help="src/ of the previous commit")
    parser.add_argument("--products", type=int, default=200_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--port", type=int, default=18100, help="first of 4 ports used")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sql-times", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(platformdirs.user_cache_dir("comptoir", appauthor=False)) / "bench-server",
    )
    return parser.parse_known_args()


# ---------------------------------------------------------------- data


ATTRIBUTES = """
UPDATE products SET attributes = jsonb_build_object(
    'brand', split_part(name, ' ', 1),
    'colour', (ARRAY['bleu', 'rouge', 'vert', 'noir', 'blanc', 'gris'])
              [1 + abs(hashtext(id::text)) % 6])
"""


async def _relevance_catalog(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for product in json.loads(RELEVANCE.read_text())["products"]:
            await conn.execute(
                "INSERT INTO products (name, price, attributes, legacy_id)"
                " VALUES ($1, 10, $2::jsonb, $3)",
                product["name"],
                json.dumps(product["attributes"]),
                product["key"],
            )
    finally:
        await conn.close()


# ---------------------------------------------------------------- servers


@contextmanager
def serve(url: str, port: int, scratch: Path, old_src: Path | None) -> Iterator[Server]:
    """`comptoir serve --workers 1` on `port`: this code, or the one in `old_src`."""
    name = "old" if old_src else "new"
    data_dir = scratch / f"data-{name}-{port}"
    data_dir.mkdir()
    env = {**os.environ, "DATABASE_URL": url, "COMPTOIR_RATE_LIMITS": "off",
           "COMPTOIR_DATA_DIR": str(data_dir)}  # fmt: skip
    if old_src:
        env["PYTHONPATH"] = str(old_src)
    log = scratch / f"server-{name}-{port}.log"
    command = [str(Path(sys.executable).parent / "comptoir"), "serve", "--no-migrate"]
    command += ["--port", str(port), "--workers", "1"]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            command, env=env, cwd=scratch, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} server did not start:\n{log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{server.base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield server
    finally:
        stop(process)


# ---------------------------------------------------------------- load


@dataclass
class Run:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    offered: float | None
    cpu: CpuShare

    def pg_us(self) -> float:
        return self.cpu.postgres / self.rps * 1e6 if self.rps else float("nan")

    def line(self) -> str:
        offered = f"{self.offered:,.0f}" if self.offered else "closed"
        return (
            f"| {self.name} | {offered} | {self.rps:,.0f} | {self.p50_ms:.1f} | "
            f"{self.p99_ms:.1f} | {self.errors} | {self.pg_us():,.0f} | "
            f"{self.cpu.server:.2f} | {self.cpu.postgres:.2f} | {self.cpu.other:.2f} |"
        )


def saturation(name: str, server: Server, paths: list[str], seconds: int, pg: int | None,
               scratch: Path) -> Run:  # fmt: skip
    listed = scratch / f"{name.replace(' ', '_')}.txt"
    listed.write_text("\n".join(paths) + "\n")
    command = ["taskset", "-c", LOADGEN_CPU, "wrk", "-t1", "-c32", "--latency", "-s",
               str(LUA / "rotate.lua"), server.base, "--", str(listed)]  # fmt: skip
    run([*command[:5], "-d2s", *command[5:]])  # warm-up
    with cpu_meter(server.process.pid, pg) as cpu:
        output = run([*command[:5], f"-d{seconds}s", *command[5:]])
    f = parse_wrk(output)
    errors = sum(int(f[k]) for k in ("connect_errors", "read_errors", "timeouts", "status_errors"))
    rps = f["requests"] / (f["duration_us"] / 1e6)
    return Run(name, rps, f["p50_us"] / 1000, f["p99_us"] / 1000, errors, None, cpu[0])


def paced(name: str, server: Server, paths: list[str], rate: int, seconds: int,
          pg: int | None) -> Run:  # fmt: skip
    """hey, one process per path, the rate shared evenly: workers x per-worker rate."""
    per_path = rate / len(paths)
    workers = max(1, round(per_path / 10))
    per_worker = per_path / workers
    offered = len(paths) * workers * per_worker

    def start(path: str, duration: int) -> subprocess.Popen[str]:
        command = ["taskset", "-c", LOADGEN_CPU, "hey", "-z", f"{duration}s"]
        command += ["-c", str(workers), "-q", f"{per_worker:g}", "-o", "csv", server.base + path]
        return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603

    for process in [start(p, 2) for p in paths]:  # warm-up
        process.communicate()
    with cpu_meter(server.process.pid, pg) as cpu:
        outputs = [p.communicate()[0] for p in [start(p, seconds) for p in paths]]
    latencies, errors = [], 0
    for output in outputs:
        for line in output.splitlines()[1:]:
            fields = line.split(",")
            if len(fields) >= 7:
                latencies.append(float(fields[0]) * 1000)
                errors += fields[6] != "200"
    latencies.sort()
    return Run(name, len(latencies) / seconds, percentile(latencies, 50),
               percentile(latencies, 99), errors, offered, cpu[0])  # fmt: skip


# ---------------------------------------------------------------- SQL time per search


class Explained:
    """Stands in for the connection of a query function: runs each statement, and runs it
    again under EXPLAIN ANALYZE to read the server's own timing."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.exec_ms = self.plan_ms = 0.0

    def __getattr__(self, method: str) -> Any:
        real = getattr(self.conn, method)

        async def timed(sql: str, *args: object) -> Any:
            explained = await self.conn.fetchval(
                f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}", *args
            )
            plan = json.loads(explained)[0]
            self.exec_ms += plan["Execution Time"]
            self.plan_ms += plan["Planning Time"]
            return await real(sql, *args)

        return timed


def _search_page_json() -> Callable[..., Awaitable[str]]:
    """The search of the code on sys.path: in comptoir.search since search got a module of
    its own, in comptoir.catalog in an --old-src from before."""
    try:
        module = importlib.import_module("comptoir.search.queries")
    except ModuleNotFoundError:
        module = importlib.import_module("comptoir.catalog.queries")
    return cast(Callable[..., Awaitable[str]], module.search_page_json)


async def _sql_times(url: str, queries: list[str]) -> dict[str, list[float]]:
    search_page_json = _search_page_json()  # this code's or --old-src's

    conn = await asyncpg.connect(url)
    times: dict[str, list[float]] = {"exec_ms": [], "plan_ms": []}
    try:
        for _ in range(2):  # the first pass warms the cache
            times = {"exec_ms": [], "plan_ms": []}
            for q in queries:
                explained = Explained(conn)
                # Explained stands in for the connection: it times each statement.
                await search_page_json(explained, currency="EUR", query=q, offset=0, limit=20)
                times["exec_ms"].append(explained.exec_ms)
                times["plan_ms"].append(explained.plan_ms)
    finally:
        await conn.close()
    return times


def sql_times(url: str, old_src: Path | None, queries: list[str]) -> dict[str, list[float]]:
    """In a process of its own, so that --old-src's code is the one imported."""
    env = {**os.environ, **({"PYTHONPATH": str(old_src)} if old_src else {})}
    output = run([sys.executable, __file__, "--sql-times", url, *queries], env=env)
    times: dict[str, list[float]] = json.loads(output)
    return times


# ---------------------------------------------------------------- relevance


def relevance(server: Server) -> tuple[float, float]:
    data = json.loads(RELEVANCE.read_text())
    names = {p["name"]: p["key"] for p in data["products"]}
    precision = mrr = 0.0
    for query in data["queries"]:
        response = httpx.get(f"{server.base}/v1/products/search", params={"q": query["q"]})
        found = [names.get(item["name"], "") for item in response.json()["items"]]
        expected = set(query["expected"])
        precision += len(set(found[:5]) & expected) / min(5, len(expected))
        rank = next((i for i, key in enumerate(found, start=1) if key in expected), None)
        mrr += 1 / rank if rank else 0.0
    count = len(data["queries"])
    return precision / count, mrr / count


# ---------------------------------------------------------------- main


def paths_of(base: str, params: list[dict[str, str]]) -> list[str]:
    return [f"{base}?{urlencode(p, quote_via=quote)}" for p in params]


PAGES = [
    {"sort": "price_asc"}, {"sort": "price_desc"}, {"sort": "name"},
    {"sort": "newest", "in_stock": "true"}, {"min_price": "20", "max_price": "80"},
    {"sort": "price_asc", "min_price": "10", "in_stock": "true"},
    {"attr.colour": "bleu"}, {"attr.colour": "rouge", "sort": "price_desc"},
    {"attr.colour": "noir", "max_price": "50", "in_stock": "true"},
    {"sort": "name", "attr.colour": "vert"},
]  # fmt: skip


def main() -> None:
    args, rest = parse_args()
    if args.sql_times:
        print(json.dumps(asyncio.run(_sql_times(args.sql_times, rest))))
        return
    for tool in ("wrk", "hey", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"missing: {tool}")
    server = server_url(args.data_dir)
    searches = paths_of("/v1/products/search", [
        {"q": q} for q in SEARCH_QUERIES + misspelled_brands(args.seed, 10)
    ])  # fmt: skip
    first_page = ["/v1/products?limit=20"]
    results: list[Run] = []
    figures: dict[str, tuple[float, float]] = {}
    times: dict[str, dict[str, list[float]]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="comptoir-bench-") as tmp,
        bench_database(server) as url,
        bench_database(server) as small,
    ):
        scratch = Path(tmp)
        migrate.upgrade(url)
        migrate.upgrade(small)
        load_products(url, args.products, args.seed)
        say("attributes: brand and colour")
        asyncio.run(execute(url, ATTRIBUTES))
        asyncio.run(execute(url, "VACUUM (ANALYZE) products"))
        asyncio.run(_relevance_catalog(small))
        pg = asyncio.run(_postmaster(url))
        queries = SEARCH_QUERIES + misspelled_brands(args.seed, 10)
        versions = [("new", None), ("old", args.old_src)] if args.old_src else [("new", None)]
        for label, src in versions:
            times[label] = sql_times(url, src, queries)
            say(f"SQL per search ({label}): {summary(times[label])}")
        for k, (label, src) in enumerate(versions):
            with serve(small, args.port + 2 + k, scratch, src) as app:
                figures[label] = relevance(app)
                say(f"relevance {label}: {figures[label]}")
        with (
            serve(url, args.port, scratch, None) as new,
            serve(url, args.port + 1, scratch, args.old_src) if args.old_src else _none() as old,
        ):
            pairs = [("new", new), ("old", old)] if old else [("new", new)]
            for label, app in pairs:
                results.append(saturation(f"search, saturation ({label})", app, searches,
                                          args.duration, pg, scratch))  # fmt: skip
                say(results[-1].line())
            for label, app in pairs:
                results.append(saturation(f"first page, saturation ({label})", app, first_page,
                                          args.duration, pg, scratch))  # fmt: skip
                say(results[-1].line())
            for label, app in pairs:
                results.append(paced(f"search at 300/s ({label})", app, searches[:10], 300,
                                     args.duration, pg))  # fmt: skip
                say(results[-1].line())
            suggest = paths_of("/v1/products/suggest", [{"q": p} for p in PREFIXES])
            results.append(paced("suggest at 500/s (new)", new, suggest, 500, args.duration, pg))
            say(results[-1].line())
            pages = paths_of("/v1/products", PAGES)
            results.append(paced("sorted/filtered pages at 500/s (new)", new, pages, 500,
                                 args.duration, pg))  # fmt: skip
            say(results[-1].line())
    report(results, figures, times)


@contextmanager
def _none() -> Iterator[None]:
    yield None


async def _postmaster(url: str) -> int | None:
    conn = await asyncpg.connect(url)
    try:
        return local_postmaster(await conn.fetchval("SELECT pg_backend_pid()"))
    finally:
        await conn.close()


def summary(times: dict[str, list[float]]) -> str:
    run_ms, plan_ms = sorted(times["exec_ms"]), sorted(times["plan_ms"])
    return (
        f"execution median {percentile(run_ms, 50):.2f} ms, mean {sum(run_ms) / len(run_ms):.2f}"
        f" ms, max {run_ms[-1]:.2f} ms; planning median {percentile(plan_ms, 50):.2f} ms"
    )


def report(
    results: list[Run],
    figures: dict[str, tuple[float, float]],
    times: dict[str, dict[str, list[float]]],
) -> None:
    print(f"\nstorefront benchmark, {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores")
    print("| scenario | offered/s | served/s | p50 ms | p99 ms | errors | pg µs/req |"
          " server cores | pg cores | other cores |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(r.line())
    for label, t in times.items():
        print(f"PostgreSQL per search ({label}, {len(t['exec_ms'])} queries): {summary(t)}")
    for label, (precision, mrr) in figures.items():
        print(f"relevance ({label}): precision@5 {precision:.2f}, MRR {mrr:.2f}")
    by = {r.name: r for r in results}
    new, old = by.get("search, saturation (new)"), by.get("search, saturation (old)")
    if new and old:
        print(f"search saturation: {new.rps / old.rps:.1f} x the previous commit "
              f"(target {TARGETS['saturation_ratio']:.0f} x)")  # fmt: skip


if __name__ == "__main__":
    main()
