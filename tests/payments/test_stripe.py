"""Stripe end to end through the API, against the stand-in: checkout → PaymentIntent →
signed events → the order's state; duplicates, out-of-order events, mismatches, refunds."""

import time

import asyncpg
import httpx
import stripe

from tests.factories import Account
from tests.payments.standin import Stripe, sign
from tests.payments.stripe_fixtures import (
    WEBHOOK_SECRET,
    checkout,
    deliver,
    order_of,
    settings,
    standin,
    stripe_api,
)

__all__ = ["settings", "standin", "stripe_api"]  # the module's fixtures


async def test_checkout_creates_one_intent_for_the_order(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, standin: Stripe
) -> None:
    order = await checkout(client, db, customer, "28.80")
    intent = standin.intent_of(order["id"])
    assert (intent["amount"], intent["currency"]) == (2880, "eur")
    assert order["payment"] == {
        "provider": "stripe", "status": "requires_payment", "refund": None,
        "client_secret": intent["client_secret"], "events": [],
    }  # fmt: skip
    assert standin.keys == [f"comptoir-order-{order['id']}"]
    # Asking again (the storefront reloading) finds the same payment, creates nothing.
    again = await client.post(f"/v1/orders/{order['id']}/payment", headers=customer.headers)
    assert again.json()["payment"]["client_secret"] == intent["client_secret"]
    assert len(standin.intents) == 1


async def test_a_signed_success_pays_the_order_once(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, standin: Stripe
) -> None:
    order = await checkout(client, db, customer)
    intent = standin.intent_of(order["id"])
    event = standin.event("payment_intent.succeeded", standin.pay(intent["id"]))
    first = await deliver(client, event)
    assert first.status_code == 200
    assert first.json()["result"] == "paid" and not first.json()["duplicate"]
    second = await deliver(client, event)
    assert second.json()["result"] == "paid" and second.json()["duplicate"]
    seen = await order_of(client, customer, order["id"])
    assert (seen["status"], seen["payment_intent_id"]) == ("paid", intent["id"])
    assert seen["payment"]["status"] == "succeeded"
    assert seen["payment"]["client_secret"] is None  # nothing left to pay
    assert [e["type"] for e in seen["payment"]["events"]] == ["payment_intent.succeeded"]


async def test_an_event_signed_by_the_sdk_is_accepted(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, standin: Stripe
) -> None:
    order = await checkout(client, db, customer)
    event = standin.event(
        "payment_intent.succeeded", standin.pay(standin.intent_of(order["id"])["id"])
    )
    header = stripe.WebhookSignature.generate_signature_header(event.decode(), WEBHOOK_SECRET)
    assert (await deliver(client, event, signature=header)).json()["result"] == "paid"


async def test_bad_stale_or_replayed_signatures_are_refused(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, standin: Stripe
) -> None:
    order = await checkout(client, db, customer)
    event = standin.event(
        "payment_intent.succeeded", standin.pay(standin.intent_of(order["id"])["id"])
    )
    stale = sign(event, WEBHOOK_SECRET, int(time.time()) - 301)
    for signature in (sign(event, "whsec_another"), stale, "t=1,v1=00", ""):
        refused = await deliver(client, event, signature=signature or "x")
        assert refused.status_code == 401, signature
    # The body as sent is what is signed: one byte changed, refused.
    tampered = event.replace(b'"livemode": false', b'"livemode":false')
    assert (
        await deliver(client, tampered, signature=sign(event, WEBHOOK_SECRET))
    ).status_code == 401
    assert (await order_of(client, customer, order["id"]))["status"] == "pending"
    assert await db.fetchval("SELECT count(*) FROM payment_events") == 0


async def test_a_late_failure_does_not_unpay_and_a_late_success_pays(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, standin: Stripe
) -> None:
    order = await checkout(client, db, customer)
    intent_id = standin.intent_of(order["id"])["id"]
    failed = standin.event("payment_intent.payment_failed", standin.decline(intent_id))
    canceled = standin.event(
        "payment_intent.canceled", {**standin.intents[intent_id], "status": "canceled"}
    )
    succeeded = standin.event("payment_intent.succeeded", standin.pay(intent_id))
    # Delivered out of order: the cancellation, then the success, then the failure.
    assert (await deliver(client, canceled)).json()["result"] == "canceled"
    assert (await deliver(client, succeeded)).json()["result"] == "paid"
    assert (await deliver(client, failed)).json()["result"] == "payment_failed"
    seen = await order_of(client, customer, order["id"])
    assert (seen["status"], seen["payment"]["status"]) == ("paid", "succeeded")


async def test_a_failure_leaves_the_order_payable(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, standin: Stripe
) -> None:
    order = await checkout(client, db, customer)
    intent = standin.intent_of(order["id"])
    await deliver(
        client, standin.event("payment_intent.payment_failed", standin.decline(intent["id"]))
    )
    seen = await order_of(client, customer, order["id"])
    assert (seen["status"], seen["payment"]["status"]) == ("pending", "failed")
    assert seen["payment"]["client_secret"] == intent["client_secret"]  # try another card


