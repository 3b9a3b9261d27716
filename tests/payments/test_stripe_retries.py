"""The SDK's own retries reuse the idempotency key; the keys never reach a log."""

from pathlib import Path

import asyncpg
import httpx
import pytest

from comptoir.settings import Settings
from tests.factories import Account
from tests.payments.standin import Stripe
from tests.payments.stripe_fixtures import (
    WEBHOOK_SECRET,
    checkout,
    deliver,
    standin,
    stripe_api,
    stripe_settings,
)

__all__ = ["standin", "stripe_api"]  # the module's fixtures (settings is its own)


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
