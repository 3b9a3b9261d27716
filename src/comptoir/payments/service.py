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

from comptoir.db.door import Door
from comptoir.orders import service as orders
from comptoir.orders.queries import LockedOrder
from comptoir.payments import queries
from comptoir.payments.schemas import PaymentEvent, Receipt


def _decide(order: LockedOrder | None, event: PaymentEvent, currency: str) -> str:
    if order is None:
        return "unknown_order"
    if event.outcome == "failed":
        return "payment_failed"
    if event.currency != currency or event.amount != order.total_amount:
        return "amount_mismatch"
    if order.status == "pending":
        return "paid"
    if order.status == "cancelled":
        return "order_cancelled"
    if order.status == "paid":
        same = order.payment_intent_id == event.payment_intent_id
        return "already_paid" if same else "intent_mismatch"
    return "order_not_payable"


async def apply_event(db: Door, event: PaymentEvent, *, currency: str) -> Receipt:
    """Apply `event` to its order, through the system's door (the provider is no customer,
    and the event may concern any order); `currency` is the shop's, that of every order."""
    async with db.transaction() as conn:
        if not await queries.insert_event(conn, event=event):
            result = await queries.fetch_event_result(conn, event_id=event.event_id)
            return Receipt(event_id=event.event_id, result=result, duplicate=True)
        order = await orders.lock(conn, order_id=event.order_id)
        result = _decide(order, event, currency)
        if result == "paid" and not await orders.mark_paid(
            conn, order_id=event.order_id, payment_intent_id=event.payment_intent_id
        ):
            # The intent already paid another order: recorded, neither order touched.
            result = "intent_mismatch"
        await queries.update_event_result(
            conn,
            event_id=event.event_id,
            result=result,
            order_id=event.order_id if order is not None else None,
        )
    return Receipt(event_id=event.event_id, result=result, duplicate=False)
