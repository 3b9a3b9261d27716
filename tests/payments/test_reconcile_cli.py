"""`comptoir payments reconcile` from the command line, as cron runs it, on committed data:
an order whose webhook never came is paid, once."""

import asyncio
import os
import sys
from pathlib import Path

import asyncpg

from comptoir.app import create_app
from tests.conftest import client_of
from tests.factories import make_user, minted
from tests.payments.standin import Stripe, serving
from tests.payments.stripe_fixtures import WEBHOOK_SECRET, checkout, order_of, stripe_settings


async def reconcile(database_url: str, base: str, data_dir: Path) -> str:
    env = os.environ | {
        "DATABASE_URL": database_url,
        "COMPTOIR_DATA_DIR": str(data_dir),
        "COMPTOIR_STRIPE_SECRET_KEY": "sk_test_standin",
        "COMPTOIR_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "COMPTOIR_STRIPE_API_BASE": base,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "comptoir", "payments", "reconcile", "--since", "1h",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_reconcile_pays_the_order_of_a_lost_webhook(
    committed: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    stripe = Stripe()
    async with serving(stripe) as base:
        app = create_app(stripe_settings(database_url, tmp_path, base))
        async with app.router.lifespan_context(app), client_of(app) as client:
            account = minted(app, await make_user(committed), "cron@example.com")
            order = await checkout(client, committed, account)
            intent_id = stripe.intent_of(order["id"])["id"]
            stripe.pay(intent_id)  # Stripe took the money; its webhook is lost
            printed = await reconcile(database_url, base, tmp_path)
            assert printed.strip() == f"order {order['id']}: payment {intent_id} succeeded → paid"
            assert (await order_of(client, account, order["id"]))["status"] == "paid"
            assert (await reconcile(database_url, base, tmp_path)).strip() == "nothing to repair"
