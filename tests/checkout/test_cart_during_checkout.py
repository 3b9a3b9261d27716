"""A cart edited while its checkout runs: the order and the stock must still agree.

Checkout used to read the cart several times (for the total, the lines, the stock update)
while a line could be removed between two of those reads: the order held a line whose stock
was never taken, and cancelling it put back units that had never left. These tests pause a
checkout between its statements with a lock on `products` that another session holds (SHARE
mode lets checkout lock its product rows and write the order, and stops it at the stock
update), edit the cart meanwhile, then let the checkout go on.

They commit through real connections (the `committed` fixture cleans up after them).
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from comptoir.app import create_app
from comptoir.settings import Settings
from tests.checkout.invariants import check, stocked
from tests.factories import Account, make_user, minted

# Backends of this database waiting for a lock: the paused checkout, and a cart write that
# waits for it (a write that does not wait finishes instead).
WAITING = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
"""


@pytest.fixture
async def shop(
    database_url: str, tmp_path: Path, committed: asyncpg.Connection
) -> AsyncIterator[tuple[httpx.AsyncClient, Account]]:
    settings = Settings(
        database_url=database_url, data_dir=tmp_path, pool_min=1, pool_max=10, rate_limits="off"
    )
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            buyer = minted(app, await make_user(committed, email="buyer@example.com"), "")
            yield http, buyer


async def until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Wait for something another session does; a generous bound so a hang fails, not waits."""
    for _ in range(3000):
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the other session never got there")


async def stocks(conn: asyncpg.Connection) -> dict[str, int]:
    return {r["name"]: r["stock"] for r in await conn.fetch("SELECT name, stock FROM products")}


async def checkout_paused_while(
    http: httpx.AsyncClient,
    buyer: Account,
    database_url: str,
    watcher: asyncpg.Connection,
    edit: Callable[[], Coroutine[Any, Any, httpx.Response]],
) -> tuple[httpx.Response, httpx.Response]:
    """Run a checkout, pause it at its stock update, run `edit` meanwhile, resume.
    `watcher`, an autocommit connection, sees who waits (pg_stat_activity is read once per
    transaction, so the holder's own view would never change)."""
    holder = await asyncpg.connect(database_url)
    try:
        pause = holder.transaction()
        await pause.start()
        await holder.execute("LOCK TABLE products IN SHARE MODE")
        placing = asyncio.create_task(
            http.post(
                "/v1/checkout", headers=buyer.headers | {"Idempotency-Key": str(uuid.uuid4())}
            )
        )
        await until(lambda: _waiting(watcher, 1))
        editing = asyncio.create_task(edit())
        # Either the edit is done (it did not wait for the checkout) or it waits on a lock.
        await until(lambda: _done_or_waiting(editing, watcher))
        await pause.rollback()
        return await placing, await editing
    finally:
        await holder.close()


async def _waiting(watcher: asyncpg.Connection, count: int) -> bool:
    waiting: int = await watcher.fetchval(WAITING)
    return waiting >= count


async def _done_or_waiting(task: asyncio.Task[httpx.Response], watcher: asyncpg.Connection) -> bool:
    return task.done() or await _waiting(watcher, 2)


async def test_a_line_removed_during_checkout_is_in_the_order_and_its_stock_taken(
    shop: tuple[httpx.AsyncClient, Account], committed: asyncpg.Connection, database_url: str
) -> None:
    http, buyer = shop
    mug, tea = (
        await stocked(committed, "Mug", 10, "8.00"),
        await stocked(committed, "Tea", 10, "4.00"),
    )
    for product in (mug, tea):
        response = await http.put(
            f"/v1/cart/items/{product}", json={"quantity": 2}, headers=buyer.headers
        )
        assert response.status_code == 200

    placed, removed = await checkout_paused_while(
        http,
        buyer,
        database_url,
        committed,
        lambda: http.delete(f"/v1/cart/items/{tea}", headers=buyer.headers),
    )

    assert (placed.status_code, removed.status_code) == (201, 204)
    # The removal waited for the checkout: the order holds both lines, both stocks went down.
    assert sorted((i["name"], i["quantity"]) for i in placed.json()["items"]) == [
        ("Mug", 2),
        ("Tea", 2),
    ]
    assert placed.json()["total"] == "24.00"
    assert await stocks(committed) == {"Mug": 8, "Tea": 8}
    await check(committed)
    # Cancelling puts back exactly what left, no more.
    cancelled = await http.post(f"/v1/orders/{placed.json()['id']}/cancel", headers=buyer.headers)
    assert cancelled.status_code == 200
    assert await stocks(committed) == {"Mug": 10, "Tea": 10}
    await check(committed)


async def test_emptying_and_setting_lines_wait_for_a_running_checkout(
    shop: tuple[httpx.AsyncClient, Account], committed: asyncpg.Connection, database_url: str
) -> None:
    http, buyer = shop
    mug, tea = (
        await stocked(committed, "Mug", 10, "8.00"),
        await stocked(committed, "Tea", 10, "4.00"),
    )
    await http.put(f"/v1/cart/items/{mug}", json={"quantity": 1}, headers=buyer.headers)

    placed, emptied = await checkout_paused_while(
        http, buyer, database_url, committed, lambda: http.delete("/v1/cart", headers=buyer.headers)
    )
    assert (placed.status_code, emptied.status_code) == (201, 204)
    assert [i["name"] for i in placed.json()["items"]] == ["Mug"]

    await http.put(f"/v1/cart/items/{mug}", json={"quantity": 3}, headers=buyer.headers)
    placed, set_line = await checkout_paused_while(
        http,
        buyer,
        database_url,
        committed,
        lambda: http.put(f"/v1/cart/items/{tea}", json={"quantity": 5}, headers=buyer.headers),
    )
    assert (placed.status_code, set_line.status_code) == (201, 200)
    # The new line came after the order: it is in the cart, not in the order.
    assert [(i["name"], i["quantity"]) for i in placed.json()["items"]] == [("Mug", 3)]
    assert [(i["name"], i["quantity"]) for i in set_line.json()["items"]] == [("Tea", 5)]
    assert await stocks(committed) == {"Mug": 6, "Tea": 10}
    await check(committed)
