"""Catalog benchmark: how close the catalog endpoints come to the framework's and the
database's ceilings.

    .venv/bin/python bench/catalog.py [--products 200000] [--duration 10] [--connections 32]
                                      [--workers 1 [2]] [--repeat 1] [--no-profile]

1. A fresh database (`comptoir_bench_<hex>`) on DATABASE_URL's server, else on the embedded
   PostgreSQL, migrated, loaded with realistic products by COPY, then VACUUM (ANALYZE).
2. pgbench runs the very SQL of the endpoints (comptoir.catalog.queries and
   comptoir.search.queries), with the same parameters: the database's ceiling.
3. `comptoir serve` runs on that database, and wrk measures GET /healthz (the framework's
   ceiling), the first page and deep pages of /v1/products, and the search.
4. A table: requests/s, p50 and p99, ratios to the ceilings and to the targets, the CPU each
   side used; then which SQL each request ran, and a py-spy profile of the catalog page.
5. The server is stopped and the database dropped; nothing else is touched.

Load generators (wrk, pgbench) run on core 1 (taskset -c 1); the server and PostgreSQL are
not pinned (--pin-server 0 pins the server). See bench/README.md. The plumbing it shares with
the other benchmarks (database, server, wrk and pgbench runs, CPU accounting) is in
bench/harness.py.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from uuid import uuid4

import asyncpg
import httpx
import platformdirs

from comptoir.catalog import queries
from comptoir.db import migrate
from comptoir.demo.names import TYPES, product_names
from comptoir.pagination import cursor_of, decode_time_id
from comptoir.search import queries as search
from harness import (
    LOADGEN_CPU,
    Result,
    Server,
    bench_database,
    comptoir_server,
    cpu_meter,
    execute,
    latencies_ms,
    local_postmaster,
    log_result,
    median_of,
    parse_wrk,
    percentile,
    pgbench_binary,
    pgbench_connection,
    run,
    say,
    server_url,
)

LUA = Path(__file__).resolve().parent / "lua"
CURRENCY = "EUR"  # the app's default; the server runs without COMPTOIR_CURRENCY
PAGE = 20
DEEP_FROM = 2_000 * PAGE  # deep pages: from page 2,000 of the listing on
DISTURBED = 0.25  # cores used by other processes during a run that make it suspect

SEARCH_P99_TARGET_MS = 25.0
PAGE_VS_BARE_TARGET = 0.60

# What shoppers type: no accents, typos, plurals, one to three words.
SEARCH_QUERIES = [
    "chausure rouge", "elegant", "theiere", "veste cuir", "lampe scandinave",
    "bougie parfumee", "sac a dos", "montre acier", "pull cachemire", "echarpe laine",
    "tapis de yoga", "cafetiere", "fauteil rotin", "casque velo", "ecouteurs noir",
    "bottine daim", "coussin lin", "vase ceramique", "mug gres", "lunetes",
    "impermeable", "robe soie", "chemise lin blanc", "jean indigo", "bague argent",
    "collier dore", "tasse porcelaine", "planche a decouper", "cocote fonte", "poele inox",
    "canape velours", "table chene", "etagere industriel", "bureau noyer", "enceinte compacte",
    "stylo laiton", "savon artisanal", "baskets blanches", "manteau laine camel",
    "edition limitee",
]  # fmt: skip
BRAND_QUERIES = 10  # and this many misspelled brand names of the loaded catalog


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Comptoir catalog benchmark (bench/README.md)")
    parser.add_argument("--products", type=int, default=200_000, help="rows to load")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per scenario")
    parser.add_argument(
        "--connections", type=int, default=32, help="wrk connections and pgbench clients"
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1], help="server worker counts to measure"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per scenario; the median one is reported"
    )
    parser.add_argument(
        "--pin-server", metavar="CPUS", help="taskset the server to these CPUs (e.g. 0)"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated catalog")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(platformdirs.user_cache_dir("comptoir", appauthor=False)) / "bench-server",
        help="the embedded PostgreSQL's data dir (when DATABASE_URL is not set)",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy run")
    return parser.parse_args(argv)


# ---------------------------------------------------------------- the catalog's data


DESCRIPTIONS = [
    "Conçu pour durer, facile d'entretien.",
    "Fabriqué en petite série dans un atelier familial.",
    "Livré dans un emballage recyclé.",
    "Finitions soignées, garantie deux ans.",
    "Un classique revisité, à offrir ou à garder.",
    "Matières sélectionnées pour leur tenue dans le temps.",
    "Lavable en machine à 30 °C.",
    "Dimensions et détails dans la fiche technique.",
]
COLUMNS = [
    "id", "name", "description", "price", "stock", "active",
    "created_at", "updated_at", "deleted_at",
]  # fmt: skip


def product_rows(count: int, seed: int) -> list[tuple[object, ...]]:
    """`count` products in the order a shop created them over three years: log-normal
    prices, 8% out of stock, 3% inactive, 1% soft-deleted."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    now = datetime.now(UTC)
    span = int(timedelta(days=3 * 365).total_seconds() * 1_000_000)
    created = sorted(now - timedelta(microseconds=rng.randrange(span)) for _ in range(count))
    rows: list[tuple[object, ...]] = []
    for name, created_at in zip(product_names(count, seed=seed), created, strict=True):
        price = Decimal(f"{min(max(math.exp(rng.gauss(3.4, 1.0)), 0.5), 9_999):.2f}")
        stock = 0 if rng.random() < 0.08 else rng.randint(1, 500)
        description = f"{name}. " + " ".join(rng.sample(DESCRIPTIONS, 2))
        updated_at = created_at + timedelta(days=rng.random() * 30)
        deleted_at = updated_at if rng.random() < 0.01 else None
        active = rng.random() >= 0.03
        rows.append(
            (uuid4(), name, description, price, stock, active, created_at, updated_at, deleted_at)
        )
    return rows


