"""Checkout: the cart becomes an order in one transaction, never overselling.

The transaction is one statement, `place_order()` in PostgreSQL (migration 0003), so that the
products stay locked for a single round trip: claim the idempotency key, lock the cart, lock
the products in id order, check every line's stock, write the order and its lines at the
locked prices, decrement the stock, empty the cart, store the response under the key,
commit. A refusal (empty cart, short stock) writes nothing and frees the key.
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


@dataclass(frozen=True)
class Placed:
    status_code: int
    body: str
    replayed: bool


# One statement, in both RLS modes: place_order_as_buyer() (migration 0006) sets the buyer's
# context inside that statement (harmless for the owner, with RLS off), so no BEGIN and
# COMMIT round trips surround it, which would hold the product locks one round trip longer.
PLACE_ORDER = "SELECT place_order_as_buyer($1, $2, $3, $4)::text"


async def checkout(
    db: Database,
    *,
    user_id: UUID,
    key: str,
    request_fingerprint: str,
    currency: str,
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
    raise OutOfStock("Some items are short of stock; nothing was ordered.", items=result["short"])
