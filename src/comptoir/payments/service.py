"""Applying a payment event: exactly once, and never lost.

In one transaction: record the event (its id is the primary key: a second delivery finds
it and changes nothing), lock the order, and decide:

- succeeded for another amount or currency than the order's total in the shop's currency
  → recorded, the order untouched (`amount_mismatch`): a signed event for 1 JPY must not
  pay a 28.80 EUR order;
- succeeded, order pending → the order is paid, the intent recorded on it (`paid`);
- succeeded, order already paid with this intent → nothing to do (`already_paid`);
- succeeded, order cancelled → the payment is recorded for a refund, the order stays
  cancelled (`order_cancelled`): the money was taken, someone must give it back;
- succeeded, order shipped, or paid with another intent → recorded (`order_not_payable`,
  `intent_mismatch`);
- failed → recorded; the order stays pending, the customer may pay again (`payment_failed`);
- unknown order → recorded with no order (`unknown_order`).

Every outcome answers 200: the provider stops retrying, and the event is in
`payment_events` for support.
"""

import json
from uuid import UUID

import asyncpg

from comptoir.db.context import SYSTEM, Database
from comptoir.payments.schemas import PaymentEvent, Receipt


def _decide(order: asyncpg.Record | None, event: PaymentEvent, currency: str) -> str:
    if order is None:
        return "unknown_order"
    if event.outcome == "failed":
        return "payment_failed"
    if event.currency != currency or event.amount != order["total_amount"]:
        return "amount_mismatch"
    if order["status"] == "pending":
        return "paid"
    if order["status"] == "cancelled":
        return "order_cancelled"
    if order["status"] == "paid":
        same = order["payment_intent_id"] == event.payment_intent_id
        return "already_paid" if same else "intent_mismatch"
    return "order_not_payable"


async def apply_event(db: Database, event: PaymentEvent, *, currency: str) -> Receipt:
    """Apply `event` to its order; `currency` is the shop's, that of every order."""
    async with db.transaction(SYSTEM) as conn:
        recorded = await conn.fetchval(
            "INSERT INTO payment_events"
            " (event_id, payment_intent_id, outcome, result, payload, amount, currency)"
            " VALUES ($1, $2, $3, 'unknown_order', $4::jsonb, $5, $6)"
            " ON CONFLICT (event_id) DO NOTHING RETURNING true",
            event.event_id,
            event.payment_intent_id,
            event.outcome,
            json.dumps(event.model_dump(mode="json")),
            event.amount,
            event.currency,
        )
        if not recorded:
            result = await conn.fetchval(
                "SELECT result FROM payment_events WHERE event_id = $1", event.event_id
            )
            return Receipt(event_id=event.event_id, result=result, duplicate=True)
        order = await conn.fetchrow(
            "SELECT id, status::text AS status, payment_intent_id, total_amount FROM orders"
            " WHERE id = $1 FOR UPDATE",
            event.order_id,
        )
        result = _decide(order, event, currency)
        if result == "paid":
            result = await _mark_paid(conn, event.order_id, event.payment_intent_id)
        await conn.execute(
            "UPDATE payment_events SET result = $2, order_id = $3 WHERE event_id = $1",
            event.event_id,
            result,
            event.order_id if order is not None else None,
        )
    return Receipt(event_id=event.event_id, result=result, duplicate=False)


async def _mark_paid(conn: asyncpg.Connection, order_id: UUID, intent: str) -> str:
    try:
        async with conn.transaction():  # a savepoint: the unique violation must not abort all
            await conn.execute(
                "UPDATE orders SET status = 'paid', payment_intent_id = $2 WHERE id = $1",
                order_id,
                intent,
            )
    except asyncpg.UniqueViolationError:
        # The intent already paid another order: record it, touch neither order.
        return "intent_mismatch"
    return "paid"
