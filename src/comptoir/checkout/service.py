"""Checkout: the cart becomes an order in one transaction, never overselling.

The transaction (READ COMMITTED): claim the idempotency key, then one call to
`place_order()` in PostgreSQL, which locks the cart, locks the products in id order, checks
every line's stock, writes the order and its lines at the locked prices, decrements the
stock, empties the cart and stores the response under the key — then commit. The products
stay locked for that one round trip and the commit. Any refusal rolls everything back.
"""

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from comptoir.checkout import idempotency
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


async def checkout(
    pool: asyncpg.Pool, *, user_id: UUID, key: str, request_fingerprint: str, currency: str
) -> Placed:
    for attempt in range(ATTEMPTS):
        try:
            return await _attempt(pool, user_id, key, request_fingerprint, currency)
        except TRANSIENT:
            if attempt == ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.01 * 2**attempt)
    raise AssertionError("unreachable")


async def _attempt(
    pool: asyncpg.Pool, user_id: UUID, key: str, request_fingerprint: str, currency: str
) -> Placed:
    async with pool.acquire() as conn, conn.transaction():
        if not await idempotency.claim(
            conn, user_id=user_id, key=key, fingerprint=request_fingerprint
        ):
            return _replay(
                await idempotency.fetch_stored(conn, user_id=user_id, key=key), request_fingerprint
            )
        result = json.loads(
            await conn.fetchval("SELECT place_order($1, $2, $3)::text", user_id, key, currency)
        )
        _refuse_unless_placed(result)
    return Placed(201, json.dumps(result["order"]), replayed=False)


def _replay(stored: asyncpg.Record | None, request_fingerprint: str) -> Placed:
    # The row exists: the claim found it committed (a claim waits for an in-flight one).
    assert stored is not None
    if stored["fingerprint"] != request_fingerprint:
        raise KeyReused("This Idempotency-Key was used for a different request; use a new key.")
    return Placed(stored["status_code"], stored["response"], replayed=True)


def _refuse_unless_placed(result: dict[str, Any]) -> None:
    # Raising inside the transaction rolls it back, the claimed key with it.
    if result.get("empty"):
        raise EmptyCart("The cart is empty.")
    if "short" in result:
        raise OutOfStock(
            "Some items are short of stock; nothing was ordered.", items=result["short"]
        )