async def test_another_amount_or_currency_does_not_pay(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, standin: Stripe
) -> None:
    for amount, currency in ((1, None), (1000, "usd")):
        order = await checkout(client, db, customer)
        intent_id = standin.intent_of(order["id"])["id"]
        paid = standin.pay(intent_id, amount=amount, currency=currency)
        answer = await deliver(client, standin.event("payment_intent.succeeded", paid))
        assert answer.json()["result"] == "amount_mismatch"
        seen = await order_of(client, customer, order["id"])
        assert (seen["status"], seen["payment"]["status"]) == ("pending", "mismatch")


async def test_an_admin_cancelling_a_paid_order_refunds_it_once(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    customer: Account,
    admin: Account,
    standin: Stripe,
) -> None:
    order = await checkout(client, db, customer, "12.50")
    intent_id = standin.intent_of(order["id"])["id"]
    await deliver(client, standin.event("payment_intent.succeeded", standin.pay(intent_id)))
    cancel = {"status": "cancelled"}
    path = f"/v1/admin/orders/{order['id']}/status"
    first = await client.post(path, json=cancel, headers=admin.headers)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "cancelled"
    assert first.json()["payment"]["refund"] == {"status": "succeeded", "amount": "12.50"}
    retried = await client.post(path, json=cancel, headers=admin.headers)
    assert retried.status_code == 409
    [refund] = standin.refunds.values()
    assert (refund["payment_intent"], refund["amount"]) == (intent_id, 1250)
    assert await db.fetchval("SELECT stock FROM products") == 5  # restocked in the move
    # The refund's own events (Stripe sends them too) change nothing more.
    event = standin.event("refund.updated", refund)
    assert (await deliver(client, event)).json()["result"] == "refund_succeeded"
    assert len(standin.refunds) == 1


async def test_admins_see_the_provider_ids_and_every_event(
    client: httpx.AsyncClient,
    db: asyncpg.Connection,
    customer: Account,
    admin: Account,
    standin: Stripe,
) -> None:
    order = await checkout(client, db, customer)
    intent_id = standin.intent_of(order["id"])["id"]
    event = standin.event("payment_intent.succeeded", standin.pay(intent_id))
    await deliver(client, event)
    one = await client.get(f"/v1/admin/orders/{order['id']}", headers=admin.headers)
    assert one.status_code == 200, one.text
    payment = one.json()["payment"]
    assert payment["payment_intent_id"] == intent_id
    assert payment["amount"] == "10.00" and payment["currency"] == "EUR"
    [seen] = payment["events"]
    assert (seen["type"], seen["result"], seen["payment_intent_id"]) == (
        "payment_intent.succeeded", "paid", intent_id,
    )  # fmt: skip
    listed = await client.get("/v1/admin/orders", headers=admin.headers)
    assert listed.json()["items"][0]["payment"]["payment_intent_id"] == intent_id
    # The customer sees when, not the provider's ids.
    mine = (await order_of(client, customer, order["id"]))["payment"]
    assert "payment_intent_id" not in mine and set(mine["events"][0]) == {"type", "received_at"}
    assert (
        await client.get(f"/v1/admin/orders/{order['id']}", headers=customer.headers)
    ).status_code == 403


async def test_a_payment_for_an_order_cancelled_meanwhile_is_refunded(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, standin: Stripe
) -> None:
    order = await checkout(client, db, customer)
    intent_id = standin.intent_of(order["id"])["id"]
    paid = standin.pay(intent_id)  # the customer paid; the webhook is still on its way
    cancelled = await client.post(f"/v1/orders/{order['id']}/cancel", headers=customer.headers)
    assert cancelled.status_code == 200
    # Cancelling the intent was too late: the success is applied, and refunded.
    assert cancelled.json()["payment"]["status"] == "succeeded"
    assert cancelled.json()["payment"]["refund"] == {"status": "succeeded", "amount": "10.00"}
    late = await deliver(client, standin.event("payment_intent.succeeded", paid))
    assert late.json()["result"] == "order_cancelled"
    assert len(standin.refunds) == 1
    assert (await order_of(client, customer, order["id"]))["status"] == "cancelled"


async def test_a_customer_cancelling_cancels_the_intent(
    client: httpx.AsyncClient, db: asyncpg.Connection, customer: Account, standin: Stripe
) -> None:
    order = await checkout(client, db, customer)
    cancelled = await client.post(f"/v1/orders/{order['id']}/cancel", headers=customer.headers)
    assert cancelled.json()["payment"]["status"] == "canceled"
    assert standin.intent_of(order["id"])["status"] == "canceled"
    assert standin.refunds == {}


async def test_events_of_other_types_are_acknowledged_and_ignored(
    client: httpx.AsyncClient, standin: Stripe
) -> None:
    event = standin.event("customer.created", {"id": "cus_1", "object": "customer"})
    answer = await deliver(client, event)
    assert (answer.status_code, answer.json()["result"]) == (200, "ignored")
