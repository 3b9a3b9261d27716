"""The payment webhook: signed, applied once, nothing lost."""

import json
import time
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from comptoir.payments.signature import sign
from tests.checkout.invariants import stocked
from tests.factories import Account


async def pending_order(client: httpx.AsyncClient, db: asyncpg.Connection, who: Account) -> str:
    product = await stocked(db, f"P{uuid.uuid4().hex[:6]}", 5)
    await client.put(f"/v1/cart/items/{product}", json={"quantity": 1}, headers=who.headers)
    response = await client.post(
        "/v1/checkout", headers=who.headers | {"Idempotency-Key": str(uuid.uuid4())}
    )
    order: str = response.json()["id"]
    return order


async def deliver(
    client: httpx.AsyncClient,
    app: FastAPI,
    event: dict[str, Any],
    *,
    timestamp: int | None = None,
    secret: str | None = None,
    header: str | None = None,
) -> httpx.Response:
    body = json.dumps(event).encode()
    signature = header or sign(
        secret or app.state.webhook_secret, body, timestamp or int(time.time())
    )
    return await client.post(
        "/v1/payments/webhook",
        content=body,
        headers={"Comptoir-Signature": signature, "Content-Type": "application/json"},
    )


def event(
    order: str,
    outcome: str = "succeeded",
    intent: str = "pi_1",
    amount: str = "10.00",  # what pending_order's order costs
    currency: str = "EUR",
) -> dict[str, Any]:
    return {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "payment_intent_id": intent,
        "order_id": order,
        "outcome": outcome,
        "amount": amount,
        "currency": currency,
    }


async def test_success_marks_the_order_paid(
    client: httpx.AsyncClient, app: FastAPI, db: asyncpg.Connection, customer: Account
) -> None:
    order = await pending_order(client, db, customer)
    response = await deliver(client, app, event(order, intent="pi_42"))
    assert response.status_code == 200
    assert response.json() == {
        "event_id": response.json()["event_id"],
        "result": "paid",
        "duplicate": False,
    }
    row = await db.fetchrow("SELECT status::text, payment_intent_id FROM orders")
    assert row is not None
    assert tuple(row) == ("paid", "pi_42")


async def test_duplicate_delivery_changes_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: asyncpg.Connection,
    customer: Account,
    admin: Account,
) -> None:
    order = await pending_order(client, db, customer)
    payment = event(order)
    await deliver(client, app, payment)
    await client.post(
        f"/v1/admin/orders/{order}/status", json={"status": "shipped"}, headers=admin.headers
    )
    again = await deliver(client, app, payment)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["result"] == "paid"
    assert await db.fetchval("SELECT status::text FROM orders") == "shipped"
    assert await db.fetchval("SELECT count(*) FROM payment_events") == 1


async def test_bad_missing_or_stale_signature_is_401_and_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, db: asyncpg.Connection, customer: Account
) -> None:
    order = await pending_order(client, db, customer)
    payment = event(order)
    answers = [
        await deliver(client, app, payment, secret="not the webhook secret at all"),
        await deliver(client, app, payment, timestamp=int(time.time()) - 301),
        await deliver(client, app, payment, timestamp=int(time.time()) + 301),
        await deliver(client, app, payment, header="t=123"),
        await deliver(client, app, payment, header="garbage"),
        await client.post("/v1/payments/webhook", json=payment),
    ]
    assert [a.status_code for a in answers] == [401] * 6
    assert all(a.headers["content-type"] == "application/problem+json" for a in answers)
    assert await db.fetchval("SELECT count(*) FROM payment_events") == 0
    assert await db.fetchval("SELECT status::text FROM orders") == "pending"

    # A body changed after signing fails too.
    body = json.dumps(payment).encode()
    signature = sign(app.state.webhook_secret, body, int(time.time()))
    tampered = body.replace(b"succeeded", b"failed\x20\x20\x20")
    response = await client.post(
        "/v1/payments/webhook", content=tampered, headers={"Comptoir-Signature": signature}
    )
    assert response.status_code == 401


async def test_unknown_order_is_recorded_not_lost(
    client: httpx.AsyncClient, app: FastAPI, db: asyncpg.Connection
) -> None:
    response = await deliver(client, app, event(str(uuid.uuid4()), intent="pi_orphan"))
    assert response.status_code == 200
    assert response.json()["result"] == "unknown_order"
    row = await db.fetchrow("SELECT payment_intent_id, order_id, result FROM payment_events")
    assert row is not None
    assert tuple(row) == ("pi_orphan", None, "unknown_order")


