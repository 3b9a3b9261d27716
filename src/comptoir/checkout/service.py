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
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from comptoir.db.context import Database
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
class Placed:
    status_code: int
    body: str
    replayed: bool


# One statement, in both RLS modes: place_order_as_buyer() (db/functions/) sets the buyer's
# context inside that statement (harmless for the owner, with RLS off), so no BEGIN and
# COMMIT round trips surround it, which would hold the product locks one round trip longer.
PLACE_ORDER = "SELECT place_order_as_buyer($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)::text"


async def checkout(
    db: Database,
    *,
    user_id: UUID,
    key: str,
    request_fingerprint: str,
    currency: str,
    max_pending: int,
    shipping: str | None = None,
    billing: str | None = None,
    on_retry: Callable[[], None] | None = None,
) -> Placed:
    for attempt in range(ATTEMPTS):
        try:
            result = await db.pool.fetchval(
                PLACE_ORDER,
                user_id,
                key,
                request_fingerprint,
                currency,
                max_pending,
                shipping,
                billing,
            )
            return _answer(json.loads(result))
        except TRANSIENT:
            if attempt == ATTEMPTS - 1:
                raise
            if on_retry:
                on_retry()
            await asyncio.sleep(0.01 * 2**attempt)
    raise AssertionError("unreachable")


def _answer(result: dict[str, Any]) -> Placed:
    if "order" in result:
        return Placed(201, json.dumps(result["order"]), replayed=False)
    if "replay" in result:
        return Placed(result["status"], json.dumps(result["replay"]), replayed=True)
    if result.get("key_reused"):
        raise KeyReused("This Idempotency-Key was used for a different request; use a new key.")
    if result.get("empty"):
        raise EmptyCart("The cart is empty.")
    if "too_many_pending" in result:
        limit = result["too_many_pending"]
        raise TooManyPending(
            f"You already have {limit} unpaid orders, the most a customer may have at once;"
            " pay or cancel one of them first.",
            max_pending_orders=limit,
        )
    if "too_large" in result:
        raise TotalTooLarge(
            f"The order total ({result['too_large']}) is more than an order can hold"
            " (9999999999.99); split it into several orders."
        )
    raise OutOfStock("Some items are short of stock; nothing was ordered.", items=result["short"])
