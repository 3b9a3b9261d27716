"""Stripe unreachable (connection refused): checkout still places orders, nothing is paid
without a signed success, and a refund owed stays owed, visible, until Stripe answers."""

from pathlib import Path

import asyncpg
import httpx
import pytest

from comptoir.settings import Settings
from tests.factories import Account
from tests.payments.standin import Stripe, refused_base
from tests.payments.stripe_fixtures import checkout, deliver, order_of, stripe_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return stripe_settings(database_url, tmp_path, refused_base())


async def test_checkout_places_the_order_without_a_payment_yet(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account
) -> None:
    order = await checkout(client, db, customer)
    assert order["status"] == "pending"
    assert order["payment"] == {
        "provider": "stripe", "status": "requires_payment", "refund": None,
        "client_secret": None, "events": [],
    }  # fmt: skip
    again = await client.post(f"/v1/orders/{order['id']}/payment", headers=customer.headers)
    assert again.status_code == 503
    assert (await order_of(client, customer, order["id"]))["status"] == "pending"


async def test_a_refund_owed_while_stripe_is_unreachable_stays_owed(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, admin: Account
) -> None:
    order = await checkout(client, db, customer)
    # Stripe took the money (its webhook reaches us; its API does not).
    intent = {
        "id": "pi_reached", "object": "payment_intent", "amount": 1000,
        "amount_received": 1000, "currency": "eur", "status": "succeeded",
        "metadata": {"order_id": order["id"]}, "client_secret": "pi_reached_secret_x",
    }  # fmt: skip
    paid = await deliver(client, Stripe().event("payment_intent.succeeded", intent))
    assert paid.json()["result"] == "paid"
    path = f"/v1/admin/orders/{order['id']}/status"
    cancelled = await client.post(path, json={"status": "cancelled"}, headers=admin.headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    one = await client.get(f"/v1/admin/orders/{order['id']}", headers=admin.headers)
    assert one.json()["payment"]["refund"] == {"status": "pending", "amount": "10.00"}
    assert one.json()["payment"]["refund_id"] is None
