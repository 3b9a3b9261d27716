"""Orders: history, cancellation, the back office's moves."""

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.checkout.invariants import check, stocked
from tests.factories import Account


async def place(client: httpx.AsyncClient, who: Account, lines: dict[str, int]) -> dict[str, Any]:
    for product, quantity in lines.items():
        await client.put(
            f"/v1/cart/items/{product}", json={"quantity": quantity}, headers=who.headers
        )
    response = await client.post(
        "/v1/checkout", headers=who.headers | {"Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def one_second_apart(db: asyncpg.Connection, orders: list[str]) -> None:
    """Orders placed in one test share its transaction's now(); in a shop each checkout is a
    transaction of its own, a moment after the last: date them so."""
    await db.execute(
        "UPDATE orders AS o SET created_at = o.created_at - make_interval(secs => n)"
        " FROM unnest($1::uuid[]) WITH ORDINALITY AS placed (id, k),"
        " LATERAL (SELECT cardinality($1::uuid[]) - placed.k AS n) AS later"
        " WHERE o.id = placed.id",
        orders,
    )


async def test_history_newest_first_in_pages(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, other_customer: Account
) -> None:
    product = await stocked(db, "P", 100)
    placed = [(await place(client, customer, {product: 1}))["id"] for _ in range(5)]
    await place(client, other_customer, {product: 1})
    await one_second_apart(db, placed)

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/orders", params=params, headers=customer.headers)).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == placed[::-1]


async def test_an_order_shows_current_names_and_paid_prices(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    product = await stocked(db, "Old name", 5, "8.00")
    order = await place(client, customer, {product: 2})
    await db.execute(
        "UPDATE products SET name = 'New name', price = 9.00 WHERE id = $1::uuid", product
    )
    shown = (await client.get(f"/v1/orders/{order['id']}", headers=customer.headers)).json()
    assert [(i["name"], i["unit_price"]) for i in shown["items"]] == [("New name", "8.00")]
    assert shown["total"] == "16.00"


async def test_another_customers_order_is_404(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, other_customer: Account
) -> None:
    order = await place(client, customer, {await stocked(db, "P", 5): 1})
    for response in (
        await client.get(f"/v1/orders/{order['id']}", headers=other_customer.headers),
        await client.post(f"/v1/orders/{order['id']}/cancel", headers=other_customer.headers),
    ):
        assert response.status_code == 404
    assert (await client.get("/v1/orders", headers=other_customer.headers)).json()["items"] == []


async def test_customer_cancels_a_pending_order_and_the_stock_returns(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    product = await stocked(db, "P", 5)
    order = await place(client, customer, {product: 3})
    assert await db.fetchval("SELECT stock FROM products") == 2
    cancelled = await client.post(f"/v1/orders/{order['id']}/cancel", headers=customer.headers)
    assert cancelled.json()["status"] == "cancelled"
    assert await db.fetchval("SELECT stock FROM products") == 5
    again = await client.post(f"/v1/orders/{order['id']}/cancel", headers=customer.headers)
    assert again.status_code == 409
    assert await db.fetchval("SELECT stock FROM products") == 5
    await check(db)


async def test_customer_cannot_cancel_a_paid_order(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, admin: Account
) -> None:
    order = await place(client, customer, {await stocked(db, "P", 5): 1})
    await client.post(
        f"/v1/admin/orders/{order['id']}/status", json={"status": "paid"}, headers=admin.headers
    )
    response = await client.post(f"/v1/orders/{order['id']}/cancel", headers=customer.headers)
    assert response.status_code == 409


MOVES = [
    ("pending", "paid", 200),
    ("pending", "cancelled", 200),
    ("pending", "shipped", 409),
    ("pending", "pending", 409),
    ("paid", "shipped", 200),
    ("paid", "cancelled", 200),
    ("paid", "pending", 409),
    ("shipped", "cancelled", 409),
    ("shipped", "paid", 409),
    ("cancelled", "paid", 409),
    ("cancelled", "pending", 409),
]


@pytest.mark.parametrize(("start", "target", "expected"), MOVES)
async def test_admin_moves_follow_the_state_machine(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    customer: Account,
    admin: Account,
    start: str,
    target: str,
    expected: int,
) -> None:
    product = await stocked(db, "P", 5)
    order = await place(client, customer, {product: 2})
    path = f"/v1/admin/orders/{order['id']}/status"
    for step in {
        "pending": [],
        "paid": ["paid"],
        "shipped": ["paid", "shipped"],
        "cancelled": ["cancelled"],
    }[start]:
        assert (await client.post(path, json={"status": step}, headers=admin.headers)).is_success
    response = await client.post(path, json={"status": target}, headers=admin.headers)
    assert response.status_code == expected
    if expected == 409:
        assert response.json()["current_status"] == start
    status = await db.fetchval("SELECT status::text FROM orders")
    assert status == (target if expected == 200 else start)
    await check(db)


async def test_admin_lists_orders_by_status(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, admin: Account
) -> None:
    product = await stocked(db, "P", 50)
    orders = [await place(client, customer, {product: 1}) for _ in range(4)]
    await one_second_apart(db, [order["id"] for order in orders])
    for order in orders[:2]:
        await client.post(
            f"/v1/admin/orders/{order['id']}/status", json={"status": "paid"}, headers=admin.headers
        )
    paid = (
        await client.get("/v1/admin/orders", params={"status": "paid"}, headers=admin.headers)
    ).json()
    assert [o["id"] for o in paid["items"]] == [orders[1]["id"], orders[0]["id"]]
    everything = (await client.get("/v1/admin/orders", headers=admin.headers)).json()
    assert len(everything["items"]) == 4
    bad = await client.get("/v1/admin/orders", params={"status": "lost"}, headers=admin.headers)
    assert bad.status_code == 422
    assert (await client.get("/v1/admin/orders", headers=customer.headers)).status_code == 403