async def _load(url: str, rows: list[tuple[object, ...]]) -> None:
    conn = await asyncpg.connect(url)
    try:
        # One COPY: the statement-level trigger fills product_words once, from all names.
        await conn.copy_records_to_table("products", records=rows, columns=COLUMNS)
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


def load_products(url: str, count: int, seed: int) -> None:
    started = time.monotonic()
    rows = product_rows(count, seed)
    say(f"generated {count:,} products in {time.monotonic() - started:.1f} s; COPY + VACUUM")
    started = time.monotonic()
    asyncio.run(_load(url, rows))
    say(f"loaded in {time.monotonic() - started:.1f} s")


# SQL, its arguments as the app bound them, and the parameter types the server inferred
Statement = tuple[str, tuple[object, ...], tuple[str, ...]]


class Recorder:
    """Stands in for the app's pool or connection: runs each statement on a real connection
    and keeps it with its arguments, so that pgbench replays exactly what the endpoint ran."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.statements: list[Statement] = []

    def __getattr__(self, method: str) -> Callable[..., Any]:  # fetch, fetchval, execute...
        run_on_conn = getattr(self.conn, method)

        async def recorded(sql: str, *args: object, **kwargs: object) -> Any:
            types = tuple(t.name for t in (await self.conn.prepare(sql)).get_parameters())
            self.statements.append((sql, args, types))
            return await run_on_conn(sql, *args, **kwargs)

        return recorded


async def recorded(
    conn: asyncpg.Connection, call: Callable[[Any], Awaitable[str]]
) -> list[Statement]:
    recorder = Recorder(conn)
    await call(recorder)
    return recorder.statements


@dataclass
class Fixtures:
    """What the scenarios send, the statements the endpoints run for it, and facts about
    the loaded database."""

    server_version: str
    visible: int
    words: int
    deep_from: int  # row of the listing where the deep cursors start
    cursors: list[str]
    queries: list[str]
    first_sql: list[Statement]
    deep_sql: list[list[Statement]]  # one per cursor
    search_sql: list[list[Statement]]  # one per query
    postmaster_pid: int | None


async def _fixtures(url: str, seed: int) -> Fixtures:
    conn = await asyncpg.connect(url)
    try:
        visible = await conn.fetchval(f"SELECT count(*) FROM products AS p WHERE {queries.VISIBLE}")
        deep_from = min(DEEP_FROM, visible // 2)  # a small --products: its second half
        step = max(1, (visible - deep_from - 2 * PAGE) // 50)
        rows = await conn.fetch(
            f"""SELECT cursor FROM (
                    SELECT {cursor_of("p")} AS cursor,
                           row_number() OVER (ORDER BY p.created_at DESC, p.id DESC) AS n
                    FROM products AS p WHERE {queries.VISIBLE}) AS listing
                WHERE n >= $1 AND (n - $1) % $2 = 0 ORDER BY n LIMIT 50""",
            deep_from,
            step,
        )
        if not rows:
            raise RuntimeError("no deep cursor: load more products")
        cursors = [r["cursor"] for r in rows]
        all_queries = SEARCH_QUERIES + misspelled_brands(seed, BRAND_QUERIES)

        # What the endpoints run, called as the router calls them.
        def page(after: str | None) -> Callable[[Any], Awaitable[str]]:
            at = decode_time_id(after) if after else None
            return lambda db: queries.browse_page_json(
                db,
                currency=CURRENCY,
                sort="newest",
                filters=queries.Filters(),
                after=at,
                limit=PAGE,
            )

        def found(q: str) -> Callable[[Any], Awaitable[str]]:
            return lambda db: search.search_page_json(
                db, currency=CURRENCY, query=q, offset=0, limit=PAGE
            )

        return Fixtures(
            server_version=await conn.fetchval("SHOW server_version"),
            visible=visible,
            words=await conn.fetchval("SELECT count(*) FROM product_words"),
            deep_from=deep_from,
            cursors=cursors,
            queries=all_queries,
            first_sql=await recorded(conn, page(None)),
            deep_sql=[await recorded(conn, page(c)) for c in cursors],
            search_sql=[await recorded(conn, found(q)) for q in all_queries],
            postmaster_pid=local_postmaster(await conn.fetchval("SELECT pg_backend_pid()")),
        )
    finally:
        await conn.close()


def misspelled_brands(seed: int, count: int) -> list[str]:
    """Brands of the catalog (a name's first word when it is not a product type), typed
    without accents and with one typo: a letter dropped, doubled or swapped."""
    kinds = {t.replace("-", " ").split()[0].capitalize() for t in TYPES}
    firsts = {n.split()[0] for n in product_names(2_000, seed=seed)} - kinds
    brands = sorted(b for b in firsts if len(b) >= 6)
    rng = random.Random(seed)  # noqa: S311
    typos = []
    for brand in rng.sample(brands, count):
        word, i = without_accents(brand.lower()), rng.randrange(1, len(brand) - 1)
        typo = rng.choice(["drop", "double", "swap"])
        if typo == "drop":
            typos.append(word[:i] + word[i + 1 :])
        elif typo == "double":
            typos.append(word[: i + 1] + word[i:])
        else:
            typos.append(word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :])
    return typos


def without_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


# ---------------------------------------------------------------- SQL per request

STATEMENTS_OF_DB = """
SELECT calls, mean_exec_time, regexp_replace(query, '\\s+', ' ', 'g') AS query
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '%pg_stat_statements%'
ORDER BY calls DESC, query LIMIT 8
"""
RESET_STATEMENTS = """SELECT pg_stat_statements_reset(
    0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)"""


async def _statements(url: str, *, reset: bool) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        if reset:
            await conn.execute(RESET_STATEMENTS)
            return []
        rows: list[asyncpg.Record] = await conn.fetch(STATEMENTS_OF_DB)
        return rows
    finally:
        await conn.close()


def enable_statement_stats(url: str) -> bool:
    """pg_stat_statements in the bench database, when the server preloads it (the embedded
    one does): which statements each request runs, and how long they take."""
    try:
        asyncio.run(execute(url, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
        asyncio.run(_statements(url, reset=True))
    except (asyncpg.PostgresError, OSError) as exc:
        say(f"no per-statement figures: {exc}")
        return False
    return True


def statements_per_request(url: str, requests: int) -> list[str]:
    return [
        f"{r['calls'] / requests:5.2f}/req {r['mean_exec_time']:7.3f} ms  {r['query'][:64]}"
        for r in asyncio.run(_statements(url, reset=False))
    ]


# ---------------------------------------------------------------- wrk


@dataclass
class Target:
    """What the wrk runs hit, and where to read the SQL they caused."""

    server: Server
    db_url: str
    fx: Fixtures
    statement_stats: bool


def wrk_command(args: argparse.Namespace, url: str, seconds: int, paths: Path | None) -> list[str]:
    script = LUA / ("rotate.lua" if paths else "report.lua")
    command = ["taskset", "-c", LOADGEN_CPU, "wrk", "-t1", f"-c{args.connections}"]
    command += [f"-d{seconds}s", "--latency", "-s", str(script), url]
    return command + (["--", str(paths)] if paths else [])


def run_wrk(
    args: argparse.Namespace, name: str, t: Target, target: str, paths: Path | None = None
) -> Result:
    url = t.server.base + target
    run(wrk_command(args, url, args.warmup, paths))

    def once() -> Result:
        if t.statement_stats:
            asyncio.run(_statements(t.db_url, reset=True))
        with cpu_meter(t.server.process.pid, t.fx.postmaster_pid) as cpu:
            stats = parse_wrk(run(wrk_command(args, url, args.duration, paths)))
        errors = sum(int(v) for k, v in stats.items() if k.endswith("errors") or k == "timeouts")
        result = Result(
            name,
            rps=stats["requests"] / (stats["duration_us"] / 1e6),
            p50_ms=stats["p50_us"] / 1000,
            p99_ms=stats["p99_us"] / 1000,
            errors=errors,
            cpu=cpu[0],
        )
        if t.statement_stats and stats["requests"]:
            result.notes = statements_per_request(t.db_url, int(stats["requests"]))
        log_result(result)
        return result

    return median_of(args.repeat, once)


def check_endpoint(server: Server, path: str) -> int:
    """GET `path` once: a 200 with items, or the benchmark would measure errors."""
    response = httpx.get(server.base + path, timeout=10)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
    items: list[object] = response.json().get("items", [])
    return len(items)


def unloaded_search(server: Server, fx: Fixtures, passes: int = 3) -> list[tuple[float, str, int]]:
    """Each search alone: (ms, query, items), slowest first. The best of a few passes, so
    that the first use of a statement on each pool connection does not count."""
    best: dict[str, tuple[float, str, int]] = {}
    with httpx.Client(base_url=server.base, timeout=10) as client:
        for _ in range(passes):
            for q in fx.queries:
                started = time.perf_counter()
                response = client.get("/v1/products/search", params={"q": q})
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                if q not in best or elapsed < best[q][0]:
                    best[q] = (elapsed, q, len(response.json()["items"]))
    return sorted(best.values(), reverse=True)


def write_paths(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def http_scenarios(args: argparse.Namespace, t: Target, scratch: Path) -> list[Result]:
    deep = [f"/v1/products?limit={PAGE}&cursor={c}" for c in t.fx.cursors]
    found = [f"/v1/products/search?q={quote(q)}" for q in t.fx.queries]
    if check_endpoint(t.server, f"/v1/products?limit={PAGE}") != PAGE or any(
        check_endpoint(t.server, p) != PAGE for p in deep[:5]
    ):
        raise RuntimeError("a catalog page has fewer items than asked")
    alone = unloaded_search(t.server, t.fx)
    results = [
        run_wrk(args, "GET /healthz", t, "/healthz"),
        run_wrk(args, "GET /v1/products (first page)", t, f"/v1/products?limit={PAGE}"),
        run_wrk(args, "GET /v1/products (deep page)", t, "/", write_paths(scratch / "deep", deep)),
        run_wrk(args, "GET /v1/products/search", t, "/", write_paths(scratch / "search", found)),
    ]
    empty = [q for _, q, items in alone if items == 0]
    results[-1].notes.append(
        "alone (one request at a time, best of 3): slowest "
        + ", ".join(f"{q!r} {ms:.1f} ms" for ms, q, _ in alone[:4])
        + f"; median {alone[len(alone) // 2][0]:.1f} ms; no result for {empty or 'none'}"
    )
    return results


# ---------------------------------------------------------------- pgbench


LITERAL = re.compile(r"'(?:[^']|'')*'")
PARAMETER = re.compile(r"\$(\d+)\b")


def as_text(value: object) -> str:
    """A bound argument as PostgreSQL reads it in text form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        quoted = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value)
        return "{" + ",".join(quoted) + "}"
    return str(value)


