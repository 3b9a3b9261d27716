"""The back office's orders as a fulfiller needs them: who ordered, where it goes, what is in
it; filtered by status, customer email and period; exported as CSV."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from tests.checkout.invariants import stocked
from tests.factories import Account

HOME = {
    "name": "Jeanne Martin",
    "line1": "12 rue des Lilas",
    "postal_code": "75011",
    "city": "Paris",
    "country": "FR",
    "phone": "+33612345678",
}


async def order(
    client: httpx.AsyncClient, db: asyncpg.Connection, who: Account, name: str, body: dict[str, Any]
) -> dict[str, Any]:
    product = await stocked(db, name, 10, "7.50")
    await client.put(f"/v1/cart/items/{product}", json={"quantity": 2}, headers=who.headers)
    placed = await client.post(
        "/v1/checkout", json=body, headers=who.headers | {"Idempotency-Key": str(uuid.uuid4())}
    )
    assert placed.status_code == 201, placed.text
    document: dict[str, Any] = placed.json()
    return document


async def test_admin_orders_show_the_customer_address_and_lines_and_filter(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    customer: Account,
    other_customer: Account,
    admin: Account,
) -> None:
    await db.execute("UPDATE users SET name = 'Jeanne' WHERE id = $1", customer.id)
    mine = await order(client, db, customer, "Lampe", {"shipping_address": HOME})
    theirs = await order(client, db, other_customer, "Chaise", {})
    paid = await client.post(
        f"/v1/admin/orders/{theirs['id']}/status", json={"status": "paid"}, headers=admin.headers
    )
    assert paid.status_code == 200

    listed = await client.get("/v1/admin/orders", headers=admin.headers)
    assert listed.status_code == 200
    by_id = {o["id"]: o for o in listed.json()["items"]}
    shown = by_id[mine["id"]]
    assert shown["customer"] == {"id": str(customer.id), "email": customer.email, "name": "Jeanne"}
    assert shown["shipping_address"]["city"] == "Paris"
    assert [(i["name"], i["quantity"]) for i in shown["items"]] == [("Lampe", 2)]

    async def ids(**params: str) -> set[str]:
        response = await client.get("/v1/admin/orders", params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        return {o["id"] for o in response.json()["items"]}

    assert await ids(status="paid") == {theirs["id"]}
    assert await ids(email=customer.email.upper()) == {mine["id"]}
    assert await ids(email="nobody@example.com") == set()
    now = datetime.now(UTC)
    assert await ids(**{"from": (now - timedelta(hours=1)).isoformat()}) == {
        mine["id"],
        theirs["id"],
    }
    assert await ids(**{"to": (now - timedelta(hours=1)).isoformat()}) == set()
    backwards = await client.get(
        "/v1/admin/orders",
        params={"from": now.isoformat(), "to": (now - timedelta(days=1)).isoformat()},
        headers=admin.headers,
    )
    assert backwards.status_code == 422
    assert backwards.headers["content-type"] == "application/problem+json"


async def test_admin_orders_export_as_csv_one_row_per_line(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, admin: Account
) -> None:
    await db.execute("UPDATE users SET name = '=HYPERLINK(\"x\")' WHERE id = $1", customer.id)
    placed = await order(client, db, customer, "Lampe", {"shipping_address": HOME})
    response = await client.get(
        "/v1/admin/orders",
        params={"email": customer.email},
        headers=admin.headers | {"Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    row = rows[0]
    assert (row["order_id"], row["customer_email"], row["product"], row["quantity"]) == (
        placed["id"],
        customer.email,
        "Lampe",
        "2",
    )
    assert (row["order_total"], row["unit_price"], row["currency"]) == ("15.00", "7.50", "EUR")
    assert (row["shipping_city"], row["shipping_phone"], row["billing_city"]) == (
        "Paris",
        "'+33612345678",
        "",
    )
    # A name a spreadsheet would run as a formula is neutralised.
    assert row["customer_name"].startswith("'=")


async def test_a_customer_cannot_see_the_admin_view(
    client: httpx.AsyncClient, customer: Account
) -> None:
    response = await client.get(
        "/v1/admin/orders", headers=customer.headers | {"Accept": "text/csv"}
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
