"""Checkout: the cart becomes an order in one transaction, never overselling.

The transaction is one statement, `place_order()` in PostgreSQL
(db/functions/place_order.sql), so that the products stay locked for a single round trip:
claim the idempotency key, lock the cart and read its lines once, lock the products in id
order, check every line's stock, write the order and its lines at the locked prices,
decrement the stock, empty the cart, store the response under the key, commit. A refusal
(empty cart, short stock, too many unpaid orders, a total too large) writes nothing and
frees the key.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import assert_never
from uuid import UUID

import asyncpg

from comptoir.checkout import queries
from comptoir.db.door import Door
from comptoir.errors import Conflict, Unprocessable

# Transient failures worth another try: the transaction rolled back whole, so a retry is
# safe. Products are locked in id order, so deadlocks should not happen; if one does (a
# future code path locking in another order), the customer still gets an answer.
TRANSIENT = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
ATTEMPTS = 3


class OutOfStock(Conflict):
    title = "Insufficient Stock"


class EmptyCart(Unprocessable):
    pass


class KeyReused(Unprocessable):
    pass


class TooManyPending(Conflict):
    title = "Too Many Unpaid Orders"


class TotalTooLarge(Unprocessable):
    pass


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: str
    replayed: bool


async def checkout(
    db: Door,
    *,
    user_id: UUID,
    key: str,
    request_fingerprint: str,
    currency: str,
    max_pending: int,
    shipping: str | None = None,
    billing: str | None = None,
    on_retry: Callable[[], None] | None = None,
) -> Answer:
    """One statement (the function says whom it serves), retried on a transient failure."""
    for attempt in range(ATTEMPTS):
        try:
            outcome = await db.one(
                queries.place_order,
                user_id=user_id,
                key=key,
                request_fingerprint=request_fingerprint,
                currency=currency,
                max_pending=max_pending,
                shipping=shipping,
                billing=billing,
            )
            return _answer(outcome)
        except TRANSIENT:
            if attempt == ATTEMPTS - 1:
                raise
            if on_retry:
                on_retry()
            await asyncio.sleep(0.01 * 2**attempt)
    raise AssertionError("unreachable")


def _answer(outcome: queries.Outcome) -> Answer:
    match outcome:
        case queries.Placed(order=order):
            return Answer(201, order, replayed=False)
        case queries.Replayed(status_code=status, body=body):
            return Answer(status, body, replayed=True)
        case queries.KeyReused():
            raise KeyReused("This Idempotency-Key was used for a different request; use a new key.")
        case queries.EmptyCart():
            raise EmptyCart("The cart is empty.")
        case queries.TooManyPending(limit=limit):
            raise TooManyPending(
                f"You already have {limit} unpaid orders, the most a customer may have at"
                " once; pay or cancel one of them first.",
                max_pending_orders=limit,
            )
        case queries.TooLarge(total=total):
            raise TotalTooLarge(
                f"The order total ({total}) is more than an order can hold (9999999999.99);"
                " split it into several orders."
            )
        case queries.ShortOfStock(items=items):
            raise OutOfStock("Some items are short of stock; nothing was ordered.", items=items)
        case _:
            assert_never(outcome)
