"""SQL of the cart: one per user, lines keyed by product.

Each request is one statement calling a function of `db/functions/` (`cart_json`,
`cart_set_line`, `cart_delete_lines`), in both RLS modes: the function sets the customer's
context itself, inside the statement, so that RLS adds no round trip (docs/rls.md). Run them
on the pool, not inside `Database.scoped()`. The cart's SQL is in those files.
"""

from uuid import UUID

import asyncpg

from comptoir.db.pool import Executor

# PostgreSQL builds the cart's JSON; the route hands the text straight to the response.
CART_JSON = "SELECT cart_json($1, $2)"

SET_LINE = "SELECT stock_left, written, cart FROM cart_set_line($1, $2, $3, $4)"


async def fetch_cart_json(db: Executor, *, user_id: UUID, currency: str) -> str:
    cart: str = await db.fetchval(CART_JSON, user_id, currency)
    return cart


async def set_line(
    db: Executor, *, user_id: UUID, product_id: UUID, quantity: int, currency: str
) -> asyncpg.Record:
    """`stock_left`: None for an unknown, deleted or inactive product; `written`: whether the
    line was set (False when the stock does not cover the quantity, and then nothing is
    written); `cart`: the cart's JSON after the change, when written."""
    row: asyncpg.Record = await db.fetchrow(SET_LINE, user_id, product_id, quantity, currency)
    return row


async def delete_line(db: Executor, *, user_id: UUID, product_id: UUID) -> None:
    await db.execute("SELECT cart_delete_lines($1, $2)", user_id, product_id)


async def delete_lines(db: Executor, *, user_id: UUID) -> None:
    await db.execute("SELECT cart_delete_lines($1, NULL)", user_id)
