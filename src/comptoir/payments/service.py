"""Applying provider events, and the calls Comptoir makes to the provider.

**Events** (the Stripe webhook, the neutral signed webhook, the reconciliation) are applied
exactly once, in one transaction: record the event (its id is the primary key: a second
delivery finds it and changes nothing), lock the order, then its payment, and decide
(docs/payments.md has the table):

- succeeded for another amount or currency than the order's total in the shop's currency
  → recorded, the order untouched, the payment `mismatch` (`amount_mismatch`);
- succeeded, order pending → the order is paid (`paid`);
- succeeded, order already paid with this intent → nothing to do (`already_paid`);
- succeeded, order cancelled → the money was taken for an order that no longer exists: the
  payment is `succeeded`, and with a provider that can refund, a refund is owed
  (`order_cancelled`); the refund is asked for after the commit;
- succeeded, order shipped, or paid with another intent → recorded (`order_not_payable`,
  `intent_mismatch`);
- failed, canceled → the payment says so unless it already succeeded (a late event of an
  earlier attempt never unpays an order); the order stays pending, payable again or left
  to expire (`payment_failed`, `canceled`);
- refund events → the refund's state, never back from a final one (`refund_*`);
- unknown order → recorded with no order (`unknown_order`).

**Calls** to the provider never happen inside a transaction (no lock is held while Stripe
is slow), and every one is idempotent per order: the state that calls for it is committed
first (a payment to create, a refund owed, an intent to cancel), then the call is made,
then its answer recorded. A call that fails leaves that state for the next attempt (the
customer's retry, the sweeper, `comptoir payments reconcile`).
"""

import json
import logging
from dataclasses import asdict
from datetime import datetime
from uuid import UUID

import asyncpg

from comptoir.db.door import SYSTEM, Door, PoolDoors
from comptoir.errors import Conflict, NotFound
from comptoir.orders import queries as order_queries
from comptoir.orders import service as orders
from comptoir.orders.queries import LockedOrder
from comptoir.payments import providers, queries
from comptoir.payments.provider import (
    Intent,
    Provider,
    ProviderDown,
    ProviderEvent,
    ProviderRefused,
)
from comptoir.payments.schemas import Receipt
from comptoir.settings import Settings

log = logging.getLogger("comptoir.payments")

BATCH = 100


def _decide(order: LockedOrder | None, event: ProviderEvent, currency: str) -> str:
    if order is None:
        return "unknown_order"
    if event.outcome == "failed":
        return "payment_failed"
    if event.outcome != "succeeded":
        return event.outcome  # canceled, refund_*
    if event.currency != currency or event.amount != order.total_amount:
        return "amount_mismatch"
    if order.status == "pending":
        return "paid"
    if order.status == "cancelled":
        return "order_cancelled"
    if order.status == "paid":
        same = order.payment_intent_id == event.intent_id
        return "already_paid" if same else "intent_mismatch"
    return "order_not_payable"


async def _record(
    conn: asyncpg.Connection, order: LockedOrder, event: ProviderEvent, result: str
) -> bool:
    """The payment's new state; True when a refund is now owed."""
    payment = await queries.lock_payment(conn, order_id=order.id)
    status = payment.status if payment else None

    async def set_status(target: str, *, unless: tuple[str, ...] = ()) -> None:
        if status not in unless:
            await queries.update_status(conn, order_id=order.id, status=target)

    match result:
        case "paid" | "already_paid" | "order_cancelled":
            await set_status("succeeded")
            # The intent that took the money, if creating it never got its answer back.
            await queries.update_intent(
                conn, order_id=order.id, intent_id=event.intent_id, client_secret=None
            )
            if result == "order_cancelled" and event.provider != "webhook" and payment:
                if payment.refund_status is None:
                    await queries.update_refund(
                        conn, order_id=order.id, status="pending", amount=order.total_amount,
                        refund_id=None,
                    )  # fmt: skip
                # Owed (now, or still): asked for after the commit.
                return payment.refund_status in (None, "pending")
        case "amount_mismatch":
            await set_status("mismatch", unless=("succeeded",))
        case "payment_failed":
            await set_status("failed", unless=("succeeded", "mismatch", "canceled"))
        case "canceled":
            await set_status("canceled", unless=("succeeded", "mismatch"))
        case "refund_pending" | "refund_succeeded" | "refund_failed":
            assert event.amount is not None
            await queries.update_refund(
                conn, order_id=order.id, status=result.removeprefix("refund_"),
                amount=event.amount, refund_id=event.refund_id,
            )  # fmt: skip
    return False


