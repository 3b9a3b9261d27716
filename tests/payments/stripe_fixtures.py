"""Fixtures of the Stripe tests: the stand-in, and the app's settings pointed at it."""

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from comptoir.settings import Settings
from tests.checkout.invariants import stocked
from tests.factories import Account
from tests.payments.standin import Stripe, serving, sign

WEBHOOK_SECRET = "whsec_standin_0123456789abcdef"


# How long the app waits for Stripe in these tests. Long enough that a loaded machine
# (workers and a browser on two cores, the stand-in in the test's own event loop) never
# turns an answer into a timeout: at 0.5 s, a checkout that took 0.66 s under load lost its
# payment intent and failed a test. The "timeout" fault holds its answer longer than this.
STRIPE_TIMEOUT = 5.0


def stripe_settings(database_url: str, data_dir: Path, api_base: str) -> Settings:
    # No SDK retries: a failure shows at once (a retry is tested on its own, through the
    # same idempotency key).
    return Settings(
        database_url=database_url, data_dir=data_dir, pool_min=1, pool_max=10,
        rate_limits="off", max_pending_orders=1000, pending_order_ttl_minutes=0,
        stripe_secret_key=SecretStr("sk_test_standin"),
        stripe_webhook_secret=SecretStr(WEBHOOK_SECRET),
        stripe_api_base=api_base, stripe_timeout_seconds=STRIPE_TIMEOUT,
        stripe_max_network_retries=0,
    )  # fmt: skip


@pytest.fixture
async def stripe_api() -> AsyncIterator[tuple[Stripe, str]]:
    stripe = Stripe(slow_seconds=STRIPE_TIMEOUT + 1)
    async with serving(stripe) as base:
        yield stripe, base


@pytest.fixture
def standin(stripe_api: tuple[Stripe, str]) -> Stripe:
    return stripe_api[0]


@pytest.fixture
def settings(database_url: str, tmp_path: Path, stripe_api: tuple[Stripe, str]) -> Settings:
    return stripe_settings(database_url, tmp_path, stripe_api[1])


async def checkout(
    client: httpx.AsyncClient, db: asyncpg.Connection, who: Account, price: str = "10.00"
) -> dict[str, Any]:
    product = await stocked(db, f"P{uuid.uuid4().hex[:6]}", 5, price)
    await client.put(f"/v1/cart/items/{product}", json={"quantity": 1}, headers=who.headers)
    response = await client.post(
        "/v1/checkout", headers=who.headers | {"Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def deliver(
    client: httpx.AsyncClient, payload: bytes, *, signature: str | None = None
) -> httpx.Response:
    """A webhook delivery as Stripe makes it: the raw JSON, signed."""
    return await client.post(
        "/v1/payments/stripe/webhook",
        content=payload,
        headers={
            "Stripe-Signature": signature or sign(payload, WEBHOOK_SECRET),
            "Content-Type": "application/json; charset=utf-8",
        },
    )


async def order_of(client: httpx.AsyncClient, who: Account, order_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/orders/{order_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = json.loads(response.text)
    return document
