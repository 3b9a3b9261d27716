"""The SDK's own retries reuse the idempotency key; the keys never reach a log."""

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from comptoir.settings import Settings
from tests.factories import Account
from tests.payments.standin import Stripe, serving
from tests.payments.stripe_fixtures import WEBHOOK_SECRET, checkout, deliver, stripe_settings


@pytest.fixture
async def stripe_api() -> AsyncIterator[tuple[Stripe, str]]:
    stripe = Stripe(slow_seconds=1.0)
    async with serving(stripe) as base:
        yield stripe, base


@pytest.fixture
def standin(stripe_api: tuple[Stripe, str]) -> Stripe:
    return stripe_api[0]


@pytest.fixture
def settings(database_url: str, tmp_path: Path, stripe_api: tuple[Stripe, str]) -> Settings:
    # One retry by the SDK (after half a second), as in production (two by default).
    return stripe_settings(database_url, tmp_path, stripe_api[1]).model_copy(
        update={"stripe_max_network_retries": 1}
    )


async def test_the_sdk_retries_a_500_with_the_same_key(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, standin: Stripe
) -> None:
    standin.fail("500")
    order = await checkout(client, db, customer)
    assert order["payment"]["client_secret"] == standin.intent_of(order["id"])["client_secret"]
    assert standin.keys == [f"comptoir-order-{order['id']}"] * 2
    assert len(standin.intents) == 1


async def test_no_stripe_secret_is_logged(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    customer: Account,
    standin: Stripe,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    standin.fail("500", "500")  # a warning is logged: the payment is not made this time
    order = await checkout(client, db, customer)
    await deliver(client, b'{"id": "evt_x"}', signature="t=1,v1=bad")
    await client.post(f"/v1/orders/{order['id']}/payment", headers=customer.headers)
    logged = caplog.text + "".join(capsys.readouterr())
    assert "no payment created" in logged
    for secret in ("sk_test_standin", WEBHOOK_SECRET):
        assert secret not in logged
