"""The customer's own account: profile, and erasure (GDPR) that keeps the shop's books."""

import uuid
from decimal import Decimal

import asyncpg
import httpx

from tests.factories import PASSWORD, Account, login, make_product

HOME = {
    "name": "Jeanne Martin",
    "line1": "12 rue des Lilas",
    "postal_code": "75011",
    "city": "Paris",
    "country": "FR",
    "phone": "+33612345678",
}


async def test_a_customer_reads_and_changes_their_profile(
    client: httpx.AsyncClient, customer: Account
) -> None:
    changed = await client.patch("/v1/me", json={"name": "Jeanne"}, headers=customer.headers)
    assert changed.status_code == 200
    assert changed.json()["name"] == "Jeanne"
    assert (await client.get("/v1/me", headers=customer.headers)).json()["name"] == "Jeanne"
    refused = await client.patch("/v1/me", json={"role": "admin"}, headers=customer.headers)
    assert refused.status_code == 422
    assert (await client.get("/v1/me", headers=customer.headers)).json()["role"] == "customer"


async def test_erasure_keeps_orders_with_totals_and_no_personal_data(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    session = await login(client, customer.email)
    headers = {"Authorization": f"Bearer {session}"}
    await client.patch("/v1/me", json={"name": "Jeanne Martin"}, headers=headers)
    product = await make_product(db, price=Decimal("12.50"), stock=5)
    await client.put(f"/v1/cart/items/{product}", json={"quantity": 2}, headers=headers)
    placed = await client.post(
        "/v1/checkout",
        json={"shipping_address": HOME},
        headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert placed.status_code == 201
    order = uuid.UUID(placed.json()["id"])
    await client.post("/v1/me/addresses", json=HOME, headers=headers)
    await client.put(f"/v1/cart/items/{product}", json={"quantity": 1}, headers=headers)
    await client.post("/v1/events", json={"event_type": "page_view"}, headers=headers)

    wrong = await client.post(
        "/v1/me/erasure", json={"current_password": "not mine"}, headers=headers
    )
    assert wrong.status_code == 403
    erased = await client.post(
        "/v1/me/erasure", json={"current_password": PASSWORD}, headers=headers
    )
    assert erased.status_code == 204

    # The order stays in the books, total and lines intact, without the customer's details.
    row = await db.fetchrow(
        "SELECT total_amount, shipping_address, billing_address, user_id FROM orders WHERE id = $1",
        order,
    )
    assert row is not None
    assert row["total_amount"] == Decimal("25.00")
    assert (row["shipping_address"], row["billing_address"]) == (None, None)
    lines = await db.fetch(
        "SELECT quantity, unit_price FROM order_items WHERE order_id = $1", order
    )
    assert [(r["quantity"], r["unit_price"]) for r in lines] == [(2, Decimal("12.50"))]
    user = await db.fetchrow(
        "SELECT email::text, name, password_hash, erased_at FROM users WHERE id = $1",
        row["user_id"],
    )
    assert user is not None
    assert customer.email not in user["email"] and user["email"].endswith("@erased.invalid")
    assert (user["name"], user["password_hash"]) == (None, None)
    assert user["erased_at"] is not None
    everything = ""
    for table in ("users", "orders", "order_items", "idempotency_keys"):
        everything += str(await db.fetch(f"SELECT * FROM {table}"))
    for personal in (customer.email, "Jeanne Martin", "rue des Lilas", "+33612345678"):
        assert personal not in everything
    # Everything else of theirs is gone.
    for table in ("carts", "addresses", "sessions", "idempotency_keys", "account_links"):
        count = await db.fetchval(
            f"SELECT count(*) FROM {table} WHERE user_id = $1",
            customer.id,
        )
        assert count == 0, table
    events = await db.fetchval(
        "SELECT count(*) FROM analytics_events WHERE user_id = $1", customer.id
    )
    assert events == 0
    # Every token is dead, and the old credentials open nothing.
    for token in (session, customer.token):
        me = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401
    relog = await client.post(
        "/v1/auth/login", json={"email": customer.email, "password": PASSWORD}
    )
    assert relog.status_code == 401