def as_pgbench(statements: list[Statement], prefix: str, variables: dict[str, str]) -> str:
    """A pgbench script of `statements` (one transaction: one request of the endpoint)."""
    lines = [
        pgbench_statement(statement, f"{prefix}_{k}", variables)
        for k, statement in enumerate(statements)
    ]
    return "\n".join(lines) + "\n"


def pgbench_statement(statement: Statement, name: str, variables: dict[str, str]) -> str:
    """Each $n becomes a pgbench variable (-D) holding the argument as text, sent as a
    parameter with -M prepared, as asyncpg sends it. pgbench numbers each occurrence of a
    variable as a new parameter, so each gets the type the server inferred for $n (a cast
    to the type it has anyway). pgbench cannot bind a NULL: a None is written NULL, which
    is what the server's custom plans see too."""
    sql, args, types = statement

    def literal(m: re.Match[str]) -> str:
        # pgbench would read the `:alnum` of '[^[:alnum:]]+' as a variable: such a literal
        # becomes a variable too.
        if not re.search(r"(?<!:):[A-Za-z_]", m[0]):
            return m[0]
        variables[f"{name}_l{m.start()}"] = m[0][1:-1].replace("''", "'")
        return f":{name}_l{m.start()}"

    def parameter(m: re.Match[str]) -> str:
        n = int(m[1]) - 1
        if args[n] is None:
            return f"NULL::{types[n]}"
        variables[f"{name}_p{m[1]}"] = as_text(args[n])
        return f":{name}_p{m[1]}::{types[n]}"

    return PARAMETER.sub(parameter, LITERAL.sub(literal, sql)).strip() + ";"


