"""SQL of the cart: one per user, lines keyed by product.

Each request is one statement calling a function of `db/functions/` (`cart_json`,
`cart_set_line`, `cart_delete_lines`), in both RLS modes: the function sets the customer's
context itself, inside the statement, so that RLS adds no round trip (docs/rls.md). The
routes run them through the public door, which says nothing itself. The cart's SQL is in
those files.
"""

from dataclasses import dataclass
from uuid import UUID

import asyncpg

# PostgreSQL builds the cart's JSON; the route hands the text straight to the response.
CART_JSON = "SELECT cart_json($1, $2)"

SET_LINE = "SELECT stock_left, written, cart FROM cart_set_line($1, $2, $3, $4)"


@dataclass(frozen=True)
class LineSet:
    """The line was set; the cart's JSON after the change."""

    cart: str


@dataclass(frozen=True)
class NoSuchProduct:
    """Unknown, deleted or inactive: nothing written."""


@dataclass(frozen=True)
class ShortOfStock:
    """The stock does not cover the quantity: nothing written."""

    available: int


async def fetch_cart_json(conn: asyncpg.Connection, *, user_id: UUID, currency: str) -> str:
    cart: str = await conn.fetchval(CART_JSON, user_id, currency)
    return cart


async def set_line(
    conn: asyncpg.Connection, *, user_id: UUID, product_id: UUID, quantity: int, currency: str
) -> LineSet | NoSuchProduct | ShortOfStock:
    row = await conn.fetchrow(SET_LINE, user_id, product_id, quantity, currency)
    assert row is not None  # cart_set_line returns a single record, never a set
    if row["stock_left"] is None:
        return NoSuchProduct()
    if not row["written"]:
        return ShortOfStock(available=row["stock_left"])
    return LineSet(cart=row["cart"])


async def delete_line(conn: asyncpg.Connection, *, user_id: UUID, product_id: UUID) -> None:
    await conn.execute("SELECT cart_delete_lines($1, $2)", user_id, product_id)


async def delete_lines(conn: asyncpg.Connection, *, user_id: UUID) -> None:
    await conn.execute("SELECT cart_delete_lines($1, NULL)", user_id)
