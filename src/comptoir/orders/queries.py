"""SQL of orders. Documents (order with lines) are built by `order_document()` in SQL."""

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from comptoir.db.pool import Executor

CURSOR_OF_ROW = "(extract(epoch FROM o.created_at) * 1000000)::bigint || '.' || o.id"

# Newest first, keyset on (created_at, id); `created_at <= $t` is written out so that it
# becomes the index condition of orders(user_id, created_at DESC) or
# orders(status, created_at DESC).
PAGE = """
WITH page AS MATERIALIZED (
    SELECT o.id, o.created_at, row_number() OVER (ORDER BY o.created_at DESC, o.id DESC) AS n
    FROM (
        SELECT o.id, o.created_at FROM orders AS o
        WHERE {filter}
          AND ($2::timestamptz IS NULL
               OR (o.created_at <= $2 AND (o.created_at, o.id) < ($2, $3::uuid)))
        ORDER BY o.created_at DESC, o.id DESC
        LIMIT $4 + 1
    ) AS o
)
SELECT json_build_object(
    'items', coalesce(
        (SELECT json_agg(order_document(o.id, $5) ORDER BY o.n) FROM page AS o WHERE o.n <= $4),
        '[]'::json),
    'next_cursor',
        (SELECT {cursor} FROM page AS o
         WHERE o.n = $4 AND EXISTS (SELECT 1 FROM page WHERE n = $4 + 1)))
"""

USER_PAGE = PAGE.format(filter="o.user_id = $1", cursor=CURSOR_OF_ROW)
STATUS_PAGE = PAGE.format(
    filter="($1::order_status IS NULL OR o.status = $1::order_status)", cursor=CURSOR_OF_ROW
)


async def list_user_orders_json(
    db: Executor, *, user_id: UUID, after: tuple[datetime, UUID] | None, limit: int, currency: str
) -> str:
    created_at, ident = after if after else (None, None)
    page: str = await db.fetchval(USER_PAGE, user_id, created_at, ident, limit, currency)
    return page


async def list_orders_json(
    db: Executor,
    *,
    status: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
    currency: str,
) -> str:
    created_at, ident = after if after else (None, None)
    page: str = await db.fetchval(STATUS_PAGE, status, created_at, ident, limit, currency)
    return page


async def fetch_order_json(
    db: Executor, *, order_id: UUID, owner: UUID | None, currency: str
) -> str | None:
    """The order document; with `owner`, only if it is theirs."""
    document: str | None = await db.fetchval(
        "SELECT order_document(o.id, $3)::text FROM orders AS o"
        " WHERE o.id = $1 AND ($2::uuid IS NULL OR o.user_id = $2)",
        order_id,
        owner,
        currency,
    )
    return document


async def lock_order(db: Executor, *, order_id: UUID, owner: UUID | None) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await db.fetchrow(
        "SELECT id, user_id, status::text AS status, payment_intent_id FROM orders"
        " WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2) FOR UPDATE",
        order_id,
        owner,
    )
    return row


async def update_status(db: Executor, *, order_id: UUID, status: str) -> None:
    await db.execute("UPDATE orders SET status = $2::order_status WHERE id = $1", order_id, status)


async def restock(db: Executor, *, order_ids: list[UUID]) -> None:
    """Put the orders' units back in stock, locking the products in id order as checkout
    does, so that a cancellation and a checkout never deadlock."""
    await db.execute(
        """
        WITH units AS (
            SELECT product_id, sum(quantity) AS quantity FROM order_items
            WHERE order_id = ANY ($1::uuid[]) GROUP BY product_id
        ), locked AS (
            SELECT p.id FROM products AS p
            WHERE p.id IN (SELECT product_id FROM units)
            ORDER BY p.id FOR UPDATE
        )
        UPDATE products AS p SET stock = p.stock + units.quantity
        FROM units, locked
        WHERE p.id = units.product_id AND locked.id = p.id
        """,
        order_ids,
    )


async def lock_expired_pending(db: Executor, *, older_than: timedelta, limit: int) -> list[UUID]:
    """Pending orders placed more than `older_than` ago, oldest first, locked; those another
    transaction holds (a payment arriving, a cancellation) are skipped, left for next time.
    On orders(status, created_at DESC)."""
    rows = await db.fetch(
        "SELECT id FROM orders WHERE status = 'pending' AND created_at < now() - $1::interval"
        " ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        older_than,
        limit,
    )
    return [row["id"] for row in rows]


async def count_expired_pending(db: Executor, *, older_than: timedelta) -> int:
    count: int = await db.fetchval(
        "SELECT count(*) FROM orders"
        " WHERE status = 'pending' AND created_at < now() - $1::interval",
        older_than,
    )
    return count


async def update_statuses(db: Executor, *, order_ids: list[UUID], status: str) -> None:
    await db.execute(
        "UPDATE orders SET status = $2::order_status WHERE id = ANY ($1::uuid[])",
        order_ids,
        status,
    )