def pgbench_scripts(fx: Fixtures, scratch: Path) -> dict[str, tuple[list[Path], dict[str, str]]]:
    """Per SQL scenario: script files, one per request of the wrk run (pgbench picks one at
    random per transaction), and their -D variables."""
    scenarios: dict[str, tuple[list[Path], dict[str, str]]] = {}
    for name, requests in [
        ("SQL first page", [fx.first_sql]),
        ("SQL deep page", fx.deep_sql),
        ("SQL search (2 statements)", fx.search_sql),
    ]:
        files, variables = [], dict[str, str]()
        for i, statements in enumerate(requests):
            script = scratch / f"{name.split()[1]}{i}.sql"
            script.write_text(as_pgbench(statements, f"r{i}", variables))
            files.append(script)
        scenarios[name] = (files, variables)
    return scenarios


def pgbench_command(
    args: argparse.Namespace, url: str, files: list[Path], variables: dict[str, str], seconds: int
) -> tuple[list[str], dict[str, str]]:
    connection, env = pgbench_connection(url)
    command = ["taskset", "-c", LOADGEN_CPU, pgbench_binary(), "-n", "-M", "prepared"]
    command += ["-c", str(args.connections), "-j", "2", "-T", str(seconds)]
    for f in files:
        command += ["-f", str(f)]
    for name, value in variables.items():
        command += ["-D", f"{name}={value}"]
    return command + connection, {**os.environ, **env}