async def apply_event(db: Door, event: ProviderEvent, *, currency: str) -> tuple[Receipt, bool]:
    """Apply `event` to its order, through the system's door (the provider is no customer,
    and the event may concern any order); `currency` is the shop's. Also says whether a
    refund is now owed (the caller asks the provider for it, after this commit)."""
    owed = False
    payload = json.dumps(asdict(event), default=str)
    async with db.transaction() as conn:
        if not await queries.insert_event(conn, event=event, payload=payload):
            result = await queries.fetch_event_result(conn, event_id=event.event_id)
            return Receipt(event_id=event.event_id, result=result, duplicate=True), False
        order = await orders.lock(conn, order_id=event.order_id) if event.order_id else None
        result = _decide(order, event, currency)
        if (
            result == "paid"
            and order is not None
            and not await orders.mark_paid(
                conn, order_id=order.id, payment_intent_id=event.intent_id
            )
        ):
            # The intent already paid another order: recorded, neither order touched.
            result = "intent_mismatch"
        if order is not None:
            await queries.insert_payment(
                conn, order_id=order.id, provider=event.provider, amount=order.total_amount,
                currency=currency, intent_id=event.intent_id,
            )  # fmt: skip
            owed = await _record(conn, order, event, result)
        await queries.update_event_result(
            conn, event_id=event.event_id, result=result,
            order_id=order.id if order is not None else None,
        )  # fmt: skip
    return Receipt(event_id=event.event_id, result=result, duplicate=False), owed


async def apply_and_refund(
    db: Door, provider: Provider | None, event: ProviderEvent, *, currency: str
) -> Receipt:
    receipt, owed = await apply_event(db, event, currency=currency)
    if owed and provider is not None and event.order_id is not None:
        await settle_refund(db, provider, order_id=event.order_id)
    return receipt


# ---------------------------------------------------------------- creating the payment


async def ensure_intent(db: Door, provider: Provider, *, order_id: UUID, currency: str) -> bool:
    """Make sure the pending order has its intent at the provider, and its client secret;
    True when it has. The payment row is committed first; the call is idempotent per order;
    a provider that is down leaves the order pending and payable later (False)."""
    async with db.transaction() as conn:
        order = await orders.lock(conn, order_id=order_id)
        if order is None:
            raise NotFound("No such order.")
        payment = await queries.fetch_payment(conn, order_id=order_id)
        if payment is not None and (payment.client_secret or payment.provider != provider.name):
            return payment.client_secret is not None
        if order.status != "pending":
            return False
        await queries.insert_payment(
            conn, order_id=order_id, provider=provider.name, amount=order.total_amount,
            currency=currency,
        )  # fmt: skip
    try:
        intent = await provider.create_payment(
            order_id=order_id, amount=order.total_amount, currency=currency
        )
    except (ProviderDown, ProviderRefused) as exc:
        log.warning("no payment created for order %s this time: %s", order_id, exc)
        return False
    await db.one(
        queries.update_intent,
        order_id=order_id,
        intent_id=intent.id,
        client_secret=intent.client_secret,
    )
    return True


async def pay_order(
    db: Door,
    provider: Provider | None,
    *,
    order_id: UUID,
    owner: UUID,
    currency: str,
    system: Door,
) -> None:
    """POST /v1/orders/{id}/payment: the customer's own pending order (read through their
    door `db`) gets its intent (written through the shop's, `system`)."""
    if provider is None:
        raise NotFound("This shop takes no payments through a provider.")
    order = await db.one(order_queries.fetch_order_json, order_id=order_id, owner=owner,
                         currency=currency)  # fmt: skip
    if order is None:
        raise NotFound("No such order.")
    if json.loads(order)["status"] != "pending":
        raise Conflict("Only a pending order can be paid.")
    if not await ensure_intent(system, provider, order_id=order_id, currency=currency):
        raise ProviderUnavailable(
            "The payment provider did not answer; the order is kept. Try again shortly."
        )


class ProviderUnavailable(Conflict):
    status = 503
    title = "Payment Provider Unavailable"


# ---------------------------------------------------------------- refunds and cancels


async def owe_refund(conn: asyncpg.Connection, order: LockedOrder) -> None:
    """Inside an admin's cancellation (orders.service.move, the same transaction that
    restocks): a paid order's succeeded payment at a provider that refunds is owed back."""
    if order.status != "paid":
        return
    payment = await queries.lock_payment(conn, order_id=order.id)
    if payment and payment.provider != "webhook" and payment.status == "succeeded":
        if payment.refund_status is None:
            await queries.update_refund(
                conn, order_id=order.id, status="pending", amount=payment.amount, refund_id=None
            )


async def settle_refund(db: Door, provider: Provider, *, order_id: UUID) -> bool:
    """Ask the provider for the refund owed on the order (idempotent: one refund per order
    whatever the retries); True when the provider answered."""
    payment = await db.one(queries.fetch_payment, order_id=order_id)
    if payment is None or payment.refund_status != "pending" or payment.intent_id is None:
        return False
    assert payment.refund_amount is not None
    try:
        refund = await provider.refund(
            order_id=order_id, intent_id=payment.intent_id, amount=payment.refund_amount,
            currency=payment.currency,
        )  # fmt: skip
    except (ProviderDown, ProviderRefused) as exc:
        log.warning("refund of order %s still owed: %s", order_id, exc)
        return False
    await db.one(
        queries.update_refund, order_id=order_id, status=refund.status, amount=refund.amount,
        refund_id=refund.id,
    )  # fmt: skip
    return True


