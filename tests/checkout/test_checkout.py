"""Checkout: one transaction, never oversell, never twice for one key."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from comptoir.app import create_app
from comptoir.settings import Settings
from tests.checkout.invariants import check, stocked
from tests.factories import Account, make_user, minted


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def put(client: httpx.AsyncClient, who: Account, product: str, quantity: int) -> None:
    response = await client.put(
        f"/v1/cart/items/{product}", json={"quantity": quantity}, headers=who.headers
    )
    assert response.status_code == 200, response.text


async def test_checkout_turns_the_cart_into_an_order(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    tea = await stocked(db, "Thé", 10, "4.50")
    pot = await stocked(db, "Théière", 3, "30.00")
    await put(client, customer, tea, 2)
    await put(client, customer, pot, 1)

    response = await client.post("/v1/checkout", headers=customer.headers | key())
    assert response.status_code == 201
    order = response.json()
    assert (order["status"], order["total"], order["currency"]) == ("pending", "39.00", "EUR")
    assert sorted(
        (i["name"], i["quantity"], i["unit_price"], i["line_total"]) for i in order["items"]
    ) == [("Thé", 2, "4.50", "9.00"), ("Théière", 1, "30.00", "30.00")]
    stocks = {r[0]: r[1] for r in await db.fetch("SELECT name, stock FROM products")}
    assert stocks == {"Thé": 8, "Théière": 2}
    assert (await client.get("/v1/cart", headers=customer.headers)).json()["items"] == []
    # Prices are snapshots: a later price change does not touch the order.
    await db.execute("UPDATE products SET price = 99 WHERE id = $1::uuid", tea)
    again = await client.get(f"/v1/orders/{order['id']}", headers=customer.headers)
    assert again.json()["total"] == "39.00"
    await check(db)


async def test_key_is_required(client: httpx.AsyncClient, customer: Account) -> None:
    for headers in ({}, {"Idempotency-Key": "  "}):
        response = await client.post("/v1/checkout", headers=customer.headers | headers)
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"


async def test_empty_cart_is_422(client: httpx.AsyncClient, customer: Account) -> None:
    response = await client.post("/v1/checkout", headers=customer.headers | key())
    assert response.status_code == 422


async def test_short_stock_lists_each_short_line_and_changes_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    plenty = await stocked(db, "Plenty", 10)
    scarce = await stocked(db, "Scarce", 3)
    gone = await stocked(db, "Gone", 5)
    await put(client, customer, plenty, 1)
    await put(client, customer, scarce, 3)
    await put(client, customer, gone, 2)
    await db.execute("UPDATE products SET stock = 1 WHERE id = $1::uuid", scarce)
    await db.execute("UPDATE products SET deleted_at = now() WHERE id = $1::uuid", gone)

    headers = customer.headers | key()
    response = await client.post("/v1/checkout", headers=headers)
    assert response.status_code == 409
    short = {i["name"]: (i["requested"], i["available"]) for i in response.json()["items"]}
    assert short == {"Scarce": (3, 1), "Gone": (2, 0)}
    assert await db.fetchval("SELECT count(*) FROM orders") == 0
    assert await db.fetchval("SELECT count(*) FROM cart_items") == 3
    assert await db.fetchval("SELECT stock FROM products WHERE id = $1::uuid", plenty) == 10

    # The refused attempt left its key free: fixed cart, same key, it goes through.
    await put(client, customer, scarce, 1)
    await client.delete(f"/v1/cart/items/{gone}", headers=customer.headers)
    assert (await client.post("/v1/checkout", headers=headers)).status_code == 201


async def test_same_key_replays_the_same_order(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    product = await stocked(db, "P", 5)
    await put(client, customer, product, 2)
    headers = customer.headers | key()
    first = await client.post("/v1/checkout", headers=headers)
    await put(client, customer, product, 1)  # a new cart: the replay must not order it
    second = await client.post("/v1/checkout", headers=headers)
    assert second.status_code == 201
    assert second.headers["Idempotency-Replay"] == "true"
    assert "Idempotency-Replay" not in first.headers
    assert second.json() == first.json()
    assert await db.fetchval("SELECT count(*) FROM orders") == 1


async def test_same_key_with_another_request_is_422(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    await put(client, customer, await stocked(db, "P", 5), 1)
    headers = customer.headers | key()
    here = {
        "name": "A",
        "line1": "1 rue A",
        "postal_code": "75001",
        "city": "Paris",
        "country": "FR",
    }
    there = here | {"city": "Lyon", "postal_code": "69001"}
    assert (
        await client.post("/v1/checkout", headers=headers, json={"shipping_address": here})
    ).status_code == 201
    other = await client.post("/v1/checkout", headers=headers, json={"shipping_address": there})
    assert other.status_code == 422


async def test_keys_belong_to_their_user(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, other_customer: Account
) -> None:
    product = await stocked(db, "P", 5)
    await put(client, customer, product, 1)
    await put(client, other_customer, product, 1)
    shared = key()
    mine = await client.post("/v1/checkout", headers=customer.headers | shared)
    theirs = await client.post("/v1/checkout", headers=other_customer.headers | shared)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


@pytest.fixture
async def race_app(database_url: str, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """An app with a pool large enough for every racer to hold a real connection."""
    # Racers check out again and again: the cap on unpaid orders is tested on its own.
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        pool_min=1,
        pool_max=60,
        rate_limits="off",
        max_pending_orders=1000,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def racers(
    race_app: FastAPI, committed: asyncpg.Connection
) -> AsyncIterator[tuple[httpx.AsyncClient, list[Account]]]:
    transport = httpx.ASGITransport(app=race_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as race:
        people = [
            minted(race_app, await make_user(committed, email=f"racer{i}@example.com"), "")
            for i in range(50)
        ]
        yield race, people


async def test_fifty_customers_race_for_ten_items(
    racers: tuple[httpx.AsyncClient, list[Account]], committed: asyncpg.Connection
) -> None:
    race, people = racers
    product = await stocked(committed, "Last ten", 10)
    for person in people:
        await put(race, person, product, 1)

    answers = await asyncio.gather(
        *(race.post("/v1/checkout", headers=p.headers | key()) for p in people)
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 10 + [409] * 40
    assert await committed.fetchval("SELECT stock FROM products WHERE id = $1::uuid", product) == 0
    assert await committed.fetchval("SELECT count(*) FROM orders") == 10
    await check(committed)


async def test_twenty_copies_of_one_checkout_make_one_order(
    racers: tuple[httpx.AsyncClient, list[Account]], committed: asyncpg.Connection
) -> None:
    race, people = racers
    buyer = people[0]
    product = await stocked(committed, "P", 100)
    await put(race, buyer, product, 3)
    headers = buyer.headers | key()
    answers = await asyncio.gather(*(race.post("/v1/checkout", headers=headers) for _ in range(20)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotency-Replay") == "true" for a in answers) == 19
    assert await committed.fetchval("SELECT count(*) FROM orders") == 1
    assert await committed.fetchval("SELECT stock FROM products WHERE id = $1::uuid", product) == 97
    await check(committed)


async def test_opposite_cart_orders_never_deadlock_a_client(
    racers: tuple[httpx.AsyncClient, list[Account]], committed: asyncpg.Connection
) -> None:
    race, people = racers
    first, second = await stocked(committed, "A", 1000), await stocked(committed, "B", 1000)
    alice, bob = people[0], people[1]
    for _ in range(15):
        # Alice adds A then B, Bob B then A: without a global lock order, a deadlock.
        await put(race, alice, first, 1)
        await put(race, alice, second, 1)
        await put(race, bob, second, 1)
        await put(race, bob, first, 1)
        answers = await asyncio.gather(
            race.post("/v1/checkout", headers=alice.headers | key()),
            race.post("/v1/checkout", headers=bob.headers | key()),
        )
        assert [a.status_code for a in answers] == [201, 201]
    assert await committed.fetchval("SELECT count(*) FROM orders") == 30
    await check(committed)