def run_pgbench(
    args: argparse.Namespace,
    name: str,
    url: str,
    script: tuple[list[Path], dict[str, str]],
    scratch: Path,
    postmaster_pid: int | None,
) -> Result:
    files, variables = script
    command, env = pgbench_command(args, url, files, variables, args.warmup)
    run(command, env=env)

    def once() -> Result:
        logs = Path(tempfile.mkdtemp(prefix="pgbench-", dir=scratch))
        command, env = pgbench_command(args, url, files, variables, args.duration)
        command += ["-l", f"--log-prefix={logs}/tx"]  # one line per transaction
        with cpu_meter(None, postmaster_pid) as cpu:
            output = run(command, env=env)
        tps = re.search(r"^tps = ([\d.]+)", output, re.M)
        failed = re.search(r"number of failed transactions: (\d+)", output)
        if tps is None:
            raise RuntimeError(f"pgbench printed no tps:\n{output}")
        result = Result(
            name,
            rps=float(tps.group(1)),
            p50_ms=percentile(latencies_ms(logs), 50),
            p99_ms=percentile(latencies_ms(logs), 99),
            errors=int(failed.group(1)) if failed else 0,
            cpu=cpu[0],
        )
        log_result(result)
        return result

    return median_of(args.repeat, once)


def sql_scenarios(args: argparse.Namespace, url: str, fx: Fixtures, scratch: Path) -> list[Result]:
    return [
        run_pgbench(args, name, url, script, scratch, fx.postmaster_pid)
        for name, script in pgbench_scripts(fx, scratch).items()
    ]


