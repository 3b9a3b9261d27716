"""Unpaid orders hold stock, within bounds: a customer may leave only a few unpaid at once,
and an order left unpaid past its time is cancelled and its stock put back, by `comptoir
serve` in the background and by `comptoir db maintain`.

Most commit through real connections, with an app on its own pool (`committed` cleans up).
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from typing import TypedDict, Unpack

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from comptoir.app import create_app
from comptoir.db import maintain, migrate
from comptoir.db.door import SYSTEM, PoolDoors
from comptoir.db.pool import open_pool
from comptoir.db.schema import database_name, scratch_database
from comptoir.orders.service import expiry_chore, sweep_forever
from comptoir.settings import Settings
from tests.checkout.invariants import check, stocked
from tests.conftest import client_of
from tests.factories import Account, make_user, minted


class Policy(TypedDict, total=False):
    max_pending_orders: int
    pending_order_ttl_minutes: int


def policy(database_url: str, tmp_path: Path, **overrides: Unpack[Policy]) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        pool_min=1,
        pool_max=4,
        rate_limits="off",
        **overrides,
    )


@pytest.fixture
async def capped(
    database_url: str, tmp_path: Path, committed: asyncpg.Connection
) -> AsyncIterator[FastAPI]:
    app = create_app(policy(database_url, tmp_path, max_pending_orders=2))
    async with app.router.lifespan_context(app):
        yield app


async def order(
    http: httpx.AsyncClient, who: Account, product: str, quantity: int = 1
) -> httpx.Response:
    put = await http.put(
        f"/v1/cart/items/{product}", json={"quantity": quantity}, headers=who.headers
    )
    assert put.status_code == 200, put.text
    return await http.post(
        "/v1/checkout", headers=who.headers | {"Idempotency-Key": str(uuid.uuid4())}
    )


async def test_a_customer_leaves_at_most_the_setting_s_orders_unpaid(
    capped: FastAPI, committed: asyncpg.Connection
) -> None:
    db = committed
    buyer = minted(capped, await make_user(db, email="hoarder@example.com"), "")
    product = await stocked(db, "Limited edition", 2500)
    async with client_of(capped) as http:
        first, second = await order(http, buyer, product), await order(http, buyer, product)
        assert (first.status_code, second.status_code) == (201, 201)

        refused = await order(http, buyer, product, 900)
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["max_pending_orders"] == 2
        assert "unpaid orders" in problem["detail"]
        # Nothing was written: the stock, the cart and the orders are as they were.
        assert await db.fetchval("SELECT stock FROM products") == 2498
        assert await db.fetchval("SELECT count(*) FROM orders") == 2
        cart = (await http.get("/v1/cart", headers=buyer.headers)).json()
        assert [line["quantity"] for line in cart["items"]] == [900]

        # Paying or cancelling one makes room.
        cancel = await http.post(f"/v1/orders/{first.json()['id']}/cancel", headers=buyer.headers)
        assert cancel.status_code == 200
        again = await http.post(
            "/v1/checkout", headers=buyer.headers | {"Idempotency-Key": str(uuid.uuid4())}
        )
        assert again.status_code == 201
    await check(db)


async def test_a_total_too_large_for_an_order_is_a_clear_422(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    product = await stocked(db, "Yacht", 10, "9999999999.99")
    refused = await order(client, customer, product, 2)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert "more than an order can hold" in refused.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM orders") == 0
    assert await db.fetchval("SELECT stock FROM products") == 10


@pytest.fixture
async def shop(
    database_url: str, tmp_path: Path, committed: asyncpg.Connection
) -> AsyncIterator[tuple[httpx.AsyncClient, Account]]:
    """An app on its own pool, without the sweep: orders placed here are committed, for
    `db maintain` and another app to find."""
    app = create_app(policy(database_url, tmp_path))
    async with app.router.lifespan_context(app), client_of(app) as http:
        yield http, minted(app, await make_user(committed, email="slow@example.com"), "")


async def placed_hours_ago(
    shop: tuple[httpx.AsyncClient, Account], db: asyncpg.Connection, product: str, hours: int
) -> str:
    http, who = shop
    response = await order(http, who, product, 2)
    assert response.status_code == 201
    order_id: str = response.json()["id"]
    await db.execute(
        "UPDATE orders SET created_at = now() - make_interval(hours => $2) WHERE id = $1::uuid",
        order_id,
        hours,
    )
    return order_id


async def statuses(db: asyncpg.Connection) -> dict[str, str]:
    rows = await db.fetch("SELECT id::text, status::text FROM orders")
    return {row["id"]: row["status"] for row in rows}


async def test_db_maintain_cancels_orders_left_unpaid_past_their_time(
    shop: tuple[httpx.AsyncClient, Account], committed: asyncpg.Connection, database_url: str
) -> None:
    db = committed
    product = await stocked(db, "Tea", 20)
    stale = await placed_hours_ago(shop, db, product, 3)
    fresh = await placed_hours_ago(shop, db, product, 0)
    paid = await placed_hours_ago(shop, db, product, 5)
    await db.execute("UPDATE orders SET status = 'paid' WHERE id = $1::uuid", paid)
    assert await db.fetchval("SELECT stock FROM products") == 14

    dry = await maintain.run(
        database_url, retention_months=None, chores=[expiry_chore(timedelta(hours=1))], dry_run=True
    )
    assert "would cancel 1 unpaid orders older than 1:00:00" in dry
    assert (await statuses(db))[stale] == "pending"

    done = await maintain.run(
        database_url, retention_months=None, chores=[expiry_chore(timedelta(hours=1))]
    )
    assert "cancelled 1 unpaid orders older than 1:00:00; stock put back" in done
    assert await statuses(db) == {stale: "cancelled", fresh: "pending", paid: "paid"}
    assert await db.fetchval("SELECT stock FROM products") == 16
    await check(db)


async def test_serve_cancels_expired_orders_in_the_background(
    shop: tuple[httpx.AsyncClient, Account],
    committed: asyncpg.Connection,
    database_url: str,
    tmp_path: Path,
) -> None:
    db = committed
    product = await stocked(db, "Tea", 20)
    stale = await placed_hours_ago(shop, db, product, 2)
    fresh = await placed_hours_ago(shop, db, product, 0)

    app = create_app(policy(database_url, tmp_path / "swept", pending_order_ttl_minutes=60))
    async with app.router.lifespan_context(app):
        # The sweep runs as the app starts, then every minute.
        for _ in range(1000):
            if (await statuses(db))[stale] == "cancelled":
                break
            await asyncio.sleep(0.02)
    assert await statuses(db) == {stale: "cancelled", fresh: "pending"}
    assert await db.fetchval("SELECT stock FROM products") == 18
    await check(db)


async def test_the_background_expiry_outlives_its_database_going_away(
    server_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Whatever the driver raises for a database dropped under the pool (asyncpg's
    # InternalClientError, "another operation is in progress", among others), a round
    # that fails is logged and the next one tries again: the task must not die.
    async with scratch_database(server_url, prefix="comptoir_sweep") as url:
        await migrate.run_in_thread(migrate.upgrade, url)
        settings = Settings(database_url=url, data_dir=tmp_path, pool_min=1, pool_max=2)
        pool = await open_pool(url, settings)
        door = PoolDoors(pool, rls=False).to(SYSTEM)
        sweeper = asyncio.create_task(sweep_forever(door, older_than=timedelta(hours=1), every=0))
        try:
            admin = await asyncpg.connect(server_url)
            try:
                await admin.execute(f'DROP DATABASE "{database_name(url)}" WITH (FORCE)')
            finally:
                await admin.close()
            for _ in range(5000):  # a bound against a hang, not a timing
                failed = [r for r in caplog.records if "could not expire" in r.getMessage()]
                if len(failed) >= 3 or sweeper.done():
                    break
                await asyncio.sleep(0.01)
            assert not sweeper.done(), sweeper.exception()
            assert len(failed) >= 3
        finally:
            sweeper.cancel()
            with suppress(asyncio.CancelledError):
                await sweeper
            pool.terminate()
