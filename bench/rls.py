"""Row-level security benchmark: catalog, cart and checkout with COMPTOIR_RLS=off and =on.

    .venv/bin/python bench/rls.py [--duration 10] [--repeat 6] [--connections 32]

One database (100k products, 10k customers, as bench/checkout.py loads them) and two
`comptoir serve` on it, one with RLS off and one with RLS on, both up for the whole run (the
idle one costs nothing). Each repetition measures each scenario on both servers back to back,
the order swapped every repetition, so that the two runs of a pair see the same machine
(another engineer's load comes and goes within minutes):

- catalog: GET /v1/products?limit=20, anonymous (no protected table, no transaction added);
- cart: GET /v1/cart, customers in turn, three lines in each cart;
- checkout: each customer puts three products in the cart and checks out (bench/checkout.py's
  virtual customers: three PUTs and one POST).

Prints requests/s per scenario and mode (median of the repetitions), the on/off ratio against
the target (RLS costs at most 10% of throughput) from those medians and, steadier, the median
of the pairs' ratios, the load average around each run, and checks the invariants of
checkout after each checkout run (no oversell, totals = lines).
Load generator pinned to core 1 (taskset); server and PostgreSQL share both cores.
"""

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import psutil

from checkout import customer_lines, invariants, load, reset
from comptoir.db import migrate
from harness import (
    LOADGEN_CPU,
    Server,
    bench_database,
    comptoir_server,
    parse_wrk,
    run,
    say,
    server_url,
    tree_cpu,
)

LUA = Path(__file__).resolve().parent / "lua"
TARGET = 0.90  # RLS on keeps at least 90% of the throughput with RLS off
SCENARIOS = ("catalog", "cart", "checkout")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--repeat",
        type=int,
        default=6,
        help="runs per scenario and mode (even: each mode first as often)",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "comptoir-bench-server"
    )
    return parser.parse_args()


@dataclass
class Measure:
    scenario: str
    rls: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    load: tuple[float, float]  # 1-minute load average before and after the run
    server_us: float  # CPU per request of the server's process tree
    pg_us: float  # CPU per request of this database's backends

    @property
    def cpu_us(self) -> float:
        return self.server_us + self.pg_us


