"""The catalog as customers and admins see it."""

import asyncio
import json
from decimal import Decimal
from typing import Any

import asyncpg
import httpx

from tests.factories import Account, make_order, make_product


def floats_in(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in floats_in(v)]
    if isinstance(value, list):
        return [f for v in value for f in floats_in(v)]
    return []


async def test_listing_shows_active_products_newest_first(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    older = await make_product(db, name="Older")
    newer = await make_product(db, name="Newer")
    # One test is one transaction, whose now() every row shares: date the older one back.
    await db.execute(
        "UPDATE products SET created_at = now() - interval '1 minute' WHERE id = $1", older
    )
    hidden = await make_product(db, name="Inactive", active=False)
    deleted = await make_product(db, name="Deleted")
    await db.execute("UPDATE products SET deleted_at = now() WHERE id = $1", deleted)

    page = (await client.get("/v1/products")).json()
    assert [item["id"] for item in page["items"]] == [str(newer), str(older)]
    assert page["next_cursor"] is None
    assert str(hidden) not in json.dumps(page)


async def test_money_is_a_two_place_string_never_a_float(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account, customer: Account
) -> None:
    product = await make_product(db, price=Decimal("19.9"))
    await make_product(db, price=Decimal("0"))
    await client.put(f"/v1/cart/items/{product}", json={"quantity": 3}, headers=customer.headers)
    responses = [
        await client.get("/v1/products"),
        await client.get("/v1/products/search", params={"q": "product"}),
        await client.get(f"/v1/products/{product}"),
        await client.get("/v1/cart", headers=customer.headers),
        await client.post(
            "/v1/products", json={"name": "Bol", "price": "7.5"}, headers=admin.headers
        ),
        await client.patch(f"/v1/products/{product}", json={"price": 12}, headers=admin.headers),
    ]
    bodies = [r.json() for r in responses]
    assert all(r.status_code in (200, 201) for r in responses)
    assert floats_in(bodies) == []
    assert bodies[2]["price"] == "19.90"
    assert bodies[3]["items"][0]["line_total"] == "59.70" and bodies[3]["total"] == "59.70"
    assert bodies[4]["price"] == "7.50"
    assert bodies[5]["price"] == "12.00"
    assert {item["price"] for item in bodies[0]["items"]} == {"19.90", "0.00"}


async def test_keyset_pages_return_each_product_once_while_products_are_added(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    # Same created_at for many rows: the id breaks the tie, so no row is lost between pages.
    await db.execute(
        "INSERT INTO products (name, price, created_at)"
        " SELECT 'Same time ' || i, 1, '2026-01-01T00:00:00Z' FROM generate_series(1, 30) AS i;"
        " INSERT INTO products (name, price, created_at)"
        " SELECT 'Product ' || i, 1, now() - make_interval(mins => i)"
        " FROM generate_series(1, 45) AS i"
    )
    expected = {r["id"] for r in await db.fetch("SELECT id::text FROM products")}

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/products", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        # New products arrive while the customer pages: they are newer than the cursor,
        # so they belong to earlier pages and never shift the later ones.
        await make_product(db, name=f"Arrived during page {len(seen)}")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert set(seen) == expected


async def test_bad_cursor_and_limit_are_422(client: httpx.AsyncClient) -> None:
    for params in (
        {"cursor": "nonsense"},
        {"cursor": "12.not-a-uuid"},
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
    ):
        response = await client.get("/v1/products", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"


async def test_admin_creates_updates_and_soft_deletes(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    created = await client.post(
        "/v1/products",
        json={"name": "  Théière en fonte ", "description": "1 L", "price": "49.00", "stock": 3},
        headers=admin.headers,
    )
    assert created.status_code == 201
    product = created.json()
    assert (product["name"], product["stock"], product["active"]) == ("Théière en fonte", 3, True)

    updated = await client.patch(
        f"/v1/products/{product['id']}",
        json={"stock": 5, "active": False},
        headers=admin.headers,
    )
    assert (updated.json()["stock"], updated.json()["active"]) == (5, False)
    assert (await client.get(f"/v1/products/{product['id']}")).status_code == 404
    seen_by_admin = await client.get(f"/v1/products/{product['id']}", headers=admin.headers)
    assert seen_by_admin.status_code == 200

    deleted = await client.delete(f"/v1/products/{product['id']}", headers=admin.headers)
    assert deleted.status_code == 204
    row = await db.fetchrow("SELECT deleted_at FROM products WHERE id = $1::uuid", product["id"])
    assert row is not None
    assert row["deleted_at"] is not None  # soft: the row stays for the orders that hold it
    again = await client.delete(f"/v1/products/{product['id']}", headers=admin.headers)
    assert again.status_code == 404


async def test_bad_product_input_is_422_and_changes_nothing(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account
) -> None:
    product = await make_product(db, price=Decimal("5.00"), stock=2)
    for body in (
        {"price": "-1"},
        {"price": "1.234"},
        {"stock": -3},
        {"name": ""},
        {"price": "abc"},
        {"colour": "red"},
    ):
        response = await client.patch(f"/v1/products/{product}", json=body, headers=admin.headers)
        assert response.status_code == 422, body
    row = await db.fetchrow("SELECT price, stock, name FROM products WHERE id = $1", product)
    assert row is not None
    assert (row["price"], row["stock"]) == (Decimal("5.00"), 2)
    created = await client.post(
        "/v1/products", json={"name": "X", "price": -2}, headers=admin.headers
    )
    assert created.status_code == 422
    assert await db.fetchval("SELECT count(*) FROM products") == 1


async def test_deleted_product_stays_visible_in_the_orders_that_hold_it(
    client: httpx.AsyncClient, db: asyncpg.Connection, admin: Account, customer: Account
) -> None:
    product = await make_product(db, name="Lampe Berger")
    order = await make_order(db, customer.id, lines={product: (1, Decimal("9.90"))})
    assert (
        await client.delete(f"/v1/products/{product}", headers=admin.headers)
    ).status_code == 204
    line = await db.fetchrow(
        "SELECT p.name, oi.unit_price FROM order_items oi JOIN products p ON p.id = oi.product_id"
        " WHERE oi.order_id = $1",
        order,
    )
    assert line is not None
    assert (line["name"], line["unit_price"]) == ("Lampe Berger", Decimal("9.90"))


async def test_concurrent_listing_requests(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    for i in range(5):
        await make_product(db, name=f"P{i}")
    pages = await asyncio.gather(*(client.get("/v1/products") for _ in range(20)))
    assert {len(p.json()["items"]) for p in pages} == {5}