async def move_as_admin(
    db: Door, provider: Provider | None, *, order_id: UUID, target: str, currency: str
) -> str:
    """An admin's move; a paid order cancelled is refunded through its provider: the refund
    is owed in the move's own transaction (with the restock), asked for right after."""
    document = await orders.move(
        db, order_id=order_id, target=target, owner=None, currency=currency,
        within=owe_refund if target == "cancelled" else None,
    )  # fmt: skip
    if target == "cancelled" and provider is not None:
        if await settle_refund(db, provider, order_id=order_id):
            again = await db.one(order_queries.fetch_order_json, order_id=order_id, owner=None,
                                 currency=currency)  # fmt: skip
            assert again is not None
            return again
        await cancel_intents(db, provider, order_id=order_id)
    return document


async def cancel_intents(
    db: Door, provider: Provider, *, order_id: UUID | None = None, limit: int = BATCH
) -> list[str]:
    """Cancelled orders (by the customer, an admin or the expiry) whose intent could still
    take money: cancel it at the provider. Too late (the customer paid meanwhile): the
    success is applied, which refunds it. What changed, one line each."""
    done: list[str] = []
    to_cancel = await db.one(
        queries.list_to_cancel, provider=provider.name, order_id=order_id, limit=limit
    )
    for payment in to_cancel:
        assert payment.intent_id is not None
        intent: Intent | None
        try:
            intent = await provider.cancel_payment(payment.intent_id, order_id=payment.order_id)
        except ProviderRefused:
            intent = await _fetch(provider, payment.intent_id)
        except ProviderDown as exc:
            log.warning("intent of cancelled order %s not cancelled yet: %s", payment.order_id, exc)
            continue
        if intent is not None:
            done += await _apply_intent(db, provider, intent, payment.currency)
    return done


async def _fetch(provider: Provider, intent_id: str) -> Intent | None:
    try:
        return await provider.fetch_payment(intent_id)
    except (ProviderDown, ProviderRefused) as exc:
        log.warning("could not read payment %s: %s", intent_id, exc)
        return None


async def _apply_intent(db: Door, provider: Provider, intent: Intent, currency: str) -> list[str]:
    """What the provider says of an intent, applied as an event of its own (one per intent
    and status: a second reconciliation changes nothing)."""
    if intent.status == "requires_payment" or intent.order_id is None:
        return []
    succeeded = intent.status == "succeeded"
    event = ProviderEvent(
        event_id=f"reconcile-{intent.id}-{intent.status}", provider=provider.name,
        type=f"reconcile.{intent.status}", outcome=intent.status, intent_id=intent.id,
        order_id=intent.order_id, amount=intent.amount_received if succeeded else None,
        currency=intent.currency if succeeded else None,
    )  # fmt: skip
    receipt = await apply_and_refund(db, provider, event, currency=currency)
    if receipt.duplicate:
        return []
    return [f"order {intent.order_id}: payment {intent.id} {intent.status} → {receipt.result}"]


# ---------------------------------------------------------------- reconciliation


async def reconcile(db: Door, provider: Provider, *, since: datetime, currency: str) -> list[str]:
    """`comptoir payments reconcile`: ask the provider about every payment since `since` that
    is still open or owes a refund, and repair what a lost or late webhook left behind.
    Safe to run again, from cron, while the shop serves. What changed, one line each."""
    done = await cancel_intents(db, provider)
    for payment in await db.one(queries.list_to_reconcile, provider=provider.name,
                                since=since, limit=10_000):  # fmt: skip
        if payment.refund_status == "pending":
            if await settle_refund(db, provider, order_id=payment.order_id):
                done.append(f"order {payment.order_id}: refund asked of {provider.name}")
            continue
        if payment.intent_id is None:
            if payment.order_status == "pending" and await ensure_intent(
                db, provider, order_id=payment.order_id, currency=currency
            ):
                done.append(f"order {payment.order_id}: payment created at {provider.name}")
            continue
        intent = await _fetch(provider, payment.intent_id)
        if intent is not None:
            done += await _apply_intent(db, provider, intent, currency)
    return done


async def reconcile_at(url: str, settings: Settings, *, since: datetime) -> list[str]:
    """`comptoir payments reconcile` on the database at `url` (as its owner, a pool of two
    connections), with the provider the settings configure."""
    provider = providers.configured(settings)
    if provider is None:
        raise ValueError(
            "no payment provider is configured (set COMPTOIR_STRIPE_SECRET_KEY and"
            " COMPTOIR_STRIPE_WEBHOOK_SECRET)"
        )
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        system = PoolDoors(pool, rls=False).to(SYSTEM)
        return await reconcile(system, provider, since=since, currency=settings.currency)
    finally:
        await pool.close()
        await provider.close()