# ---------------------------------------------------------------- py-spy


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def profile_catalog_page(args: argparse.Namespace, server: Server, scratch: Path) -> list[str]:
    """py-spy on the server during an extra, unmeasured wrk run on the first page."""
    spy = py_spy()
    if spy is None:
        return ["no profile: py-spy not found (pip install py-spy)"]
    raw = scratch / "catalog.pyspy.txt"
    command = [spy, "record", "--nonblocking", "--threads", "--subprocesses", "--format", "raw"]
    command += ["-r", "200", "-d", str(args.duration), "-o", str(raw)]
    command += ["-p", str(server.process.pid)]
    recorder = subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    time.sleep(1)
    run(wrk_command(args, f"{server.base}/v1/products?limit={PAGE}", args.duration, None))
    _, errors = recorder.communicate(timeout=60)
    if not raw.exists():
        return [f"no profile: py-spy failed: {errors.decode()[-500:]}"]
    return summarize_profile(raw.read_text())


FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
THREAD = re.compile(r"^thread \(\d+\): (?P<name>.*)$")
# Frames whose inclusive share says where a catalog request's time goes.
WATCHED = {
    "list_products": "the route handler, SQL round trip included",
    "run_in_threadpool": "sync dependency (get_pool) run in a worker thread",
    "PoolConnectionHolder.release": "pool release: asyncpg's reset query, one more round trip",
    "Logger.info": "uvicorn's access log",
    "solve_dependencies": "FastAPI dependency resolution",
}


def frame_name(frame: str) -> str:
    m = FRAME.match(frame)
    return f"{m['func']} ({m['file']})" if m else frame


def package(frame: str) -> str:
    file = FRAME.match(frame)["file"]  # type: ignore[index]
    top = file.split("/")[0]
    return top if "/" in file else file


