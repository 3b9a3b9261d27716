"""What the door costs: the same query through `Door.one()` and through the pool directly,
paired in one process.

Issue 16 put every database call behind a caller-bound door (`comptoir.db.door`) reached
through FastAPI dependencies (`PublicDb` is `get_public_db` over `get_doors`), where the
code before it took the pool as one dependency and acquired a connection itself. This
script measures that difference alone, with nothing else changed: the catalog's first page
(`catalog.queries.browse_page_json`, the very function the route runs) and a trivial
`SELECT 1`, each

1. as a call: `async with pool.acquire()` then the query function, against `door.one()`;
2. as a request through the app (in-process ASGI, no network, `create_app` with its
   middleware): a route taking `PoolDep` and acquiring, against a route taking `PublicDb`.

It reports CPU microseconds per call or request of this process (`time.process_time`: the
client and the app, not PostgreSQL, which does the same work either way), alternating the
two sides in rounds and keeping each side's best round, so that the machine's other load
moves both alike.

    python bench/door.py [--rounds 7] [--calls 2000] [--products 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import cast

import asyncpg
import httpx
from fastapi import Response

from comptoir.app import create_app
from comptoir.catalog import queries as catalog
from comptoir.db import migrate
from comptoir.db.door import PUBLIC
from comptoir.deps import Currency, PoolDep, PublicDb
from comptoir.responses import raw_json
from comptoir.settings import Settings
from harness import bench_database, execute, say, server_url


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000, help="calls or requests per round")
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "comptoir-bench-server"
    )
    return parser.parse_args()


async def select_one(conn: asyncpg.Connection) -> int:
    value: int = await conn.fetchval("SELECT 1")
    return value


async def first_page(conn: asyncpg.Connection, currency: str = "EUR") -> str:
    return await catalog.browse_page_json(
        conn, currency=currency, sort="newest", filters=catalog.Filters(), after=None, limit=20
    )


Side = Callable[[], Awaitable[object]]


async def paired(rounds: int, calls: int, sides: dict[str, Side]) -> dict[str, float]:
    """CPU µs per call of each side: the best of `rounds` rounds, sides alternating."""
    best = dict.fromkeys(sides, float("inf"))
    for side in sides.values():  # warm-up: statement caches, connections
        for _ in range(200):
            await side()
    for round_ in range(rounds):
        # Each side goes first in every other round: neither gains from going second.
        order = list(sides.items())
        for name, side in order if round_ % 2 == 0 else reversed(order):
            start = time.process_time()
            for _ in range(calls):
                await side()
            best[name] = min(best[name], (time.process_time() - start) / calls * 1e6)
    return best


async def measure(url: str, args: argparse.Namespace) -> list[tuple[str, dict[str, float]]]:
    settings = Settings(
        database_url=url,
        rate_limits="off",
        data_dir=Path(tempfile.mkdtemp(prefix="comptoir-door-")),
        pool_min=2,
        pool_max=2,
    )
    app = create_app(settings)

    # The two ways a route reached the database: before issue 16 and after.
    async def page_by_pool(pool: PoolDep, currency: Currency) -> Response:
        async with pool.acquire() as conn:
            return raw_json(await first_page(cast(asyncpg.Connection, conn), currency))

    async def page_by_door(db: PublicDb, currency: Currency) -> Response:
        return raw_json(await db.one(first_page, currency))

    app.add_api_route("/bench/pool", page_by_pool, methods=["GET"])
    app.add_api_route("/bench/door", page_by_door, methods=["GET"])

    async with app.router.lifespan_context(app):
        pool: asyncpg.Pool = app.state.pool
        door = app.state.doors.to(PUBLIC)

        async def one_by_pool() -> object:
            async with pool.acquire() as conn:
                return await select_one(cast(asyncpg.Connection, conn))

        async def page_call_by_pool() -> object:
            async with pool.acquire() as conn:
                return await first_page(cast(asyncpg.Connection, conn))

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def get(path: str) -> object:
                response = await client.get(path)
                assert response.status_code == 200, response.text
                return response

            cases: dict[str, dict[str, Side]] = {
                "SELECT 1, a call": {"pool": one_by_pool, "door": lambda: door.one(select_one)},
                "first catalog page, a call": {
                    "pool": page_call_by_pool,
                    "door": lambda: door.one(first_page),
                },
                "first catalog page, a request": {
                    "pool": lambda: get("/bench/pool"),
                    "door": lambda: get("/bench/door"),
                },
            }
            results = [
                (name, await paired(args.rounds, args.calls, sides))
                for name, sides in cases.items()
            ]
    return results


async def load(url: str, products: int) -> None:
    await execute(
        url,
        "INSERT INTO products (name, description, price, stock, attributes, created_at)"
        " SELECT 'Produit ' || g, 'Une description de produit assez longue pour être réelle.',"
        " 10 + g % 300, 100, jsonb_build_object('color', 'red'),"
        f" now() - g * interval '1 minute' FROM generate_series(1, {products}) AS g",
    )
    await execute(url, "VACUUM ANALYZE products")


def main() -> None:
    args = parse_args()
    with bench_database(server_url(args.data_dir)) as url:
        migrate.upgrade(url)
        say(f"loading {args.products} products")
        asyncio.run(load(url, args.products))
        say(f"{args.rounds} rounds of {args.calls} per side, sides alternating")
        results = asyncio.run(measure(url, args))
    print(f"\n{'':34s} {'pool':>8s} {'door':>8s} {'door - pool':>12s}")
    for name, sides in results:
        pool, door = sides["pool"], sides["door"]
        print(
            f"{name:34s} {pool:7.1f}µ {door:7.1f}µ {door - pool:+8.1f} µs"
            f" ({(door - pool) / pool:+.1%})"
        )
    print("CPU µs of this process per call or request (client and app), best round of each.")
    sys.exit(0)


if __name__ == "__main__":
    main()
