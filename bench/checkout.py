"""Checkout benchmark: HTTP checkouts against pgbench running the same SQL (the database's
ceiling), at the same concurrency, on a catalog of 100k products and 10k customers.

Each virtual customer puts three products in the cart (three PUTs) and checks out (one
POST). Two runs: products drawn at random from the whole catalog, and a hot-product run
where every checkout takes the same product (every buyer waits for that row's lock).
After each run: no oversell (stock never below zero, and initial stock = stock now + units
sold in orders that are not cancelled), every order's total is the sum of its lines, and
no 5xx.

    python bench/checkout.py [--duration 10] [--connections 32]

Reuses the shared plumbing of bench/harness.py (database, server, wrk and pgbench helpers).
"""

import argparse
import asyncio
import os
import random
import secrets
import sys
import tempfile
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import asyncpg

from comptoir.auth.queries import USER_COLUMNS
from comptoir.auth.security import issue_token
from comptoir.carts.queries import SET_LINE
from comptoir.db import migrate
from comptoir.demo.names import product_names
from harness import (
    LOADGEN_CPU,
    bench_database,
    comptoir_server,
    parse_wrk,
    pgbench_binary,
    pgbench_connection,
    run,
    say,
    server_url,
)

LUA = Path(__file__).resolve().parent / "lua" / "checkout.lua"
INITIAL_STOCK = 1_000_000
TARGET_RATIO = 0.50


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "comptoir-bench-server"
    )
    return parser.parse_args()


# ------------------------------------------------------------------ data


