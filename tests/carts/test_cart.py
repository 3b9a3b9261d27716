"""The cart: one per user, lines keyed by product, totals by the database."""

import asyncio
from decimal import Decimal

import asyncpg
import httpx

from tests.factories import Account, make_product


async def test_empty_cart(client: httpx.AsyncClient, customer: Account) -> None:
    cart = (await client.get("/v1/cart", headers=customer.headers)).json()
    assert cart == {"items": [], "total": "0.00", "currency": "EUR"}


async def test_set_change_and_remove_lines(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    tea = await make_product(db, name="Thé vert", price=Decimal("4.50"), stock=10)
    pot = await make_product(db, name="Théière", price=Decimal("30.00"), stock=2)

    await client.put(f"/v1/cart/items/{tea}", json={"quantity": 2}, headers=customer.headers)
    cart = (
        await client.put(f"/v1/cart/items/{pot}", json={"quantity": 1}, headers=customer.headers)
    ).json()
    # Lines come in the order they were added, then by product; in a test, one transaction,
    # they share their created_at, so the order is compared apart from the lines.
    assert sorted((i["name"], i["quantity"], i["line_total"]) for i in cart["items"]) == [
        ("Thé vert", 2, "9.00"),
        ("Théière", 1, "30.00"),
    ]
    assert cart["total"] == "39.00"

    # Setting a quantity replaces it (one line per product), never adds a second line.
    cart = (
        await client.put(f"/v1/cart/items/{tea}", json={"quantity": 5}, headers=customer.headers)
    ).json()
    assert sorted((i["name"], i["quantity"]) for i in cart["items"]) == [
        ("Thé vert", 5),
        ("Théière", 1),
    ]
    assert cart["total"] == "52.50"

    assert (
        await client.delete(f"/v1/cart/items/{pot}", headers=customer.headers)
    ).status_code == 204
    cart = (await client.get("/v1/cart", headers=customer.headers)).json()
    assert [i["name"] for i in cart["items"]] == ["Thé vert"]

    assert (await client.delete("/v1/cart", headers=customer.headers)).status_code == 204
    assert (await client.get("/v1/cart", headers=customer.headers)).json()["items"] == []


async def test_totals_follow_current_prices(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    product = await make_product(db, price=Decimal("10.00"))
    await client.put(f"/v1/cart/items/{product}", json={"quantity": 3}, headers=customer.headers)
    await db.execute("UPDATE products SET price = 12.35 WHERE id = $1", product)
    cart = (await client.get("/v1/cart", headers=customer.headers)).json()
    assert (cart["items"][0]["unit_price"], cart["total"]) == ("12.35", "37.05")


async def test_quantity_rules(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    product = await make_product(db, stock=3)
    for quantity in (0, -1, 1000, 1.5, "two"):
        response = await client.put(
            f"/v1/cart/items/{product}", json={"quantity": quantity}, headers=customer.headers
        )
        assert response.status_code == 422, quantity
    short = await client.put(
        f"/v1/cart/items/{product}", json={"quantity": 4}, headers=customer.headers
    )
    assert short.status_code == 409
    assert short.json()["available"] == 3
    assert await db.fetchval("SELECT count(*) FROM cart_items") == 0


async def test_unknown_deleted_or_inactive_product_is_404(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    deleted = await make_product(db)
    await db.execute("UPDATE products SET deleted_at = now() WHERE id = $1", deleted)
    inactive = await make_product(db, active=False)
    for product in (deleted, inactive, "00000000-0000-0000-0000-000000000000"):
        response = await client.put(
            f"/v1/cart/items/{product}", json={"quantity": 1}, headers=customer.headers
        )
        assert response.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM carts") == 0


async def test_a_line_whose_product_went_away_is_shown_unavailable(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    kept = await make_product(db, name="Kept", price=Decimal("2.00"))
    gone = await make_product(db, name="Gone", price=Decimal("5.00"))
    paused = await make_product(db, name="Paused", price=Decimal("7.00"))
    for product in (kept, gone, paused):
        await client.put(
            f"/v1/cart/items/{product}", json={"quantity": 1}, headers=customer.headers
        )
    await db.execute("UPDATE products SET deleted_at = now() WHERE id = $1", gone)
    await db.execute("UPDATE products SET active = false WHERE id = $1", paused)

    response = await client.get("/v1/cart", headers=customer.headers)
    assert response.status_code == 200
    lines = {i["name"]: (i["available"], i["line_total"]) for i in response.json()["items"]}
    assert lines == {"Kept": (True, "2.00"), "Gone": (False, None), "Paused": (False, None)}
    assert response.json()["total"] == "2.00"


async def test_concurrent_first_requests_make_one_cart(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    products = [await make_product(db, stock=50) for _ in range(8)]
    answers = await asyncio.gather(
        *(
            client.put(f"/v1/cart/items/{p}", json={"quantity": 2}, headers=customer.headers)
            for p in products
        )
    )
    assert {a.status_code for a in answers} == {200}
    assert await db.fetchval("SELECT count(*) FROM carts WHERE user_id = $1", customer.id) == 1
    assert await db.fetchval("SELECT count(*) FROM cart_items") == 8


async def test_each_customer_sees_only_their_cart(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, other_customer: Account
) -> None:
    product = await make_product(db)
    await client.put(f"/v1/cart/items/{product}", json={"quantity": 1}, headers=customer.headers)
    other = (await client.get("/v1/cart", headers=other_customer.headers)).json()
    assert other["items"] == []
    await client.delete("/v1/cart", headers=other_customer.headers)
    mine = (await client.get("/v1/cart", headers=customer.headers)).json()
    assert len(mine["items"]) == 1