async def _backend_pids(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [r["pid"] for r in rows]
    finally:
        await conn.close()


def backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds so far of each backend on the bench database. Only this database's: the
    embedded server may be serving another engineer's benchmark at the same time."""
    seconds = {}
    for pid in asyncio.run(_backend_pids(url)):
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        seconds[pid] = times.user + times.system
    return seconds


def wrk(args: argparse.Namespace, url: str, seconds: int, script: str, *extra: str) -> str:
    # checkout.lua keeps a customer's four requests in order on one connection: one thread
    # per connection. The other scenarios need no such care; one thread, as bench/catalog.py.
    threads = args.connections if script == "checkout.lua" else 1
    command = ["taskset", "-c", LOADGEN_CPU, "wrk", f"-t{threads}", f"-c{args.connections}"]
    command += [f"-d{seconds}s", "--latency", "-s", str(LUA / script), url]
    return run(command + (["--", *extra] if extra else []))


FILL_CARTS = """
INSERT INTO carts (user_id) SELECT id FROM users ON CONFLICT (user_id) DO NOTHING;
INSERT INTO cart_items (cart_id, product_id, quantity)
SELECT c.id, p.id, 1
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM carts) AS c
CROSS JOIN generate_series(0, 2) AS k
JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM products) AS p
  ON p.n = 1 + (c.n * 31 + k * 7919) % (SELECT count(*) FROM products)
ON CONFLICT (cart_id, product_id) DO NOTHING
"""


async def spread_created_at(url: str) -> None:
    """One product a minute, as a catalog grows: the first page is then an index's first
    rows, as in bench/catalog.py, not a sort of products that all share one timestamp."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "UPDATE products AS p SET created_at = now() - make_interval(mins => s.n::int)"
            " FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM products) AS s"
            " WHERE s.id = p.id"
        )
        await conn.execute("VACUUM (ANALYZE) products")
    finally:
        await conn.close()


async def fill_carts(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(FILL_CARTS)
        for table in ("carts", "cart_items"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        await conn.close()


def measure(
    args: argparse.Namespace,
    scenario: str,
    rls: str,
    server: Server,
    customers: Path,
    url: str,
) -> Measure:
    base, server_pid = server.base, server.process.pid
    extra: tuple[str, ...]
    if scenario == "catalog":
        target, script, extra = "/v1/products?limit=20", "report.lua", ()
    elif scenario == "cart":
        asyncio.run(fill_carts(url))
        target, script, extra = "", "cart.lua", (str(customers),)
    else:
        # Every checkout run from the same state (full stock; no carts, orders or keys),
        # whichever ran before it: left after the cart run, three lines more per order.
        asyncio.run(reset(url))
        target, script, extra = "", "checkout.lua", (str(customers),)
    wrk(args, base + target, args.warmup, script, *extra)
    before = os.getloadavg()[0]
    server_before, pg_before = tree_cpu(server_pid), backend_cpu(url)
    stats = parse_wrk(wrk(args, base + target, args.duration, script, *extra))
    server_cpu = tree_cpu(server_pid) - server_before
    pg_cpu = sum(t - pg_before.get(pid, 0.0) for pid, t in backend_cpu(url).items())
    after = os.getloadavg()[0]
    errors = sum(int(v) for k, v in stats.items() if k.endswith("errors") or k == "timeouts")
    requests = max(stats["requests"], 1)
    result = Measure(
        scenario,
        rls,
        rps=stats["requests"] / (stats["duration_us"] / 1e6),
        p50_ms=stats["p50_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
        errors=errors,
        load=(before, after),
        server_us=server_cpu / requests * 1e6,
        pg_us=pg_cpu / requests * 1e6,
    )
    say(
        f"{scenario} rls={rls}: {result.rps:,.0f} req/s, p99 {result.p99_ms:.1f} ms, "
        f"CPU per request: server {result.server_us:.0f} us, PostgreSQL {result.pg_us:.0f} us;"
        f" errors {errors}, load {before:.2f} -> {after:.2f}"
    )
    if scenario == "checkout":
        held = asyncio.run(invariants(url))
        if held["negative_stock"] or held["oversold"] or held["bad_totals"]:
            raise RuntimeError(f"checkout invariants broken with rls={rls}: {held}")
    return result


def median(runs: list[Measure], key: Callable[[Measure], float]) -> float:
    return statistics.median(key(r) for r in runs)


def report(args: argparse.Namespace, results: list[Measure]) -> None:
    print(
        f"\nRLS benchmark: {args.products} products, {args.customers} customers, "
        f"{args.connections} connections, {args.duration} s runs, {args.repeat} per mode "
        f"(medians), {args.workers} worker(s); wrk on CPU {LOADGEN_CPU}, server and "
        "PostgreSQL unpinned"
    )
    print(
        f"{'scenario':9} {'rls':3} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'srv us':>7} "
        f"{'pg us':>6} {'err':>4}  req/s of the runs; load (1 min) before-after each run"
    )
    verdicts = []
    for scenario in SCENARIOS:
        rps, cpu = {}, {}
        for rls in ("off", "on"):
            runs = [r for r in results if r.scenario == scenario and r.rls == rls]
            rps[rls], cpu[rls] = median(runs, lambda r: r.rps), median(runs, lambda r: r.cpu_us)
            each = ", ".join(f"{r.rps:,.0f}" for r in runs)
            loads = " ".join(f"{r.load[0]:.1f}-{r.load[1]:.1f}" for r in runs)
            print(
                f"{scenario:9} {rls:3} {rps[rls]:7,.0f} {median(runs, lambda r: r.p50_ms):7.1f} "
                f"{median(runs, lambda r: r.p99_ms):7.1f} "
                f"{median(runs, lambda r: r.server_us):7.0f} "
                f"{median(runs, lambda r: r.pg_us):6.0f} {sum(r.errors for r in runs):4d}  "
                f"{each}; {loads}"
            )
        by_rps, by_cpu = rps["on"] / rps["off"], cpu["off"] / cpu["on"]
        pairs = _pairs(results, scenario)
        paired_rps = statistics.median(on.rps / off.rps for off, on in pairs)
        paired_cpu = statistics.median(off.cpu_us / on.cpu_us for off, on in pairs)
        verdicts.append(
            f"{scenario}: RLS on at {by_rps:.0%} of RLS off by req/s, {by_cpu:.0%} by CPU per "
            f"request (server + PostgreSQL: {cpu['off']:,.0f} -> {cpu['on']:,.0f} us); "
            f"target >= {TARGET:.0%}: {'met' if min(by_rps, by_cpu) >= TARGET else 'NOT met'}"
            f"{'' if by_rps >= TARGET else ' by req/s'}"
            f"{'' if by_cpu >= TARGET else ' by CPU'}"
            f"\n  pairs (on/off, by req/s; by CPU): "
            + ", ".join(f"{n.rps / f.rps:.0%}; {f.cpu_us / n.cpu_us:.0%}" for f, n in pairs)
            + f"; median {paired_rps:.0%}; {paired_cpu:.0%}"
        )
    print("\n".join(verdicts))


def _pairs(results: list[Measure], scenario: str) -> list[tuple[Measure, Measure]]:
    """The (off, on) runs of each repetition, measured back to back."""
    off = [r for r in results if r.scenario == scenario and r.rls == "off"]
    on = [r for r in results if r.scenario == scenario and r.rls == "on"]
    return list(zip(off, on, strict=True))


def main() -> None:
    args = parse_args()
    secret = secrets.token_urlsafe(48)
    os.environ["COMPTOIR_JWT_SECRET"] = secret  # the server signs with it; so do we
    with (
        tempfile.TemporaryDirectory(prefix="comptoir-rls-") as tmp,
        bench_database(server_url(args.data_dir)) as url,
    ):
        scratch = Path(tmp)
        migrate.upgrade(url)
        say(f"loading {args.products} products and {args.customers} customers")
        products, users = asyncio.run(load(url, args.products, args.customers))
        asyncio.run(spread_created_at(url))
        customers = scratch / "customers.txt"
        customers.write_text("\n".join(customer_lines(secret, users, products, None)) + "\n")
        results: list[Measure] = []
        with ExitStack() as servers:
            server = {}
            for rls in ("off", "on"):
                os.environ["COMPTOIR_RLS"] = rls  # comptoir serve reads its settings from it
                run_dir = scratch / f"server-{rls}"
                run_dir.mkdir()
                server[rls] = servers.enter_context(comptoir_server(url, args.workers, run_dir))
            for repetition in range(args.repeat):
                modes = ("off", "on") if repetition % 2 == 0 else ("on", "off")
                for scenario in SCENARIOS:
                    for rls in modes:
                        results.append(measure(args, scenario, rls, server[rls], customers, url))
        report(args, results)
    sys.exit(0)


if __name__ == "__main__":
    main()