def summarize_profile(raw: str, top: int = 10) -> list[str]:
    """Where the event loop's thread spends its time (the single-threaded bottleneck of a
    worker); the thread pool's threads are counted apart."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    samples = pool_samples = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        parts = stack.split(";")
        frames = [f for f in parts if FRAME.match(f)]
        if not count_text.isdigit() or not frames:
            continue
        thread = next((m["name"] for p in parts if (m := THREAD.match(p))), "MainThread")
        if thread != "MainThread":
            pool_samples += int(count_text)
            continue
        count = int(count_text)
        samples += count
        own[frame_name(frames[-1])] += count
        by_package[package(frames[-1])] += count
        for func in {FRAME.match(f)["func"] for f in frames}:  # type: ignore[index]
            inclusive[func] += count
    if not samples:
        return ["no profile: py-spy recorded no samples"]

    def pct(n: int) -> str:
        return f"{100 * n / samples:5.1f}%"

    lines = [
        f"py-spy on the server, GET /v1/products: {samples} samples of the event loop's thread"
        f" at 200 Hz (plus {pool_samples} in thread-pool threads, mostly waiting for work)",
        f"  own time, top {top} (time in C code counts in its Python caller):",
    ]
    lines += [f"    {pct(n)}  {name}" for name, n in own.most_common(top)]
    packages = ", ".join(f"{name} {pct(n).strip()}" for name, n in by_package.most_common(9))
    lines.append(f"  own time by package: {packages}")
    lines.append("  inclusive time of the frames that matter:")
    lines += [f"    {pct(inclusive[func])}  {func}: {why}" for func, why in WATCHED.items()]
    return lines


# ---------------------------------------------------------------- the report


def ratio(a: Result | None, b: Result | None) -> str:
    return f"{100 * a.rps / b.rps:.0f}%" if a and b and b.rps else ""


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


HEADER = (
    f"{'scenario':<30} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'err':>3} "
    f"{'%bare':>5} {'%SQL':>5} | {'cores: load':>11} {'server':>6} {'pg':>5} {'other':>5}"
    f" | {'us/req: server':>14} {'pg':>5}"
)


def row(r: Result, vs_bare: str, vs_sql: str) -> str:
    c = r.cpu
    mark = " !" if c.other > DISTURBED else ""
    server_us = f"{r.cpu_us(c.server):>14.0f}" if c.server > 0.01 else f"{'':>14}"
    return (
        f"{r.name:<30} {r.rps:>7,.0f} {r.p50_ms:>7.2f} {r.p99_ms:>7.2f} {r.errors:>3} "
        f"{vs_bare:>5} {vs_sql:>5} | {c.loadgen:>11.2f} {c.server:>6.2f} {c.postgres:>5.2f} "
        f"{c.other:>5.2f} | {server_us} {r.cpu_us(c.postgres):>5.0f}{mark}"
    )


def report(
    args: argparse.Namespace,
    fx: Fixtures,
    sql: list[Result],
    http: dict[int, list[Result]],
    profile: list[str],
) -> None:
    ceiling = dict(
        zip(
            ["GET /v1/products (first page)", "GET /v1/products (deep page)",
             "GET /v1/products/search"], sql, strict=True,
        )
    )  # fmt: skip
    pin = f"server on CPUs {args.pin_server}" if args.pin_server else "server not pinned"
    print(f"\nComptoir catalog benchmark, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {os.cpu_count()} cores ({cpu_model()}); PostgreSQL {fx.server_version}")
    print(f"catalog: {args.products:,} products ({fx.visible:,} visible), {fx.words:,} words in "
          f"product_words; {len(fx.cursors)} deep cursors from row {fx.deep_from:,}; "
          f"{len(fx.queries)} search queries")  # fmt: skip
    print(f"load: {args.connections} connections, {args.warmup} s warm-up then {args.duration} s"
          f"{f' x {args.repeat} (median run)' if args.repeat > 1 else ''}; wrk -t1 and pgbench "
          f"-j2 on core {LOADGEN_CPU} (taskset); {pin}; PostgreSQL not pinned")  # fmt: skip
    print(f"cores = average cores used by each side; ! = other processes used > {DISTURBED} core")
    for workers, results in http.items():
        print(f"\n== HTTP, comptoir serve --workers {workers}")
        print(HEADER)
        bare, first, deep, found = results
        for r in results:
            print(row(r, ratio(r, bare) if r is not bare else "", ratio(r, ceiling.get(r.name))))
        for r in results:
            if r.notes:
                print(f"  {r.name}, SQL per request:" if r is not bare else f"  {r.name}:")
                print("\n".join(f"    {note}" for note in r.notes))
        target, p99_ok = PAGE_VS_BARE_TARGET * bare.rps, found.p99_ms <= SEARCH_P99_TARGET_MS
        by_cpu = " / ".join(f"{100 * bare.cpu_us(bare.cpu.server) / r.cpu_us(r.cpu.server):.0f}%"
                            for r in (first, deep))  # fmt: skip
        print(
            f"server CPU per request, bare vs first / deep page: {by_cpu} (what the ratios "
            "would be if the server's core were the only limit; robust to other load)"
        )
        print(f"targets: first page at {ratio(first, bare)} of bare, target 60%: "
              f"{verdict(first.rps >= target)}; deep page at {ratio(deep, bare)}: "
              f"{verdict(deep.rps >= target)}; search p99 {found.p99_ms:.1f} ms, target "
              f"{SEARCH_P99_TARGET_MS:.0f} ms: {verdict(p99_ok)}")  # fmt: skip
    print("\n== SQL ceiling: pgbench -M prepared, the endpoints' SQL (req/s = transactions/s)")
    print(HEADER)
    for r in sql:
        print(row(r, "", ""))
        for note in r.notes:
            print(f"    {note}")
    if profile:
        print()
        print("\n".join(profile))


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"missing: {', '.join(missing)} (apt-get install wrk util-linux)")
    server = server_url(args.data_dir)
    with (
        tempfile.TemporaryDirectory(prefix="comptoir-bench-") as tmp,
        bench_database(server) as url,
    ):
        scratch = Path(tmp)
        say(f"database {urlsplit(url).path.lstrip('/')}: migrating")
        migrate.upgrade(url)
        load_products(url, args.products, args.seed)
        fx = asyncio.run(_fixtures(url, args.seed))
        statement_stats = enable_statement_stats(url)
        say(f"pgbench: {pgbench_binary()}")
        sql = sql_scenarios(args, url, fx, scratch)
        http: dict[int, list[Result]] = {}
        profile: list[str] = []
        for workers in args.workers:
            with comptoir_server(url, workers, scratch, args.pin_server) as app:
                say(f"server up, {workers} worker(s), at {app.base}")
                http[workers] = http_scenarios(args, Target(app, url, fx, statement_stats), scratch)
                if not args.no_profile and not profile:
                    say("py-spy on the server, first page (an extra run, not measured)")
                    profile = profile_catalog_page(args, app, scratch)
        report(args, fx, sql, http, profile)


if __name__ == "__main__":
    main()
