"""A Stripe that fails (500s, timeouts after the fact) never leaves an order paid without
money, nor money without an order; `reconcile` repairs what lost webhooks left behind."""

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from fastapi import FastAPI

from comptoir.db.door import SYSTEM, Door
from comptoir.orders import service as orders
from comptoir.payments import service as payments
from comptoir.payments.provider import Provider
from tests.doors import ConnectionDoors
from tests.factories import Account
from tests.payments.standin import Stripe
from tests.payments.stripe_fixtures import (
    checkout,
    deliver,
    order_of,
    settings,
    standin,
    stripe_api,
)

__all__ = ["settings", "standin", "stripe_api"]  # the module's fixtures


def system(app: FastAPI, db: asyncpg.Connection) -> Door:
    return ConnectionDoors(db, rls=app.state.settings.rls == "on").to(SYSTEM)


def provider(app: FastAPI) -> Provider:
    found: Provider = app.state.payment_provider
    return found


async def reconcile(app: FastAPI, db: asyncpg.Connection) -> list[str]:
    since = datetime.now(UTC) - timedelta(days=1)
    return await payments.reconcile(system(app, db), provider(app), since=since, currency="EUR")


async def test_a_500_at_checkout_keeps_the_order_payable_later(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, standin: Stripe
) -> None:
    standin.fail("500")
    order = await checkout(client, db, customer)
    assert (order["status"], order["payment"]["status"]) == ("pending", "requires_payment")
    assert order["payment"]["client_secret"] is None and standin.intents == {}
    again = await client.post(f"/v1/orders/{order['id']}/payment", headers=customer.headers)
    assert again.status_code == 200, again.text
    assert (
        again.json()["payment"]["client_secret"] == standin.intent_of(order["id"])["client_secret"]
    )
    assert standin.keys == [f"comptoir-order-{order['id']}"] * 2


async def test_a_timeout_at_checkout_never_makes_a_second_intent(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, standin: Stripe
) -> None:
    standin.fail("timeout")  # made at Stripe, the answer lost
    order = await checkout(client, db, customer)
    assert order["payment"]["client_secret"] is None
    again = await client.post(f"/v1/orders/{order['id']}/payment", headers=customer.headers)
    assert (
        again.json()["payment"]["client_secret"] == standin.intent_of(order["id"])["client_secret"]
    )
    assert len(standin.intents) == 1
    assert standin.keys == [f"comptoir-order-{order['id']}"] * 2


async def test_a_provider_down_when_asked_again_is_503_and_the_order_stays(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, standin: Stripe
) -> None:
    standin.fail("500", "500")
    order = await checkout(client, db, customer)
    again = await client.post(f"/v1/orders/{order['id']}/payment", headers=customer.headers)
    assert again.status_code == 503
    assert again.headers["content-type"] == "application/problem+json"
    assert (await order_of(client, customer, order["id"]))["status"] == "pending"


async def paid_order(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, standin: Stripe
) -> str:
    order = await checkout(client, db, customer)
    intent_id = standin.intent_of(order["id"])["id"]
    await deliver(client, standin.event("payment_intent.succeeded", standin.pay(intent_id)))
    order_id: str = order["id"]
    return order_id


async def test_a_refund_whose_answer_is_lost_is_made_once(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: asyncpg.Connection,
    customer: Account,
    admin: Account,
    standin: Stripe,
) -> None:
    order_id = await paid_order(client, db, customer, standin)
    standin.fail("timeout")
    path = f"/v1/admin/orders/{order_id}/status"
    cancelled = await client.post(path, json={"status": "cancelled"}, headers=admin.headers)
    assert cancelled.status_code == 200
    # Cancelled and restocked; the refund is owed, and says so.
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["payment"]["refund"] == {"status": "pending", "amount": "10.00"}
    assert await reconcile(app, db) == [f"order {order_id}: refund asked of stripe"]
    seen = await order_of(client, customer, order_id)
    assert seen["payment"]["refund"] == {"status": "succeeded", "amount": "10.00"}
    assert len(standin.refunds) == 1
    assert standin.keys.count(f"comptoir-refund-{order_id}") == 2
    assert await reconcile(app, db) == []


async def test_a_refund_refused_by_a_500_is_owed_until_reconciled(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: asyncpg.Connection,
    customer: Account,
    admin: Account,
    standin: Stripe,
) -> None:
    order_id = await paid_order(client, db, customer, standin)
    standin.fail("500")
    path = f"/v1/admin/orders/{order_id}/status"
    cancelled = await client.post(path, json={"status": "cancelled"}, headers=admin.headers)
    assert cancelled.json()["payment"]["refund"]["status"] == "pending"
    assert standin.refunds == {}
    await reconcile(app, db)
    assert len(standin.refunds) == 1


async def test_reconcile_pays_an_order_whose_webhook_never_came(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: asyncpg.Connection,
    customer: Account,
    standin: Stripe,
) -> None:
    order = await checkout(client, db, customer)
    intent_id = standin.intent_of(order["id"])["id"]
    standin.pay(intent_id)  # the webhook is lost
    standin.fail("500")
    assert await reconcile(app, db) == []  # Stripe down: nothing changes, nothing paid
    assert (await order_of(client, customer, order["id"]))["status"] == "pending"
    done = await reconcile(app, db)
    assert done == [f"order {order['id']}: payment {intent_id} succeeded → paid"]
    seen = await order_of(client, customer, order["id"])
    assert (seen["status"], seen["payment"]["status"]) == ("paid", "succeeded")
    assert await reconcile(app, db) == []
    # The webhook arrives after all: nothing more happens.
    late = await deliver(
        client, standin.event("payment_intent.succeeded", standin.intents[intent_id])
    )
    assert late.json()["result"] == "already_paid"


async def test_expired_orders_cancel_their_intent_or_refund_a_late_payment(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: asyncpg.Connection,
    customer: Account,
    standin: Stripe,
) -> None:
    unpaid = await checkout(client, db, customer)
    paying = await checkout(client, db, customer)
    standin.pay(standin.intent_of(paying["id"])["id"])  # paid as the order expires
    await db.execute("UPDATE orders SET created_at = now() - interval '2 hours'")
    door = system(app, db)
    assert await orders.expire_pending(door.transaction, older_than=timedelta(hours=1)) == 2
    await payments.cancel_intents(door, provider(app))
    assert standin.intent_of(unpaid["id"])["status"] == "canceled"
    [refund] = standin.refunds.values()
    assert refund["payment_intent"] == standin.intent_of(paying["id"])["id"]
    for order, status in ((unpaid, "canceled"), (paying, "succeeded")):
        seen = await order_of(client, customer, order["id"])
        assert (seen["status"], seen["payment"]["status"]) == ("cancelled", status)
