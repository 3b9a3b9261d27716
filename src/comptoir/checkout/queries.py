"""Checkout's one statement, and its answers as a closed union.

`place_order_as_buyer()` (db/functions/place_order_as_buyer.sql, which calls
place_order.sql) claims the key, reads the cart once under its lock, checks, writes the
order and answers with one JSON object; this module is its only reader.
"""

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

# One statement, in both RLS modes: the function sets the buyer's context inside it
# (harmless for the owner, with RLS off), so no BEGIN and COMMIT round trips surround it,
# which would hold the product locks one round trip longer.
PLACE_ORDER = "SELECT place_order_as_buyer($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)::text"


@dataclass(frozen=True)
class Placed:
    """The order was placed: its document."""

    order: str


@dataclass(frozen=True)
class Replayed:
    """This key already placed an order: the stored response and its status."""

    status_code: int
    body: str


@dataclass(frozen=True)
class KeyReused:
    """This key was used for a different request."""


@dataclass(frozen=True)
class EmptyCart:
    pass


@dataclass(frozen=True)
class ShortOfStock:
    """Each short line: product_id, name, requested, available."""

    items: list[dict[str, Any]]


@dataclass(frozen=True)
class TooManyPending:
    limit: int


@dataclass(frozen=True)
class TooLarge:
    total: str


Outcome = Placed | Replayed | KeyReused | EmptyCart | ShortOfStock | TooManyPending | TooLarge


async def place_order(
    conn: asyncpg.Connection,
    *,
    user_id: UUID,
    key: str,
    request_fingerprint: str,
    currency: str,
    max_pending: int,
    shipping: str | None = None,
    billing: str | None = None,
) -> Outcome:
    """Refusals (all but Placed and Replayed) wrote nothing and left the key free.
    `shipping` and `billing`: the addresses as JSON text, snapshotted on the order."""
    text = await conn.fetchval(
        PLACE_ORDER, user_id, key, request_fingerprint, currency, max_pending, shipping, billing
    )
    answer: dict[str, Any] = json.loads(text)
    if "order" in answer:
        return Placed(json.dumps(answer["order"]))
    if "replay" in answer:
        return Replayed(answer["status"], json.dumps(answer["replay"]))
    if answer.get("key_reused"):
        return KeyReused()
    if answer.get("empty"):
        return EmptyCart()
    if "too_many_pending" in answer:
        return TooManyPending(answer["too_many_pending"])
    if "too_large" in answer:
        return TooLarge(answer["too_large"])
    return ShortOfStock(answer["short"])