async def test_payment_for_a_cancelled_order_is_recorded_for_a_refund(
    client: httpx.AsyncClient, app: FastAPI, db: asyncpg.Connection, customer: Account
) -> None:
    order = await pending_order(client, db, customer)
    await client.post(f"/v1/orders/{order}/cancel", headers=customer.headers)
    response = await deliver(client, app, event(order))
    assert response.json()["result"] == "order_cancelled"
    assert await db.fetchval("SELECT status::text FROM orders") == "cancelled"
    assert await db.fetchval("SELECT result FROM payment_events") == "order_cancelled"


async def test_failed_payment_leaves_the_order_pending(
    client: httpx.AsyncClient, app: FastAPI, db: asyncpg.Connection, customer: Account
) -> None:
    order = await pending_order(client, db, customer)
    response = await deliver(client, app, event(order, outcome="failed"))
    assert response.json()["result"] == "payment_failed"
    assert await db.fetchval("SELECT status::text FROM orders") == "pending"
    paid = await deliver(client, app, event(order, intent="pi_second_try"))
    assert paid.json()["result"] == "paid"


async def test_one_intent_pays_one_order(
    client: httpx.AsyncClient, app: FastAPI, db: asyncpg.Connection, customer: Account
) -> None:
    first = await pending_order(client, db, customer)
    second = await pending_order(client, db, customer)
    await deliver(client, app, event(first, intent="pi_same"))
    response = await deliver(client, app, event(second, intent="pi_same"))
    assert response.json()["result"] == "intent_mismatch"
    statuses = {r[0]: r[1] for r in await db.fetch("SELECT id::text, status::text FROM orders")}
    assert statuses == {first: "paid", second: "pending"}


async def test_malformed_event_is_422(client: httpx.AsyncClient, app: FastAPI) -> None:
    response = await deliver(client, app, {"event_id": "evt", "outcome": "maybe"})
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("1", "JPY"), ("10.00", "JPY"), ("9.99", "EUR"), ("10.01", "EUR"), ("0.00", "EUR")],
)
async def test_a_success_for_another_amount_or_currency_does_not_pay(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: asyncpg.Connection,
    customer: Account,
    amount: str,
    currency: str,
) -> None:
    order = await pending_order(client, db, customer)
    response = await deliver(client, app, event(order, amount=amount, currency=currency))
    assert response.status_code == 200
    assert response.json()["result"] == "amount_mismatch"
    assert await db.fetchval("SELECT status::text FROM orders") == "pending"
    row = await db.fetchrow("SELECT result, order_id::text, amount, currency FROM payment_events")
    assert row is not None
    assert tuple(row) == ("amount_mismatch", order, Decimal(amount), currency)
    # The right payment still goes through.
    paid = await deliver(client, app, event(order, intent="pi_right"))
    assert paid.json()["result"] == "paid"


async def test_the_amount_may_come_as_a_number_with_any_zeros(
    client: httpx.AsyncClient, app: FastAPI, db: asyncpg.Connection, customer: Account
) -> None:
    order = await pending_order(client, db, customer)
    response = await deliver(client, app, {**event(order), "amount": 10})
    assert response.json()["result"] == "paid"


@pytest.mark.parametrize("missing", ["amount", "currency"])
async def test_an_event_without_amount_or_currency_is_422(
    client: httpx.AsyncClient, app: FastAPI, db: asyncpg.Connection, customer: Account, missing: str
) -> None:
    order = await pending_order(client, db, customer)
    payment = event(order)
    del payment[missing]
    response = await deliver(client, app, payment)
    assert response.status_code == 422
    assert missing in {err["loc"][-1] for err in response.json()["errors"]}
    assert await db.fetchval("SELECT status::text FROM orders") == "pending"


async def test_the_neutral_webhook_shows_its_payment_and_never_refunds(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: asyncpg.Connection,
    customer: Account,
    admin: Account,
) -> None:
    order = await pending_order(client, db, customer)
    before = (await client.get(f"/v1/orders/{order}", headers=customer.headers)).json()
    assert before["payment"] == {
        "provider": None, "status": "none", "refund": None, "client_secret": None, "events": [],
    }  # fmt: skip
    await deliver(client, app, event(order, intent="pi_neutral"))
    path = f"/v1/admin/orders/{order}/status"
    cancelled = await client.post(path, json={"status": "cancelled"}, headers=admin.headers)
    assert cancelled.status_code == 200
    payment = cancelled.json()["payment"]
    assert (payment["provider"], payment["status"], payment["refund"]) == (
        "webhook", "succeeded", None,
    )  # fmt: skip
    assert [e["type"] for e in payment["events"]] == ["payment.succeeded"]