async def load(url: str, products: int, customers: int) -> tuple[list[str], list[str]]:
    conn = await asyncpg.connect(url)
    try:
        rng = random.Random(11)  # noqa: S311 - benchmark data
        await conn.copy_records_to_table(
            "products",
            records=[
                (name, Decimal(f"{rng.randint(1, 300)}.{rng.randint(0, 99):02}"), INITIAL_STOCK)
                for name in product_names(products, seed=11)
            ],
            columns=["name", "price", "stock"],
        )
        # No password: these customers only use minted tokens.
        await conn.execute(
            "INSERT INTO users (email)"
            f" SELECT 'bench' || i || '@example.com' FROM generate_series(1, {customers}) AS i"
        )
        for table in ("products", "users", "product_words"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        product_ids = [str(r[0]) for r in await conn.fetch("SELECT id FROM products ORDER BY id")]
        user_ids = [str(r[0]) for r in await conn.fetch("SELECT id FROM users ORDER BY email")]
        return product_ids, user_ids
    finally:
        await conn.close()


async def reset(url: str) -> None:
    """Back to a catalog with full stock and no orders, carts or keys."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "TRUNCATE orders, order_items, carts, cart_items, idempotency_keys, payment_events,"
            " payments;"
            f" UPDATE products SET stock = {INITIAL_STOCK}"
        )
        await conn.execute("VACUUM (ANALYZE) products")
    finally:
        await conn.close()


INVARIANTS = f"""
SELECT
  (SELECT count(*) FROM products WHERE stock < 0) AS negative_stock,
  (SELECT count(*) FROM products AS p
   LEFT JOIN (SELECT oi.product_id, sum(oi.quantity) AS units
              FROM order_items AS oi JOIN orders AS o ON o.id = oi.order_id
              WHERE o.status <> 'cancelled' GROUP BY oi.product_id) AS sold
     ON sold.product_id = p.id
   WHERE p.stock + coalesce(sold.units, 0) <> {INITIAL_STOCK}) AS oversold,
  (SELECT count(*) FROM orders AS o
   WHERE o.total_amount <> (SELECT coalesce(sum(unit_price * quantity), -1)
                            FROM order_items WHERE order_id = o.id)) AS bad_totals,
  (SELECT count(*) FROM orders) AS orders
"""


async def invariants(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(INVARIANTS)
        assert row is not None  # scalar subqueries without FROM: always one row
        return dict(row)
    finally:
        await conn.close()


# ------------------------------------------------------------------ HTTP


def customer_lines(
    secret: str, users: list[str], products: list[str], hot: str | None
) -> list[str]:
    rng = random.Random(5)  # noqa: S311
    lines = []
    for user in users:
        token, _ = issue_token(secret, user_id=uuid.UUID(user), generation=0, ttl=86400)
        picked = rng.sample(products, 3)
        if hot:
            picked[0] = hot if hot not in picked[1:] else picked[0]
        lines.append(" ".join([token, *picked]))
    return lines


@dataclass
class Run:
    name: str
    checkouts_per_s: float
    p50_ms: float
    p99_ms: float
    server_errors: int
    invariants: dict[str, int]


def http_run(args: argparse.Namespace, base: str, name: str, customers: Path, url: str) -> Run:
    def command(seconds: int) -> list[str]:
        # One thread per connection: a customer's four requests stay in order on one.
        return [
            "taskset",
            "-c",
            LOADGEN_CPU,
            "wrk",
            f"-t{args.connections}",
            f"-c{args.connections}",
            f"-d{seconds}s",
            "-s",
            str(LUA),
            base,
            "--",
            str(customers),
        ]

    run(command(2))  # warm-up: connections, prepared statements, caches
    asyncio.run(reset(url))
    output = run(command(args.duration))
    stats = parse_wrk(output)
    line = next(x for x in output.splitlines() if x.startswith("CHECKOUT "))
    checkout = {k: float(v) for k, v in (item.split("=") for item in line.split()[1:])}
    result = Run(
        name,
        checkouts_per_s=checkout["created"] / (stats["duration_us"] / 1e6),
        p50_ms=checkout["p50_us"] / 1000,
        p99_ms=checkout["p99_us"] / 1000,
        server_errors=int(checkout["server_errors"]),
        invariants=asyncio.run(invariants(url)),
    )
    say(f"{name}: {result}")
    return result


# ------------------------------------------------------------------ pgbench

# What the app sends for one virtual customer, statement for statement: per request the
# token check; per PUT cart_set_line() (the line and the cart document, one statement); then
# place_order_as_buyer(). The same SQL as the app, minus HTTP and Python.
TOKEN_CHECK = (
    f"SELECT {USER_COLUMNS} FROM users WHERE id = :uid AND token_generation = 0"
    " AND NOT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = :uid);"
)
SET_LINE_SQL = SET_LINE.replace("$1", ":uid").replace("$3", "1").replace("$4", "'EUR'")


def cart_line(product: str) -> str:
    return "\n".join([TOKEN_CHECK, SET_LINE_SQL.replace("$2", f":{product}") + ";"])


def pgbench_script(args: argparse.Namespace, hot: bool) -> str:
    first = "(SELECT id FROM bench_products WHERE n = 1)" if hot else "id"
    return (
        "\n".join(
            [
                f"\\set u random(1, {args.customers})",
                f"\\set a random(1, {args.products})",
                f"\\set b random(1, {args.products})",
                f"\\set c random(1, {args.products})",
                "\\set k random(1, 2000000000)",
                "SELECT id AS uid FROM bench_users WHERE n = :u \\gset",
                f"SELECT {first} AS pa FROM bench_products WHERE n = :a \\gset",
                "SELECT id AS pb FROM bench_products WHERE n = :b \\gset",
                "SELECT id AS pc FROM bench_products WHERE n = :c \\gset",
                cart_line("pa"),
                cart_line("pb"),
                cart_line("pc"),
                TOKEN_CHECK,
                "SELECT place_order_as_buyer(:uid, ('k' || :k::text), 'f', 'EUR', 1000000)::text;",
            ]
        )
        + "\n"
    )


async def pgbench_tables(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "DROP TABLE IF EXISTS bench_users, bench_products;"
            " CREATE TABLE bench_users AS"
            "  SELECT row_number() OVER (ORDER BY email) AS n, id FROM users;"
            " CREATE TABLE bench_products AS"
            "  SELECT row_number() OVER (ORDER BY id) AS n, id FROM products;"
            " CREATE UNIQUE INDEX ON bench_users (n); CREATE UNIQUE INDEX ON bench_products (n);"
            " ANALYZE bench_users; ANALYZE bench_products"
        )
    finally:
        await conn.close()


def pgbench_run(args: argparse.Namespace, url: str, name: str, hot: bool, scratch: Path) -> Run:
    script = scratch / f"{name}.sql"
    script.write_text(pgbench_script(args, hot))
    options, env = pgbench_connection(url)
    asyncio.run(reset(url))
    log_prefix = scratch / f"{name}-log"
    command = [
        "taskset",
        "-c",
        LOADGEN_CPU,
        pgbench_binary(),
        "-n",
        "-M",
        "prepared",
        "-c",
        str(args.connections),
        "-j",
        "1",
        "-T",
        str(args.duration),
        "-f",
        str(script),
        "-l",
        "--log-prefix",
        str(log_prefix),
        *options,
    ]
    output = run(command, env={**os.environ, **env})
    latencies = sorted(
        int(line.split()[2])
        for log in scratch.glob(f"{name}-log*")
        for line in log.read_text().splitlines()
    )
    tps = float(next(x for x in output.splitlines() if x.startswith("tps")).split()[2])
    result = Run(
        name,
        checkouts_per_s=tps,
        # Each transaction is a whole customer (cart and checkout): its latency is the sum of
        # what the HTTP client sees over four requests, not comparable to one checkout's.
        p50_ms=latencies[len(latencies) // 2] / 1000 if latencies else 0,
        p99_ms=latencies[int(len(latencies) * 0.99)] / 1000 if latencies else 0,
        server_errors=0,
        invariants=asyncio.run(invariants(url)),
    )
    say(f"{name}: {result}")
    return result


# ------------------------------------------------------------------ report


def report(args: argparse.Namespace, runs: dict[str, Run]) -> None:
    print(
        f"\ncheckout benchmark: {args.products} products, {args.customers} customers, "
        f"{args.connections} connections, {args.duration} s per run, "
        f"{args.workers} worker(s); load generator pinned to CPU {LOADGEN_CPU}"
    )
    print(f"{'run':28} {'checkouts/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'5xx':>5}  invariants")
    for r in runs.values():
        ok = (
            r.invariants["negative_stock"]
            == r.invariants["oversold"]
            == 0
            == r.invariants["bad_totals"]
        )
        print(
            f"{r.name:28} {r.checkouts_per_s:12.1f} {r.p50_ms:8.1f} {r.p99_ms:8.1f} "
            f"{r.server_errors:5d}  {'hold' if ok else 'BROKEN'} {r.invariants}"
        )
    for kind in ("random", "hot"):
        http, ceiling = runs[f"http {kind}"], runs[f"pgbench {kind}"]
        ratio = http.checkouts_per_s / ceiling.checkouts_per_s
        verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
        print(
            f"{kind}: HTTP at {ratio:.0%} of the pgbench ceiling "
            f"(target >= {TARGET_RATIO:.0%}: {verdict})"
        )


def main() -> None:
    args = parse_args()
    secret = secrets.token_urlsafe(48)
    os.environ["COMPTOIR_JWT_SECRET"] = secret  # the server signs with it; so do we
    with (
        tempfile.TemporaryDirectory(prefix="comptoir-checkout-") as tmp,
        bench_database(server_url(args.data_dir)) as url,
    ):
        scratch = Path(tmp)
        migrate.upgrade(url)
        say(f"loading {args.products} products and {args.customers} customers")
        products, users = asyncio.run(load(url, args.products, args.customers))
        asyncio.run(pgbench_tables(url))
        runs: dict[str, Run] = {}
        for kind, hot in (("random", None), ("hot", products[0])):
            lines = customer_lines(secret, users, products, hot)
            customers = scratch / f"customers-{kind}.txt"
            customers.write_text("\n".join(lines) + "\n")
            (scratch / kind).mkdir()
            with comptoir_server(url, args.workers, scratch / kind) as app:
                runs[f"http {kind}"] = http_run(args, app.base, f"http {kind}", customers, url)
            runs[f"pgbench {kind}"] = pgbench_run(args, url, f"pgbench-{kind}", bool(hot), scratch)
        report(args, runs)
    sys.exit(0)


if __name__ == "__main__":
    main()
